import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"

describe("smoke", () => {
  it.effect("TestClock", () =>
    Effect.gen(function*() {
      const f = yield* Effect.forkChild(Effect.sleep(1000).pipe(Effect.as(1)))
      yield* TestClock.adjust(1000)
      assert.strictEqual(yield* Fiber.join(f), 1)
    }))
})

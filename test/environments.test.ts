import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import { environments, scoreBatch } from "../examples/config-driven.ts"
import { Events } from "../src/index.ts"

/** Runs an effect to completion under TestClock, moving time one second at a time. */
const withSimulatedTime = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    while (fiber.pollUnsafe() === undefined) yield* TestClock.adjust("1 second")
    return yield* Fiber.join(fiber)
  })

describe("the same business logic under each environment's layer", () => {
  const events = Array.from({ length: 200 }, (_, i) => i)

  for (const env of ["production", "test", "chaos"] as const) {
    it.effect(env, () =>
      Effect.gen(function*() {
        const [result, decisions] = yield* withSimulatedTime(
          Events.collect(scoreBatch(events).pipe(Effect.provide(environments[env]), Random.withSeed(7)))
        )
        assert.deepStrictEqual(result, { scored: 200, failed: 0 })
        const retries = decisions.filter((e) => e._tag === "RetryScheduled").length
        if (env === "chaos") assert.isAbove(retries, 10) // injected faults were absorbed by the policy
        else assert.strictEqual(retries, 0)
      }))
  }
})

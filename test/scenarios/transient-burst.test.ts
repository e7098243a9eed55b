import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { transientBurst } from "../../scenarios/transientBurst.ts"
import { assertThresholds } from "./helpers.ts"

describe("scenario: transient-burst", () => {
  it.effect("meets every threshold of its claim (seeded, virtual time)", () =>
    Effect.gen(function*() {
      const result = yield* transientBurst({ rate: 50 })
      assertThresholds(result)
    }), 60_000)
})

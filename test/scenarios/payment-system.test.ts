import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { paymentSystem } from "../../scenarios/paymentSystem.ts"
import { assertThresholds } from "./helpers.ts"

describe("scenario: payment-system", () => {
  // the rate of 50,000 per minute over 24 simulated seconds (the demo runs the full minute)
  it.effect("meets every threshold of its claim (seeded, virtual time)", () =>
    Effect.gen(function*() {
      const result = yield* paymentSystem({ duration: 24_000 })
      assertThresholds(result)
    }), 60_000)
})

import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { outageRecovery } from "../../scenarios/outageRecovery.ts"
import { assertThresholds } from "./helpers.ts"

describe("scenario: outage-recovery", () => {
  it.effect("meets every threshold of its claim (seeded, virtual time)", () =>
    Effect.gen(function*() {
      const result = yield* outageRecovery()
      assertThresholds(result)
    }), 60_000)
})

import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { trafficSpike } from "../../scenarios/trafficSpike.ts"
import { assertThresholds } from "./helpers.ts"

describe("scenario: traffic-spike", () => {
  it.effect("meets every threshold of its claim (seeded, virtual time)", () =>
    Effect.gen(function*() {
      const result = yield* trafficSpike({ capacity: 10 })
      assertThresholds(result)
    }), 60_000)
})

import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { analyticsPipeline } from "../../scenarios/analyticsPipeline.ts"
import { assertThresholds } from "./helpers.ts"

describe("scenario: analytics-pipeline", () => {
  it.effect("meets every threshold of its claim (seeded, virtual time)", () =>
    Effect.gen(function*() {
      const result = yield* analyticsPipeline()
      assertThresholds(result)
    }), 60_000)
})

import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ragClient } from "../../scenarios/ragClient.ts"
import { assertThresholds } from "./helpers.ts"

describe("scenario: rag-client", () => {
  it.effect("meets every threshold of its claim (seeded, virtual time)", () =>
    Effect.gen(function*() {
      const result = yield* ragClient()
      assertThresholds(result)
    }), 60_000)
})

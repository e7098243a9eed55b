/** Shared by the scenario tests. */
import { assert } from "@effect/vitest"
import type { ScenarioResult } from "../../scenarios/common.ts"

/** Every threshold of the scenario passes; a failure names each threshold that missed, with its figures. */
export const assertThresholds = (result: ScenarioResult): void => {
  assert.isAbove(result.thresholds.length, 0)
  const missed = result.thresholds
    .filter((t) => !t.pass)
    .map((t) => `${t.name}: ${t.actual}${t.unit} (wanted ${t.op} ${t.limit}${t.unit})`)
  assert.deepStrictEqual(missed, [], `${result.id} missed its thresholds`)
}

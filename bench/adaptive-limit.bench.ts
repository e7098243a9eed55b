/**
 * Issue 17: success-path cost of an adaptive limiter against a fixed
 * bulkhead, measured in the same run (target <= 1.5×). The limiter pays two
 * timer reads and one algorithm step per call on top of the bulkhead's
 * bookkeeping. The reads dominate (about 35 ns each on the project machine,
 * more on a virtual machine with a slow clocksource): see docs/performance.md.
 */
import { Effect } from "effect"
import { AdaptiveLimit, Bulkhead } from "../src/index.ts"
import { CALLS_PER_ITERATION as N, loop, ratio, suite, target } from "./harness.ts"

const PERMITS = 100

export const run = async (): Promise<void> => {
  const call = Effect.succeed(1)
  const bulkhead = Effect.runSync(Bulkhead.make({ name: "bench", maxConcurrent: PERMITS }))
  const bounds = { initialLimit: PERMITS, minLimit: PERMITS, maxLimit: 2 * PERMITS }
  const gradient2 = Effect.runSync(AdaptiveLimit.make({ name: "bench", algorithm: AdaptiveLimit.gradient2(bounds) }))
  const aimd = Effect.runSync(AdaptiveLimit.make({ name: "bench", algorithm: AdaptiveLimit.aimd(bounds) }))
  const programs: Record<string, Effect.Effect<void, unknown>> = {
    "bare Effect.succeed": loop(call, N),
    "bulkhead.execute": loop(bulkhead.execute(call), N),
    "adaptive gradient2 (windowed)": loop(gradient2.execute(call), N),
    "adaptive aimd (every call)": loop(aimd.execute(call), N)
  }
  const rows = await suite(
    "AdaptiveLimit: success path against a fixed bulkhead, per call",
    Object.entries(programs).map(([name, program]) => ({ name, units: N, fn: () => Effect.runSync(program) })),
    { baseline: "bulkhead.execute" }
  )
  target("adaptive gradient2 / bulkhead.execute", ratio(rows, "adaptive gradient2 (windowed)", "bulkhead.execute"), 1.5)
  target("adaptive aimd / bulkhead.execute", ratio(rows, "adaptive aimd (every call)", "bulkhead.execute"), 1.5)
}

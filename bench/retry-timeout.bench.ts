/**
 * Issue 3: success-path cost of Retry.retry and Timeout.timeout against a
 * bare call and Effect's own Effect.retry / Effect.timeout.
 */
import { Effect, Schedule } from "effect"
import { Backoff, Retry, Timeout } from "../src/index.ts"
import { CALLS_PER_ITERATION as N, loop, ratio, suite, target } from "./harness.ts"

export const run = async (): Promise<void> => {
  const call = Effect.succeed(1)
  const policy = Retry.make({ maxAttempts: 4, backoff: Backoff.exponential({ base: "100 millis", max: "5 seconds" }) })
  const programs: Record<string, Effect.Effect<void, unknown>> = {
    "bare Effect.succeed": loop(call, N),
    "Effect.retry(exponential)": loop(
      Effect.retry(call, Schedule.max([Schedule.exponential("100 millis"), Schedule.recurs(3)])),
      N
    ),
    "Retry.retry": loop(Retry.retry(call, policy), N),
    "Effect.timeout": loop(Effect.timeout(call, "1 second"), N),
    "Timeout.timeout": loop(Timeout.timeout(call, "1 second"), N)
  }
  const rows = await suite(
    "Retry and Timeout: success path, per call",
    Object.entries(programs).map(([name, program]) => ({ name, units: N, fn: () => Effect.runSync(program) })),
    { baseline: "bare Effect.succeed" }
  )
  target("Retry.retry / Effect.retry", ratio(rows, "Retry.retry", "Effect.retry(exponential)"), 0.25)
  target("Timeout.timeout / Effect.timeout", ratio(rows, "Timeout.timeout", "Effect.timeout"), 1.0)
}

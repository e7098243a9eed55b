/**
 * `npm run demo`: the six scenarios of the seeds' claims, each run without
 * and with resilience on the same seeded, simulated dependencies (virtual
 * time: minutes of traffic in seconds). Prints a table per scenario and
 * writes a self-contained HTML report with charts (inline SVG, no network);
 * its path is printed. Exits 1 if a threshold does not hold. The report also
 * shows the adaptive limiter's simulation: its limit over time while the
 * dependency's capacity halves and recovers (scenarios/adaptiveLimit.ts).
 *
 * The report goes to ./resilience-report.html, or to $RESILIENCE_REPORT.
 */
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { resolve } from "node:path"
import {
  AdaptiveLimitSim,
  analyticsPipeline,
  outageRecovery,
  paymentSystem,
  ragClient,
  Report,
  type ScenarioResult,
  trafficSpike,
  transientBurst
} from "../scenarios/index.ts"

const scenarios = [ragClient(), transientBurst(), outageRecovery(), trafficSpike(), paymentSystem(), analyticsPipeline()]

const program = Effect.gen(function*() {
  const started = performance.now()
  const results: Array<ScenarioResult> = []
  for (const [i, scenario] of scenarios.entries()) {
    const result = yield* scenario
    results.push(result)
    console.log(`\n${i + 1}. ${Report.table(result)}`)
  }
  const adaptiveLimit = yield* AdaptiveLimitSim.limitOverTime()
  console.log(`\nAdaptive concurrency limit (Gradient2) while the dependency's capacity halves, then recovers:\n${
    AdaptiveLimitSim.table(adaptiveLimit.rows)
  }\n\n${AdaptiveLimitSim.summaryTable(adaptiveLimit.summaries)}`)
  const path = resolve(process.env.RESILIENCE_REPORT ?? "resilience-report.html")
  writeFileSync(path, Report.html(results, { generated: new Date().toISOString(), adaptiveLimit }))
  const failed = results.flatMap((r) => r.thresholds.filter((t) => !t.pass).map((t) => `${r.id}: ${t.name}`))
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`\n${results.length} scenarios in ${seconds} s; report written to ${path}`)
  if (failed.length > 0) {
    console.error(`thresholds not met:\n  ${failed.join("\n  ")}`)
    process.exitCode = 1
  }
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})

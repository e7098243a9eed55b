/**
 * A/B of the success path of every policy against another version of `src/`
 * (e.g. the parent commit), both loaded in this process, alternating rounds,
 * best CPU time per call. Used for the "Telemetry off" figures of
 * docs/performance.md, where the baseline is code that no longer exists:
 *
 *   mkdir -p .ab && git archive <commit> src | tar -x -C .ab
 *   node --import tsx bench/ab-success-path.ts .ab/src && rm -rf .ab
 *
 * (The old copy must sit inside the repository, so that it resolves `effect`.)
 */
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Scope } from "effect"

const other = process.argv[2]
if (other === undefined) throw new Error("usage: bench/ab-success-path.ts <path to another src/>")
const mods = {
  before: await import(pathToFileURL(resolve(other, "index.ts")).href),
  now: await import("../src/index.ts")
}
const N = 5000
const ROUNDS = 40
const call = Effect.succeed(1)
const scope = Effect.runSync(Scope.make())
const inScope = (effect: Effect.Effect<any, any, Scope.Scope>): any => Effect.runSync(Scope.provide(scope)(effect))

const subjectsOf = (M: any): Array<readonly [string, Effect.Effect<unknown, unknown>]> => {
  const { Backoff, Bulkhead, CircuitBreaker, Hedge, Policy, Retry, Timeout } = M
  const full = inScope(Policy.make({
    name: "bench",
    timeout: "1 second",
    retry: { maxAttempts: 3, backoff: Backoff.exponential({ base: "100 millis" }) },
    circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "10 seconds" },
    bulkhead: { maxConcurrent: 64 }
  }))
  const three = inScope(Policy.make({
    name: "bench3",
    retry: { maxAttempts: 3 },
    circuitBreaker: { policy: CircuitBreaker.consecutive(5) },
    bulkhead: { maxConcurrent: 64 }
  }))
  const breaker = inScope(CircuitBreaker.make({ name: "b", policy: CircuitBreaker.consecutive(5) }))
  const bulkhead = inScope(Bulkhead.make({ name: "b", maxConcurrent: 64 }))
  return [
    ["bare Effect.succeed", call],
    ["Retry.retry (3 attempts)", call.pipe(Retry.retry({ name: "r", maxAttempts: 3 }))],
    ["Timeout.timeout", call.pipe(Timeout.timeout({ name: "t", duration: "1 second" }))],
    ["CircuitBreaker consecutive(5)", call.pipe(breaker.execute)],
    ["Bulkhead", call.pipe(bulkhead.execute)],
    ["Hedge (answer before the delay)", call.pipe(Hedge.hedge({ name: "h", delay: "50 millis", maxAttempts: 2 }))],
    ["Policy (retry + breaker + bulkhead)", call.pipe(three.execute)],
    ["Policy (timeout + retry + breaker + bulkhead)", call.pipe(full.execute)]
  ]
}
const loops = (M: any) =>
  subjectsOf(M).map(([label, effect]) =>
    [label, Effect.gen(function*() {
      for (let i = 0; i < N; i++) yield* effect
    })] as const
  )
const sets = { before: loops(mods.before), now: loops(mods.now) }
const cpu = () => {
  const usage = process.cpuUsage()
  return usage.user + usage.system
}
const best: Record<"before" | "now", Record<string, number>> = { before: {}, now: {} }
for (let round = 0; round < ROUNDS; round++) {
  const order: ReadonlyArray<"before" | "now"> = round % 2 ? ["before", "now"] : ["now", "before"]
  for (const which of order) {
    for (const [label, loop] of sets[which]) {
      const start = cpu()
      Effect.runSync(loop)
      best[which][label] = Math.min(best[which][label] ?? Infinity, ((cpu() - start) * 1000) / N)
    }
  }
}
console.log("| success path | before (ns/call) | now (ns/call) | × before |\n|---|---:|---:|---:|")
for (const [label] of sets.now) {
  const before = best.before[label]!
  const now = best.now[label]!
  console.log(`| ${label} | ${before.toFixed(1)} | ${now.toFixed(1)} | ${(now / before).toFixed(3)} |`)
}

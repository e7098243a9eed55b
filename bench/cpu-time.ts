/**
 * Cross-check of the success-path rows under load: the best CPU time per
 * call over 30 alternating rounds (`bestCpuTime`), for the rows whose
 * wall-time means `npm run bench` cannot pin down on a machine shared with
 * other work. No targets (the targets are `npm run bench`'s); run with
 *
 *   node --import tsx bench/cpu-time.ts
 */
import { circuitBreaker as cockatielBreaker, ConsecutiveBreaker, handleAll } from "cockatiel"
import { Effect, Semaphore } from "effect"
import { AdaptiveLimit, Bulkhead, CircuitBreaker, LoadShedder } from "../src/index.ts"
import { bestCpuTime, loop } from "./harness.ts"

const N = 2000
const PERMITS = 100
const call = Effect.succeed(1)
const sync = (programs: Record<string, Effect.Effect<unknown, unknown>>): Record<string, () => unknown> =>
  Object.fromEntries(Object.entries(programs).map(([name, program]) => [name, () => Effect.runSync(program)]))

const print = (title: string, rows: Record<string, number>, baseline: string) => {
  console.log(`\n## ${title} (best CPU time per call)\n`)
  console.log(`| case | ns/call | above ${baseline} | × ${baseline} |`)
  console.log("|---|---:|---:|---:|")
  const base = rows[baseline]!
  for (const [name, ns] of Object.entries(rows)) {
    console.log(`| ${name} | ${ns.toFixed(0)} | ${(ns - base).toFixed(0)} | ${(ns / base).toFixed(2)} |`)
  }
}

const breaker = (policy: CircuitBreaker.TripPolicy) => Effect.runSync(CircuitBreaker.make({ policy, resetTimeout: "1 hour" }))
const closed = {
  consecutive: breaker(CircuitBreaker.consecutive(5)),
  countWindow: breaker(CircuitBreaker.countWindow({ size: 100, minimumCalls: 20 })),
  timeWindow: breaker(CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 10 }))
}
print("CircuitBreaker Closed success, inside Effect", await bestCpuTime(sync({
  "bare Effect.succeed": loop(call, N),
  "consecutive(5)": loop(closed.consecutive.execute(call), N),
  "countWindow(100)": loop(closed.countWindow.execute(call), N),
  "timeWindow(10 s, 10)": loop(closed.timeWindow.execute(call), N)
}), N), "bare Effect.succeed")

const fn = () => Promise.resolve(1)
const cockatiel = cockatielBreaker(handleAll, { halfOpenAfter: 3_600_000, breaker: new ConsecutiveBreaker(5) })
const succeeded = closed.consecutive.execute(call)
const promised = (f: () => Promise<unknown>) => async () => {
  for (let i = 0; i < N; i++) await f()
}
print("CircuitBreaker Closed success from a Promise caller", await bestCpuTime({
  "cockatiel closed breaker": promised(() => cockatiel.execute(fn)),
  "bare Effect.runPromise": promised(() => Effect.runPromise(call)),
  "Effect.runPromise(breaker.execute)": promised(() => Effect.runPromise(succeeded))
}, N), "cockatiel closed breaker")

const bulkhead = Effect.runSync(Bulkhead.make({ name: "bench", maxConcurrent: PERMITS }))
const bounds = { initialLimit: PERMITS, minLimit: PERMITS, maxLimit: 2 * PERMITS }
const gradient2 = Effect.runSync(AdaptiveLimit.make({ name: "bench", algorithm: AdaptiveLimit.gradient2(bounds) }))
const aimd = Effect.runSync(AdaptiveLimit.make({ name: "bench", algorithm: AdaptiveLimit.aimd(bounds) }))
const semaphore = Effect.runSync(Semaphore.make(PERMITS))
const shedder = Effect.runSync(LoadShedder.make({ name: "bench", maxInFlight: PERMITS }))
const permits = await bestCpuTime(sync({
  "Semaphore.withPermit": loop(semaphore.withPermit(call), N),
  "bulkhead.execute": loop(bulkhead.execute(call), N),
  "shedder.execute": loop(shedder.execute(call), N),
  "adaptive gradient2": loop(gradient2.execute(call), N),
  "adaptive aimd": loop(aimd.execute(call), N)
}), N)
print("Bulkhead, LoadShedder, AdaptiveLimit success path", permits, "Semaphore.withPermit")
console.log(`\nadaptive / bulkhead: gradient2 ${(permits["adaptive gradient2"]! / permits["bulkhead.execute"]!).toFixed(2)}×, aimd ${
  (permits["adaptive aimd"]! / permits["bulkhead.execute"]!).toFixed(2)
}×`)

/**
 * Issue 5: success-path cost of Bulkhead.execute (and LoadShedder.execute)
 * against Effect's own Semaphore.withPermit, and 10,000 concurrent fibers
 * through a bulkhead of 100 with a queue of 10,000.
 */
import { Effect, Semaphore } from "effect"
import { Bulkhead, LoadShedder } from "../src/index.ts"
import { CALLS_PER_ITERATION as N, loop, ratio, suite, target } from "./harness.ts"

const FIBERS = 10_000
const PERMITS = 100

export const run = async (): Promise<void> => {
  await successPath()
  await manyFibers()
}

const successPath = async () => {
  const call = Effect.succeed(1)
  const semaphore = Semaphore.makeUnsafe(PERMITS)
  const bulkhead = Effect.runSync(Bulkhead.make({ name: "bench", maxConcurrent: PERMITS, maxQueue: 1000 }))
  const shedder = Effect.runSync(LoadShedder.make({ name: "bench", maxInFlight: PERMITS }))
  const programs: Record<string, Effect.Effect<void, unknown>> = {
    "bare Effect.succeed": loop(call, N),
    "Semaphore.withPermit": loop(semaphore.withPermit(call), N),
    "Semaphore.withPermitsIfAvailable(1)": loop(semaphore.withPermitsIfAvailable(1)(call), N),
    "bulkhead.execute": loop(bulkhead.execute(call), N),
    "shedder.execute (normal)": loop(shedder.execute(call), N)
  }
  const rows = await suite(
    "Bulkhead and LoadShedder: success path, per call",
    Object.entries(programs).map(([name, program]) => ({ name, units: N, fn: () => Effect.runSync(program) })),
    { baseline: "Semaphore.withPermit" }
  )
  target("bulkhead.execute / Semaphore.withPermit", ratio(rows, "bulkhead.execute", "Semaphore.withPermit"), 1.3)
}

interface Run {
  readonly completed: number
  readonly wallMillis: number
  readonly peakHeapMiB: number
  readonly peakRunning: number
}

/** Runs `FIBERS` fibers at once, each holding a permit across a 1 ms sleep, and samples the heap. */
const measure = async (guard: (effect: Effect.Effect<void>) => Effect.Effect<void, unknown>): Promise<Run> => {
  let running = 0
  let peakRunning = 0
  const work = Effect.suspend(() => {
    running++
    if (running > peakRunning) peakRunning = running
    return Effect.ensuring(Effect.sleep(1), Effect.sync(() => void running--))
  })
  const program = Effect.forEach(
    Array.from({ length: FIBERS }, (_, i) => i),
    () => Effect.as(guard(work), 1),
    { concurrency: "unbounded" }
  )
  const base = process.memoryUsage().heapUsed
  let peak = base
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed)
  }, 2)
  const started = performance.now()
  const results = await Effect.runPromise(program)
  const wallMillis = performance.now() - started
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().heapUsed)
  return {
    completed: results.reduce((a, b) => a + b, 0),
    wallMillis,
    peakHeapMiB: (peak - base) / 2 ** 20,
    peakRunning
  }
}

const manyFibers = async () => {
  const semaphore = Semaphore.makeUnsafe(PERMITS)
  const bulkhead = Effect.runSync(Bulkhead.make({ name: "bench", maxConcurrent: PERMITS, maxQueue: FIBERS }))
  // warm up both paths once
  await measure(semaphore.withPermit)
  await measure(bulkhead.execute)
  const baseline = await measure(semaphore.withPermit)
  const guarded = await measure(bulkhead.execute)
  const stats = Effect.runSync(bulkhead.stats)
  console.log(`\n## ${FIBERS.toLocaleString("en")} concurrent fibers, ${PERMITS} permits, each holding its permit across a 1 ms sleep\n`)
  console.log("| guard | completed | peak running | wall ms | peak heap growth MiB |")
  console.log("|---|---:|---:|---:|---:|")
  for (const [name, r] of [["Semaphore.withPermit (unbounded wait)", baseline], [`bulkhead.execute (maxQueue ${FIBERS})`, guarded]] as const) {
    console.log(`| ${name} | ${r.completed} | ${r.peakRunning} | ${r.wallMillis.toFixed(0)} | ${r.peakHeapMiB.toFixed(1)} |`)
  }
  console.log(`bulkhead after the run: ${JSON.stringify(stats)}`)
  target("10k fibers through the bulkhead: calls not completed", FIBERS - guarded.completed, 0, " calls")
  target("10k fibers: peak running above maxConcurrent", guarded.peakRunning - PERMITS, 0, " calls")
  // no target on wall time: it is the semaphore's (each release scans the waiting fibers) and noisy
  console.log(`wall time / Semaphore.withPermit: ${(guarded.wallMillis / baseline.wallMillis).toFixed(2)}×`)
}

/**
 * Bulkhead and LoadShedder (issues 5 and 12): the success path against
 * Effect's own `Semaphore.withPermit`; rejections (full bulkhead, shed call)
 * against cockatiel's bulkhead rejection, both called from a Promise; and a
 * deep waiting line (2,500 / 5,000 / 10,000 calls on a bulkhead of 100, each
 * holding its permit across a 1 ms sleep) against cockatiel's bulkhead.
 */
import { bulkhead as cockatielBulkhead, BulkheadRejectedError as CockatielRejected } from "cockatiel"
import { Effect, Semaphore } from "effect"
import { Bulkhead, Events, LoadShedder } from "../src/index.ts"
import { CALLS_PER_ITERATION as N, gc, loop, median, memoryInUse, ratio, suite, target } from "./harness.ts"

const PERMITS = 100
const DEPTHS = [2_500, 5_000, 10_000] as const
const ROUNDS = process.env.BENCH_QUICK === "1" ? 3 : 5

export const run = async (): Promise<void> => {
  await successPath()
  await rejections()
  await deepLine()
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

const ignore = () => undefined

/**
 * One rejection per call, each from a Promise: `Effect.runPromise` per call
 * for ours, `execute` for cockatiel's, both on a bulkhead whose only permit
 * is held and whose line is empty and full.
 */
const rejections = async () => {
  const theirs = cockatielBulkhead(1, 0)
  void theirs.execute(() => new Promise<never>(() => {}))
  const fn = () => Promise.resolve(1)
  await theirs.execute(fn).then(() => {
    throw new Error("cockatiel's bulkhead should be full")
  }, (e) => {
    if (!(e instanceof CockatielRejected)) throw e
  })

  const bulkhead = Effect.runSync(Bulkhead.make({ name: "bench", maxConcurrent: 1 }))
  Effect.runFork(bulkhead.execute(Effect.never))
  const shedder = Effect.runSync(LoadShedder.make({ name: "bench", maxInFlight: 1 }))
  Effect.runFork(shedder.execute(Effect.never, { priority: "critical" }))
  const call = Effect.succeed(1)
  const full = bulkhead.execute(call)
  const shed = shedder.execute(call)
  const listened = <A, E>(effect: Effect.Effect<A, E>) => Events.withListener(effect, () => Effect.void)
  const fullError = await Effect.runPromise(Effect.flip(full))
  const shedError = await Effect.runPromise(Effect.flip(shed))
  if (!Bulkhead.isBulkheadRejectedError(fullError) || !LoadShedder.isLoadShedError(shedError)) {
    throw new Error("the bulkhead and the shedder should reject")
  }

  const rows = await suite(
    "Rejections from a Promise caller, per call (full bulkhead, shed call; cockatiel's full bulkhead)",
    [
      { name: "cockatiel bulkhead(1, 0) rejects", fn: () => theirs.execute(fn).catch(ignore) },
      { name: "Effect.runPromise(bulkhead.execute), full", fn: () => Effect.runPromise(full).catch(ignore) },
      { name: "Effect.runPromise(shedder.execute), shed", fn: () => Effect.runPromise(shed).catch(ignore) },
      {
        name: "Effect.runPromise(bulkhead.execute), full, with a listener",
        fn: () => Effect.runPromise(listened(full)).catch(ignore)
      },
      {
        name: "Effect.runPromise(shedder.execute), shed, with a listener",
        fn: () => Effect.runPromise(listened(shed)).catch(ignore)
      }
    ],
    { baseline: "cockatiel bulkhead(1, 0) rejects" }
  )
  const base = "cockatiel bulkhead(1, 0) rejects"
  target("full bulkhead rejection / cockatiel's", ratio(rows, "Effect.runPromise(bulkhead.execute), full", base), 1.2)
  target("shed rejection / cockatiel's bulkhead rejection", ratio(rows, "Effect.runPromise(shedder.execute), shed", base), 1.2)
}

interface Run {
  readonly completed: number
  readonly wallMillis: number
  /** Peak of heap + external above the level after GC before the run. */
  readonly peakMiB: number
  readonly peakRunning: number
}

/** `calls` calls through a cockatiel bulkhead of `PERMITS`, each holding its permit across a 1 ms sleep. */
const cockatielRun = (calls: number): Promise<Run> => {
  const bulkhead = cockatielBulkhead(PERMITS, calls)
  return runWith(calls, async (probe) => {
    const pending: Array<Promise<number>> = []
    for (let i = 0; i < calls; i++) {
      pending.push(bulkhead.execute(async () => {
        probe.enter()
        await new Promise((resolve) => setTimeout(resolve, 1))
        probe.leave()
        return 1
      }))
    }
    probe.sample()
    const results = await Promise.all(pending)
    return results.reduce((a, b) => a + b, 0)
  })
}

/** The same through a bulkhead of `PERMITS` with a line of `calls`, one fiber per call. */
const oursRun = (calls: number): Promise<Run> => {
  const bulkhead = Effect.runSync(Bulkhead.make({ name: "bench", maxConcurrent: PERMITS, maxQueue: calls }))
  return runWith(calls, async (probe) => {
    const work = Effect.suspend(() => {
      probe.enter()
      return Effect.ensuring(Effect.sleep(1), Effect.sync(probe.leave))
    })
    const guarded = bulkhead.execute(work)
    await Effect.runPromise(Effect.forEach(Array.from({ length: calls }), () => guarded, { concurrency: "unbounded", discard: true }))
    const stats = Effect.runSync(bulkhead.stats)
    if (stats.active !== 0 || stats.queued !== 0) throw new Error(`bulkhead not idle after the run: ${JSON.stringify(stats)}`)
    return probe.completed()
  })
}

interface Probe {
  readonly enter: () => void
  readonly leave: () => void
  readonly sample: () => void
  /** Calls that ran to their end. */
  readonly completed: () => number
}

const runWith = async (calls: number, body: (probe: Probe) => Promise<number>): Promise<Run> => {
  let running = 0
  let peakRunning = 0
  let completed = 0
  gc()
  gc()
  const base = memoryInUse()
  let peak = base
  const sample = () => void (peak = Math.max(peak, memoryInUse()))
  const probe: Probe = {
    enter: () => {
      running++
      if (running > peakRunning) peakRunning = running
      if (running === PERMITS) sample()
    },
    leave: () => {
      running--
      completed++
    },
    sample,
    completed: () => completed
  }
  const sampler = setInterval(sample, 1)
  const started = performance.now()
  const done = await body(probe)
  const wallMillis = performance.now() - started
  clearInterval(sampler)
  sample()
  if (done !== calls || completed !== calls) throw new Error(`expected ${calls} calls to complete, got ${done}`)
  return { completed, wallMillis, peakMiB: (peak - base) / 2 ** 20, peakRunning }
}

/** The median of `ROUNDS` runs of each, alternating so that both see the same machine load. */
const compare = async (calls: number) => {
  const theirs: Array<Run> = []
  const ours: Array<Run> = []
  await cockatielRun(calls)
  await oursRun(calls)
  for (let i = 0; i < ROUNDS; i++) {
    theirs.push(await cockatielRun(calls))
    ours.push(await oursRun(calls))
  }
  const summary = (runs: ReadonlyArray<Run>) => ({
    wallMillis: median(runs.map((r) => r.wallMillis)),
    peakMiB: median(runs.map((r) => r.peakMiB)),
    peakRunning: Math.max(...runs.map((r) => r.peakRunning))
  })
  return { theirs: summary(theirs), ours: summary(ours) }
}

const deepLine = async () => {
  const results = []
  for (const calls of DEPTHS) results.push({ calls, ...(await compare(calls)) })
  console.log(
    `\n## A deep line: n calls at once on a bulkhead of ${PERMITS}, each holding its permit across a 1 ms sleep (median of ${ROUNDS})\n`
  )
  console.log("| calls | cockatiel ms | ours ms | × cockatiel | cockatiel MiB | ours MiB | × cockatiel | peak running |")
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|")
  for (const r of results) {
    console.log(
      `| ${r.calls} | ${r.theirs.wallMillis.toFixed(0)} | ${r.ours.wallMillis.toFixed(0)} | ${
        (r.ours.wallMillis / r.theirs.wallMillis).toFixed(2)
      } | ${r.theirs.peakMiB.toFixed(1)} | ${r.ours.peakMiB.toFixed(1)} | ${(r.ours.peakMiB / r.theirs.peakMiB).toFixed(2)} | ${
        r.ours.peakRunning
      } |`
    )
  }
  const deepest = results[results.length - 1]!
  const shallowest = results[0]!
  target("deep line: peak running above maxConcurrent", Math.max(...results.map((r) => r.ours.peakRunning)) - PERMITS, 0, " calls")
  target("10,000 queued calls: wall time / cockatiel's", deepest.ours.wallMillis / deepest.theirs.wallMillis, 1.5)
  target("10,000 queued calls: peak memory growth / cockatiel's", deepest.ours.peakMiB / deepest.theirs.peakMiB, 2)
  const perCall = (r: typeof deepest) => r.ours.wallMillis / r.calls
  // Growth no faster than linear: a scan of the line per release would make
  // the per-call time grow with the depth. It may shrink (the fixed cost of
  // each round of 1 ms timers is shared by more calls).
  target(`per-call wall time at ${deepest.calls} / at ${shallowest.calls} calls (linear: <= 1.2)`, perCall(deepest) / perCall(shallowest), 1.2)
}

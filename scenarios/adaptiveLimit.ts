/**
 * Simulation of a dependency whose capacity changes, behind an adaptive
 * limiter: the one home of the figures of docs/adaptive-limit.md, shared by
 * test/AdaptiveLimit.test.ts and the demo report (examples/demo.ts).
 *
 * It only sleeps: run it in virtual time (`VirtualTime.run`, as
 * {@link limitOverTime} does), where ninety simulated seconds take about a
 * second.
 */
import { Clock, Effect, Exit, Fiber, Semaphore } from "effect"
import { AdaptiveLimit } from "../src/index.ts"
import * as VirtualTime from "./virtualTime.ts"

export interface Phase {
  readonly label: string
  /** Calls the dependency serves at once; more wait in its queue. */
  readonly capacity: number
  readonly millis: number
}

export interface Row {
  readonly atMillis: number
  readonly phase: string
  readonly capacity: number
  readonly limit: number
  readonly inFlight: number
}

export interface PhaseSummary {
  readonly phase: string
  readonly capacity: number
  readonly admitted: number
  readonly rejected: number
  /** Median and 95th percentile latency of admitted calls, ms. */
  readonly p50: number
  readonly p95: number
  /** Slowest rejection, ms (0 = failed fast). */
  readonly maxRejectMillis: number
  /** Limit at the end of the phase. */
  readonly endLimit: number
}

const percentile = (values: Array<number>, p: number): number => {
  if (values.length === 0) return NaN
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

/**
 * Offers `arrivalsPerStep` calls every `stepMillis` to a limiter in front of a
 * dependency of `capacity` workers with service time `baseMillis`: beyond its
 * capacity, calls queue in it, so latency grows with the calls in flight.
 * Samples the limit every `sampleEvery` ms.
 */
export const simulate = (options: {
  readonly algorithm: AdaptiveLimit.Algorithm
  readonly phases: ReadonlyArray<Phase>
  readonly baseMillis: number
  /** The clock advances by this much between arrivals. */
  readonly stepMillis: number
  readonly arrivalsPerStep: number
  /** Record the limit every so many ms (a multiple of stepMillis). */
  readonly sampleEvery: number
}) =>
  Effect.gen(function*() {
    const limiter = yield* AdaptiveLimit.make({ name: "dependency", algorithm: options.algorithm })
    const workers = yield* Semaphore.make(options.phases[0]!.capacity)
    const dependency = workers.withPermit(Effect.sleep(options.baseMillis))
    const rows: Array<Row> = []
    const summaries: Array<PhaseSummary> = []
    const fibers: Array<Fiber.Fiber<unknown>> = []
    let t = 0
    for (const phase of options.phases) {
      yield* workers.resize(phase.capacity)
      const admitted: Array<number> = []
      const rejected: Array<number> = []
      const call = Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const exit = yield* Effect.exit(limiter.execute(dependency))
        const took = (yield* Clock.currentTimeMillis) - start
        ;(Exit.isSuccess(exit) ? admitted : rejected).push(took)
      })
      for (let end = t + phase.millis; t < end; t += options.stepMillis) {
        if (t % options.sampleEvery === 0) {
          const stats = yield* limiter.stats
          rows.push({ atMillis: t, phase: phase.label, capacity: phase.capacity, limit: stats.limit, inFlight: stats.inFlight })
        }
        for (let k = 0; k < options.arrivalsPerStep; k++) fibers.push(yield* Effect.forkChild(call))
        yield* Effect.sleep(options.stepMillis)
      }
      const stats = yield* limiter.stats
      summaries.push({
        phase: phase.label,
        capacity: phase.capacity,
        admitted: admitted.length,
        rejected: rejected.length,
        p50: percentile(admitted, 0.5),
        p95: percentile(admitted, 0.95),
        maxRejectMillis: rejected.length === 0 ? 0 : Math.max(...rejected),
        endLimit: stats.limit
      })
    }
    yield* Fiber.joinAll(fibers)
    return { rows, summaries, final: yield* limiter.stats }
  })

/** A markdown table of the limit over time. */
export const table = (rows: ReadonlyArray<Row>): string =>
  ["| t (ms) | phase | capacity | limit | in flight |", "|---:|---|---:|---:|---:|"]
    .concat(rows.map((r) => `| ${r.atMillis} | ${r.phase} | ${r.capacity} | ${r.limit} | ${r.inFlight} |`))
    .join("\n")

/**
 * The run of docs/adaptive-limit.md: a dependency of 40 workers, each call
 * 200 ms, offered 400 calls/s (twice its capacity); capacity halves to 20 at
 * 30 s and returns to 40 at 60 s; Gradient2 with `rttTolerance: 1`,
 * `minLimit: 1`, `initialLimit: 40`. Runs in virtual time.
 */
export const baseMillis = 200

export const limitOverTime = () =>
  Effect.map(
    VirtualTime.run(simulate({
      algorithm: AdaptiveLimit.gradient2({ initialLimit: 40, minLimit: 1, rttTolerance: 1 }),
      phases: [
        { label: "normal", capacity: 40, millis: 30_000 },
        { label: "halved", capacity: 20, millis: 30_000 },
        { label: "recovered", capacity: 40, millis: 30_000 }
      ],
      baseMillis,
      // 8 calls per 20 ms = 400/s
      stepMillis: 20,
      arrivalsPerStep: 8,
      sampleEvery: 5_000
    })),
    ([result]) => result
  )

/** The phases as a markdown table. */
export const summaryTable = (summaries: ReadonlyArray<PhaseSummary>): string =>
  ["| phase | admitted | rejected | p50 ms | p95 ms | slowest rejection | limit at end |", "|---|---:|---:|---:|---:|---:|---:|"]
    .concat(summaries.map((s) =>
      `| ${s.phase} (${s.capacity}) | ${s.admitted} | ${s.rejected} | ${s.p50} | ${s.p95} | ${s.maxRejectMillis} ms | ${s.endLimit} |`
    ))
    .join("\n")

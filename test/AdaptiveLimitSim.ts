/** Simulation of a dependency whose capacity changes, driven under TestClock (shared by the AdaptiveLimit tests). */
import { Clock, Effect, Exit, Fiber, Semaphore } from "effect"
import { TestClock } from "effect/testing"
import { AdaptiveLimit } from "../src/index.ts"

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
        yield* TestClock.adjust(options.stepMillis)
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
    yield* TestClock.adjust(60_000)
    yield* Fiber.joinAll(fibers)
    return { rows, summaries, final: yield* limiter.stats }
  })

/** A markdown table of the limit over time. */
export const table = (rows: ReadonlyArray<Row>): string =>
  ["| t (ms) | phase | capacity | limit | in flight |", "|---:|---|---:|---:|---:|"]
    .concat(rows.map((r) => `| ${r.atMillis} | ${r.phase} | ${r.capacity} | ${r.limit} | ${r.inFlight} |`))
    .join("\n")

/**
 * What every scenario returns, and the figures computed from it. A scenario
 * runs the same load twice — without and with resilience — against the same
 * simulated dependency (same seed), records every request, and checks its
 * thresholds. The tests assert the thresholds; the demo prints the figures
 * and draws the report from the same result.
 */
import { Clock, Duration, Effect, Exit, Random } from "effect"
import type * as Scope from "effect/Scope"
import type { CallRecord, Outcome } from "./driver.ts"
import * as VirtualTime from "./virtualTime.ts"

export type { CallRecord, Outcome } from "./driver.ts"

/** A breaker state seen at time `t` (ms). */
export interface BreakerSample {
  readonly t: number
  readonly state: string
}

export interface Variant {
  readonly label: "without resilience" | "with resilience"
  readonly records: ReadonlyArray<CallRecord>
  /** Calls that reached the dependency (first attempts and retries). */
  readonly dependencyCalls: number
  readonly breaker: ReadonlyArray<BreakerSample>
  /** Items in the dead-letter queue at the end. */
  readonly deadLettered: number
  /** From the dependency's recovery until the service is back to normal, ms; undefined if not measured. */
  readonly recoveryMs: number | undefined
  /** Scenario-specific facts (e.g. charged twice, max queue). */
  readonly facts: Readonly<Record<string, number>>
}

export interface Threshold {
  readonly name: string
  readonly actual: number
  readonly op: "<" | "<=" | ">=" | ">" | "="
  readonly limit: number
  readonly unit: "%" | "ms" | "" | "s"
  readonly pass: boolean
}

export interface ScenarioResult {
  readonly id: string
  readonly title: string
  /** Which seed document the claim comes from, and the claim. */
  readonly source: string
  readonly claim: string
  readonly seed: number
  /** Shaded on the charts: the window of failure, ms. */
  readonly incident: { readonly from: number; readonly until: number } | undefined
  readonly without: Variant
  readonly with: Variant
  readonly thresholds: ReadonlyArray<Threshold>
  /** Virtual milliseconds simulated and real milliseconds spent. */
  readonly simulatedMs: number
  readonly wallMs: number
}

export const threshold = (
  name: string,
  actual: number,
  op: Threshold["op"],
  limit: number,
  unit: Threshold["unit"] = ""
): Threshold => {
  const pass = op === "<"
    ? actual < limit
    : op === "<="
    ? actual <= limit
    : op === ">="
    ? actual >= limit
    : op === ">"
    ? actual > limit
    : actual === limit
  return { name, actual, op, limit, unit, pass }
}

// -----------------------------------------------------------------------------
// figures
// -----------------------------------------------------------------------------

/** The q-quantile (0..1) of values, nearest rank; 0 for none. */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

export interface Summary {
  readonly requests: number
  readonly succeeded: number
  /** In percent. */
  readonly successRate: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly dependencyCalls: number
  readonly recoveryMs: number | undefined
  readonly deadLettered: number
}

export const latencies = (records: ReadonlyArray<CallRecord>) => records.map((r) => r.end - r.start)

export const summarize = (variant: Variant): Summary => {
  const succeeded = variant.records.filter((r) => r.ok).length
  const l = latencies(variant.records)
  return {
    requests: variant.records.length,
    succeeded,
    successRate: variant.records.length === 0 ? 100 : (100 * succeeded) / variant.records.length,
    p50: quantile(l, 0.5),
    p95: quantile(l, 0.95),
    p99: quantile(l, 0.99),
    dependencyCalls: variant.dependencyCalls,
    recoveryMs: variant.recoveryMs,
    deadLettered: variant.deadLettered
  }
}

/** Records that started in [from, until). */
export const between = (records: ReadonlyArray<CallRecord>, from: number, until: number) =>
  records.filter((r) => r.start >= from && r.start < until)

export const errorRate = (records: ReadonlyArray<CallRecord>) =>
  records.length === 0 ? 0 : records.filter((r) => !r.ok).length / records.length

export interface Bucket {
  readonly t: number
  readonly requests: number
  /** In [0, 1]. */
  readonly errorRate: number
  readonly p50: number
  readonly p95: number
}

/** Requests grouped by start time into buckets of `size` ms. */
export const buckets = (records: ReadonlyArray<CallRecord>, size: number): ReadonlyArray<Bucket> => {
  const groups: Array<Array<CallRecord>> = []
  for (const r of records) (groups[Math.floor(r.start / size)] ??= []).push(r)
  const out: Array<Bucket> = []
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i] ?? []
    const l = latencies(g)
    out.push({ t: i * size, requests: g.length, errorRate: errorRate(g), p50: quantile(l, 0.5), p95: quantile(l, 0.95) })
  }
  return out
}

// -----------------------------------------------------------------------------
// running
// -----------------------------------------------------------------------------

/** Maps a request's exit to what the user saw. */
export const outcomeOf = <A, E>(
  effect: Effect.Effect<A, E>,
  label: (a: A) => string = () => "ok"
): Effect.Effect<Outcome> =>
  Effect.map(Effect.exit(effect), (exit): Outcome => {
    if (Exit.isSuccess(exit)) {
      const l = label(exit.value)
      return { ok: true, label: l }
    }
    const reason = exit.cause.reasons[0]
    const tag = reason?._tag === "Fail"
      ? String((reason.error as { _tag?: unknown })?._tag ?? "error")
      : reason?._tag === "Die"
      ? "defect"
      : "interrupted"
    return { ok: false, label: tag }
  })

/**
 * Runs one variant in virtual time under a seed; returns it with the
 * simulated time it took.
 */
export const simulate = <E>(seed: number, variant: Effect.Effect<Variant, E, Scope.Scope>, live = false) =>
  (live
    // real I/O cannot run in virtual time: the real clock, and real waiting
    ? Effect.map(Effect.timed(Effect.scoped(variant)), ([d, v]): [Variant, VirtualTime.VirtualTimeStats] => [
      v,
      { instants: 0, wakes: 0, elapsed: Duration.toMillis(d) }
    ])
    : VirtualTime.run(Effect.scoped(variant))).pipe(Random.withSeed(seed))

/** Runs both variants and puts the result together. */
export const scenario = <E>(options: {
  readonly id: string
  readonly title: string
  readonly source: string
  readonly claim: string
  readonly seed: number
  readonly incident?: { readonly from: number; readonly until: number } | undefined
  readonly without: Effect.Effect<Variant, E, Scope.Scope>
  readonly with: Effect.Effect<Variant, E, Scope.Scope>
  readonly thresholds: (without: Variant, withResilience: Variant) => ReadonlyArray<Threshold>
  /** Run on the real clock (for a real dependency) instead of in virtual time. */
  readonly live?: boolean | undefined
}): Effect.Effect<ScenarioResult, E> =>
  Effect.gen(function*() {
    const started = performance.now()
    const [without, a] = yield* simulate(options.seed, options.without, options.live)
    const [resilient, b] = yield* simulate(options.seed, options.with, options.live)
    return {
      id: options.id,
      title: options.title,
      source: options.source,
      claim: options.claim,
      seed: options.seed,
      incident: options.incident,
      without,
      with: resilient,
      thresholds: options.thresholds(without, resilient),
      simulatedMs: a.elapsed + b.elapsed,
      wallMs: performance.now() - started
    }
  })

/** Breaker states sampled over a run (the driver's `sample` hook). */
export const breakerSampler = (state: Effect.Effect<{ readonly _tag: string }>) => {
  const samples: Array<BreakerSample> = []
  const sample = (t: number) =>
    Effect.map(state, (s) => {
      const last = samples[samples.length - 1]
      if (last === undefined || last.state !== s._tag) samples.push({ t, state: s._tag })
    })
  return { samples, sample }
}

export const percent = (part: number, whole: number) => (whole === 0 ? 0 : (100 * part) / whole)

/** Wraps a call so that the time of every call reaching it is recorded. */
export const recordCalls = <A, E, R>(call: Effect.Effect<A, E, R>) => {
  const times: Array<number> = []
  const recorded = Effect.andThen(Effect.map(Clock.currentTimeMillis, (t) => void times.push(t)), call)
  return { call: recorded, times }
}

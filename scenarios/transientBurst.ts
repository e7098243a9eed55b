/**
 * Scenario 2 — a transient burst (seed 003: "network calls fail ~2-5 % of
 * the time"; a burst of 60 % for 30 s): retries with backoff absorb most of
 * it, and a retry budget keeps the extra load on the struggling dependency
 * to its ratio of recent calls — no retry storm.
 */
import { Effect } from "effect"
import { Backoff, Chaos, Retry } from "../src/index.ts"
import { between, errorRate, outcomeOf, recordCalls, scenario, threshold, type Variant } from "./common.ts"
import { drive } from "./driver.ts"

export interface BurstOptions {
  readonly rate?: number | undefined
  readonly seed?: number | undefined
  /** Retries allowed per call (the budget's ratio). */
  readonly ratio?: number | undefined
}

export const BURST = { from: 30_000, until: 60_000 } as const

export const transientBurst = (options: BurstOptions = {}) => {
  const rate = options.rate ?? 100
  const ratio = options.ratio ?? 1
  const minPerSecond = 10
  const duration = 120_000

  const variant = (resilient: boolean) =>
    Effect.gen(function*() {
      const api = yield* Chaos.dependency({
        name: "embeddings",
        failureRate: 0.02,
        latency: Chaos.logNormal({ median: "40 millis", p99: "200 millis" }),
        outages: [{ ...BURST, failureRate: 0.6 }]
      })
      const budget = yield* Retry.budget({ ratio, minPerSecond, window: "10 seconds" })
      const policy = Retry.make({
        name: "embeddings",
        maxAttempts: 4,
        backoff: Backoff.exponential({ base: "200 millis", max: "5 seconds", jitter: "full" }),
        budget
      })
      const reached = recordCalls(api.call)
      const call = resilient ? Retry.retry(reached.call, policy) : reached.call
      const records = yield* drive({ duration, rate: () => rate, request: () => outcomeOf(call) })
      return {
        label: resilient ? "with resilience" : "without resilience",
        records,
        dependencyCalls: (yield* api.stats).calls,
        breaker: [],
        deadLettered: 0,
        recoveryMs: undefined,
        facts: {
          burstLoad: reached.times.filter((t) => t >= BURST.from && t < BURST.until).length /
            between(records, BURST.from, BURST.until).length
        }
      } satisfies Variant
    })

  return scenario({
    id: "transient-burst",
    title: "Transient burst: 60 % failures for 30 s",
    source: "seed 003",
    claim: "retries absorb transient failures; a budget prevents retry storms",
    seed: options.seed ?? 2,
    incident: BURST,
    without: variant(false),
    with: variant(true),
    thresholds: (without, resilient) => {
      const burstWithout = errorRate(between(without.records, BURST.from, BURST.until))
      const burstWith = errorRate(between(resilient.records, BURST.from, BURST.until))
      const calls = resilient.records.length
      const extra = resilient.dependencyCalls - calls
      const allowance = ratio * calls + minPerSecond * (duration / 1000)
      return [
        threshold("errors during the burst, without", 100 * burstWithout, ">=", 50, "%"),
        threshold("errors during the burst, with", 100 * burstWith, "<", 100 * burstWithout / 2, "%"),
        threshold("errors outside the burst, with", 100 * errorRate(resilient.records.filter((r) => r.start < BURST.from || r.start >= BURST.until)), "<", 0.1, "%"),
        threshold("extra calls (retries) within the budget", extra, "<=", allowance),
        // the budget's own bound; 5 % slack because its window slides in 1 s buckets and a retry
        // reaches the dependency up to one backoff after the budget counted it
        threshold("calls per request during the burst", resilient.facts.burstLoad!, "<=", 1.05 * (1 + ratio + minPerSecond / rate))
      ]
    }
  })
}


/**
 * Scenario 4 — a traffic spike at 10× capacity (seed 003, "queue memory
 * exhaustion": unbounded queues consume all memory). The dependency serves
 * 20 calls at once in ~100 ms (200 per second). For 5 s, 2,000 requests per
 * second arrive. Without a bulkhead they all wait in the server's unbounded
 * line: the line grows to thousands and every request — even after the spike
 * — waits for it. With a bulkhead (20 running, 20 waiting), the excess is
 * rejected at once, admitted calls keep their latency, and the line stays
 * bounded.
 */
import { Effect } from "effect"
import { Bulkhead, Chaos } from "../src/index.ts"
import { between, latencies, outcomeOf, quantile, scenario, threshold, type Variant } from "./common.ts"
import { drive } from "./driver.ts"

export const SPIKE = { from: 15_000, until: 20_000 } as const

export interface SpikeOptions {
  readonly seed?: number | undefined
  /** Calls the dependency serves at once (~10 per second each); the load scales with it. */
  readonly capacity?: number | undefined
}

export const trafficSpike = (options: SpikeOptions = {}) => {
  const capacity = options.capacity ?? 20
  // capacity × 10 calls per second: normal load is half of it, the spike ten times it
  const normal = 5 * capacity
  const spike = 100 * capacity
  const duration = 40_000

  const variant = (resilient: boolean) =>
    Effect.gen(function*() {
      const api = yield* Chaos.dependency({
        name: "search",
        latency: Chaos.uniform({ min: "80 millis", max: "120 millis" }),
        capacity
      })
      const bulkhead = yield* Bulkhead.make({ name: "search", maxConcurrent: capacity, maxQueue: capacity })
      let maxWaiting = 0
      const call = resilient
        ? Effect.andThen(
          Effect.map(bulkhead.stats, (s) => void (maxWaiting = Math.max(maxWaiting, s.queued))),
          bulkhead.execute(api.call)
        )
        : api.call
      const records = yield* drive({
        duration,
        rate: (t) => (t >= SPIKE.from && t < SPIKE.until ? spike : normal),
        request: () => outcomeOf(call)
      })
      const stats = yield* api.stats
      return {
        label: resilient ? "with resilience" : "without resilience",
        records,
        dependencyCalls: stats.calls,
        breaker: [],
        deadLettered: 0,
        // back to normal: the first request after the spike served in under 200 ms
        recoveryMs: (() => {
          const back = records.find((r) => r.start >= SPIKE.until && r.ok && r.end - r.start < 200)
          return back === undefined ? undefined : back.start - SPIKE.until
        })(),
        facts: {
          // waiting calls held in memory at the peak: the server's line plus the bulkhead's
          maxWaiting: stats.maxQueued + maxWaiting,
          rejected: records.filter((r) => r.label === "BulkheadRejectedError").length
        }
      } satisfies Variant
    })

  return scenario({
    id: "traffic-spike",
    title: "Traffic spike at 10× capacity for 5 s",
    source: "seed 003",
    claim: "bounded queues reject the excess at once; admitted calls keep their latency; memory stays bounded",
    seed: options.seed ?? 5,
    incident: SPIKE,
    without: variant(false),
    with: variant(true),
    thresholds: (without, resilient) => {
      const before = quantile(latencies(between(resilient.records, 0, SPIKE.from)), 0.99)
      const admitted = between(resilient.records, SPIKE.from, SPIKE.until).filter((r) => r.ok)
      const rejected = resilient.records.filter((r) => r.label === "BulkheadRejectedError")
      return [
        threshold("p99 of admitted calls during the spike vs before", quantile(latencies(admitted), 0.99), "<=", 2.5 * before, "ms"),
        threshold("slowest rejection", Math.max(0, ...latencies(rejected)), "=", 0, "ms"),
        threshold("waiting calls at the peak, with", resilient.facts.maxWaiting!, "<=", capacity),
        threshold("waiting calls at the peak, without", without.facts.maxWaiting!, ">", 250 * capacity),
        threshold("p99 latency without (requests wait in the line)", quantile(latencies(without.records), 0.99), ">", 20_000, "ms"),
        threshold("back to normal after the spike, with", resilient.recoveryMs ?? Infinity, "<", 1_000, "ms")
      ]
    }
  })
}

/**
 * Scenario 3 — a full outage, then recovery (seeds 001 and 004): the
 * dependency hangs and fails for 60 s. The breaker opens, calls fail fast (no
 * call reaches the dead dependency while the circuit is open; only half-open
 * probes do), the last known good answers are served with their age, and
 * once the dependency is back the breaker closes within 30 s (004:
 * "recovery time < 30 seconds").
 */
import { Duration, Effect } from "effect"
import { Backoff, Chaos, CircuitBreaker, Fallback, Policy } from "../src/index.ts"
import { between, breakerSampler, errorRate, latencies, outcomeOf, quantile, recordCalls, scenario, threshold, type Variant } from "./common.ts"
import { drive } from "./driver.ts"

export const OUTAGE = { from: 20_000, until: 80_000 } as const

export interface OutageOptions {
  readonly rate?: number | undefined
  readonly seed?: number | undefined
  /** Distinct queries (each one's last good answer is kept). */
  readonly keys?: number | undefined
}

export const outageRecovery = (options: OutageOptions = {}) => {
  const rate = options.rate ?? 50
  const keys = options.keys ?? 50
  const duration = 150_000

  const variant = (resilient: boolean) =>
    Effect.gen(function*() {
      const api = yield* Chaos.dependency({
        name: "analytics-db",
        failureRate: 0.005,
        latency: Chaos.logNormal({ median: "30 millis", p99: "150 millis" }),
        // a dead dependency hangs before it fails
        outages: [{ ...OUTAGE, latency: "5 seconds" }]
      })
      const policy = resilient
        ? yield* Policy.make({
          name: "analytics-db",
          timeout: "1 second",
          retry: {
            maxAttempts: 3,
            backoff: Backoff.exponential({ base: "100 millis", max: "1 second", jitter: "full" }),
            // an open circuit is an answer, not a blip: fail fast to the fallback, even near the end
            // of its open period (by default a hint up to the backoff's cap would still be waited)
            classify: { permanentTags: ["CircuitOpenError"] }
          },
          circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "10 seconds", successThreshold: 2 }
        })
        : Policy.passthrough
      const breaker = policy.circuitBreaker
      // every call that reaches the dependency, and the breaker state it found
      let whileOpen = 0
      let probes = 0
      const reached = recordCalls(
        breaker === undefined ? api.call : Effect.andThen(
          Effect.map(breaker.state, (s) => {
            if (s._tag === "Open") whileOpen++
            if (s._tag === "HalfOpen") probes++
          }),
          api.call
        )
      )
      const cache = yield* Fallback.lastKnownGood<number>({ name: "analytics-cache", ttl: "5 minutes" })
      let maxAge = 0
      const served = (i: number) =>
        resilient
          ? Effect.map(cache.execute(reached.call.pipe(policy.execute), `q${i % keys}`), (s) => {
            maxAge = Math.max(maxAge, Duration.toMillis(s.age))
            return s.source
          })
          : Effect.as(reached.call, "live")
      const states = breaker === undefined ? undefined : breakerSampler(breaker.state)
      const records = yield* drive({
        duration,
        rate: () => rate,
        request: (i) => outcomeOf(served(i), (source) => source === "cache" ? "fallback" : "ok"),
        sample: states?.sample,
        sampleEvery: 100
      })
      // back to normal: with a breaker, when it closes after the outage; without, the first success after it
      const closed = states?.samples.find((s) => s.t >= OUTAGE.until && s.state === "Closed")?.t
      const firstOk = records.find((r) => r.start >= OUTAGE.until && r.ok && r.label === "ok")?.end
      return {
        label: resilient ? "with resilience" : "without resilience",
        records,
        dependencyCalls: (yield* api.stats).calls,
        breaker: states?.samples ?? [],
        deadLettered: 0,
        recoveryMs: (resilient ? closed : firstOk) === undefined ? undefined : (resilient ? closed! : firstOk!) - OUTAGE.until,
        facts: {
          callsWhileOpen: whileOpen,
          probes,
          openings: states?.samples.filter((s) => s.state === "Open").length ?? 0,
          fallbacks: records.filter((r) => r.label === "fallback").length,
          maxFallbackAgeMs: maxAge,
          callsDuringOutage: reached.times.filter((t) => t >= OUTAGE.from && t < OUTAGE.until).length
        }
      } satisfies Variant
    })

  return scenario({
    id: "outage-recovery",
    title: "Full outage for 60 s, then recovery",
    source: "seeds 001, 004",
    claim: "the breaker fails fast, fallbacks serve last-known-good answers, recovery < 30 s",
    seed: options.seed ?? 4,
    incident: OUTAGE,
    without: variant(false),
    with: variant(true),
    thresholds: (without, resilient) => {
      const during = (v: Variant) => between(v.records, OUTAGE.from, OUTAGE.until)
      const p95During = (v: Variant) => quantile(latencies(during(v)), 0.95)
      return [
        threshold("calls reaching the dependency while open", resilient.facts.callsWhileOpen!, "=", 0),
        threshold("half-open probes", resilient.facts.probes!, "<=", 2 * (resilient.facts.openings! + 1)),
        threshold("calls reaching the dead dependency, with vs without", resilient.facts.callsDuringOutage!, "<", without.facts.callsDuringOutage! / 20),
        threshold("user-facing errors during the outage, with", 100 * errorRate(during(resilient)), "<", 1, "%"),
        threshold("user-facing errors during the outage, without", 100 * errorRate(during(without)), ">", 99, "%"),
        threshold("p95 latency during the outage, with (fails fast)", p95During(resilient), "<", 250, "ms"),
        threshold("p95 latency during the outage, without (hangs)", p95During(without), ">=", 5000, "ms"),
        threshold("oldest fallback answer served", resilient.facts.maxFallbackAgeMs!, "<", OUTAGE.until - OUTAGE.from + 10_000, "ms"),
        threshold("recovery time", resilient.recoveryMs ?? Infinity, "<", 30_000, "ms")
      ]
    }
  })
}

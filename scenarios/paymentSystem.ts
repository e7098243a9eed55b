/**
 * Scenario 5 — the payment system of seed 004: 50,000 transactions per
 * simulated minute (a rate: the tests run 24 s of it, the demo the full minute) across payments (a primary and a fallback provider),
 * inventory, notifications and fraud scoring. In the middle third of the run the primary
 * provider degrades (30 % failures, 5× slower). Claims: payments
 * availability ≥ 99.99 %, throughput degradation < 20 % and p95 latency
 * increase < 50 % during the partial failure, zero payments lost (every
 * payment completed or in the dead-letter queue).
 */
import { Cause, Effect } from "effect"
import { Backoff, Chaos, CircuitBreaker, DeadLetterQueue, Fallback, LoadShedder, Policy, Retry } from "../src/index.ts"
import { between, breakerSampler, latencies, outcomeOf, percent, quantile, scenario, threshold, type Variant } from "./common.ts"
import { drive } from "./driver.ts"

export interface PaymentOptions {
  /** Transactions per minute. */
  readonly perMinute?: number | undefined
  /** Simulated milliseconds: a third healthy, a third degraded, a third recovering. Default one minute. */
  readonly duration?: number | undefined
  readonly seed?: number | undefined
}

export const paymentSystem = (options: PaymentOptions = {}) => {
  const perMinute = options.perMinute ?? 50_000
  const rate = perMinute / 60
  const duration = options.duration ?? 60_000
  const DEGRADED = { from: Math.round(duration / 3), until: Math.round((2 * duration) / 3) }

  const variant = (resilient: boolean) =>
    Effect.gen(function*() {
      const primary = yield* Chaos.dependency({
        name: "provider-a",
        failureRate: 0.001,
        latency: Chaos.logNormal({ median: "40 millis", p99: "150 millis" }),
        outages: [{
          ...DEGRADED,
          failureRate: 0.3,
          latency: Chaos.logNormal({ median: "200 millis", p99: "750 millis" })
        }]
      })
      const secondary = yield* Chaos.dependency({
        name: "provider-b",
        failureRate: 0.001,
        latency: Chaos.logNormal({ median: "50 millis", p99: "180 millis" })
      })
      const inventory = yield* Chaos.dependency({
        name: "inventory",
        failureRate: 0.005,
        latency: Chaos.uniform({ min: "5 millis", max: "20 millis" })
      })
      const fraud = yield* Chaos.dependency({
        name: "fraud-scoring",
        failureRate: 0.01,
        latency: Chaos.uniform({ min: "5 millis", max: "25 millis" }),
        value: () => 0.1
      })
      const notifications = yield* Chaos.dependency({ name: "notifications", failureRate: 0.02 })
      const deadLetters = yield* DeadLetterQueue.make<number>({ name: "payments-dlq", capacity: 100_000 })
      const shedder = yield* LoadShedder.make({ name: "notifications", maxInFlight: 500 })

      const quick = Retry.make({ maxAttempts: 3, backoff: Backoff.exponential({ base: "5 millis", max: "50 millis", jitter: "full" }) })
      const providerA = yield* Policy.make({
        name: "provider-a",
        timeout: "150 millis",
        circuitBreaker: {
          policy: CircuitBreaker.timeWindow({ window: "1 second", failureRate: 0.2, minimumCalls: 50 }),
          slowCall: { threshold: "120 millis", rate: 0.3 },
          resetTimeout: "5 seconds",
          successThreshold: 5,
          halfOpenMaxCalls: 5
        }
      })
      const providerB = yield* Policy.make({ name: "provider-b", timeout: "500 millis", retry: quick })
      const states = breakerSampler(providerA.circuitBreaker!.state)

      // what the user waits for: fraud and inventory together, then the charge
      const transaction = (id: number) =>
        resilient
          ? Effect.gen(function*() {
            yield* Effect.all([
              // fraud scoring degrades to a default score rather than blocking a payment
              fraud.call.pipe(Effect.timeout("50 millis"), Effect.orElseSucceed(() => 0.5)),
              inventory.call.pipe(Retry.retry(quick))
            ], { concurrency: 2 })
            const charged = yield* Fallback.chain([primary.call.pipe(providerA.execute), secondary.call.pipe(providerB.execute)], {
              name: "payments"
            }).pipe(
              Effect.as("ok"),
              // both providers failed: the payment waits in the DLQ for a replay, it is not lost
              Effect.catch((error) =>
                Effect.as(deadLetters.offer({ item: id, stage: "payment", cause: Cause.fail(error) }), "queued")
              )
            )
            // notifications are sheddable and never hold up the payment
            yield* Effect.forkDetach(
              notifications.call.pipe(shedder.execute({ priority: "sheddable" }), Effect.ignore)
            )
            if (charged === "queued") return yield* Effect.fail("queued" as const)
            return charged
          })
          : Effect.gen(function*() {
            yield* fraud.call
            yield* inventory.call
            yield* primary.call
            yield* Effect.forkDetach(Effect.ignore(notifications.call))
            return "ok"
          })

      const records = yield* drive({
        duration,
        rate: () => rate,
        request: (i) => outcomeOf(transaction(i)),
        sample: resilient ? states.sample : undefined,
        sampleEvery: 100
      })
      const deadLettered = yield* deadLetters.size
      return {
        label: resilient ? "with resilience" : "without resilience",
        records,
        dependencyCalls: (yield* primary.stats).calls + (yield* secondary.stats).calls,
        breaker: resilient ? states.samples : [],
        deadLettered,
        recoveryMs: (() => {
          const closed = states.samples.find((s) => s.t >= DEGRADED.until && s.state === "Closed")
          return resilient && closed !== undefined ? closed.t - DEGRADED.until : undefined
        })(),
        facts: {
          completed: records.filter((r) => r.ok).length,
          // a payment is lost when it neither completed nor reached the DLQ
          lost: records.filter((r) => !r.ok).length - deadLettered,
          secondaryCalls: (yield* secondary.stats).calls
        }
      } satisfies Variant
    })

  return scenario({
    id: "payment-system",
    title: "Payment system: 50,000 transactions/min, one provider degrading",
    source: "seed 004",
    claim: "99.99 % availability; throughput −20 % and p95 +50 % at most in degraded mode; zero payments lost",
    seed: options.seed ?? 44,
    incident: DEGRADED,
    without: variant(false),
    with: variant(true),
    thresholds: (_without, resilient) => {
      const base = between(resilient.records, 0, DEGRADED.from)
      const degraded = between(resilient.records, DEGRADED.from, DEGRADED.until)
      const throughput = (rs: typeof base, ms: number) => rs.filter((r) => r.ok).length / (ms / 1000)
      const t0 = throughput(base, DEGRADED.from)
      const t1 = throughput(degraded, DEGRADED.until - DEGRADED.from)
      const p0 = quantile(latencies(base), 0.95)
      const p1 = quantile(latencies(degraded), 0.95)
      return [
        threshold("transactions per simulated minute", (60_000 * resilient.records.length) / duration, ">=", perMinute),
        threshold("payments availability", percent(resilient.facts.completed!, resilient.records.length), ">=", 99.99, "%"),
        threshold("throughput degradation during the partial failure", percent(t0 - t1, t0), "<", 20, "%"),
        threshold("p95 latency increase during the partial failure", percent(p1 - p0, p0), "<", 50, "%"),
        threshold("payments lost", resilient.facts.lost!, "=", 0)
      ]
    }
  })
}

/**
 * Scenario 1 — the seeds' RAG client (seed 003): an LLM / vector-database API
 * with 2–5 % transient failures, called 10,000 times, without a policy and
 * with the `balanced` profile (4 attempts, exponential backoff from 1 s with
 * full jitter, breaker after 5 consecutive failures, bulkhead 100 + 1,000).
 * Claim: error reduction ≥ 95 %, user-facing errors < 0.1 %.
 */
import { Effect } from "effect"
import { Chaos, Policy, ResilienceConfig } from "../src/index.ts"
import { breakerSampler, errorRate, outcomeOf, percent, scenario, threshold, type Variant } from "./common.ts"
import { drive } from "./driver.ts"

export interface RagOptions {
  readonly requests?: number | undefined
  /** Requests per second. */
  readonly rate?: number | undefined
  /** The dependency's transient failure rate (the seeds say 2–5 %). */
  readonly failureRate?: number | undefined
  readonly seed?: number | undefined
  /** Your own call in place of the simulated API (it must fail with an error the profile retries). */
  readonly call?: Effect.Effect<unknown, unknown> | undefined
  /** Run on the real clock: needed when `call` does real I/O. */
  readonly live?: boolean | undefined
}

export const ragClient = (options: RagOptions = {}) => {
  const requests = options.requests ?? 10_000
  const rate = options.rate ?? 100
  const failureRate = options.failureRate ?? 0.05
  const duration = Math.ceil((requests / rate) * 1000)

  const setup = Effect.gen(function*() {
    const api = yield* Chaos.dependency({
      name: "rag-api",
      failureRate,
      latency: Chaos.logNormal({ median: "120 millis", p99: "800 millis" })
    })
    const call = options.call ?? api.call
    return { api, call }
  })

  const variant = (resilient: boolean) =>
    Effect.gen(function*() {
      const { api, call } = yield* setup
      // the balanced profile, exactly as a config file without overrides gives it
      const options = yield* ResilienceConfig.policy("rag").pipe(
        Effect.provide(ResilienceConfig.layer({ profile: "balanced", policies: { rag: {} } }))
      )
      const policy = resilient ? yield* Policy.make(options) : Policy.passthrough
      const breaker = policy.circuitBreaker === undefined ? undefined : breakerSampler(policy.circuitBreaker.state)
      const records = yield* drive({
        duration,
        rate: () => rate,
        request: () => outcomeOf(call.pipe(policy.execute)),
        sample: breaker?.sample,
        sampleEvery: 1000
      })
      return {
        label: resilient ? "with resilience" : "without resilience",
        records,
        dependencyCalls: (yield* api.stats).calls,
        breaker: breaker?.samples ?? [],
        deadLettered: 0,
        recoveryMs: undefined,
        facts: {}
      } satisfies Variant
    })

  return scenario({
    id: "rag-client",
    title: "RAG client: 2–5 % transient failures, 10,000 requests",
    source: "seed 003",
    claim: "error reduction 80–95 %; with resilience < 0.1 % user-facing errors",
    seed: options.seed ?? 3,
    live: options.live,
    without: variant(false),
    with: variant(true),
    thresholds: (without, resilient) => {
      const before = errorRate(without.records)
      const after = errorRate(resilient.records)
      return [
        threshold("error reduction", before === 0 ? 100 : percent(before - after, before), ">=", 95, "%"),
        threshold("user-facing errors with resilience", 100 * after, "<", 0.1, "%"),
        threshold("requests served", resilient.records.length, "=", requests)
      ]
    }
  })
}

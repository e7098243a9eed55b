import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Random } from "effect"
import {
  AdaptiveLimit,
  Backoff,
  Bulkhead,
  CircuitBreaker,
  DeadLetterQueue,
  Fallback,
  Hedge,
  Idempotency,
  LoadShedder,
  Policy,
  ResilienceConfig,
  Retry,
  Throttle
} from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"

// Changing a default changes every user's behaviour: it must be a decision, made here too.
describe("defaults", () => {
  it("retry", () => {
    assert.deepStrictEqual(defaults.retry, {
      name: "retry",
      maxAttempts: 3,
      backoffBaseMillis: 100,
      backoffFactor: 2,
      backoffMaxMillis: 10_000,
      backoffJitter: "full",
      maxRetryAfterMillis: 10_000
    })
    const policy = Retry.make()
    assert.strictEqual(policy.maxAttempts, 3)
    assert.strictEqual(policy.name, "retry")
  })

  it.effect("the default backoff is full-jittered exponential from 100 ms capped at 10 s", () =>
    Effect.gen(function*() {
      const ds = yield* Backoff.delays(Retry.make().backoff as Backoff.Backoff, 10).pipe(Random.withSeed(3))
      const ceilings = [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]
      ds.forEach((d, i) => assert.isAtMost(Duration.toMillis(d), ceilings[i]!))
    }))

  it("retry budget and timeout", () => {
    assert.deepStrictEqual(defaults.retryBudget, { ratio: 0.2, minPerSecond: 10, windowMillis: 10_000 })
    assert.deepStrictEqual(defaults.timeout, { name: "timeout" })
  })

  it.effect("name is optional in every constructor, and its default is in defaults.ts", () =>
    Effect.gen(function*() {
      const names = {
        retry: Retry.make().name,
        hedge: Hedge.make({ delay: 10 }).name,
        circuitBreaker: (yield* CircuitBreaker.make()).name,
        bulkhead: (yield* Bulkhead.make({ maxConcurrent: 1 })).name,
        loadShedder: (yield* LoadShedder.make({ maxInFlight: 1 })).name,
        adaptiveLimit: (yield* AdaptiveLimit.make()).name,
        throttle: (yield* Throttle.make()).name,
        deadLetterQueue: (yield* DeadLetterQueue.make()).name,
        idempotency: (yield* Idempotency.make()).name,
        lastKnownGood: (yield* Fallback.lastKnownGood()).name,
        policy: (yield* Effect.scoped(Policy.make({}))).name
      }
      assert.deepStrictEqual(names, {
        retry: defaults.retry.name,
        hedge: defaults.hedge.name,
        circuitBreaker: defaults.circuitBreaker.name,
        bulkhead: defaults.bulkhead.name,
        loadShedder: defaults.loadShedder.name,
        adaptiveLimit: defaults.adaptiveLimit.name,
        throttle: defaults.throttle.name,
        deadLetterQueue: defaults.deadLetterQueue.name,
        idempotency: defaults.idempotency.name,
        lastKnownGood: defaults.lastKnownGood.name,
        policy: defaults.policy.name
      })
    }))

  it("the shared rate-limit store on Redis", () => {
    assert.deepStrictEqual(defaults.redisRateLimiterStore, {
      prefix: "effect-resilience:ratelimit:",
      timeoutMillis: 500,
      retryIntervalMillis: 1_000,
      onUnavailable: "local"
    })
  })
})

describe("defaults: equal in code and in config", () => {
  const specOf = (input: ResilienceConfig.DocumentInput, name: string) =>
    Effect.map(ResilienceConfig.decode(input), (document) => document.policies[name]!)
  const delaysOf = (backoff: unknown) =>
    Backoff.delays(backoff as Backoff.Backoff, 8).pipe(Random.withSeed(7), Effect.map((ds) => ds.map(Duration.toMillis)))

  it.effect("a breaker's successThreshold: code, native config and legacy config agree", () =>
    Effect.gen(function*() {
      const code = defaults.circuitBreaker.successThreshold
      const native = yield* specOf({
        profile: "none",
        policies: { p: { circuitBreaker: { policy: { kind: "consecutive", failures: 5 }, resetTimeout: "1 minute" } } }
      }, "p")
      const legacy = yield* specOf({ circuit_breakers: { p: { failure_threshold: 5 } } }, "p")
      assert.strictEqual(native.circuitBreaker?.successThreshold, code)
      assert.strictEqual(legacy.circuitBreaker?.successThreshold, code)
      assert.strictEqual(legacy.circuitBreaker?.halfOpenMaxCalls, defaults.circuitBreaker.halfOpenMaxCalls)
    }))

  it.effect("a written exponential backoff gets the same factor, cap and jitter as Backoff.exponential", () =>
    Effect.gen(function*() {
      const code = yield* delaysOf(Backoff.exponential({ base: "1 second" }))
      const native = yield* specOf({ profile: "none", policies: { p: { retry: { backoff: { kind: "exponential", base: "1 second" } } } } }, "p")
      const noKind = yield* specOf({ profile: "none", policies: { p: { retry: { backoff: { base: "1 second" } } } } }, "p")
      const legacy = yield* specOf({ retry_policies: { p: { initial_delay: 1 } } }, "p")
      for (const spec of [native, noKind, legacy]) {
        assert.deepStrictEqual(yield* delaysOf(spec.retry!.backoff), code)
      }
      assert.deepStrictEqual(code, [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000])
    }))

  it.effect("a retry without a backoff gets Retry.make's default backoff and attempts, in code and config", () =>
    Effect.gen(function*() {
      const code = Retry.make()
      const native = yield* specOf({ profile: "none", policies: { p: { retry: {} } } }, "p")
      const legacy = yield* specOf({ retry_policies: { p: {} } }, "p")
      for (const spec of [native, legacy]) {
        const options: Retry.RetryOptions = spec.retry!
        assert.strictEqual(options.maxAttempts, code.maxAttempts)
        assert.deepStrictEqual(yield* delaysOf(options.backoff), yield* delaysOf(code.backoff))
        assert.strictEqual(Retry.make(options).maxRetryAfterMillis, code.maxRetryAfterMillis)
      }
    }))

  it("backoff and classification defaults", () => {
    assert.deepStrictEqual(defaults.backoff, { factor: 2, jitter: "none" })
    assert.deepStrictEqual(defaults.classify, { transientStatus: [408, 429] })
  })
})

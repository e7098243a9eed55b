import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Random } from "effect"
import { Backoff, Retry } from "../src/index.ts"
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
      backoffJitter: "full"
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

  it("the shared rate-limit store on Redis", () => {
    assert.deepStrictEqual(defaults.redisRateLimiterStore, {
      prefix: "effect-resilience:ratelimit:",
      timeoutMillis: 500,
      retryIntervalMillis: 1_000,
      onUnavailable: "local"
    })
  })
})

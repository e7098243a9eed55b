import { assert, describe, it } from "@effect/vitest"
import { Context, Data, Duration, Effect, Exit, Fiber, Layer, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Events, Policy, Registry, ResilienceConfig } from "../src/index.ts"

class Boom extends Data.TaggedError("Boom")<{ readonly n: number }> {}

/** A call that fails with Boom for its first `failures` runs, then succeeds; counts its runs. */
const flaky = (failures: number) =>
  Effect.gen(function*() {
    const runs = yield* Ref.make(0)
    const call = Effect.flatMap(Ref.updateAndGet(runs, (n) => n + 1), (n) =>
      n <= failures ? Effect.fail(new Boom({ n })) : Effect.succeed(`ok on run ${n}`))
    return { call, runs: Ref.get(runs) }
  })

describe("Policy: composition order", () => {
  it.effect("stages follow the contract order whatever the options order", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "all",
        timeout: "1 second",
        hedge: { delay: "100 millis" },
        bulkhead: { maxConcurrent: 4 },
        circuitBreaker: { policy: CircuitBreaker.consecutive(3) },
        rateLimit: { limit: 100, window: "1 second" },
        retry: { maxAttempts: 2 },
        totalTimeout: "5 seconds",
        fallback: { fallback: () => Effect.succeed("fallback") }
      })
      assert.deepStrictEqual(Policy.describe(policy), [
        "fallback",
        "totalTimeout",
        "retry",
        "rateLimit",
        "circuitBreaker",
        "bulkhead",
        "hedge",
        "timeout"
      ])
      assert.deepStrictEqual(Policy.describe(yield* Policy.make({ name: "t", timeout: 10, retry: {} })), ["retry", "timeout"])
    }).pipe(Effect.scoped))

  it.effect("the retry sees breaker rejections and waits their retryAfter", () =>
    Effect.gen(function*() {
      const { call, runs } = yield* flaky(1)
      const policy = yield* Policy.make({
        name: "scoring",
        retry: { maxAttempts: 3, backoff: Backoff.constant("100 millis") },
        circuitBreaker: { policy: CircuitBreaker.consecutive(1), resetTimeout: "10 seconds" }
      })
      const fiber = yield* call.pipe(policy.execute, Events.collect, Effect.forkChild)
      yield* TestClock.adjust("100 millis") // attempt 2: the circuit is open, rejected with retryAfter 9.9 s
      assert.strictEqual(yield* runs, 1)
      yield* TestClock.adjust("9899 millis") // not yet: the retry honours retryAfter, not its 100 ms backoff
      assert.strictEqual(yield* runs, 1)
      yield* TestClock.adjust("1 millis") // t = 10 s: half-open, attempt 3 is the probe
      const [value, events] = yield* Fiber.join(fiber)
      assert.strictEqual(value, "ok on run 2")
      assert.strictEqual(yield* runs, 2)
      const scheduled = events.filter(Events.ResilienceEvent.$is("RetryScheduled"))
      assert.deepStrictEqual(scheduled.map((e) => Duration.toMillis(e.delay)), [100, 9900])
      assert.isTrue(events.some((e) => e._tag === "BreakerRejected"))
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Closed")
    }).pipe(Effect.scoped))

  it.effect("the attempt timeout releases the bulkhead permit for the next attempt", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const hangs = Effect.andThen(Ref.update(runs, (n) => n + 1), Effect.never)
      const policy = yield* Policy.make({
        name: "db",
        timeout: "1 second",
        retry: { maxAttempts: 3, backoff: Backoff.constant(0) },
        bulkhead: { maxConcurrent: 1 }
      })
      const fiber = yield* Effect.forkChild(Effect.flip(hangs.pipe(policy.execute)))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Ref.get(runs), 2) // the first attempt's permit came back: attempt 2 got it
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TimeoutError")
      assert.strictEqual(yield* Ref.get(runs), 3)
      const stats = yield* policy.bulkhead!.stats
      assert.strictEqual(stats.available, 1)
      assert.strictEqual(stats.active, 0)
    }).pipe(Effect.scoped))

  it.effect("the fallback sees the final outcome, after every retry", () =>
    Effect.gen(function*() {
      const { call, runs } = yield* flaky(10)
      const seen: Array<unknown> = []
      const policy = yield* Policy.make({
        name: "recs",
        retry: { maxAttempts: 3, backoff: Backoff.constant(0) },
        fallback: { fallback: (error) => Effect.sync(() => seen.push(error)).pipe(Effect.as("cached")) }
      })
      assert.strictEqual(yield* call.pipe(policy.execute), "cached")
      assert.strictEqual(yield* runs, 3)
      assert.strictEqual(seen.length, 1)
      assert.strictEqual((seen[0] as Boom).n, 3) // the last attempt's error
    }).pipe(Effect.scoped))

  it.effect("the fallback also answers an open circuit; `when` limits it", () =>
    Effect.gen(function*() {
      const { call } = yield* flaky(100)
      const policy = yield* Policy.make({
        name: "inventory",
        circuitBreaker: { policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" },
        fallback: {
          fallback: (error) => Effect.succeed(`fallback for ${(error as { _tag: string })._tag}`),
          when: (error) => CircuitBreaker.isCircuitOpenError(error)
        }
      })
      const first = yield* Effect.flip(call.pipe(policy.execute))
      assert.strictEqual((first as Boom)._tag, "Boom") // not accepted by `when`: passes through
      assert.strictEqual(yield* call.pipe(policy.execute), "fallback for CircuitOpenError")
    }).pipe(Effect.scoped))

  it.effect("the total timeout bounds retries and their waits", () =>
    Effect.gen(function*() {
      const { call, runs } = yield* flaky(100)
      const policy = yield* Policy.make({
        name: "slow",
        totalTimeout: "2500 millis",
        retry: { maxAttempts: 10, backoff: Backoff.constant("1 second") }
      })
      const fiber = yield* Effect.forkChild(Effect.flip(call.pipe(policy.execute)))
      yield* TestClock.adjust("2500 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TimeoutError")
      assert.strictEqual(yield* runs, 3) // t = 0, 1 s, 2 s
    }).pipe(Effect.scoped))

  it.effect("the rate limit rejects with retryAfter, and a retry outside it waits for a token", () =>
    Effect.gen(function*() {
      const limited = yield* Policy.make({ name: "api", rateLimit: { limit: 2, window: "1 second", algorithm: "fixed-window" } })
      const call = Effect.succeed("ok")
      yield* call.pipe(limited.execute)
      yield* call.pipe(limited.execute)
      const rejected = yield* Effect.flip(call.pipe(limited.execute))
      assert.strictEqual(rejected._tag, "RateLimitedError")
      assert.isTrue(Policy.RateLimitedError === rejected.constructor)
      assert.isAbove(Duration.toMillis((rejected as Policy.RateLimitedError).retryAfter), 0)

      const patient = yield* Policy.make({
        name: "api2",
        retry: { maxAttempts: 3, backoff: Backoff.constant(0) },
        rateLimit: { limit: 1, window: "1 second", algorithm: "fixed-window" }
      })
      yield* call.pipe(patient.execute)
      const fiber = yield* Effect.forkChild(call.pipe(patient.execute))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }).pipe(Effect.scoped))
})

describe("Policy: layers, registry and config", () => {
  class ScoringPolicy extends Context.Service<ScoringPolicy, Policy.Policy>()("test/ScoringPolicy") {}
  const business = Effect.gen(function*() {
    const policy = yield* ScoringPolicy
    return yield* Effect.succeed(42).pipe(policy.execute)
  })

  it.effect("passthrough runs the call unchanged", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* business.pipe(Effect.provide(Layer.succeed(ScoringPolicy, Policy.passthrough))), 42)
      const exit = yield* Effect.exit(Effect.fail("e").pipe(Policy.execute(Policy.passthrough)))
      assert.deepStrictEqual(exit, Exit.fail("e"))
    }))

  it.effect("a policy layer registers the policy while the layer lives", () =>
    Effect.gen(function*() {
      const registry = yield* Registry.PolicyRegistry
      yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(
          Policy.layer(ScoringPolicy, { name: "scoring", retry: { maxAttempts: 2 }, bulkhead: { maxConcurrent: 2 } })
        )
        assert.strictEqual(yield* business.pipe(Effect.provide(context)), 42)
        const [entry] = yield* Registry.snapshot
        assert.strictEqual(entry!.name, "scoring")
        assert.strictEqual(entry!.kind, "policy")
        assert.deepInclude((entry!.state as { bulkhead: { available: number } }).bulkhead, { available: 2 })
      }))
      assert.strictEqual((yield* registry.entries).length, 0)
    }).pipe(Effect.provide(Registry.layer)))

  it.effect("layerFromConfig builds the named policy from a config document", () =>
    Effect.gen(function*() {
      const config = ResilienceConfig.layer({
        profile: "none",
        policies: {
          scoring: {
            timeout: "2 seconds",
            retry: { maxAttempts: 4, backoff: { kind: "exponential", base: "100 millis", max: "5 seconds" } },
            circuitBreaker: { policy: { kind: "consecutive", failures: 5 }, resetTimeout: "30 seconds" },
            bulkhead: { maxConcurrent: 32, maxQueue: 256 }
          }
        }
      } as ResilienceConfig.DocumentInput)
      const policy = yield* Effect.provide(Effect.service(ScoringPolicy), Policy.layerFromConfig(ScoringPolicy, "scoring").pipe(Layer.provide(config)))
      assert.deepStrictEqual(Policy.describe(policy), ["retry", "circuitBreaker", "bulkhead", "timeout"])
      const missing = yield* Effect.flip(
        Effect.provide(Effect.service(ScoringPolicy), Policy.layerFromConfig(ScoringPolicy, "nope").pipe(Layer.provide(config)))
      )
      assert.strictEqual(missing._tag, "ResilienceConfigError")
    }))

  it.effect("bad options fail make in the typed channel, naming the field", () =>
    Effect.gen(function*() {
      const cases: Array<[Policy.PolicyOptions, string]> = [
        [{ name: "" }, "Policy.make: name must be a non-empty string"],
        [{ name: "p", retry: { maxAttempts: 0 } }, "Policy.make: retry.maxAttempts must be an integer >= 1 or Infinity, got 0"],
        [{ name: "p", timeout: -1 }, "Policy.make: timeout must be a duration > 0"],
        [{ name: "p", totalTimeout: "soon" as Duration.Input }, "Policy.make: totalTimeout must be a duration > 0"],
        [{ name: "p", bulkhead: { maxConcurrent: 0 } }, "Policy.make: bulkhead.maxConcurrent"],
        [{ name: "p", circuitBreaker: { halfOpenMaxCalls: 0 } }, "Policy.make: circuitBreaker.halfOpenMaxCalls"],
        [{ name: "p", hedge: { delay: -5 } }, "Policy.make: hedge.delay"],
        [{ name: "p", rateLimit: { limit: 0, window: "1 second" } }, "Policy.make: rateLimit.limit must be an integer >= 1, got 0"],
        [{ name: "p", rateLimit: { limit: 5, window: 0 } }, "rateLimit.window"]
      ]
      for (const [options, fragment] of cases) {
        const error = yield* Effect.flip(Effect.scoped(Policy.make(options)))
        assert.strictEqual(error._tag, "InvalidConfigError", fragment)
        assert.include(error.message, fragment)
      }
    }))
})

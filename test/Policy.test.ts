import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Context, Data, Duration, Effect, Exit, Fiber, Layer, Random, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Events, Hedge, Policy, Registry, ResilienceConfig, Retry, Throttle } from "../src/index.ts"

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
        throttle: { k: 2 },
        totalTimeout: "5 seconds",
        fallback: { fallback: () => Effect.succeed("fallback") }
      })
      assert.deepStrictEqual(Policy.describe(policy), [
        "fallback",
        "totalTimeout",
        "retry",
        "throttle",
        "rateLimit",
        "circuitBreaker",
        "bulkhead",
        "hedge",
        "timeout"
      ])
      assert.deepStrictEqual(Policy.describe(yield* Policy.make({ name: "t", timeout: 10, retry: {} })), ["retry", "timeout"])
    }).pipe(Effect.scoped))

  it.effect("the retry sees breaker rejections and waits their retryAfter, up to maxRetryAfter", () =>
    Effect.gen(function*() {
      const { call, runs } = yield* flaky(1)
      const policy = yield* Policy.make({
        name: "scoring",
        retry: { maxAttempts: 3, backoff: Backoff.constant("100 millis"), maxRetryAfter: "10 seconds" },
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
        retry: { maxAttempts: 3, backoff: Backoff.constant(0), maxRetryAfter: "1 second" },
        rateLimit: { limit: 1, window: "1 second", algorithm: "fixed-window" }
      })
      yield* call.pipe(patient.execute)
      const fiber = yield* Effect.forkChild(call.pipe(patient.execute))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }).pipe(Effect.scoped))
})

describe("Policy: one budget for retries and hedges (issue 17)", () => {
  it.effect("the policy's budget is shared by its retry and its hedge: hedges spend what retries could", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0.3, window: "10 seconds" }) // 3 in all
      const policy = yield* Policy.make({
        name: "search",
        budget,
        retry: { maxAttempts: 4, backoff: Backoff.constant(0) },
        hedge: { delay: "10 millis", maxAttempts: 2 }
      })
      // every attempt answers after 50 ms: each call's hedge fires at 10 ms
      const slow = Effect.as(Effect.sleep(50), "ok")
      const fiber = yield* Effect.forkChild(Events.collect(Effect.all(Array.from({ length: 5 }, () => slow.pipe(policy.execute)), { concurrency: 5 })))
      yield* TestClock.adjust(100)
      const [answers, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(answers, ["ok", "ok", "ok", "ok", "ok"])
      const tags = events.map((e) => e._tag)
      assert.strictEqual(tags.filter((t) => t === "HedgeLaunched").length, 3)
      assert.strictEqual(tags.filter((t) => t === "HedgeBudgetDenied").length, 2)
      // each call counted once, by the retry; the hedges took the whole budget, so a failure now is not retried
      assert.deepStrictEqual(yield* budget.stats, { kind: "ratio", calls: 5, retries: 3, allowance: 3 })
      const { call, runs } = yield* flaky(1)
      const [, after] = yield* Events.collect(Effect.flip(call.pipe(policy.execute)))
      assert.strictEqual(yield* runs, 1)
      // the primary failed: the hedge would start at once, and the budget refuses it as it refuses the retry
      assert.deepStrictEqual(after.map((e) => e._tag), ["HedgeBudgetDenied", "RetryBudgetDenied"])
    }).pipe(Effect.scoped))

  it.effect("budget options build one budget; a retry's own budget is shared with the hedge", () =>
    Effect.gen(function*() {
      const fromOptions = yield* Policy.make({ name: "a", budget: { maxTokens: 2, tokenRatio: 0.5 }, retry: { maxAttempts: 3, backoff: Backoff.constant(0) } })
      const { call, runs } = yield* flaky(5)
      yield* Effect.flip(call.pipe(fromOptions.execute))
      assert.strictEqual(yield* runs, 1) // 2 → 1 token = maxTokens / 2: no retry
      const error = yield* Effect.flip(Policy.make({ name: "b", budget: { maxTokens: 0 } }))
      assert.strictEqual(error.message, "Policy.make: budget.maxTokens must be a number in (0, 1000] with at most 3 decimals, got 0")
      const shared = yield* Retry.budget({ ratio: 0, minPerSecond: 0, window: "1 second" })
      const policy = yield* Policy.make({ name: "c", retry: { budget: shared }, hedge: { delay: 0, maxAttempts: 3 } })
      const [, events] = yield* Events.collect(Effect.succeed(1).pipe(Effect.delay(5), policy.execute, Effect.forkChild, Effect.tap(() => TestClock.adjust(5)), Effect.flatMap(Fiber.join)))
      assert.deepStrictEqual(events.map((e) => e._tag), ["HedgeBudgetDenied"])
    }).pipe(Effect.scoped))

  it.effect("Policy accepts a built hedge, like a built retry, breaker and bulkhead", () =>
    Effect.gen(function*() {
      const hedge = Hedge.make({ name: "own", delay: "10 millis", maxAttempts: 2 })
      const policy = yield* Policy.make({ name: "search", hedge, timeout: "1 second" })
      assert.deepStrictEqual(Policy.describe(policy), ["hedge", "timeout"])
      const runs = yield* Ref.make(0)
      const call = Effect.flatMap(Ref.updateAndGet(runs, (n) => n + 1), (n) => n === 1 ? Effect.never : Effect.succeed(`run ${n}`))
      const fiber = yield* Effect.forkChild(Events.collect(call.pipe(policy.execute)))
      yield* TestClock.adjust(10)
      const [value, events] = yield* Fiber.join(fiber)
      assert.strictEqual(value, "run 2")
      assert.deepStrictEqual(events.map((e) => [e._tag, e.name]), [["HedgeLaunched", "own"], ["HedgeWon", "own"]])
    }).pipe(Effect.scoped))

  it.effect("a throttle stage inside the retry: a refusing backend sees attempts rejected locally, retries included", () =>
    Effect.gen(function*() {
      const throttle = yield* Throttle.make({ name: "db", k: 1 })
      const policy = yield* Policy.make({ name: "db", throttle, retry: { maxAttempts: 2, backoff: Backoff.constant(0) } })
      const runs = yield* Ref.make(0)
      const refusing = Effect.andThen(Ref.update(runs, (n) => n + 1), Effect.fail({ status: 503 }))
      const exits = yield* Effect.forEach(Array.from({ length: 50 }), () => Effect.exit(refusing.pipe(policy.execute)))
      const stats = yield* throttle.stats
      // every attempt is a request; the backend accepted none, so most attempts never left
      assert.strictEqual(stats.requests, 100)
      assert.strictEqual(stats.accepts, 0)
      assert.strictEqual(yield* Ref.get(runs), 100 - stats.rejected)
      assert.isAbove(stats.rejected, 80)
      const throttled = exits.filter((e) => Exit.isFailure(e) && Throttle.isThrottledError(Cause.squash(e.cause))).length
      assert.isAbove(throttled, 40)
    }).pipe(Effect.scoped, Random.withSeed(7)))
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

  it.effect("ResilienceConfig.layerPolicy builds the named policy from a config document", () =>
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
      const policy = yield* Effect.provide(Effect.service(ScoringPolicy), ResilienceConfig.layerPolicy(ScoringPolicy, "scoring").pipe(Layer.provide(config)))
      assert.deepStrictEqual(Policy.describe(policy), ["retry", "circuitBreaker", "bulkhead", "timeout"])
      const missing = yield* Effect.flip(
        Effect.provide(Effect.service(ScoringPolicy), ResilienceConfig.layerPolicy(ScoringPolicy, "nope").pipe(Layer.provide(config)))
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
        [{ name: "p", rateLimit: { limit: 5, window: 0 } }, "rateLimit.window"],
        [{ name: "p", timeout: "5 seconds", totalTimeout: "2 seconds" }, "Policy.make: totalTimeout must be a duration >= timeout (5000 ms)"]
      ]
      for (const [options, fragment] of cases) {
        const error = yield* Effect.flip(Effect.scoped(Policy.make(options)))
        assert.strictEqual(error._tag, "InvalidConfigError", fragment)
        assert.include(error.message, fragment)
      }
    }))
})

class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number }> {}

/** A call that always fails with `status`; counts its runs. */
const failing = (status: number) =>
  Effect.gen(function*() {
    const runs = yield* Ref.make(0)
    const call: Effect.Effect<string, HttpError> = Effect.andThen(
      Ref.update(runs, (n) => n + 1),
      Effect.fail(new HttpError({ status }))
    )
    return { call, runs: Ref.get(runs) }
  })

/** A policy built from a config document, as `ResilienceConfig.layerPolicy` builds it. */
const fromConfig = (input: ResilienceConfig.DocumentInput, name: string) =>
  Effect.flatMap(Effect.provide(ResilienceConfig.policy(name), ResilienceConfig.layer(input)), Policy.make)

/** Opens the policy's breaker by feeding it `n` transient failures directly. */
const trip = (policy: Policy.Policy, n: number) =>
  Effect.replicateEffect(Effect.exit(Effect.fail(new HttpError({ status: 503 })).pipe(policy.circuitBreaker!.execute)), n)

describe("Policy: one representation, from config or from code (issue 11)", () => {
  it.effect("a policy built from config and the same policy built in code describe identically", () =>
    Effect.gen(function*() {
      const fromFile = yield* fromConfig({
        profile: "none",
        policies: {
          scoring: {
            timeout: "2 seconds",
            totalTimeout: "10 seconds",
            retry: { maxAttempts: 4, backoff: { kind: "exponential", base: "100 millis", max: "5 seconds", jitter: "full" } },
            rateLimit: { limit: 100, window: "1 second" },
            circuitBreaker: { policy: { kind: "consecutive", failures: 5 }, resetTimeout: "30 seconds", successThreshold: 2 },
            bulkhead: { maxConcurrent: 32, maxQueue: 256 },
            hedge: { delay: "50 millis" }
          }
        }
      }, "scoring")
      const inCode = yield* Policy.make({
        name: "scoring",
        timeout: "2 seconds",
        totalTimeout: "10 seconds",
        retry: { maxAttempts: 4, backoff: Backoff.exponential({ base: "100 millis", max: "5 seconds", jitter: "full" }) },
        rateLimit: { limit: 100, window: "1 second" },
        circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "30 seconds", successThreshold: 2 },
        bulkhead: { maxConcurrent: 32, maxQueue: 256 },
        hedge: { delay: "50 millis" }
      })
      assert.deepStrictEqual(Policy.describe(fromFile), Policy.describe(inCode))
      assert.deepStrictEqual(Policy.describe(fromFile), ["totalTimeout", "retry", "rateLimit", "circuitBreaker", "bulkhead", "hedge", "timeout"])
      assert.deepStrictEqual(yield* fromFile.bulkhead!.stats, yield* inCode.bulkhead!.stats)
      assert.deepStrictEqual(yield* fromFile.circuitBreaker!.stats, yield* inCode.circuitBreaker!.stats)
    }).pipe(Effect.scoped))

  it.effect("a constructor's error while building from config names the config path, legacy fields included", () =>
    Effect.gen(function*() {
      const native = yield* Effect.flip(fromConfig({ policies: { payments: { circuitBreaker: { successThreshold: 0 } } } }, "payments"))
      assert.strictEqual(native.message, "policies.payments.circuitBreaker.successThreshold: expected an integer >= 1, got 0")
      const legacy = yield* Effect.flip(fromConfig({ circuit_breakers: { payments: { failure_threshold: 0 } } }, "payments"))
      assert.strictEqual(legacy.message, "circuit_breakers.payments.failure_threshold: expected an integer >= 1, got 0")
    }).pipe(Effect.scoped))
})

describe("Policy: an open circuit fails fast (DESIGN §3, §4)", () => {
  it.effect("config-built (balanced): CircuitOpenError at once, no simulated time, the call not run", () =>
    Effect.gen(function*() {
      const policy = yield* fromConfig({ policies: { payments: {} } }, "payments")
      yield* trip(policy, 5)
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Open")
      const { call, runs } = yield* failing(503)
      const before = yield* Clock.currentTimeMillis
      // No TestClock.adjust: waiting on the 60 s retryAfter would never complete.
      const [error, events] = yield* Effect.flip(call.pipe(policy.execute)).pipe(Events.collect)
      assert.strictEqual(error._tag, "CircuitOpenError")
      assert.strictEqual((yield* Clock.currentTimeMillis) - before, 0)
      assert.strictEqual(yield* runs, 0)
      assert.isFalse(events.some((e) => e._tag === "RetryScheduled"))
      assert.deepStrictEqual(events.flatMap((e) => e._tag === "RetryExhausted" ? [e.attempts] : []), [1])
    }).pipe(Effect.scoped))

  it.effect("code-built: the breaker's 30 s hint is past the backoff's 5 s cap, so the retry gives up at once", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "scoring",
        timeout: "2 seconds",
        retry: { maxAttempts: 4, backoff: Backoff.exponential({ base: "100 millis", max: "5 seconds", jitter: "full" }) },
        circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "30 seconds", successThreshold: 2 },
        bulkhead: { maxConcurrent: 32, maxQueue: 256 }
      })
      yield* trip(policy, 5)
      const { call, runs } = yield* failing(503)
      const before = yield* Clock.currentTimeMillis
      const error = yield* Effect.flip(call.pipe(policy.execute))
      assert.strictEqual(error._tag, "CircuitOpenError")
      assert.strictEqual((yield* Clock.currentTimeMillis) - before, 0)
      assert.strictEqual(yield* runs, 0)
    }).pipe(Effect.scoped))

  it.effect("a hint longer than the total timeout's remaining time ends the retries at once", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "scoring",
        totalTimeout: "2 seconds",
        retry: { maxAttempts: 4, backoff: Backoff.constant("100 millis"), maxRetryAfter: "1 minute" },
        circuitBreaker: { policy: CircuitBreaker.consecutive(1), resetTimeout: "5 seconds" }
      })
      yield* trip(policy, 1)
      const error = yield* Effect.flip(Effect.succeed("ok").pipe(policy.execute))
      assert.strictEqual(error._tag, "CircuitOpenError")
    }).pipe(Effect.scoped))

  it.effect("a short rate-limit hint (100 ms) is still honoured, code-built and config-built", () =>
    Effect.gen(function*() {
      const code = yield* Policy.make({
        name: "api",
        retry: { maxAttempts: 3, backoff: Backoff.exponential({ base: "10 millis", max: "1 second" }) },
        rateLimit: { limit: 1, window: "100 millis", algorithm: "fixed-window" }
      })
      const config = yield* fromConfig(
        { policies: { api: { rateLimit: { limit: 1, window: "100 millis", algorithm: "fixed-window" } } } },
        "api"
      )
      for (const policy of [code, config]) {
        yield* Effect.succeed("first").pipe(policy.execute)
        const fiber = yield* Effect.forkChild(Effect.succeed("second").pipe(policy.execute, Events.collect))
        yield* TestClock.adjust("2 seconds")
        const [value, events] = yield* Fiber.join(fiber)
        assert.strictEqual(value, "second")
        const scheduled = events.filter(Events.ResilienceEvent.$is("RetryScheduled"))
        assert.isAbove(scheduled.length, 0)
        assert.isTrue(scheduled.every((e) => Duration.toMillis(e.delay) <= 1000))
      }
    }).pipe(Effect.scoped))
})

describe("Policy: one classification (DESIGN §4)", () => {
  it.effect("six 404s through a config-built policy leave the breaker Closed, each tried once", () =>
    Effect.gen(function*() {
      const policy = yield* fromConfig({ policies: { catalog: {} } }, "catalog")
      const { call, runs } = yield* failing(404)
      for (let i = 0; i < 6; i++) {
        const error = yield* Effect.flip(call.pipe(policy.execute))
        assert.strictEqual(error._tag, "HttpError")
      }
      assert.strictEqual(yield* runs, 6)
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Closed")
    }).pipe(Effect.scoped))

  it.effect("the config classify block applies to retry and breaker alike", () =>
    Effect.gen(function*() {
      const policy = yield* fromConfig({
        profile: "none",
        policies: {
          p: {
            classify: { permanentStatus: [503], transientTags: ["Busy"] },
            retry: { maxAttempts: 3, backoff: { kind: "constant", base: "0 millis" } },
            circuitBreaker: { policy: { kind: "consecutive", failures: 2 }, resetTimeout: "1 minute" }
          }
        }
      }, "p")
      const { call, runs } = yield* failing(503)
      for (let i = 0; i < 3; i++) yield* Effect.flip(call.pipe(policy.execute))
      assert.strictEqual(yield* runs, 3, "503 permanent: never retried")
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Closed", "permanent counts as a success")
    }).pipe(Effect.scoped))

  it.effect("a bad classify block is refused with its path", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ResilienceConfig.decode({ policies: { p: { classify: { transientStatus: [700] } } } }))
      assert.include(error.message, "policies.p.classify.transientStatus[0]")
      const both = yield* Effect.flip(
        ResilienceConfig.decode({ policies: { p: { classify: { transientTags: ["A"], ignoredTags: ["A"] } } } })
      )
      // the constructor's one check names the first tag classified twice, and the other class
      assert.include(both.message, `policies.p.classify.transientTags[0]: expected a tag not also classified ignored, got "A"`)
      const code = yield* Effect.flip(Effect.scoped(Policy.make({ name: "p", classify: { permanentStatus: [42] } })))
      assert.include(code.message, "classify.permanentStatus[0]")
    }))

  it.effect("the fallback serves a transient final failure, not a permanent one", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "p",
        retry: { maxAttempts: 1 },
        fallback: { fallback: () => Effect.succeed("cached") }
      })
      assert.strictEqual(yield* Effect.fail(new HttpError({ status: 503 })).pipe(policy.execute), "cached")
      const error = yield* Effect.flip(Effect.fail(new HttpError({ status: 404 })).pipe(policy.execute))
      assert.strictEqual(error._tag, "HttpError")
    }).pipe(Effect.scoped))
})

describe("Policy: types", () => {
  class Counter extends Context.Service<Counter, Policy.Policy>()("test/Counter") {}

  it("Policy.layer refuses a fallback value the tag's policy type does not admit", () => {
    // @ts-expect-error a string fallback for a Policy<never> tag: the caller typed number would get "n/a"
    const refused = () => Policy.layer(Counter, { name: "c", fallback: { fallback: () => Effect.succeed("n/a") } })
    class Typed extends Context.Service<Typed, Policy.Policy<string>>()("test/Typed") {}
    const carried = Policy.layer(Typed, { name: "t", fallback: { fallback: () => Effect.succeed("n/a") } })
    assert.isFunction(refused)
    assert.isDefined(carried)
  })
})

import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import { Bulkhead, CircuitBreaker, Errors, Events, Policy } from "../src/index.ts"

/** Lets forked fibers run until they suspend. */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

/**
 * Calls that each say when they start and run until released: `started`
 * counts the calls that got in, `release(i)` ends call `i`.
 */
const gatedCalls = (n: number) =>
  Effect.gen(function*() {
    const gates = yield* Effect.forEach(Array.from({ length: n }), () => Deferred.make<void>())
    const started: Array<number> = []
    const call = (i: number) =>
      Effect.andThen(Effect.sync(() => void started.push(i)), Deferred.await(gates[i]!)).pipe(Effect.as(i))
    return { call, started, release: (i: number) => Deferred.succeed(gates[i]!, undefined) }
  })

const bulkheadStats = (policy: Policy.Policy) => policy.bulkhead!.stats

const errorOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  if (Exit.isSuccess(exit)) return undefined
  return exit.cause.reasons.find((r) => r._tag === "Fail")?.error
}

/** A bulkhead of 3 with calls 0-2 running and 3-4 waiting, then lowered to `maxConcurrent: 1` and `maxQueue`. */
const loweredUnderLoad = (maxQueue: number) =>
  Effect.gen(function*() {
    const options = { name: "db", bulkhead: { maxConcurrent: 3, maxQueue: 3 } }
    const policy = yield* Policy.make(options)
    const calls = yield* gatedCalls(5)
    const fibers = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => Effect.forkChild(calls.call(i).pipe(policy.execute)))
    yield* settle
    assert.deepStrictEqual(calls.started, [0, 1, 2])
    yield* Policy.reconfigure(policy, { ...options, bulkhead: { maxConcurrent: 1, maxQueue } })
    return { ...calls, policy, fibers }
  })

describe("Policy.reconfigure: the bulkhead", () => {
  it.effect("a raised limit admits queued waiters at once; occupancy and order are kept", () =>
    Effect.gen(function*() {
      const options = { name: "db", bulkhead: { maxConcurrent: 1, maxQueue: 5 } }
      const policy = yield* Policy.make(options)
      const { call, release, started } = yield* gatedCalls(4)
      const fibers = yield* Effect.forEach([0, 1, 2, 3], (i) => Effect.forkChild(call(i).pipe(policy.execute)))
      yield* settle
      assert.deepStrictEqual(started, [0])
      yield* Policy.reconfigure(policy, { ...options, bulkhead: { maxConcurrent: 3, maxQueue: 5 } })
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2])
      const stats = yield* bulkheadStats(policy)
      assert.deepStrictEqual([stats.active, stats.queued, stats.maxConcurrent], [3, 1, 3])
      yield* release(1)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2, 3])
      yield* Effect.forEach([0, 2, 3], release)
      assert.deepStrictEqual(yield* Fiber.joinAll(fibers), [0, 1, 2, 3])
      const after = yield* bulkheadStats(policy)
      assert.deepStrictEqual([after.active, after.queued, after.available], [0, 0, 3])
    }).pipe(Effect.scoped))

  it.effect("a lowered limit lets running calls finish and admits no one until fewer than the new limit run; queued entries stay", () =>
    Effect.gen(function*() {
      const { fibers, policy, release, started } = yield* loweredUnderLoad(1)
      // both waiters are kept though the line is now longer than maxQueue; a newcomer is refused
      const newcomer = yield* Effect.exit(Effect.void.pipe(policy.execute))
      assert.strictEqual((errorOf(newcomer) as Bulkhead.BulkheadRejectedError).reason, "full")
      const stats = yield* bulkheadStats(policy)
      assert.deepStrictEqual([stats.active, stats.queued, stats.available, stats.maxQueue], [3, 2, 0, 1])
      yield* release(0)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2], "2 still run against a limit of 1")
      yield* release(1)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2], "1 still runs")
      yield* release(2)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2, 3], "the first waiter gets the permit")
      assert.strictEqual((yield* bulkheadStats(policy)).active, 1)
      yield* release(3)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2, 3, 4])
      yield* release(4)
      assert.deepStrictEqual(yield* Fiber.joinAll(fibers), [0, 1, 2, 3, 4])
      const after = yield* bulkheadStats(policy)
      assert.deepStrictEqual([after.active, after.queued, after.available], [0, 0, 1])
    }).pipe(Effect.scoped))

  it.effect("after a lowered limit, an interrupted waiter leaves the line and an interrupted running call frees its permit without handing it over", () =>
    Effect.gen(function*() {
      const { fibers, policy, release, started } = yield* loweredUnderLoad(3)
      yield* Fiber.interrupt(fibers[3]!)
      yield* Fiber.interrupt(fibers[0]!)
      yield* settle
      const stats = yield* bulkheadStats(policy)
      assert.deepStrictEqual([stats.active, stats.queued], [2, 1])
      assert.deepStrictEqual(started, [0, 1, 2])
      yield* release(1)
      yield* Fiber.interrupt(fibers[2]!)
      yield* settle
      assert.deepStrictEqual(started, [0, 1, 2, 4], "the last waiter is served once no call runs")
      yield* release(4)
      assert.strictEqual(yield* Fiber.join(fibers[4]!), 4)
      const after = yield* bulkheadStats(policy)
      assert.deepStrictEqual([after.active, after.queued, after.available], [0, 0, 1])
    }).pipe(Effect.scoped))

  it.effect("reloads while calls run, wait, time out and are interrupted: every call ends, no permit leaks, the limit in force holds", () =>
    Effect.gen(function*() {
      const base = { name: "db", timeout: "10 seconds" } as const
      const policy = yield* Policy.make({ ...base, bulkhead: { maxConcurrent: 4, maxQueue: 50, queueTimeout: "3 seconds" } })
      let running = 0
      let limit = 4
      let overLimit = 0
      const call = (millis: number) =>
        Effect.gen(function*() {
          running++
          // A call may start only while fewer than the limit in force run (running counts it too).
          if (running > limit) overLimit++
          yield* Effect.sleep(millis)
        }).pipe(Effect.ensuring(Effect.sync(() => void running--)))
      const fibers: Array<Fiber.Fiber<void, unknown>> = []
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 3; i++) {
          fibers.push(yield* Effect.forkChild(call(yield* Random.nextBetween(1, 2000)).pipe(policy.execute, Effect.ignore)))
        }
        if ((yield* Random.nextIntBetween(0, 4)) === 0 && fibers.length > 0) {
          yield* Fiber.interrupt(fibers[yield* Random.nextIntBetween(0, fibers.length)]!)
        }
        if (round % 5 === 0) {
          const next = yield* Random.nextIntBetween(1, 7)
          yield* Policy.reconfigure(policy, {
            ...base,
            bulkhead: { maxConcurrent: next, maxQueue: yield* Random.nextIntBetween(0, 10), queueTimeout: "3 seconds" }
          })
          // A raised limit applies at once; a lowered one only bounds new admissions.
          limit = next
          overLimit = 0
        }
        yield* settle
        yield* TestClock.adjust(150)
        const stats = yield* bulkheadStats(policy)
        assert.strictEqual(stats.active, running, "active counts the calls running")
      }
      yield* TestClock.adjust(Duration.minutes(1))
      yield* Fiber.awaitAll(fibers)
      const stats = yield* bulkheadStats(policy)
      assert.deepStrictEqual([stats.active, stats.queued, stats.available], [0, 0, stats.maxConcurrent])
      assert.strictEqual(running, 0)
      // Calls already running when a limit was lowered may exceed it; no call admitted after it does.
      assert.strictEqual(overLimit, 0)
    }).pipe(Effect.scoped, Random.withSeed(17)))
})

describe("Policy.reconfigure: the breaker", () => {
  it.effect("an open circuit stays open for the rest of its reset time; the new reset timeout applies to the next opening", () =>
    Effect.gen(function*() {
      const base = { name: "scoring", retry: undefined }
      const policy = yield* Policy.make({
        ...base,
        circuitBreaker: { policy: CircuitBreaker.consecutive(2), resetTimeout: "10 seconds" }
      })
      const fail = Effect.fail("down")
      yield* Effect.exit(fail.pipe(policy.execute))
      yield* Effect.exit(fail.pipe(policy.execute))
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Open")
      yield* TestClock.adjust("4 seconds")
      yield* Policy.reconfigure(policy, {
        ...base,
        circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "1 second" }
      })
      const state = yield* policy.circuitBreaker!.state
      assert.strictEqual(state._tag, "Open")
      assert.strictEqual(state._tag === "Open" ? Duration.toMillis(state.retryAfter) : -1, 6000)
      const rejected = yield* Effect.exit(Effect.succeed(1).pipe(policy.execute))
      assert.isTrue(CircuitBreaker.isCircuitOpenError(errorOf(rejected)))
      yield* TestClock.adjust("6 seconds")
      // the probe fails: the next opening lasts the new reset timeout
      yield* Effect.exit(fail.pipe(policy.execute))
      const reopened = yield* policy.circuitBreaker!.state
      assert.strictEqual(reopened._tag === "Open" ? Duration.toMillis(reopened.retryAfter) : -1, 1000)
    }).pipe(Effect.scoped))

  it.effect("counts are kept: a lowered threshold judges the failures already seen at the next outcome", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "scoring", circuitBreaker: { policy: CircuitBreaker.consecutive(5) } })
      yield* Effect.exit(Effect.fail("down").pipe(policy.execute))
      yield* Effect.exit(Effect.fail("down").pipe(policy.execute))
      yield* Policy.reconfigure(policy, { name: "scoring", circuitBreaker: { policy: CircuitBreaker.consecutive(3) } })
      assert.strictEqual((yield* policy.circuitBreaker!.stats).consecutiveFailures, 2)
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Closed")
      yield* Effect.exit(Effect.fail("down").pipe(policy.execute))
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Open")
    }).pipe(Effect.scoped))

  it.effect("a window of another shape starts empty; the state is kept", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "scoring",
        circuitBreaker: { policy: CircuitBreaker.countWindow({ size: 10, failureRate: 0.5, minimumCalls: 4 }) }
      })
      yield* Effect.exit(Effect.fail("down").pipe(policy.execute))
      yield* Effect.exit(Effect.fail("down").pipe(policy.execute))
      assert.strictEqual((yield* policy.circuitBreaker!.stats).calls, 2)
      yield* Policy.reconfigure(policy, {
        name: "scoring",
        circuitBreaker: { policy: CircuitBreaker.countWindow({ size: 10, failureRate: 0.9, minimumCalls: 4 }) }
      })
      assert.strictEqual((yield* policy.circuitBreaker!.stats).calls, 2, "same shape: the calls stay")
      yield* Policy.reconfigure(policy, {
        name: "scoring",
        circuitBreaker: { policy: CircuitBreaker.countWindow({ size: 20, failureRate: 0.9, minimumCalls: 4 }) }
      })
      const stats = yield* policy.circuitBreaker!.stats
      assert.deepStrictEqual([stats.calls, stats.state._tag], [0, "Closed"])
    }).pipe(Effect.scoped))

  it.effect("a probe in flight across a reconfiguration frees its slot and decides the circuit", () =>
    Effect.gen(function*() {
      const options = { name: "scoring", circuitBreaker: { policy: CircuitBreaker.consecutive(1), resetTimeout: "1 second" } } as const
      const policy = yield* Policy.make(options)
      yield* Effect.exit(Effect.fail("down").pipe(policy.execute))
      yield* TestClock.adjust("1 second")
      const gate = yield* Deferred.make<void>()
      const probe = yield* Effect.forkChild(Deferred.await(gate).pipe(policy.execute))
      yield* settle
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "HalfOpen")
      yield* Policy.reconfigure(policy, { ...options, circuitBreaker: { ...options.circuitBreaker, halfOpenMaxCalls: 2 } })
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(probe)
      assert.strictEqual((yield* policy.circuitBreaker!.state)._tag, "Closed")
    }).pipe(Effect.scoped))
})

describe("Policy.reconfigure: all or nothing", () => {
  it.effect("a bad option fails with InvalidConfigError naming the field and leaves every setting in force", () =>
    Effect.gen(function*() {
      const options: Policy.PolicyOptions = {
        name: "db",
        timeout: "2 seconds",
        bulkhead: { maxConcurrent: 2 },
        circuitBreaker: { successThreshold: 1 }
      }
      const policy = yield* Policy.make(options)
      for (
        const [bad, field] of [
          [{ ...options, timeout: "1 second", bulkhead: { maxConcurrent: 0 } }, "bulkhead.maxConcurrent"],
          [{ ...options, timeout: "1 second", bulkhead: { maxConcurrent: 5 }, circuitBreaker: { successThreshold: 0 } }, "circuitBreaker.successThreshold"],
          [{ ...options, bulkhead: { maxConcurrent: 5 }, retry: { maxAttempts: -1 } }, "retry.maxAttempts"],
          [{ ...options, timeout: "soon" }, "timeout"]
        ] as const
      ) {
        const error = yield* Effect.flip(Policy.reconfigure(policy, bad as Policy.PolicyOptions))
        assert.isTrue(Errors.isInvalidConfigError(error))
        assert.deepStrictEqual([error.source, error.field], ["Policy.reconfigure", field])
      }
      assert.strictEqual(policy.bulkhead!.maxConcurrent, 2)
      assert.deepStrictEqual(policy.stages, ["circuitBreaker", "bulkhead", "timeout"])
      // still the 2-second timeout
      const fiber = yield* Effect.forkChild(Effect.sleep("1500 millis").pipe(Effect.as("ok"), policy.execute))
      yield* TestClock.adjust("1500 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }).pipe(Effect.scoped))

  it.effect("refuses adding or removing a breaker or bulkhead, a new name and a policy not built by make", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "db", bulkhead: { maxConcurrent: 2 } })
      const refused = (options: Policy.PolicyOptions, target: Policy.Policy = policy) =>
        Effect.map(Effect.flip(Policy.reconfigure(target, options)), (e) => e.field)
      assert.strictEqual(yield* refused({ name: "db" }), "bulkhead")
      assert.strictEqual(yield* refused({ name: "db", bulkhead: { maxConcurrent: 2 }, circuitBreaker: {} }), "circuitBreaker")
      assert.strictEqual(yield* refused({ name: "other", bulkhead: { maxConcurrent: 2 } }), "name")
      assert.strictEqual(yield* refused({ name: "passthrough" }, Policy.passthrough), "policy")
      // a hand-made copy is not the policy: reconfiguring it would change the original behind its back
      assert.strictEqual(yield* refused({ name: "db", bulkhead: { maxConcurrent: 3 } }, { ...policy }), "policy")
      const shared = yield* CircuitBreaker.make({ name: "shared" })
      const sharing = yield* Policy.make({ name: "p", circuitBreaker: shared })
      const error = yield* Effect.flip(Policy.reconfigure(sharing, { name: "p", circuitBreaker: {} }))
      assert.strictEqual(error.field, "circuitBreaker")
      assert.include(error.message, "passed in built")
      // the same instance is fine
      yield* Policy.reconfigure(sharing, { name: "p", circuitBreaker: shared, timeout: "1 second" })
      assert.deepStrictEqual(sharing.stages, ["circuitBreaker", "timeout"])
    }).pipe(Effect.scoped))

  it.effect("stateless stages come and go; an effect built before the change runs with the new settings", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "db", timeout: "5 seconds" })
      const slow = Effect.sleep("2 seconds").pipe(Effect.as("done"), policy.execute)
      yield* Policy.reconfigure(policy, { name: "db", timeout: "1 second", retry: { maxAttempts: 2 } })
      assert.deepStrictEqual(Policy.describe(policy), ["retry", "timeout"])
      const fiber = yield* Effect.forkChild(Effect.exit(slow))
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.strictEqual((errorOf(exit) as { _tag: string })._tag, "TimeoutError")
      yield* Policy.reconfigure(policy, { name: "db" })
      assert.deepStrictEqual(Policy.describe(policy), [])
    }).pipe(Effect.scoped))

  it.effect("a rate limit keeps its counts across a reconfiguration", () =>
    Effect.gen(function*() {
      const options = { name: "api", rateLimit: { limit: 2, window: "1 minute", algorithm: "fixed-window" } } as const
      const policy = yield* Policy.make(options)
      yield* Effect.void.pipe(policy.execute)
      yield* Effect.void.pipe(policy.execute)
      yield* Policy.reconfigure(policy, { ...options, rateLimit: { ...options.rateLimit, limit: 3 } })
      const exits = yield* Effect.forEach([0, 1], () => Effect.exit(Effect.void.pipe(policy.execute)))
      assert.deepStrictEqual(exits.map((e) => Exit.isSuccess(e)), [true, false])
    }).pipe(Effect.scoped))

  it.effect("a throttle is kept while its options are unchanged, built afresh from new ones", () =>
    Effect.gen(function*() {
      const options = { name: "db", throttle: { k: 1 }, budget: { ratio: 0.1 } }
      const policy = yield* Policy.make(options)
      yield* Effect.forEach(Array.from({ length: 20 }), () => Effect.exit(Effect.fail("down").pipe(policy.execute)))
      const throttled = (n: number) =>
        Effect.map(
          Events.collect(Effect.forEach(Array.from({ length: n }), () => Effect.exit(Effect.void.pipe(policy.execute)))),
          ([, events]) => events.filter((e) => e._tag === "Throttled").length
        )
      yield* Policy.reconfigure(policy, { ...options, timeout: "1 second" })
      assert.isAbove(yield* throttled(10), 5, "the throttle still remembers 20 refusals")
      yield* Policy.reconfigure(policy, { ...options, throttle: { k: 2 } })
      assert.strictEqual(yield* throttled(10), 0, "a new throttle has seen nothing yet")
    }).pipe(Effect.scoped, Random.withSeed(3)))

  it.effect("emits Reconfigured with the new stages, or ReconfigureRefused with the error", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "db", bulkhead: { maxConcurrent: 2 } })
      const [, events] = yield* Events.collect(Effect.gen(function*() {
        yield* Policy.reconfigure(policy, { name: "db", timeout: "1 second", bulkhead: { maxConcurrent: 4 } })
        yield* Effect.exit(Policy.reconfigure(policy, { name: "db", bulkhead: { maxConcurrent: -1 } }))
      }))
      assert.deepStrictEqual(events.map((e) => e._tag), ["Reconfigured", "ReconfigureRefused"])
      const [applied, refused] = events
      assert.deepStrictEqual(applied?._tag === "Reconfigured" ? applied.stages : [], ["bulkhead", "timeout"])
      assert.strictEqual(refused?._tag === "ReconfigureRefused" ? (refused.error as Errors.InvalidConfigError).field : "", "bulkhead.maxConcurrent")
    }).pipe(Effect.scoped))

  it.effect("data-last form", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "db", bulkhead: { maxConcurrent: 2 } })
      yield* Policy.reconfigure({ name: "db", bulkhead: { maxConcurrent: 3, maxQueue: 4 } })(policy)
      assert.deepStrictEqual([policy.bulkhead!.maxConcurrent, policy.bulkhead!.maxQueue], [3, 4])
    }).pipe(Effect.scoped))
})

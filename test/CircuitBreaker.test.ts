import { assert, describe, it } from "@effect/vitest"
import { Context, Data, Deferred, Duration, Effect, Exit, Fiber, Layer, Ref, References, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Errors, Events, Retry } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import { fields } from "./helpers.ts"

class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number }> {}

type Breaker = CircuitBreaker.CircuitBreaker

const ok = Effect.succeed("ok")
const unavailable = Effect.fail(new HttpError({ status: 503 }))

const succeed = (b: Breaker) => b.execute(ok)
/** A failing call; returns its error (the call's own, or the rejection). */
const fail = (b: Breaker, error = new HttpError({ status: 503 })) => Effect.flip(b.execute(Effect.fail(error)))
/** A successful call that takes `millis` of (test) time. */
const slow = (b: Breaker, millis: number) => b.execute(Effect.as(TestClock.adjust(millis), "slow"))
const tagOf = (b: Breaker) => Effect.map(b.state, (s) => s._tag)
const rejection = (b: Breaker) =>
  Effect.flatMap(Effect.flip(b.execute(ok)), (e) =>
    CircuitBreaker.isCircuitOpenError(e) ? Effect.succeed(e) : Effect.die(`expected a rejection, got ${String(e)}`))

/** Polls (yielding to other fibers) until `condition` holds. */
const eventually = (condition: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (yield* condition) return
      yield* Effect.yieldNow
    }
    return yield* Effect.die("condition never held")
  })

describe("CircuitBreaker: defaults", () => {
  it("are pinned", () => {
    assert.deepStrictEqual(defaults.circuitBreaker, {
      name: "circuit-breaker",
      consecutiveFailures: 5,
      resetTimeoutMillis: 60_000,
      halfOpenMaxCalls: 1,
      successThreshold: 1,
      failureRate: 0.5,
      countWindowSize: 100,
      timeWindowMillis: 60_000,
      timeWindowBuckets: 10,
      timeWindowMinimumCalls: 10,
      keyedIdleTimeToLiveMillis: 3_600_000,
      changesCapacity: 256
    })
    assert.deepStrictEqual(CircuitBreaker.countWindow(), { _tag: "CountWindow", size: 100, failureRate: 0.5, minimumCalls: 100 })
    assert.deepStrictEqual(
      CircuitBreaker.timeWindow(),
      { _tag: "TimeWindow", window: Duration.seconds(60), buckets: 10, failureRate: 0.5, minimumCalls: 10 }
    )
  })

  it.effect("make() trips after 5 failures in a row and stays open 60 s", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make()
      assert.strictEqual(b.name, "circuit-breaker")
      for (let i = 0; i < 4; i++) yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* fail(b)
      const state = yield* b.state
      assert.deepStrictEqual(fields(state, "_tag", "retryAfter"), { _tag: "Open", retryAfter: Duration.millis(60_000) })
    }))
})

describe("CircuitBreaker: consecutive", () => {
  it.effect("opens after n failures in a row; a success starts the count over", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(3) })
      yield* fail(b)
      yield* fail(b)
      assert.strictEqual((yield* b.stats).consecutiveFailures, 2)
      yield* succeed(b)
      assert.strictEqual((yield* b.stats).consecutiveFailures, 0)
      yield* fail(b)
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("one call value run again and again counts in the generation each run is admitted in", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.timeWindow({ window: "10 seconds", minimumCalls: 2, failureRate: 1 }),
        resetTimeout: "1 second"
      })
      const failing = Effect.flip(b.execute(unavailable))
      const passing = b.execute(ok)
      yield* passing
      yield* failing
      assert.deepStrictEqual(fields(yield* b.stats, "calls", "failures"), { calls: 2, failures: 1 })
      yield* b.forceOpen
      yield* b.reset
      yield* failing
      yield* failing
      assert.strictEqual(yield* tagOf(b), "Open")
      yield* TestClock.adjust("1 second")
      yield* passing
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* TestClock.adjust("500 millis")
      yield* failing
      assert.deepStrictEqual(fields(yield* b.stats, "calls", "failures"), { calls: 1, failures: 1 })
      yield* passing
      assert.strictEqual(yield* tagOf(b), "Closed")
      assert.deepStrictEqual(fields(yield* b.stats, "calls", "failures"), { calls: 2, failures: 1 })
    }))

  it.effect("Open rejects without running the call, with the rest of the open period as retryAfter", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ name: "payments", policy: CircuitBreaker.consecutive(1), resetTimeout: "10 seconds" })
      const runs = yield* Ref.make(0)
      yield* fail(b)
      yield* TestClock.adjust("4 seconds")
      const [error, events] = yield* Events.collect(Effect.flip(b.execute(Ref.update(runs, (n) => n + 1))))
      assert.strictEqual(yield* Ref.get(runs), 0)
      assert.isTrue(CircuitBreaker.isCircuitOpenError(error))
      if (!CircuitBreaker.isCircuitOpenError(error)) return
      assert.strictEqual(error._tag, "CircuitOpenError")
      assert.strictEqual(error.policy, "payments")
      assert.strictEqual(error.state, "Open")
      assert.strictEqual(error.key, undefined)
      assert.strictEqual(Duration.toMillis(error.retryAfter), 6_000)
      assert.strictEqual(error.message, 'circuit "payments" is open, retry after 6s')
      assert.deepStrictEqual(events.map((e) => e._tag), ["BreakerRejected"])
      const event = events[0]!
      assert.isTrue(
        event._tag === "BreakerRejected" && event.name === "payments" && event.state === "Open" &&
          Duration.toMillis(event.retryAfter!) === 6_000 && event.timestamp === 4_000
      )
      const stats = yield* b.stats
      assert.strictEqual(stats.rejected, 1)
      assert.strictEqual(stats.failures, 0) // a rejection is never a failure
      const state = yield* b.state
      assert.deepStrictEqual(fields(state, "_tag", "retryAfter", "since"), { _tag: "Open", retryAfter: Duration.millis(6_000), since: 0 })
    }))

  it.effect("after resetTimeout the next call is a probe; successThreshold successes in a row close", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "10 seconds", successThreshold: 2 })
      yield* fail(b)
      yield* TestClock.adjust("9999 millis")
      assert.strictEqual((yield* rejection(b)).state, "Open")
      yield* TestClock.adjust("1 millis")
      const stillOpen = yield* b.state // no timer: Open until a call finds the period over
      assert.deepStrictEqual(fields(stillOpen, "_tag", "retryAfter"), { _tag: "Open", retryAfter: Duration.millis(0) })
      assert.strictEqual(yield* succeed(b), "ok")
      const halfOpen = yield* b.state
      assert.deepStrictEqual(halfOpen, { _tag: "HalfOpen", since: 10_000, probes: 0, successes: 1, openings: 1 })
      yield* succeed(b)
      assert.deepStrictEqual(yield* b.state, { _tag: "Closed", since: 10_000 })
    }))

  it.effect("any probe failure reopens at once, for the next (consecutive) opening", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: "1 second",
        maxResetTimeout: "1 minute",
        successThreshold: 3
      })
      yield* fail(b)
      yield* TestClock.adjust("1 second")
      yield* succeed(b)
      yield* succeed(b)
      yield* fail(b)
      const state = yield* b.state
      assert.deepStrictEqual(fields(state, "_tag", "openings", "retryAfter"), { _tag: "Open", openings: 2, retryAfter: Duration.millis(2_000) })
    }))

  it.effect("reports every transition as an event and on `changes`, with timestamps", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ name: "db", policy: CircuitBreaker.consecutive(1), resetTimeout: "5 seconds" })
      const collected = yield* b.changes.pipe(Stream.take(3), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      yield* Effect.yieldNow
      const [, events] = yield* Events.collect(Effect.gen(function*() {
        yield* TestClock.adjust("1 second")
        yield* fail(b)
        yield* TestClock.adjust("5 seconds")
        yield* succeed(b)
      }))
      const transitions = yield* Fiber.join(collected)
      assert.deepStrictEqual(transitions, [
        { name: "db", key: undefined, from: "Closed", to: "Open", timestamp: 1_000, retryAfter: Duration.seconds(5) },
        { name: "db", key: undefined, from: "Open", to: "HalfOpen", timestamp: 6_000, retryAfter: undefined },
        { name: "db", key: undefined, from: "HalfOpen", to: "Closed", timestamp: 6_000, retryAfter: undefined }
      ])
      assert.deepStrictEqual(
        events.map((e) => e._tag === "BreakerTransition" ? [e.name, e.from, e.to, e.timestamp] : e._tag),
        [["db", "Closed", "Open", 1_000], ["db", "Open", "HalfOpen", 6_000], ["db", "HalfOpen", "Closed", 6_000]]
      )
    }))

  it.effect("the success path emits nothing", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.countWindow({ size: 10, minimumCalls: 5 }) })
      const [, events] = yield* Events.collect(Effect.repeat(succeed(b), { times: 20 }))
      assert.deepStrictEqual(events, [])
    }))
})

describe("CircuitBreaker: countWindow", () => {
  it.effect("judges nothing before minimumCalls, then trips at failureRate >= threshold (even on a success)", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.countWindow({ size: 10, failureRate: 0.5, minimumCalls: 4 }) })
      yield* fail(b)
      yield* fail(b)
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed") // 3/3 failed, but only 3 calls
      yield* succeed(b) // the 4th call: 3/4 >= 0.5
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("a rate equal to the threshold trips", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.countWindow({ size: 10, failureRate: 0.3, minimumCalls: 10 }) })
      for (let i = 0; i < 7; i++) yield* succeed(b)
      yield* fail(b)
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* fail(b) // 3/10 = 0.3
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("holds the last `size` calls: old failures roll out", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.countWindow({ size: 4, failureRate: 0.75, minimumCalls: 4 }) })
      yield* fail(b)
      yield* fail(b)
      yield* succeed(b)
      yield* succeed(b)
      yield* succeed(b) // window: F S S S
      let stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.failures, stats.failureRate], [4, 1, 0.25])
      yield* fail(b)
      yield* fail(b) // S S F F
      stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.failures, stats.state._tag], [4, 2, "Closed"])
      yield* fail(b) // S F F F: 0.75
      assert.strictEqual(yield* tagOf(b), "Open")
      stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.failures], [0, 0]) // a fresh window per state
    }))

  it.effect("slow calls: strictly slower than the threshold, trip at the slow-call rate", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.countWindow({ size: 4, failureRate: 1, minimumCalls: 4 }),
        slowCall: { threshold: "100 millis", rate: 0.5 }
      })
      yield* slow(b, 200)
      yield* slow(b, 100) // exactly the threshold: not slow
      yield* succeed(b)
      let stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.slowCalls, stats.failures], [3, 1, 0])
      yield* slow(b, 101) // 2/4 slow
      assert.strictEqual(yield* tagOf(b), "Open")
      stats = yield* b.stats
      assert.strictEqual(stats.slowCalls, 0)
    }))

  it.effect("a slow failure counts as a failure and as slow", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.countWindow({ size: 10, failureRate: 1, minimumCalls: 10 }),
        slowCall: { threshold: "100 millis", rate: 1 }
      })
      yield* Effect.flip(b.execute(Effect.andThen(TestClock.adjust(500), unavailable)))
      const stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.failures, stats.slowCalls, stats.slowCallRate], [1, 1, 1, 1])
    }))
})

describe("CircuitBreaker: timeWindow", () => {
  it.effect("counts the calls of the last window and drops whole buckets as the clock passes them", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 5, failureRate: 0.5, minimumCalls: 4 })
      })
      yield* fail(b)
      yield* fail(b)
      yield* TestClock.adjust("1999 millis")
      yield* succeed(b) // all three in bucket [0 s, 2 s)
      yield* TestClock.setTime(9_999)
      assert.strictEqual((yield* b.stats).calls, 3) // the window still reaches back to 0 s
      yield* TestClock.setTime(10_000)
      const stats = yield* b.stats // bucket [0 s, 2 s) is dropped whole
      assert.deepStrictEqual([stats.calls, stats.failures, stats.failureRate], [0, 0, 0])
      yield* fail(b) // had the old failures survived, this would trip (3/4)
      assert.strictEqual(yield* tagOf(b), "Closed")
    }))

  it.effect("calls spread over buckets add up; minimumCalls applies to the whole window", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 5, failureRate: 0.5, minimumCalls: 4 })
      })
      yield* fail(b)
      yield* TestClock.adjust("3 seconds")
      yield* succeed(b)
      yield* TestClock.adjust("3 seconds")
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed") // 3 calls < minimumCalls
      yield* TestClock.adjust("3 seconds")
      yield* succeed(b) // 4 calls over 9 s: 2/4
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("a quiet period longer than the window empties it", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.timeWindow({ window: "1 second", buckets: 10, failureRate: 0.5, minimumCalls: 2 })
      })
      yield* fail(b)
      yield* TestClock.adjust("1 hour")
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
      assert.strictEqual((yield* b.stats).calls, 1)
    }))

  it.effect("slow calls in a time window", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.timeWindow({ window: "1 minute", buckets: 6, failureRate: 1, minimumCalls: 2 }),
        slowCall: { threshold: "1 second", rate: 1 }
      })
      yield* slow(b, 1_500)
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* slow(b, 2_000)
      assert.strictEqual(yield* tagOf(b), "Open")
    }))
})

describe("CircuitBreaker: reset timeout", () => {
  const reopen = (b: Breaker, after: number) =>
    Effect.gen(function*() {
      yield* TestClock.adjust(after)
      yield* fail(b) // the probe fails
      const state = yield* b.state
      return state._tag === "Open" ? Duration.toMillis(state.retryAfter) : -1
    })

  it.effect("a Schedule: each consecutive opening waits its next delay, capped; closing starts it over", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: Backoff.exponential({ base: "1 second", max: "4 seconds" })
      })
      yield* fail(b)
      const first = yield* b.state
      assert.deepStrictEqual(fields(first, "_tag", "retryAfter", "openings"), { _tag: "Open", retryAfter: Duration.millis(1_000), openings: 1 })
      const grown = [yield* reopen(b, 1_000), yield* reopen(b, 2_000), yield* reopen(b, 4_000), yield* reopen(b, 4_000)]
      assert.deepStrictEqual(grown, [2_000, 4_000, 4_000, 4_000])
      yield* TestClock.adjust(4_000)
      yield* succeed(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* fail(b)
      const again = yield* b.state
      assert.deepStrictEqual(fields(again, "_tag", "retryAfter", "openings"), { _tag: "Open", retryAfter: Duration.millis(1_000), openings: 1 })
      assert.deepStrictEqual([yield* reopen(b, 1_000), yield* reopen(b, 2_000)], [2_000, 4_000])
    }))

  it.effect("a duration with maxResetTimeout doubles per consecutive opening up to the cap", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: 1_000, maxResetTimeout: 5_000 })
      yield* fail(b)
      assert.deepStrictEqual(
        [yield* reopen(b, 1_000), yield* reopen(b, 2_000), yield* reopen(b, 4_000), yield* reopen(b, 5_000)],
        [2_000, 4_000, 5_000, 5_000]
      )
    }))

  it.effect("maxResetTimeout caps a Schedule; a Schedule that ends repeats its last delay", () =>
    Effect.gen(function*() {
      const capped = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: Backoff.exponential({ base: "1 second", factor: 10 }),
        maxResetTimeout: "30 seconds"
      })
      yield* fail(capped)
      assert.deepStrictEqual([yield* reopen(capped, 1_000), yield* reopen(capped, 10_000)], [10_000, 30_000])
      const ending = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: Backoff.fromDelays(["1 second", "3 seconds"])
      })
      yield* fail(ending)
      assert.deepStrictEqual([yield* reopen(ending, 1_000), yield* reopen(ending, 3_000)], [3_000, 3_000])
    }))

  it.effect("transitions report the open period", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: 1_000, maxResetTimeout: 8_000 })
      const collected = yield* b.changes.pipe(
        Stream.filter((t) => t.to === "Open"),
        Stream.take(3),
        Stream.runCollect,
        Effect.forkChild({ startImmediately: true })
      )
      yield* Effect.yieldNow
      yield* fail(b)
      yield* reopen(b, 1_000)
      yield* reopen(b, 2_000)
      const opened = yield* Fiber.join(collected)
      assert.deepStrictEqual(opened.map((t) => Duration.toMillis(t.retryAfter!)), [1_000, 2_000, 4_000])
    }))
})

describe("CircuitBreaker: half-open", () => {
  const openAndWait = (b: Breaker) =>
    Effect.gen(function*() {
      yield* fail(b)
      yield* TestClock.adjust("1 minute")
    })

  it.effect("1,000 fibers at once with halfOpenMaxCalls = 3: exactly 3 run, the others are rejected", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        name: "search",
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: "1 minute",
        halfOpenMaxCalls: 3,
        successThreshold: 3
      })
      yield* openAndWait(b)
      const started = yield* Ref.make(0)
      const latch = yield* Deferred.make<void>()
      const call = Effect.andThen(Ref.update(started, (n) => n + 1), Effect.as(Deferred.await(latch), "probe"))
      const fiber = yield* Effect.forEach(Array.from({ length: 1000 }), () => Effect.exit(b.execute(call)), {
        concurrency: "unbounded"
      }).pipe(Effect.forkChild)
      yield* eventually(Effect.map(b.stats, (s) => s.rejected === 997))
      assert.strictEqual(yield* Ref.get(started), 3)
      const probing = yield* b.state
      assert.deepStrictEqual(fields(probing, "_tag", "probes"), { _tag: "HalfOpen", probes: 3 })
      yield* Deferred.succeed(latch, undefined)
      const exits = yield* Fiber.join(fiber)
      assert.strictEqual(exits.filter(Exit.isSuccess).length, 3)
      const rejected = exits.flatMap((exit) => Exit.isFailure(exit) ? [Exit.findErrorOption(exit)] : [])
      assert.strictEqual(rejected.length, 997)
      for (const error of rejected) {
        assert.isTrue(
          error._tag === "Some" && error.value._tag === "CircuitOpenError" && error.value.state === "HalfOpen" &&
            Duration.toMillis(error.value.retryAfter) === 0 && error.value.policy === "search"
        )
      }
      assert.strictEqual(yield* Ref.get(started), 3)
      assert.strictEqual(yield* tagOf(b), "Closed")
      assert.strictEqual((yield* b.stats).rejected, 997)
    }))

  it.effect("successThreshold above halfOpenMaxCalls: probes run one after another until enough succeed", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute", successThreshold: 3 })
      yield* openAndWait(b)
      yield* succeed(b)
      yield* succeed(b)
      const state = yield* b.state
      assert.deepStrictEqual(fields(state, "_tag", "successes", "probes"), { _tag: "HalfOpen", successes: 2, probes: 0 })
      yield* succeed(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
    }))

  it.effect("a probe failure while other probes run reopens at once; their late outcomes change nothing", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: "1 minute",
        halfOpenMaxCalls: 2
      })
      yield* openAndWait(b)
      const latch = yield* Deferred.make<void>()
      const pending = yield* b.execute(Effect.as(Deferred.await(latch), "late")).pipe(Effect.forkChild({ startImmediately: true }))
      yield* fail(b)
      const reopened = yield* b.state
      assert.deepStrictEqual(fields(reopened, "_tag", "openings"), { _tag: "Open", openings: 2 })
      yield* Deferred.succeed(latch, undefined)
      assert.strictEqual(yield* Fiber.join(pending), "late")
      assert.deepStrictEqual(yield* b.state, reopened)
    }))

  it.effect("a slow probe reopens the circuit", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.countWindow({ size: 2, failureRate: 1, minimumCalls: 1 }),
        resetTimeout: "1 minute",
        slowCall: { threshold: "1 second", rate: 1 }
      })
      yield* openAndWait(b)
      yield* slow(b, 2_000)
      assert.strictEqual(yield* tagOf(b), "Open")
    }))
})

describe("CircuitBreaker: outcomes, interruption and defects", () => {
  it.effect("isFailure: other typed errors are ignored, neither failure nor success", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(2),
        isFailure: (e) => e instanceof HttpError && e.status >= 500
      })
      yield* fail(b)
      const notFound = yield* fail(b, new HttpError({ status: 404 }))
      assert.strictEqual((notFound as HttpError).status, 404) // the caller still gets its own error
      const stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.consecutiveFailures], [1, 1])
      yield* fail(b) // the 404 did not break the streak
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("rejections by policies inside the breaker (bulkhead full, shed, another open circuit) are never failures", () =>
    Effect.gen(function*() {
      class BulkheadRejectedError extends Data.TaggedError("BulkheadRejectedError")<{ readonly reason: string }> {}
      class LoadShedError extends Data.TaggedError("LoadShedError")<{}> {}
      const inner = yield* CircuitBreaker.make({ name: "inner", policy: CircuitBreaker.consecutive(1) })
      yield* fail(inner)
      const outer = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1) })
      yield* Effect.flip(outer.execute(Effect.fail(new BulkheadRejectedError({ reason: "full" }))))
      yield* Effect.flip(outer.execute(Effect.fail(new LoadShedError())))
      const rejected = yield* Effect.flip(outer.execute(inner.execute(ok)))
      assert.strictEqual(rejected._tag, "CircuitOpenError") // the caller still gets the rejection
      const stats = yield* outer.stats
      assert.deepStrictEqual([stats.state._tag, stats.calls, stats.failures, stats.rejected], ["Closed", 0, 0, 0])
    }))

  it.effect("defects count as failures, whatever isFailure says", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2), isFailure: () => false })
      yield* Effect.exit(b.execute(Effect.die("bug")))
      yield* Effect.exit(b.execute(Effect.sync(() => {
        throw new Error("thrown")
      })))
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("an interrupted Closed-state call counts as nothing", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.countWindow({ size: 4, failureRate: 0.5, minimumCalls: 1 }) })
      const fiber = yield* b.execute(Effect.never).pipe(Effect.forkChild({ startImmediately: true }))
      yield* Fiber.interrupt(fiber)
      // A timeout outside the breaker interrupts the call: not a failure either.
      yield* Effect.timeoutOption(b.execute(Effect.never), "1 second").pipe(
        Effect.forkChild({ startImmediately: true }),
        Effect.tap(() => TestClock.adjust("1 second")),
        Effect.flatMap(Fiber.join)
      )
      const stats = yield* b.stats
      assert.deepStrictEqual([stats.calls, stats.failures, stats.state._tag], [0, 0, "Closed"])
      yield* succeed(b)
      assert.strictEqual((yield* b.stats).calls, 1)
    }))

  it.effect("an interrupted probe frees its slot and counts as nothing", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" })
      yield* fail(b)
      yield* TestClock.adjust("1 minute")
      const probe = yield* b.execute(Effect.never).pipe(Effect.forkChild({ startImmediately: true }))
      const taken = yield* b.state
      assert.deepStrictEqual(fields(taken, "_tag", "probes"), { _tag: "HalfOpen", probes: 1 })
      assert.strictEqual((yield* rejection(b)).state, "HalfOpen")
      yield* Fiber.interrupt(probe)
      assert.deepStrictEqual(yield* b.state, { _tag: "HalfOpen", since: 60_000, probes: 0, successes: 0, openings: 1 })
      yield* succeed(b) // the freed slot takes the next probe
      assert.strictEqual(yield* tagOf(b), "Closed")
    }))

  it.effect("a call admitted while Closed that ends after the circuit opened changes nothing", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" })
      const latch = yield* Deferred.make<void>()
      const late = yield* b.execute(Effect.andThen(Deferred.await(latch), unavailable)).pipe(
        Effect.flip,
        Effect.forkChild({ startImmediately: true })
      )
      yield* fail(b)
      yield* TestClock.adjust("1 minute")
      const probe = yield* b.execute(Effect.never).pipe(Effect.forkChild({ startImmediately: true }))
      const before = yield* b.state
      yield* Deferred.succeed(latch, undefined)
      yield* Fiber.join(late)
      assert.deepStrictEqual(yield* b.state, before) // the probe is still the one that decides
      yield* Fiber.interrupt(probe)
    }))

  it.effect("a throwing isFailure counts as a failure and surfaces as a defect", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        isFailure: () => {
          throw new Error("bad predicate")
        }
      })
      const exit = yield* Effect.exit(b.execute(unavailable))
      assert.deepStrictEqual([exit._tag, Exit.hasDies(exit)], ["Failure", true])
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("interrupting a HalfOpen admission never leaks its slot (1,000 racing fibers, all interrupted)", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute", halfOpenMaxCalls: 5 })
      yield* fail(b)
      yield* TestClock.adjust("1 minute")
      const fibers = yield* Effect.forEach(
        Array.from({ length: 1000 }),
        () => b.execute(Effect.never).pipe(Effect.forkChild({ startImmediately: true }))
      )
      yield* Effect.forEach(fibers, Fiber.interrupt)
      assert.deepStrictEqual(yield* b.state, { _tag: "HalfOpen", since: 60_000, probes: 0, successes: 0, openings: 1 })
      assert.strictEqual((yield* b.stats).rejected, 995)
    }))
  it.effect("an interruption landing between any two steps of a probe's admission never leaks its slot", () =>
    Effect.gen(function*() {
      // A small operation budget makes the fiber yield every few steps;
      // sweeping the budget, a padding and the delay before the interruption
      // puts it at every step boundary of the admission.
      for (const budget of [3, 4]) {
        for (let pad = 0; pad < 2; pad++) {
          for (let delay = 0; delay < 10; delay++) {
            const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" })
            yield* fail(b)
            yield* TestClock.adjust("1 minute")
            let call: Effect.Effect<never, unknown> = b.execute(Effect.never)
            for (let i = 0; i < pad; i++) call = Effect.andThen(Effect.void, call)
            const fiber = yield* call.pipe(Effect.provideService(References.MaxOpsBeforeYield, budget), Effect.forkChild)
            for (let i = 0; i < delay; i++) yield* Effect.yieldNow
            yield* Fiber.interrupt(fiber)
            const state = yield* b.state
            const where = `budget ${budget}, pad ${pad}, delay ${delay}`
            assert.oneOf(state._tag === "HalfOpen" ? `HalfOpen, ${state.probes} probes` : state._tag, ["Open", "HalfOpen, 0 probes"], where)
            assert.strictEqual(yield* succeed(b), "ok", where)
            assert.strictEqual(yield* tagOf(b), "Closed", where)
          }
        }
      }
    }))
})

describe("CircuitBreaker: admin", () => {
  it.effect("forceOpen rejects every call until reset, whatever the time", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ name: "ops", resetTimeout: "1 second" })
      const [, events] = yield* Events.collect(b.forceOpen)
      assert.deepStrictEqual(events.map((e) => e._tag === "BreakerTransition" ? `${e.from}->${e.to}` : e._tag), [
        "Closed->ForcedOpen"
      ])
      yield* TestClock.adjust("1 hour")
      const error = yield* rejection(b)
      assert.deepStrictEqual([error.state, Duration.toMillis(error.retryAfter), error.message], [
        "ForcedOpen",
        0,
        'circuit "ops" is forced open'
      ])
      yield* b.reset
      assert.deepStrictEqual(yield* b.state, { _tag: "Closed", since: 3_600_000 })
      assert.strictEqual(yield* succeed(b), "ok")
    }))

  it.effect("disable lets every call through and records it, never tripping; reset starts fresh", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1) })
      yield* fail(b)
      yield* b.disable
      for (let i = 0; i < 10; i++) yield* fail(b)
      yield* succeed(b)
      const stats = yield* b.stats
      assert.deepStrictEqual([stats.state._tag, stats.calls, stats.failures, stats.rejected], ["Disabled", 11, 10, 0])
      yield* b.reset
      const fresh = yield* b.stats
      assert.deepStrictEqual([fresh.state._tag, fresh.calls], ["Closed", 0])
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("reset from Open starts the reset timeout over", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: 1_000, maxResetTimeout: 60_000 })
      yield* fail(b)
      yield* TestClock.adjust(1_000)
      yield* fail(b)
      yield* b.reset
      yield* fail(b)
      const state = yield* b.state
      assert.deepStrictEqual(fields(state, "_tag", "openings", "retryAfter"), { _tag: "Open", openings: 1, retryAfter: Duration.millis(1_000) })
    }))
})

describe("CircuitBreaker: with Retry", () => {
  it.effect("Retry.retry over breaker.execute waits at least the rejection's retryAfter", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "10 seconds" })
      yield* fail(b)
      yield* TestClock.adjust("3 seconds")
      const runs = yield* Ref.make(0)
      const call = Effect.as(Ref.update(runs, (n) => n + 1), "ok")
      const fiber = yield* call.pipe(
        b.execute,
        Retry.retry({ maxAttempts: 2, backoff: Backoff.constant("1 millis"), maxRetryAfter: "10 seconds" }),
        Effect.forkChild({ startImmediately: true })
      )
      yield* TestClock.adjust("6999 millis")
      assert.strictEqual(yield* Ref.get(runs), 0)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(yield* Ref.get(runs), 1)
      assert.strictEqual(yield* tagOf(b), "Closed")
    }))
})

describe("CircuitBreaker: keyed", () => {
  it.effect("one independent circuit per key, named name/key", () =>
    Effect.gen(function*() {
      const k = yield* CircuitBreaker.keyed({ name: "upstream", policy: CircuitBreaker.consecutive(1), resetTimeout: "5 seconds" })
      yield* Effect.flip(unavailable.pipe(k.execute("a")))
      const error = yield* Effect.flip(ok.pipe(k.execute("a")))
      assert.isTrue(CircuitBreaker.isCircuitOpenError(error))
      if (CircuitBreaker.isCircuitOpenError(error)) {
        assert.deepStrictEqual([error.policy, error.key, error.message], ["upstream/a", "a", 'circuit "upstream/a" is open, retry after 5s'])
      }
      assert.strictEqual(yield* k.execute(ok, "b"), "ok")
      assert.strictEqual((yield* k.state("a"))._tag, "Open")
      assert.strictEqual((yield* k.state("b"))._tag, "Closed")
      assert.deepStrictEqual(yield* k.state("never-used"), { _tag: "Closed", since: 0 })
      assert.deepStrictEqual([...(yield* k.keys)].sort(), ["a", "b"])
    }))

  it.effect("get(key) is a CircuitBreaker for that key; changes carry the key", () =>
    Effect.gen(function*() {
      const k = yield* CircuitBreaker.keyed({ name: "hosts" })
      const all = yield* k.changes.pipe(Stream.take(2), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      const a = yield* k.get("a")
      const own = yield* a.changes.pipe(Stream.take(1), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
      yield* Effect.yieldNow
      assert.deepStrictEqual([CircuitBreaker.isCircuitBreaker(a), CircuitBreaker.isKeyedCircuitBreaker(k)], [true, true])
      const b = yield* k.get("b")
      yield* b.forceOpen
      yield* a.disable
      assert.strictEqual((yield* rejection(b)).key, "b")
      assert.strictEqual((yield* k.state("a"))._tag, "Disabled")
      assert.deepStrictEqual(
        (yield* Fiber.join(all)).map((t) => [t.name, t.key, t.to]),
        [["hosts/b", "b", "ForcedOpen"], ["hosts/a", "a", "Disabled"]]
      )
      assert.deepStrictEqual((yield* Fiber.join(own)).map((t) => t.key), ["a"])
      assert.strictEqual((yield* a.stats).name, "hosts/a")
    }))

  it.effect("idle circuits are dropped after the TTL, by calls or by evictIdle", () =>
    Effect.gen(function*() {
      const k = yield* CircuitBreaker.keyed({ policy: CircuitBreaker.consecutive(2), idleTimeToLive: "1 minute" })
      yield* Effect.flip(unavailable.pipe(k.execute("a")))
      yield* TestClock.adjust("50 seconds")
      yield* ok.pipe(k.execute("b"))
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* k.evictIdle, 1) // a: idle 60 s
      assert.deepStrictEqual(yield* k.keys, ["b"])
      // "a" starts over: its earlier failure is gone.
      yield* Effect.flip(unavailable.pipe(k.execute("a")))
      assert.strictEqual((yield* k.state("a"))._tag, "Closed")
      // Calls sweep on their own (every quarter of the TTL).
      yield* TestClock.adjust("2 minutes")
      yield* ok.pipe(k.execute("c"))
      assert.deepStrictEqual(yield* k.keys, ["c"])
    }))

  it.effect("eviction keeps forced-open, disabled, probing and recently open circuits", () =>
    Effect.gen(function*() {
      const k = yield* CircuitBreaker.keyed({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: "10 minutes",
        idleTimeToLive: "1 minute"
      })
      yield* (yield* k.get("forced")).forceOpen
      yield* (yield* k.get("disabled")).disable
      yield* Effect.flip(unavailable.pipe(k.execute("open")))
      yield* Effect.flip(unavailable.pipe(k.execute("probing")))
      yield* ok.pipe(k.execute("idle"))
      yield* TestClock.adjust("10 minutes")
      const probe = yield* Effect.never.pipe(k.execute("probing"), Effect.forkChild({ startImmediately: true }))
      // That call swept "idle" away; "open" ended its period just now.
      assert.deepStrictEqual([...(yield* k.keys)].sort(), ["disabled", "forced", "open", "probing"])
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual(yield* k.evictIdle, 0)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* k.evictIdle, 1) // "open"; "probing" is idle too, but its probe runs
      assert.deepStrictEqual([...(yield* k.keys)].sort(), ["disabled", "forced", "probing"])
      yield* Fiber.interrupt(probe)
      assert.strictEqual(yield* k.evictIdle, 1) // "probing", its probe gone
      assert.deepStrictEqual([...(yield* k.keys)].sort(), ["disabled", "forced"])
    }))
})

describe("CircuitBreaker: layer", () => {
  class Breaker extends Context.Service<Breaker, CircuitBreaker.CircuitBreaker>()("test/Breaker") {}
  class Keyed extends Context.Service<Keyed, CircuitBreaker.KeyedCircuitBreaker>()("test/Keyed") {}

  it.effect("provides one breaker shared by every use", () =>
    Effect.gen(function*() {
      yield* fail(yield* Breaker)
      const state = yield* (yield* Breaker).state
      assert.strictEqual(state._tag, "Open")
    }).pipe(Effect.provide(CircuitBreaker.layer(Breaker, { policy: CircuitBreaker.consecutive(1) }))))

  it.effect("bad options fail the layer with InvalidConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(CircuitBreaker.layer(Breaker, { halfOpenMaxCalls: 0 })).pipe(Effect.scoped))
      assert.deepStrictEqual(fields(error, "_tag", "field"), { _tag: "InvalidConfigError", field: "halfOpenMaxCalls" })
      const keyedError = yield* Effect.flip(Layer.build(CircuitBreaker.layerKeyed(Keyed, { idleTimeToLive: 0 })).pipe(Effect.scoped))
      assert.deepStrictEqual(fields(keyedError, "_tag", "field"), { _tag: "InvalidConfigError", field: "idleTimeToLive" })
    }))

  it.effect("execute is data-first and data-last", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make()
      assert.strictEqual(yield* CircuitBreaker.execute(ok, b), "ok")
      assert.strictEqual(yield* ok.pipe(CircuitBreaker.execute(b)), "ok")
      assert.strictEqual(yield* ok.pipe(b.execute), "ok")
    }))
})

describe("CircuitBreaker: bad input", () => {
  const throwsOn = (f: () => unknown, source: string, field: string, value: unknown) => {
    try {
      f()
    } catch (error) {
      assert.isTrue(Errors.isInvalidConfigError(error), String(error))
      if (!Errors.isInvalidConfigError(error)) return
      assert.strictEqual(error.source, source)
      assert.strictEqual(error.field, field)
      assert.deepStrictEqual(error.value, value)
      assert.include(error.message, `${source}: ${field} must be`)
      return
    }
    assert.fail(`${source}: ${field} = ${String(value)} was accepted`)
  }

  it("consecutive: failures must be an integer >= 1", () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity]) throwsOn(() => CircuitBreaker.consecutive(bad), "CircuitBreaker.consecutive", "failures", bad)
  })

  it("countWindow: size, failureRate, minimumCalls", () => {
    const source = "CircuitBreaker.countWindow"
    for (const bad of [0, -3, 2.5, NaN]) throwsOn(() => CircuitBreaker.countWindow({ size: bad }), source, "size", bad)
    for (const bad of [0, -0.1, 1.01, NaN, Infinity]) {
      throwsOn(() => CircuitBreaker.countWindow({ failureRate: bad }), source, "failureRate", bad)
    }
    for (const bad of [0, 1.5, -1]) throwsOn(() => CircuitBreaker.countWindow({ size: 10, minimumCalls: bad }), source, "minimumCalls", bad)
    throwsOn(() => CircuitBreaker.countWindow({ size: 10, minimumCalls: 11 }), source, "minimumCalls", 11)
    assert.include(
      (() => {
        try {
          CircuitBreaker.countWindow({ size: 10, minimumCalls: 11 })
        } catch (e) {
          return String((e as Error).message)
        }
        return ""
      })(),
      "an integer in [1, size] (size is 10), got 11"
    )
  })

  it("timeWindow: window, buckets (and their resolution), failureRate, minimumCalls", () => {
    const source = "CircuitBreaker.timeWindow"
    for (const bad of [0, -1, "-5 seconds", "Infinity", "soon"] as const) {
      throwsOn(() => CircuitBreaker.timeWindow({ window: bad as never }), source, "window", bad)
    }
    for (const bad of [0, -1, 2.5]) throwsOn(() => CircuitBreaker.timeWindow({ buckets: bad }), source, "buckets", bad)
    throwsOn(() => CircuitBreaker.timeWindow({ window: "5 millis", buckets: 10 }), source, "buckets", 10)
    for (const bad of [0, 2, NaN]) throwsOn(() => CircuitBreaker.timeWindow({ failureRate: bad }), source, "failureRate", bad)
    for (const bad of [0, 0.5]) throwsOn(() => CircuitBreaker.timeWindow({ minimumCalls: bad }), source, "minimumCalls", bad)
    // A bucket of exactly 1 ms is fine.
    assert.strictEqual(CircuitBreaker.timeWindow({ window: "10 millis", buckets: 10 })._tag, "TimeWindow")
  })

  it.effect("make: every option, as a typed failure naming the field", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[CircuitBreaker.CircuitBreakerOptions, string, unknown]> = [
        [{ name: "" }, "name", ""],
        [{ halfOpenMaxCalls: 0 }, "halfOpenMaxCalls", 0],
        [{ halfOpenMaxCalls: 1.5 }, "halfOpenMaxCalls", 1.5],
        [{ successThreshold: 0 }, "successThreshold", 0],
        [{ successThreshold: -2 }, "successThreshold", -2],
        [{ resetTimeout: -1 }, "resetTimeout", -1],
        [{ resetTimeout: 0 }, "resetTimeout", 0],
        [{ resetTimeout: "-3 seconds" }, "resetTimeout", "-3 seconds"],
        [{ resetTimeout: "Infinity" }, "resetTimeout", "Infinity"],
        [{ resetTimeout: "10 seconds", maxResetTimeout: "5 seconds" }, "maxResetTimeout", "5 seconds"],
        [{ maxResetTimeout: -5 }, "maxResetTimeout", -5],
        [{ isFailure: 42 as never }, "isFailure", 42],
        [{ slowCall: { threshold: "1 second", rate: 0.5 } }, "slowCall", { threshold: "1 second", rate: 0.5 }],
        [{ policy: CircuitBreaker.countWindow({ size: 5 }), slowCall: { threshold: 0, rate: 0.5 } }, "slowCall.threshold", 0],
        [{ policy: CircuitBreaker.countWindow({ size: 5 }), slowCall: { threshold: -1, rate: 0.5 } }, "slowCall.threshold", -1],
        [{ policy: CircuitBreaker.countWindow({ size: 5 }), slowCall: { threshold: 10, rate: 0 } }, "slowCall.rate", 0],
        [{ policy: CircuitBreaker.countWindow({ size: 5 }), slowCall: { threshold: 10, rate: 1.5 } }, "slowCall.rate", 1.5],
        [{ policy: { _tag: "Nope" } as never }, "policy", { _tag: "Nope" }],
        [{ policy: { _tag: "Consecutive", failures: 0 } }, "policy.failures", 0],
        [{ policy: { _tag: "CountWindow", size: 5, failureRate: 0.5, minimumCalls: 6 } }, "policy.minimumCalls", 6],
        [
          { policy: { _tag: "TimeWindow", window: Duration.millis(5), buckets: 6, failureRate: 0.5, minimumCalls: 1 } },
          "policy.buckets",
          6
        ]
      ]
      for (const [options, field, value] of cases) {
        const error = yield* Effect.flip(CircuitBreaker.make(options))
        assert.strictEqual(error._tag, "InvalidConfigError")
        assert.deepStrictEqual([error.source, error.field, error.value], ["CircuitBreaker.make", field, value], field)
      }
    }))

  it.effect("keyed: idleTimeToLive, and the make options", () =>
    Effect.gen(function*() {
      for (const bad of [0, -1, "-1 minutes"] as const) {
        const error = yield* Effect.flip(CircuitBreaker.keyed({ idleTimeToLive: bad }))
        assert.deepStrictEqual([error.source, error.field, error.value], ["CircuitBreaker.keyed", "idleTimeToLive", bad])
      }
      const error = yield* Effect.flip(CircuitBreaker.keyed({ successThreshold: 0 }))
      assert.deepStrictEqual([error.source, error.field], ["CircuitBreaker.keyed", "successThreshold"])
    }))
})

describe("CircuitBreaker: classification (DESIGN §4)", () => {
  it.effect("by default a permanent failure (404) counts as a success, a transient one (503) as a failure", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2) })
      for (let i = 0; i < 6; i++) yield* fail(b, new HttpError({ status: 404 }))
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* fail(b)
      yield* fail(b, new HttpError({ status: 404 })) // a success: the dependency answered, the run of failures restarts
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Closed")
      yield* fail(b)
      assert.strictEqual(yield* tagOf(b), "Open")
    }))

  it.effect("a permanent probe closes a half-open circuit; an ignored one neither closes nor reopens it", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: "1 second",
        classify: { ignoredTags: ["Cancelled"] }
      })
      yield* fail(b)
      yield* TestClock.adjust("1 second")
      yield* Effect.flip(b.execute(Effect.fail({ _tag: "Cancelled" as const })))
      assert.strictEqual(yield* tagOf(b), "HalfOpen")
      yield* fail(b, new HttpError({ status: 400 }))
      assert.strictEqual(yield* tagOf(b), "Closed")
    }))

  it.effect("isFailure still overrides the classifier", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2), isFailure: () => true })
      yield* fail(b, new HttpError({ status: 404 }))
      yield* fail(b, new HttpError({ status: 404 }))
      assert.strictEqual(yield* tagOf(b), "Open")
    }))
})

import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import { Bulkhead, CircuitBreaker, Events, Throttle } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import * as machine from "../src/internal/throttle.ts"
import { settle, throwsInvalid } from "./helpers.ts"

/** A window holding `requests` requests of which `accepts` were accepted, all at time 0. */
const windowOf = (requests: number, accepts: number) => {
  const w = machine.initial({ windowMillis: 120_000, buckets: 12 }).window
  for (let i = 0; i < requests; i++) machine.record(w, 0, i < accepts)
  return w
}

/** A Random that fails the test if a number is drawn. */
const noDraws: Random.Random = {
  nextIntUnsafe: () => {
    throw new Error("a random number was drawn")
  },
  nextDoubleUnsafe: () => {
    throw new Error("a random number was drawn")
  }
}

describe("Throttle: machine", () => {
  it("rejects with probability max(0, (requests − k · accepts) / (requests + 1))", () => {
    assert.strictEqual(machine.probability(2, windowOf(0, 0)), 0)
    assert.strictEqual(machine.probability(2, windowOf(100, 50)), 0)
    assert.strictEqual(machine.probability(2, windowOf(100, 60)), 0)
    assert.closeTo(machine.probability(2, windowOf(100, 40)), 20 / 101, 1e-12)
    assert.closeTo(machine.probability(2, windowOf(100, 0)), 100 / 101, 1e-12)
    assert.closeTo(machine.probability(1.1, windowOf(100, 40)), 56 / 101, 1e-12)
  })

  it("counts over a sliding 2-minute window of 10-second buckets", () => {
    const w = machine.initial({ windowMillis: 120_000, buckets: 12 }).window
    for (let i = 0; i < 10; i++) machine.record(w, 0, false)
    for (let i = 0; i < 10; i++) machine.record(w, 60_000, false)
    // the window is mutable and only moves forward: read it at increasing times
    const at = (now: number) => {
      w.advance(now)
      return [w.total(machine.REQUESTS), machine.probability(2, w)]
    }
    assert.deepStrictEqual(at(119_999), [20, 20 / 21])
    assert.deepStrictEqual(at(120_000), [10, 10 / 11]) // the first bucket left the window
    assert.deepStrictEqual(at(180_000), [0, 0])
  })

  it("defaults: k = 2 over 2 minutes in 12 buckets", () => {
    assert.deepStrictEqual(defaults.throttle, { name: "throttle", k: 2, windowMillis: 120_000, buckets: 12 })
  })
})

/**
 * A backend that accepts at most `perSecond` requests in each second of
 * `Clock` time and refuses the others with a 503 (or accepts everything
 * while `healthy()`), counting what reaches it.
 */
const makeBackend = (perSecond: number) => {
  let second = -1
  let acceptedThisSecond = 0
  const received: Array<number> = []
  let healthy = false
  const call = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    received.push(now)
    if (healthy) return Effect.succeed("ok")
    const s = Math.floor(now / 1000)
    if (s !== second) {
      second = s
      acceptedThisSecond = 0
    }
    if (acceptedThisSecond < perSecond) {
      acceptedThisSecond++
      return Effect.succeed("ok")
    }
    return Effect.fail({ status: 503 })
  })
  return { call, received, recover: () => void (healthy = true) }
}

/** Offers one call every 10 ms (100/s) for `millis`; returns how many were throttled locally. */
const offer = (throttle: Throttle.Throttle, call: Effect.Effect<string, { status: number }>, millis: number) =>
  Effect.gen(function*() {
    let throttled = 0
    for (let t = 0; t < millis; t += 10) {
      const exit = yield* Effect.exit(throttle.execute(call))
      if (Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Fail" && Throttle.isThrottledError(r.error))) {
        throttled++
      }
      yield* TestClock.adjust(10)
    }
    return throttled
  })

describe("Throttle: against an overloaded backend", () => {
  it.effect(
    "offered 100/s by a backend accepting 10/s, the client sends about k · accepts = 20/s and rejects the rest locally; it stops once the backend recovers",
    () =>
      Effect.gen(function*() {
        const throttle = yield* Throttle.make({ name: "search" })
        const backend = makeBackend(10)
        yield* offer(throttle, backend.call, 120_000) // fill the window
        const sentBefore = backend.received.length
        const [throttled, events] = yield* Events.collect(offer(throttle, backend.call, 60_000))
        const sentPerSecond = (backend.received.length - sentBefore) / 60
        assert.isAtLeast(sentPerSecond, 17)
        assert.isAtMost(sentPerSecond, 23)
        assert.strictEqual(throttled, 6000 - (backend.received.length - sentBefore))
        // one event per local rejection, with the probability it used
        assert.strictEqual(events.length, throttled)
        assert.deepStrictEqual(events.filter((e) => !(e._tag === "Throttled" && e.name === "search" && e.probability > 0.7)), [])
        const stats = yield* throttle.stats
        assert.closeTo(stats.probability, (stats.requests - 2 * stats.accepts) / (stats.requests + 1), 1e-12)
        // the window holds 11 to 12 buckets of 10 s, each with 100 accepts
        assert.isAtLeast(stats.accepts, 1100)
        assert.isAtMost(stats.accepts, 1200)

        backend.recover()
        yield* offer(throttle, backend.call, 130_000) // a window and a bucket: the refusals are gone
        assert.strictEqual((yield* throttle.stats).probability, 0)
        assert.strictEqual(yield* offer(throttle, backend.call, 10_000), 0)
      }).pipe(Random.withSeed(17)),
    30_000
  )

  it.effect("the same seed gives the same decisions", () =>
    Effect.gen(function*() {
      const run = (seed: string) =>
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          const throttle = yield* Throttle.make({ name: "search" })
          const backend = makeBackend(5)
          yield* offer(throttle, backend.call, 20_000)
          return backend.received.map((t) => t - start)
        }).pipe(Random.withSeed(seed))
      const first = yield* run("a")
      assert.deepStrictEqual(yield* run("a"), first)
      assert.notDeepEqual(yield* run("b"), first)
    }), 30_000)
})

describe("Throttle: what counts", () => {
  it.effect("while the backend accepts, nothing is rejected and no random number is drawn", () =>
    Effect.gen(function*() {
      const throttle = yield* Throttle.make({ name: "search" })
      for (let i = 0; i < 50; i++) yield* throttle.execute(Effect.succeed(i))
      for (let i = 0; i < 50; i++) yield* Effect.exit(throttle.execute(Effect.fail({ status: 404 }))) // answers
      assert.deepStrictEqual(yield* throttle.stats, { requests: 100, accepts: 100, probability: 0, rejected: 0 })
    }).pipe(Effect.provideService(Random.Random, noDraws)))

  it.effect("interruptions, defects and rejections by inner policies are not counted; isRejected decides refusals", () =>
    Effect.gen(function*() {
      const throttle = yield* Throttle.make({ name: "search", isRejected: (e) => e === "busy" })
      yield* Effect.exit(throttle.execute(Effect.die("bug")))
      yield* Effect.exit(throttle.execute(Effect.interrupt))
      const running = yield* Effect.forkChild(throttle.execute(Effect.never))
      yield* settle
      yield* Fiber.interrupt(running)
      const inner = yield* Bulkhead.make({ name: "inner", maxConcurrent: 1 })
      const hold = yield* Effect.forkChild(inner.execute(Effect.never))
      yield* settle
      yield* Effect.exit(throttle.execute(inner.execute(Effect.void)))
      yield* Fiber.interrupt(hold)
      assert.deepStrictEqual(yield* throttle.stats, { requests: 0, accepts: 0, probability: 0, rejected: 0 })
      yield* Effect.exit(throttle.execute(Effect.fail({ status: 503 }))) // not a refusal for this isRejected
      yield* Effect.exit(throttle.execute(Effect.fail("busy")))
      assert.deepStrictEqual(yield* throttle.stats, { requests: 2, accepts: 1, probability: 0, rejected: 0 })
    }))

  it.effect("a local rejection is a ThrottledError carrying the policy and the probability; it counts as a request", () =>
    Effect.gen(function*() {
      const throttle = yield* Throttle.make({ name: "search", k: 1 })
      yield* Effect.exit(throttle.execute(Effect.fail({ status: 503 })))
      // p = (1 − 0) / 2 = 0.5; a draw below it rejects
      const exit = yield* Effect.exit(throttle.execute(Effect.succeed(1))).pipe(
        Effect.provideService(Random.Random, { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 0.49 })
      )
      assert.deepStrictEqual(exit, Exit.fail(new Throttle.ThrottledError({ policy: "search", probability: 0.5 })))
      if (Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail") {
        assert.strictEqual(
          (exit.cause.reasons[0].error as Error).message,
          "request throttled locally by \"search\": the backend accepts too few requests (rejecting 50% now)"
        )
      }
      assert.deepStrictEqual(yield* throttle.stats, { requests: 2, accepts: 0, probability: 2 / 3, rejected: 1 })
      // a draw at or above p lets the request through
      const passed = yield* throttle.execute(Effect.succeed(2)).pipe(
        Effect.provideService(Random.Random, { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 2 / 3 })
      )
      assert.strictEqual(passed, 2)
      const lucky = { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 0.99 }
      assert.strictEqual(yield* Effect.succeed(3).pipe(Throttle.execute(throttle), Effect.provideService(Random.Random, lucky)), 3)
      assert.strictEqual(yield* Throttle.execute(Effect.succeed(4), throttle).pipe(Effect.provideService(Random.Random, lucky)), 4)
    }))

  it.effect("a circuit breaker outside the throttle does not count its rejections as failures", () =>
    Effect.gen(function*() {
      const throttle = yield* Throttle.make({ name: "search", k: 1 })
      const breaker = yield* CircuitBreaker.make({ name: "search", policy: CircuitBreaker.consecutive(2), resetTimeout: "1 minute" })
      yield* Effect.exit(breaker.execute(throttle.execute(Effect.fail({ status: 503 }))))
      const exit = yield* Effect.exit(breaker.execute(throttle.execute(Effect.void))).pipe(
        Effect.provideService(Random.Random, { nextIntUnsafe: () => 0, nextDoubleUnsafe: () => 0 })
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual((yield* breaker.state)._tag, "Closed")
    }))
})

describe("Throttle: options", () => {
  it.effect("every option out of range fails, naming the field, the range and the value", () =>
    Effect.gen(function*() {
      const messages = yield* Effect.forEach([
        { name: "" },
        { k: 0.5 },
        { k: Number.NaN },
        { window: 0 },
        { window: "forever" as never },
        { buckets: 0 },
        { isRejected: "yes" as never }
      ], (options: Throttle.ThrottleOptions) => Effect.map(Effect.flip(Throttle.make(options)), (e) => e.message))
      assert.deepStrictEqual(messages, [
        "Throttle.make: name must be a non-empty string, got \"\"",
        "Throttle.make: k must be a finite number >= 1, got 0.5",
        "Throttle.make: k must be a finite number >= 1, got NaN",
        "Throttle.make: window must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got 0",
        "Throttle.make: window must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got \"forever\"",
        "Throttle.make: buckets must be an integer >= 1, got 0",
        "Throttle.make: isRejected must be a function, got \"yes\""
      ])
      throwsInvalid(() => {
        throw Effect.runSync(Effect.flip(Throttle.make({ k: 0 })))
      }, "k must be a finite number >= 1")
    }))

  it.effect("guards and layer", () =>
    Effect.gen(function*() {
      const throttle = yield* Throttle.make()
      assert.strictEqual(throttle.name, "throttle")
      assert.strictEqual(throttle.k, 2)
      assert.isTrue(Throttle.isThrottle(throttle))
      assert.isFalse(Throttle.isThrottle({}))
      assert.isFalse(Throttle.isThrottledError(new Error("x")))
    }))
})

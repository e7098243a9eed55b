import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { AdaptiveLimit, Bulkhead, CircuitBreaker, Events } from "../src/index.ts"
import * as internal from "../src/internal/adaptiveLimit.ts"
import * as Aimd from "../src/internal/adaptiveLimitAimd.ts"
import * as Gradient2 from "../src/internal/adaptiveLimitGradient2.ts"
import * as Window from "../src/internal/adaptiveLimitWindow.ts"
import * as defaults from "../src/internal/defaults.ts"
import { baseMillis, limitOverTime, summaryTable, table } from "../scenarios/adaptiveLimit.ts"
import { settle, throwsInvalid } from "./helpers.ts"

const sample = (rttMillis: number, inFlight: number, dropped = false, atMillis = 0) => ({
  rttMillis,
  inFlight,
  dropped,
  atMillis
})

const configOf = <T extends AdaptiveLimit.Algorithm["_tag"]>(algorithm: AdaptiveLimit.Algorithm, tag: T) => {
  assert.strictEqual(algorithm._tag, tag)
  return algorithm.config as Extract<AdaptiveLimit.Algorithm, { _tag: T }>["config"]
}

describe("AdaptiveLimit: defaults", () => {
  // Netflix concurrency-limits' AIMDLimit, Gradient2Limit and WindowedLimit builders.
  it("are Netflix concurrency-limits' defaults", () => {
    assert.deepStrictEqual(defaults.adaptiveLimit, {
      name: "adaptive-limit",
      aimd: { initialLimit: 20, minLimit: 20, maxLimit: 200, backoffRatio: 0.9, timeoutMillis: 5_000, windowMillis: 0 },
      gradient2: {
        initialLimit: 20,
        minLimit: 20,
        maxLimit: 200,
        smoothing: 0.2,
        rttTolerance: 1.5,
        longWindow: 600,
        longWindowWarmup: 10,
        queueSize: 4,
        windowMillis: 1_000
      },
      window: { minSamples: 10, minRttMillis: 0.1 }
    })
    assert.deepStrictEqual(AdaptiveLimit.aimd(), {
      _tag: "Aimd",
      config: { initialLimit: 20, minLimit: 20, maxLimit: 200, backoffRatio: 0.9, timeoutMillis: 5_000 },
      window: { millis: 0, minSamples: 10, minRttMillis: 0.1 }
    })
    assert.deepStrictEqual(AdaptiveLimit.gradient2(), {
      _tag: "Gradient2",
      config: {
        initialLimit: 20,
        minLimit: 20,
        maxLimit: 200,
        smoothing: 0.2,
        rttTolerance: 1.5,
        longWindow: 600,
        warmup: 10,
        queueSize: 4
      },
      window: { millis: 1_000, minSamples: 10, minRttMillis: 0.1 }
    })
  })

  it.effect("the default algorithm is gradient2()", () =>
    Effect.gen(function*() {
      const limiter = yield* AdaptiveLimit.make({ name: "db" })
      assert.deepStrictEqual(limiter.algorithm, AdaptiveLimit.gradient2())
      assert.deepStrictEqual(yield* limiter.stats, { limit: 20, inFlight: 0, rejected: 0 })
    }))
})

describe("AdaptiveLimit: AIMD machine", () => {
  const config = configOf(AdaptiveLimit.aimd({ initialLimit: 10, minLimit: 2, maxLimit: 12 }), "Aimd")
  const run = (limit: number, s: ReturnType<typeof sample>) => Aimd.update(config, { limit }, s).limit

  it("grows by 1 when at least half the limit was in flight, else stays", () => {
    assert.strictEqual(run(10, sample(5, 5)), 11)
    assert.strictEqual(run(10, sample(5, 10)), 11)
    assert.strictEqual(run(10, sample(5, 4)), 10)
    assert.strictEqual(run(12, sample(5, 12)), 12) // maxLimit
  })

  it("multiplies the limit by backoffRatio on a drop or a call slower than timeout, down to minLimit", () => {
    assert.strictEqual(run(10, sample(5, 10, true)), 9)
    assert.strictEqual(run(10, sample(5_001, 10)), 9)
    assert.strictEqual(run(10, sample(5_000, 10)), 11) // exactly the timeout is not slower
    assert.strictEqual(run(2, sample(5, 1, true)), 2)
    const trace: Array<number> = []
    let state = Aimd.initial(config)
    for (let i = 0; i < 5; i++) {
      state = Aimd.update(config, state, sample(1, 10, true))
      trace.push(state.limit)
    }
    assert.deepStrictEqual(trace, [9, 8, 7, 6, 5])
  })
})

describe("AdaptiveLimit: Gradient2 machine", () => {
  const config = configOf(AdaptiveLimit.gradient2({ initialLimit: 20, minLimit: 5, maxLimit: 30 }), "Gradient2")
  /** Ten samples of `rtt` while idle: the long-term latency is `rtt`, the limit still 20. */
  const warm = (rtt: number) => {
    let state = Gradient2.initial(config)
    for (let i = 0; i < 10; i++) state = Gradient2.update(config, state, sample(rtt, 0))
    assert.strictEqual(state.estimate, 20)
    return state
  }

  it("the long-term latency is the mean of the first 10 samples, then an exponential average over longWindow", () => {
    let state = Gradient2.initial(config)
    for (const rtt of [10, 20, 30]) state = Gradient2.update(config, state, sample(rtt, 0))
    assert.strictEqual(state.longRtt, 20)
    state = warm(10)
    assert.strictEqual(state.longRtt, 10)
    state = Gradient2.update(config, state, sample(16, 0))
    assert.closeTo(state.longRtt, 10 + 6 * 2 / 601, 1e-9)
  })

  it("with latency at its long-term level and the limiter busy, the limit grows by queueSize · smoothing", () => {
    const state = Gradient2.update(config, warm(10), sample(10, 20))
    // 20 · 0.8 + (20 · 1 + 4) · 0.2
    assert.closeTo(state.estimate, 20.8, 1e-9)
    assert.strictEqual(Gradient2.limit(state), 20)
  })

  it("latency within rttTolerance does not lower it; above, the limit falls, by at most half per sample before smoothing", () => {
    const base = warm(10)
    const f = 2 / 601
    const at = (rtt: number) => Gradient2.update(config, base, sample(rtt, 20)).estimate
    // The sample enters the long-term average first.
    const gradient = (rtt: number) => Math.max(0.5, Math.min(1, 1.5 * (10 * (1 - f) + rtt * f) / rtt))
    assert.strictEqual(gradient(15), 1)
    assert.closeTo(at(15), 20.8, 1e-9)
    assert.closeTo(gradient(20), 0.75, 0.01)
    assert.closeTo(at(20), 20 * 0.8 + (20 * gradient(20) + 4) * 0.2, 1e-9)
    assert.strictEqual(gradient(100), 0.5)
    // 20 · 0.8 + (10 + 4) · 0.2
    assert.closeTo(at(100), 18.8, 1e-9)
  })

  it("a limiter used below half of its limit keeps it", () => {
    const state = Gradient2.update(config, warm(10), sample(100, 9))
    assert.strictEqual(state.estimate, 20)
  })

  it("stays within [minLimit, maxLimit]", () => {
    let state = warm(10)
    for (let i = 0; i < 100; i++) state = Gradient2.update(config, state, sample(10, 30))
    assert.strictEqual(state.estimate, 30)
    // Latency far above the long-term level (which follows it only slowly) brings it down to minLimit
    // (with a queueSize of 4 it would settle where 0.9 · limit + 0.8 = limit, at 8).
    const noQueue = configOf(AdaptiveLimit.gradient2({ initialLimit: 20, minLimit: 5, maxLimit: 30, queueSize: 0 }), "Gradient2")
    for (let i = 0; i < 100; i++) state = Gradient2.update(noQueue, state, sample(1000, 30))
    assert.strictEqual(state.estimate, 5)
  })

  it("after a long overload, a long-term latency above twice the latest decays by 5% per sample", () => {
    let state = Gradient2.initial(config)
    for (let i = 0; i < 10; i++) state = Gradient2.update(config, state, sample(100, 0))
    const next = Gradient2.update(config, state, sample(10, 0))
    const averaged = 100 * (1 - 2 / 601) + 10 * 2 / 601
    assert.closeTo(next.longRtt, averaged * 0.95, 1e-9)
  })

  it("a zero latency (below the clock's resolution) reads as no queuing", () => {
    const state = Gradient2.update(config, warm(10), sample(0, 20))
    assert.closeTo(state.estimate, 20.8, 1e-9)
  })
})

describe("AdaptiveLimit: sample windows", () => {
  const config = { millis: 100, minSamples: 2, minRttMillis: 0.1 }
  const seen: Array<ReturnType<typeof sample>> = []
  const record = (inner: number, s: ReturnType<typeof sample>) => {
    seen.push(s)
    return inner + 1
  }

  it("feeds the algorithm one sample per window: mean latency, most in flight, any drop; thin windows are dropped", () => {
    seen.length = 0
    let state = Window.initial(0)
    // The first call opens the first window (Netflix: a window of one call, discarded).
    state = Window.update(config, record, state, sample(5, 1, false, 0))
    assert.strictEqual(state.inner, 0)
    for (const [rtt, inFlight, dropped, at] of [[10, 3, false, 50], [20, 7, true, 90], [30, 2, false, 100]] as const) {
      state = Window.update(config, record, state, sample(rtt, inFlight, dropped, at))
    }
    assert.strictEqual(state.inner, 0) // not yet past 100
    state = Window.update(config, record, state, sample(40, 1, false, 101))
    assert.strictEqual(state.inner, 1)
    assert.deepStrictEqual(seen, [sample(25, 7, true, 101)])
    // Two calls in the next window: not more than minSamples, discarded.
    state = Window.update(config, record, state, sample(10, 1, false, 150))
    state = Window.update(config, record, state, sample(10, 1, false, 202))
    assert.strictEqual(state.inner, 1)
    // Calls faster than minRttMillis are ignored.
    assert.strictEqual(Window.update(config, record, state, sample(0.05, 1, false, 400)), state)
  })
})

describe("AdaptiveLimit: options", () => {
  it("every option out of range fails, naming the field, the range and the value", () => {
    throwsInvalid(() => AdaptiveLimit.aimd({ minLimit: 0 }), "AdaptiveLimit.aimd: minLimit must be an integer >= 1, got 0")
    throwsInvalid(() => AdaptiveLimit.aimd({ maxLimit: 1.5 }), "AdaptiveLimit.aimd: maxLimit must be an integer >= 1, got 1.5")
    throwsInvalid(
      () => AdaptiveLimit.aimd({ minLimit: 10, maxLimit: 5 }),
      "AdaptiveLimit.aimd: maxLimit must be an integer >= minLimit = 10, got 5"
    )
    throwsInvalid(
      () => AdaptiveLimit.aimd({ minLimit: 10, maxLimit: 50, initialLimit: 60 }),
      "AdaptiveLimit.aimd: initialLimit must be an integer in [minLimit = 10, maxLimit = 50], got 60"
    )
    throwsInvalid(() => AdaptiveLimit.aimd({ backoffRatio: 1 }), "AdaptiveLimit.aimd: backoffRatio must be a number in [0.5, 1), got 1")
    throwsInvalid(() => AdaptiveLimit.aimd({ backoffRatio: Number.NaN }), "backoffRatio must be a number in [0.5, 1), got NaN")
    throwsInvalid(() => AdaptiveLimit.aimd({ timeout: 0 }), "AdaptiveLimit.aimd: timeout must be a finite duration > 0")
    throwsInvalid(() => AdaptiveLimit.aimd({ window: -1 }), "AdaptiveLimit.aimd: window must be a finite duration >= 0")
    throwsInvalid(() => AdaptiveLimit.aimd({ windowMinSamples: -1 }), "windowMinSamples must be an integer >= 0, got -1")
    throwsInvalid(() => AdaptiveLimit.gradient2({ smoothing: 0 }), "AdaptiveLimit.gradient2: smoothing must be a number in (0, 1], got 0")
    throwsInvalid(() => AdaptiveLimit.gradient2({ rttTolerance: 0.9 }), "rttTolerance must be a finite number >= 1, got 0.9")
    throwsInvalid(() => AdaptiveLimit.gradient2({ longWindow: 0 }), "longWindow must be an integer >= 1, got 0")
    throwsInvalid(() => AdaptiveLimit.gradient2({ queueSize: -1 }), "queueSize must be a finite number >= 0, got -1")
    throwsInvalid(() => AdaptiveLimit.gradient2({ queueSize: Infinity }), "queueSize must be a finite number >= 0, got Infinity")
  })

  it("without an initialLimit, the limit starts at the default clamped into the bounds given", () => {
    assert.strictEqual(configOf(AdaptiveLimit.gradient2({ minLimit: 50 }), "Gradient2").initialLimit, 50)
    assert.strictEqual(configOf(AdaptiveLimit.aimd({ minLimit: 1, maxLimit: 8 }), "Aimd").initialLimit, 8)
  })

  it.effect("make fails with InvalidConfigError on a bad name, algorithm or isDropped", () =>
    Effect.gen(function*() {
      const messages = yield* Effect.forEach([
        { name: "" },
        { name: "db", algorithm: { _tag: "Fixed" } as unknown as AdaptiveLimit.Algorithm },
        { name: "db", isDropped: 3 as unknown as () => boolean }
      ], (options) => Effect.map(Effect.flip(AdaptiveLimit.make(options)), (e) => e.message))
      assert.deepStrictEqual(messages, [
        "AdaptiveLimit.make: name must be a non-empty string, got \"\"",
        "AdaptiveLimit.make: algorithm must be AdaptiveLimit.aimd(...) or AdaptiveLimit.gradient2(...), got { _tag: \"Fixed\" }",
        "AdaptiveLimit.make: isDropped must be a function, got 3"
      ])
    }))
})

/** A limiter whose limit stays at `limit` (AIMD with min = max). */
const fixed = (limit: number) =>
  AdaptiveLimit.make({ name: "db", algorithm: AdaptiveLimit.aimd({ initialLimit: limit, minLimit: limit, maxLimit: limit }) })

describe("AdaptiveLimit: admission", () => {
  it.effect("calls beyond the limit fail at once with AdaptiveLimitRejectedError and a LimitRejected event", () =>
    Effect.gen(function*() {
      const limiter = yield* fixed(2)
      const running = yield* Effect.forEach([1, 2], () => Effect.forkChild(limiter.execute(Effect.never)))
      yield* settle
      const [exit, events] = yield* Events.collect(Effect.exit(limiter.execute(Effect.succeed(1))))
      assert.deepStrictEqual(exit, Exit.fail(new AdaptiveLimit.AdaptiveLimitRejectedError({ policy: "db", limit: 2, inFlight: 2 })))
      assert.deepStrictEqual(events.map((e) => e._tag === "LimitRejected" ? [e.name, e.limit, e.inFlight] : e._tag), [
        ["db", 2, 2]
      ])
      if (Exit.isFailure(exit)) {
        const error = exit.cause.reasons[0]
        assert.deepStrictEqual([error?._tag, error?._tag === "Fail" && AdaptiveLimit.isAdaptiveLimitRejectedError(error.error)], ["Fail", true])
        if (error?._tag === "Fail") {
          assert.strictEqual(
            (error.error as Error).message,
            "adaptive limit \"db\" reached (2 in flight, limit 2), call rejected"
          )
        }
      }
      assert.deepStrictEqual(yield* limiter.stats, { limit: 2, inFlight: 2, rejected: 1 })
      yield* Fiber.interruptAll(running)
      assert.deepStrictEqual(yield* limiter.stats, { limit: 2, inFlight: 0, rejected: 1 })
      assert.strictEqual(yield* AdaptiveLimit.execute(Effect.succeed(7), limiter), 7)
      assert.strictEqual(yield* Effect.succeed(8).pipe(AdaptiveLimit.execute(limiter)), 8)
    }))

  it.effect("no in-flight slot is kept after success, failure, defect or interruption (running or not yet started)", () =>
    Effect.gen(function*() {
      const limiter = yield* fixed(3)
      yield* limiter.execute(Effect.void)
      yield* Effect.exit(limiter.execute(Effect.fail("boom")))
      yield* Effect.exit(limiter.execute(Effect.die("bug")))
      yield* Effect.exit(limiter.execute(Effect.interrupt))
      assert.deepStrictEqual(yield* limiter.stats, { limit: 3, inFlight: 0, rejected: 0 })
      // interrupted while running
      const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(limiter.execute(Effect.sleep("1 minute"))))
      yield* settle
      assert.strictEqual((yield* limiter.stats).inFlight, 3)
      yield* Fiber.interrupt(fibers[0]!)
      assert.strictEqual((yield* limiter.stats).inFlight, 2)
      yield* Fiber.interruptAll(fibers)
      // interrupted before its first step
      const early = yield* Effect.forkChild(limiter.execute(Effect.never), { startImmediately: false })
      yield* Fiber.interrupt(early)
      assert.deepStrictEqual(yield* limiter.stats, { limit: 3, inFlight: 0, rejected: 0 })
      // all three slots are usable again
      const again = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(limiter.execute(Effect.sleep("1 second"))))
      yield* settle
      assert.strictEqual((yield* limiter.stats).inFlight, 3)
      yield* TestClock.adjust("1 second")
      yield* Fiber.joinAll(again)
      assert.strictEqual((yield* limiter.stats).inFlight, 0)
    }))

  it.effect("one guarded effect run by overlapping fibers measures each call from its own admission", () =>
    Effect.gen(function*() {
      const limiter = yield* AdaptiveLimit.make({
        name: "db",
        algorithm: AdaptiveLimit.aimd({ initialLimit: 10, minLimit: 1, maxLimit: 10, timeout: 120 })
      })
      const latencies = [150, 10]
      const guarded = limiter.execute(Effect.suspend(() => Effect.sleep(latencies.shift()!)))
      const [, events] = yield* Events.collect(Effect.gen(function*() {
        const slow = yield* Effect.forkChild(guarded) // admitted at 0, ends at 150: slower than the timeout
        yield* TestClock.adjust(100)
        const fast = yield* Effect.forkChild(guarded) // admitted at 100, ends at 110
        yield* TestClock.adjust(50)
        yield* Fiber.joinAll([slow, fast])
      }))
      // one drop (the slow call, 150 ms), and only one: the fast call took 10 ms
      assert.deepStrictEqual(events.flatMap((e) => e._tag === "LimitChanged" ? [[e.from, e.to]] : []), [[10, 9]])
      assert.deepStrictEqual(yield* limiter.stats, { limit: 9, inFlight: 0, rejected: 0 })
    }))

  it.effect("a call rejected after the limit fell gives back no slot, though admitted calls ran that way before", () =>
    Effect.gen(function*() {
      const limiter = yield* AdaptiveLimit.make({
        name: "db",
        algorithm: AdaptiveLimit.aimd({ initialLimit: 3, minLimit: 1, maxLimit: 3 }),
        isDropped: (e) => e === "overloaded"
      })
      const three = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(limiter.execute(Effect.sleep(10))))
      yield* settle
      yield* TestClock.adjust(10)
      yield* Fiber.joinAll(three)
      yield* Effect.exit(limiter.execute(Effect.fail("overloaded"))) // 3 · 0.9: the limit falls to 2
      const two = yield* Effect.forEach([1, 2], () => Effect.forkChild(limiter.execute(Effect.never)))
      yield* settle
      yield* Effect.exit(limiter.execute(Effect.void))
      assert.deepStrictEqual(yield* limiter.stats, { limit: 2, inFlight: 2, rejected: 1 })
      yield* Fiber.interruptAll(two)
      assert.deepStrictEqual(yield* limiter.stats, { limit: 2, inFlight: 0, rejected: 1 })
    }))

  it.effect("a throwing isDropped keeps no slot: the call fails with the defect and its slot is released", () =>
    Effect.gen(function*() {
      const limiter = yield* AdaptiveLimit.make({
        name: "db",
        algorithm: AdaptiveLimit.aimd({ initialLimit: 1, minLimit: 1, maxLimit: 1 }),
        isDropped: () => {
          throw new Error("bad predicate")
        }
      })
      const exit = yield* Effect.exit(limiter.execute(Effect.fail("boom")))
      assert.strictEqual(Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Die"), true)
      assert.deepStrictEqual(yield* limiter.stats, { limit: 1, inFlight: 0, rejected: 0 })
      assert.strictEqual(yield* limiter.execute(Effect.succeed(1)), 1)
    }))

  it.effect("every change of the limit emits LimitChanged { from, to }", () =>
    Effect.gen(function*() {
      const limiter = yield* AdaptiveLimit.make({
        name: "db",
        algorithm: AdaptiveLimit.aimd({ initialLimit: 4, minLimit: 1, maxLimit: 5 })
      })
      const [, events] = yield* Events.collect(Effect.gen(function*() {
        const busy = yield* Effect.forEach([1, 2], () => Effect.forkChild(limiter.execute(Effect.sleep(10))))
        yield* settle
        yield* TestClock.adjust(10) // 2 of 4 in flight: +1, then at max
        yield* Fiber.joinAll(busy)
        yield* Effect.exit(limiter.execute(Effect.fail({ status: 503 }))) // a drop: 5 · 0.9 = 4
        yield* Effect.exit(limiter.execute(Effect.fail({ status: 404 }))) // answered; 1 of 4 in flight: stays
        yield* Effect.exit(limiter.execute(Effect.die("bug"))) // no sample
      }))
      assert.deepStrictEqual(events.map((e) => e._tag === "LimitChanged" ? [e.name, e.from, e.to] : e._tag), [
        ["db", 4, 5],
        ["db", 5, 4]
      ])
      assert.strictEqual((yield* limiter.stats).limit, 4)
    }))

  it.effect("rejections by policies inside the limiter are no samples; isDropped decides what a drop is", () =>
    Effect.gen(function*() {
      const limiter = yield* AdaptiveLimit.make({
        name: "db",
        algorithm: AdaptiveLimit.aimd({ initialLimit: 4, minLimit: 1 }),
        isDropped: (e) => e === "overloaded"
      })
      const inner = yield* Bulkhead.make({ name: "inner", maxConcurrent: 1 })
      const hold = yield* Effect.forkChild(inner.execute(Effect.never))
      yield* settle
      yield* Effect.exit(limiter.execute(inner.execute(Effect.void)))
      assert.strictEqual((yield* limiter.stats).limit, 4)
      yield* Fiber.interrupt(hold)
      yield* Effect.exit(limiter.execute(Effect.fail({ status: 503 }))) // not a drop for this isDropped, 1 of 4 in flight
      assert.strictEqual((yield* limiter.stats).limit, 4)
      yield* Effect.exit(limiter.execute(Effect.fail("overloaded")))
      assert.strictEqual((yield* limiter.stats).limit, 3)
    }))

  it.effect("a circuit breaker outside the limiter does not count its rejections as failures", () =>
    Effect.gen(function*() {
      const limiter = yield* fixed(1)
      const breaker = yield* CircuitBreaker.make({ name: "db", policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" })
      const hold = yield* Effect.forkChild(limiter.execute(Effect.never))
      yield* settle
      const exit = yield* Effect.exit(breaker.execute(limiter.execute(Effect.void)))
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual((yield* breaker.state)._tag, "Closed")
      yield* Fiber.interrupt(hold)
    }))
})

describe("AdaptiveLimit: latency clock", () => {
  it("on Effect's default Clock, reads the timer that Clock reads; any other Clock through its service", () => {
    const clock = Effect.runSync(Clock.clockWith(Effect.succeed))
    assert.strictEqual(internal.defaultClock, clock)
    assert.strictEqual(internal.readsTimerDirectly, true)
    const before = Number(clock.monotonicTimeNanosUnsafe()) / 1e6
    const read = internal.nowMillis(clock)
    const after = Number(clock.monotonicTimeNanosUnsafe()) / 1e6
    // another timer (performance.now, Date.now) would fall outside: its origin differs
    assert.isAtLeast(read, before)
    assert.isAtMost(read, after)
    const other: Clock.Clock = { ...clock, monotonicTimeNanosUnsafe: () => 5_000_000n }
    assert.strictEqual(internal.nowMillis(other), 5)
  })
})

describe("AdaptiveLimit: simulation", () => {
  it.effect(
    "the limit follows a dependency whose capacity halves then recovers; admitted calls keep near-base latency, excess calls fail fast",
    () =>
      Effect.gen(function*() {
        const result = yield* limitOverTime()
        console.log(`AdaptiveLimit simulation, gradient2 (rttTolerance 1):\n${table(result.rows)}\n\n${summaryTable(result.summaries)}`)
        const [normal, halved, recovered] = result.summaries
        // the limit falls with the capacity, then recovers
        assert.isAtLeast(normal!.endLimit, 40)
        assert.isAtMost(halved!.endLimit, 30)
        assert.isAtMost(halved!.endLimit, normal!.endLimit - 15)
        assert.isAtLeast(recovered!.endLimit, 40)
        for (const phase of result.summaries) {
          // admitted calls keep near-base latency (a fixed limit of 40 waits 2× base once capacity halves)
          assert.isAtMost(phase.p50, 1.5 * baseMillis, phase.phase)
          // excess calls fail fast: no rejection took any time
          assert.isAbove(phase.rejected, 0, phase.phase)
          assert.strictEqual(phase.maxRejectMillis, 0, phase.phase)
        }
        assert.strictEqual(result.final.inFlight, 0)
        return result.rows
      }),
    30_000
  )
})

describe("AdaptiveLimit: guards and layer", () => {
  it.effect("isAdaptiveLimiter, layer", () =>
    Effect.gen(function*() {
      const limiter = yield* fixed(1)
      assert.isTrue(AdaptiveLimit.isAdaptiveLimiter(limiter))
      assert.isFalse(AdaptiveLimit.isAdaptiveLimiter({}))
      assert.isFalse(AdaptiveLimit.isAdaptiveLimitRejectedError(new Error("x")))
      assert.strictEqual(internal.stats({ algorithm: undefined, limit: 1, inFlight: 0, rejected: 0 }).limit, 1)
    }))
})

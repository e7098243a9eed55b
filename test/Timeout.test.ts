import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Metric, Ref } from "effect"
import { TestClock } from "effect/testing"
import * as defaults from "../src/internal/defaults.ts"
import { Errors, Events, Telemetry, Timeout } from "../src/index.ts"
import { loopbackServer, throwsInvalid } from "./helpers.ts"

describe("Timeout", () => {
  it.effect("returns the value when the effect finishes in time", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.sleep(900).pipe(Effect.as("done"), Timeout.timeout("1 second"), Effect.forkChild)
      yield* TestClock.adjust(900)
      assert.strictEqual(yield* Fiber.join(fiber), "done")
    }))

  it.effect("passes the effect's own typed error through", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.fail("nope" as const).pipe(Timeout.timeout(100)))
      assert.strictEqual(error, "nope")
    }))

  it.effect("fails with TimeoutError { policy, duration } and interrupts the work, finalizers first", () =>
    Effect.gen(function*() {
      const log = yield* Ref.make<Array<string>>([])
      const work = Effect.sleep("10 seconds").pipe(
        Effect.onInterrupt(() => Ref.update(log, (l) => [...l, "work interrupted"])),
        Effect.ensuring(Ref.update(log, (l) => [...l, "finalizer ran"]))
      )
      const fiber = yield* work.pipe(
        Timeout.timeout({ duration: "2 seconds", name: "orders-db" }),
        Effect.tapError(() => Ref.update(log, (l) => [...l, "caller saw timeout"])),
        Effect.flip,
        Events.collect,
        Effect.forkChild
      )
      yield* TestClock.adjust("1999 millis")
      assert.deepStrictEqual(yield* Ref.get(log), [])
      yield* TestClock.adjust("1 millis")
      const [error, events] = yield* Fiber.join(fiber)
      assert.isTrue(Timeout.isTimeoutError(error))
      const timeoutError = error as Timeout.TimeoutError
      assert.strictEqual(timeoutError._tag, "TimeoutError")
      assert.strictEqual(timeoutError.policy, "orders-db")
      assert.strictEqual(Duration.toMillis(timeoutError.duration), 2000)
      assert.strictEqual(timeoutError.message, '"orders-db" timed out after 2s')
      assert.deepStrictEqual(yield* Ref.get(log), ["work interrupted", "finalizer ran", "caller saw timeout"])
      assert.deepStrictEqual(events.map((e) => [e._tag, e.name, e.timestamp]), [["TimeoutFired", "orders-db", 2000]])
    }))

  it.effect("catchTag('TimeoutError') recovers", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.never.pipe(
        Timeout.timeout(50),
        Effect.catchTag("TimeoutError", (e) => Effect.succeed(`fallback after ${Duration.toMillis(e.duration)} ms`)),
        Effect.forkChild
      )
      yield* TestClock.adjust(50)
      assert.strictEqual(yield* Fiber.join(fiber), "fallback after 50 ms")
    }))

  it.effect("an infinite duration leaves the effect unbounded", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.sleep("1 hour").pipe(Effect.as(1), Timeout.timeout("Infinity"), Effect.forkChild)
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* Fiber.join(fiber), 1)
    }))

  it.effect("interrupting the caller interrupts the work", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      const fiber = yield* Effect.never.pipe(
        Effect.onInterrupt(() => Ref.set(interrupted, true)),
        Timeout.timeout("1 minute"),
        Effect.forkChild({ startImmediately: true })
      )
      yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
      assert.isTrue(yield* Ref.get(interrupted))
    }))

  it("rejects non-positive or unparsable durations and empty names", () => {
    const cases: Array<[Timeout.TimeoutOptions, string]> = [
      [0, "Timeout.timeout: duration must be a duration > 0 or \"Infinity\", got 0"],
      [-5, "got -5"],
      ["soon" as Duration.Input, `got "soon"`],
      [{ duration: "1 second", name: "" }, "Timeout.timeout: name must be a non-empty string"]
    ]
    for (const [options, fragment] of cases) {
      try {
        Timeout.timeout(options) // validated when the options are given
        assert.fail("expected InvalidConfigError")
      } catch (error) {
        assert.isTrue(Errors.isInvalidConfigError(error))
        assert.include((error as Error).message, fragment)
      }
    }
  })

  describe("grace: work that will not stop", () => {
    it.effect("an uninterruptible region is left to finish after the grace, and reported Abandoned", () =>
      Effect.gen(function*() {
        const done = yield* Ref.make(false)
        const events: Array<Events.ResilienceEvent> = []
        const fiber = yield* Effect.uninterruptible(Effect.andThen(Effect.sleep("10 seconds"), Ref.set(done, true))).pipe(
          Timeout.timeout({ duration: "1 second", name: "ledger", grace: "500 millis" }),
          Effect.flip,
          Events.withListener((e) => Effect.sync(() => void events.push(e))),
          Effect.forkChild
        )
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual(events.map((e) => [e._tag, e.timestamp]), [["TimeoutFired", 1000]])
        assert.isUndefined(fiber.pollUnsafe())
        yield* TestClock.adjust("500 millis")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "TimeoutError")
        assert.deepStrictEqual(
          events.map((e) => e._tag === "Abandoned" ? [e._tag, e.reason, e.name, e.timestamp] : [e._tag, e.timestamp]),
          [["TimeoutFired", 1000], ["Abandoned", "uninterruptible", "ledger", 1500]]
        )
        // it runs on, and stops at the end of its region
        assert.isFalse(yield* Ref.get(done))
        yield* TestClock.adjust("10 seconds")
        assert.isTrue(yield* Ref.get(done))
      }))

    it.effect("interruptible work still stops first: finalizers run before the caller sees the error, nothing abandoned", () =>
      Effect.gen(function*() {
        const log = yield* Ref.make<Array<string>>([])
        const fiber = yield* Effect.sleep("10 seconds").pipe(
          Effect.ensuring(Ref.update(log, (l) => [...l, "finalizer ran"])),
          Timeout.timeout({ duration: "1 second", grace: "500 millis" }),
          Effect.tapError(() => Ref.update(log, (l) => [...l, "caller saw timeout"])),
          Effect.flip,
          Events.collect,
          Effect.forkChild
        )
        yield* TestClock.adjust("1 second")
        const [error, events] = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "TimeoutError")
        assert.deepStrictEqual(yield* Ref.get(log), ["finalizer ran", "caller saw timeout"])
        assert.deepStrictEqual(events.map((e) => e._tag), ["TimeoutFired"])
      }))

    it.effect("in time, the value or the effect's own error passes through; the caller's interruption stops the work", () =>
      Effect.gen(function*() {
        const bound = Timeout.timeout({ duration: "1 second", grace: "100 millis" })
        assert.strictEqual(yield* bound(Effect.succeed(1)), 1)
        assert.strictEqual(yield* Effect.flip(bound(Effect.fail("nope" as const))), "nope")
        const interrupted = yield* Ref.make(false)
        const started = yield* Deferred.make<void>()
        const work = Effect.andThen(Deferred.succeed(started, undefined), Effect.never)
        const fiber = yield* bound(work.pipe(Effect.onInterrupt(() => Ref.set(interrupted, true)))).pipe(Effect.forkChild)
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        assert.isTrue(yield* Ref.get(interrupted))
        throwsInvalid(() => Timeout.timeout({ duration: "1 second", grace: -1 }), "Timeout.timeout: grace must be")
      }))
  })

  describe("promise", () => {
    const tags = (events: ReadonlyArray<Events.ResilienceEvent>) => events.map((e) => e._tag)

    it.effect("aborts the signal at the deadline and fails with TimeoutError at once", () =>
      Effect.gen(function*() {
        let seen: AbortSignal | undefined
        const fiber = yield* Timeout.promise((signal) => {
          seen = signal
          return new Promise<string>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
        }, { duration: "2 seconds", name: "api" }).pipe(Effect.flip, Events.collect, Effect.forkChild)
        yield* TestClock.adjust("1999 millis")
        assert.strictEqual(seen?.aborted, false)
        yield* TestClock.adjust("1 millis")
        const [error, events] = yield* Fiber.join(fiber)
        assert.strictEqual(seen?.aborted, true)
        assert.strictEqual(error._tag, "TimeoutError")
        assert.strictEqual((error as Timeout.TimeoutError).policy, "api")
        yield* TestClock.adjust("10 seconds")
        yield* Effect.yieldNow
        // the work stopped: nothing is reported abandoned
        assert.deepStrictEqual(tags(events), ["TimeoutFired"])
      }))

    it.effect("reports work that ignores its signal as Abandoned once the grace has passed", () =>
      Effect.gen(function*() {
        const events: Array<Events.ResilienceEvent> = []
        const fiber = yield* Timeout.promise((_signal) => new Promise<never>(() => {}), {
          duration: "1 second",
          name: "legacy-driver",
          grace: "500 millis"
        }).pipe(Effect.flip, Events.withListener((e) => Effect.sync(() => void events.push(e))), Effect.forkChild)
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* Fiber.join(fiber))._tag, "TimeoutError")
        assert.deepStrictEqual(tags(events), ["TimeoutFired"])
        yield* TestClock.adjust("499 millis")
        assert.deepStrictEqual(tags(events), ["TimeoutFired"])
        yield* TestClock.adjust("1 millis")
        yield* Effect.yieldNow
        assert.deepStrictEqual(tags(events), ["TimeoutFired", "Abandoned"])
        const abandoned = events[1] as Extract<Events.ResilienceEvent, { _tag: "Abandoned" }>
        assert.deepStrictEqual(
          [abandoned.name, abandoned.reason, Duration.toMillis(abandoned.duration), Duration.toMillis(abandoned.grace), abandoned.timestamp],
          ["legacy-driver", "signal-ignored", 1000, 500, 1500]
        )
      }))

    it.effect("reports a Promise that takes no signal as Abandoned at the deadline", () =>
      Effect.gen(function*() {
        const fiber = yield* Timeout.promise(() => new Promise<never>(() => {}), { duration: "1 second" }).pipe(
          Effect.flip,
          Events.collect,
          Effect.forkChild
        )
        yield* TestClock.adjust("1 second")
        const [, events] = yield* Fiber.join(fiber)
        assert.deepStrictEqual(events.map((e) => e._tag === "Abandoned" ? [e._tag, e.reason, e.timestamp] : [e._tag]), [
          ["TimeoutFired"],
          ["Abandoned", "no-signal", 1000]
        ])
      }))

    it.effect("aborts the signal when the caller is interrupted", () =>
      Effect.gen(function*() {
        let seen: AbortSignal | undefined
        const fiber = yield* Timeout.promise((signal) => {
          seen = signal
          return new Promise<never>(() => {})
        }, { duration: "1 minute" }).pipe(Effect.forkChild)
        yield* Effect.yieldNow
        yield* Fiber.interrupt(fiber)
        assert.strictEqual(seen?.aborted, true)
      }))

    it.effect("a rejection is a typed failure: UnknownError, or what catch makes of it", () =>
      Effect.gen(function*() {
        const unknown = yield* Effect.flip(Timeout.promise(() => Promise.reject(new Error("refused")), { duration: "1 second" }))
        assert.strictEqual(unknown._tag, "UnknownError")
        const mapped = yield* Effect.flip(Timeout.promise((_signal) => Promise.reject(new Error("refused")), {
          duration: "1 second",
          catch: (error) => ({ _tag: "DriverError" as const, message: (error as Error).message })
        }))
        assert.deepStrictEqual(mapped, { _tag: "DriverError", message: "refused" })
        assert.strictEqual(yield* Timeout.promise(() => Promise.resolve(42), { duration: "1 second" }), 42)
      }))

    it.effect("Telemetry counts abandoned work by policy and reason", () =>
      Effect.gen(function*() {
        const fiber = yield* Timeout.promise(() => new Promise<never>(() => {}), { duration: "1 second", name: "legacy" }).pipe(
          Effect.flip,
          Effect.forkChild
        )
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(fiber)
        const state = yield* Metric.value(
          Metric.withAttributes(Telemetry.metrics.abandoned, { policy: "legacy", reason: "no-signal" })
        )
        assert.strictEqual(state.count, 1)
      }).pipe(Effect.provide(Layer.mergeAll(
        Telemetry.layer({ sampleInterval: "off", logs: false }),
        Layer.sync(Metric.MetricRegistry, () => new Map())
      ))))

    it("rejects bad options", () => {
      throwsInvalid(() => Timeout.promise(() => Promise.resolve(1), { duration: 0 }), "Timeout.promise: duration must be")
      throwsInvalid(() => Timeout.promise(() => Promise.resolve(1), { duration: 10, grace: -1 }), "Timeout.promise: grace must be")
      assert.strictEqual(defaults.timeoutPromise.graceMillis, 1000)
    })

    it.live("a timed-out fetch is closed on the server's side", () =>
      Effect.gen(function*() {
        const closed = yield* Deferred.make<void>()
        const server = yield* loopbackServer((request, response) => {
          if (request.url === "/warm") return void response.end("ok")
          // never answers; the client's abort is what closes the request
          request.socket.on("close", () => Deferred.doneUnsafe(closed, Exit.void))
        })
        // fetch's first use sets up its client: pay for it before the timed request
        yield* Effect.promise(() => fetch(`${server.url}/warm`).then((r) => r.text()))
        const error = yield* Effect.flip(Timeout.promise(
          (signal) => fetch(`${server.url}/slow`, { signal }),
          { duration: "300 millis", name: "slow-api" }
        ))
        assert.strictEqual(error._tag, "TimeoutError")
        const seen = yield* Deferred.await(closed).pipe(Effect.timeoutOption("1 second"))
        assert.strictEqual(seen._tag, "Some")
      }).pipe(Effect.scoped))
  })
})

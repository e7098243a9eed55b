import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Errors, Events, Timeout } from "../src/index.ts"

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
})

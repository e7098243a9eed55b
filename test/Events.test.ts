import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Events, Retry } from "../src/index.ts"
import { emit } from "../src/internal/events.ts"

const failTwice = (maxAttempts: number) =>
  Effect.fail("boom").pipe(Retry.retry({ name: "r", maxAttempts, backoff: Backoff.constant(0) }), Effect.flip)

describe("Events", () => {
  it.effect("with nobody listening, no event is even built", () =>
    Effect.gen(function*() {
      let built = 0
      yield* emit((timestamp) => {
        built++
        return Events.ResilienceEvent.Degraded({ name: "x", timestamp })
      })
      assert.strictEqual(built, 0)
    }))

  it.effect("collect gathers a run's events in order with Clock timestamps", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust(1234)
      const [, events] = yield* Events.collect(failTwice(2))
      assert.deepStrictEqual(events.map((e) => [e._tag, e.name, e.timestamp]), [
        ["RetryScheduled", "r", 1234],
        ["RetryExhausted", "r", 1234]
      ])
    }))

  it.effect("layers add listeners to those already in place instead of replacing them", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const listener = (label: string) => (e: Events.ResilienceEvent) => Effect.sync(() => void seen.push(`${label} ${e._tag}`))
      const outer = Events.layer(listener("a"), listener("b"))
      const inner = Layer.provide(Events.layer(listener("c")), outer)
      yield* failTwice(2).pipe(Events.withListener(listener("d")), Effect.provide(inner))
      assert.deepStrictEqual(seen, [
        "a RetryScheduled",
        "b RetryScheduled",
        "c RetryScheduled",
        "d RetryScheduled",
        "a RetryExhausted",
        "b RetryExhausted",
        "c RetryExhausted",
        "d RetryExhausted"
      ])
    }))

  it.effect("the hub broadcasts events as a Stream", () =>
    Effect.gen(function*() {
      const events = yield* Events.subscribe
      const reader = yield* events.pipe(Stream.take(3), Stream.runCollect, Effect.forkChild)
      yield* Effect.yieldNow
      yield* failTwice(3)
      const tags = Array.from(yield* Fiber.join(reader)).map((e) => e._tag)
      assert.deepStrictEqual(tags, ["RetryScheduled", "RetryScheduled", "RetryExhausted"])
    }).pipe(Effect.scoped, Effect.provide(Events.layerHub())))

  it("$is and $match discriminate events", () => {
    const event = Events.ResilienceEvent.BulkheadRejected({ name: "db", timestamp: 0, reason: "full" })
    assert.isTrue(Events.ResilienceEvent.$is("BulkheadRejected")(event))
    assert.isFalse(Events.ResilienceEvent.$is("Shed")(event))
  })
})

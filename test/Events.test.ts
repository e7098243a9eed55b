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

  it.effect("listeners add up however their layers are combined", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const listener = (label: string) => (e: Events.ResilienceEvent) => Effect.sync(() => void seen.push(`${label} ${e._tag}`))
      const [a, b, c] = [Events.layer(listener("a")), Events.layer(listener("b")), Events.layer(listener("c"))]
      const app = Layer.empty
      const combinations: ReadonlyArray<[string, (self: Effect.Effect<unknown>) => Effect.Effect<unknown>]> = [
        ["mergeAll", Effect.provide(Layer.mergeAll(app, a, b, c))],
        ["merge of merges", Effect.provide(Layer.merge(Layer.merge(a, b), c))],
        ["provideMerge", Effect.provide(Layer.provideMerge(Layer.provideMerge(c, b), a))],
        ["provide", Effect.provide(Layer.provide(Layer.provide(c, b), a))],
        ["provide of a merge", Effect.provide(Layer.provide(c, Layer.merge(a, b)))],
        ["array of layers", Effect.provide([a, b, c])],
        ["nested Effect.provide", (self) => self.pipe(Effect.provide(c), Effect.provide(b), Effect.provide(a))],
        ["withListener inside", (self) => self.pipe(Events.withListener(listener("c")), Effect.provide(Layer.merge(a, b)))],
        ["withListener outside", (self) => self.pipe(Effect.provide(Layer.merge(b, c)), Events.withListener(listener("a")))],
        ["hub merged", Effect.provide(Layer.mergeAll(a, b, c, Events.layerHub()))]
      ]
      for (const [label, provide] of combinations) {
        seen.length = 0
        yield* provide(failTwice(1))
        assert.deepStrictEqual([...seen].sort(), ["a RetryExhausted", "b RetryExhausted", "c RetryExhausted"], label)
      }
    }))

  it.effect("layer listeners and withListener listeners interleaved across provides each hear an event once", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const listener = (label: string) => (e: Events.ResilienceEvent) => Effect.sync(() => void seen.push(`${label} ${e._tag}`))
      const outer = Events.layer(listener("a"))
      yield* failTwice(1).pipe(
        Effect.provide(Events.layer(listener("c"))),
        Events.withListener(listener("b")),
        Effect.provide(outer)
      )
      assert.deepStrictEqual([...seen].sort(), ["a RetryExhausted", "b RetryExhausted", "c RetryExhausted"])
    }))

  it.effect("a listener provided to part of a program does not hear the rest", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const listener = (label: string) => (e: Events.ResilienceEvent) => Effect.sync(() => void seen.push(`${label} ${e.name}`))
      yield* Effect.gen(function*() {
        yield* Effect.fail("x").pipe(Retry.retry({ name: "inner", maxAttempts: 1 }), Effect.flip, Effect.provide(Events.layer(listener("b"))))
        yield* Effect.fail("x").pipe(Retry.retry({ name: "outer", maxAttempts: 1 }), Effect.flip)
      }).pipe(Effect.provide(Events.layer(listener("a"))))
      assert.deepStrictEqual(seen, ["a inner", "b inner", "a outer"])
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

  it.effect("the hub counts the events a full subscriber buffer pushed out", () =>
    Effect.gen(function*() {
      const hub = yield* Events.EventHub
      const degraded = emit((timestamp) => Events.ResilienceEvent.Degraded({ name: "x", timestamp }))
      yield* Effect.repeat(degraded, { times: 4 }) // nobody subscribed: nothing is retained, nothing dropped
      assert.strictEqual(yield* hub.dropped, 0)
      const events = yield* Events.subscribe
      yield* Effect.repeat(degraded, { times: 4 }) // 5 events into a buffer of 2
      assert.strictEqual(yield* hub.dropped, 3)
      const kept = yield* events.pipe(Stream.take(2), Stream.runCollect)
      assert.strictEqual(kept.length, 2)
      yield* degraded // room again
      assert.strictEqual(yield* hub.dropped, 3)
    }).pipe(Effect.scoped, Effect.provide(Events.layerHub({ capacity: 2 }))))

  it("$is and $match discriminate events", () => {
    const event = Events.ResilienceEvent.BulkheadRejected({ name: "db", timestamp: 0, reason: "full" })
    assert.isTrue(Events.ResilienceEvent.$is("BulkheadRejected")(event))
    assert.isFalse(Events.ResilienceEvent.$is("Shed")(event))
  })
})

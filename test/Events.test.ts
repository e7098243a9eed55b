import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Bulkhead, CircuitBreaker, Events, LoadShedder, Policy, Retry } from "../src/index.ts"
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

  it.effect("silencing or replacing the listener holds for layers provided inside", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const listener = (label: string) => (e: Events.ResilienceEvent) => Effect.sync(() => void seen.push(`${label} ${e._tag}`))
      yield* failTwice(1).pipe(
        Effect.provide(Events.layer(listener("inner"))),
        Effect.provideService(Events.ResilienceEvents, undefined),
        Effect.provide(Events.layer(listener("outer")))
      )
      yield* failTwice(1).pipe(
        Effect.provide(Events.layer(listener("inner"))),
        Effect.provideService(Events.ResilienceEvents, listener("replacement")),
        Effect.provide(Events.layer(listener("outer")))
      )
      assert.deepStrictEqual(seen, ["inner RetryExhausted", "replacement RetryExhausted", "inner RetryExhausted"])
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

  it.effect("every rejection of every policy emits one event naming the policy", () =>
    Effect.gen(function*() {
      const hang = Effect.never
      type Scenario = readonly [label: string, tag: Events.ResilienceEventTag, run: Effect.Effect<ReadonlyArray<Exit.Exit<unknown, unknown>>, unknown, Scope.Scope>]
      const scenarios: ReadonlyArray<Scenario> = [
        ["breaker open", "BreakerRejected", Effect.gen(function*() {
          const b = yield* CircuitBreaker.make({ name: "p", policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" })
          yield* Effect.exit(b.execute(Effect.fail("boom")))
          return yield* Effect.forEach([1, 2], () => Effect.exit(b.execute(Effect.void)))
        })],
        ["breaker half-open, probes all taken", "BreakerRejected", Effect.gen(function*() {
          const b = yield* CircuitBreaker.make({ name: "p", policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute", halfOpenMaxCalls: 1 })
          yield* Effect.exit(b.execute(Effect.fail("boom")))
          yield* TestClock.adjust("1 minute")
          yield* Effect.forkChild(b.execute(hang))
          yield* Effect.yieldNow
          return yield* Effect.forEach([1, 2], () => Effect.exit(b.execute(Effect.void)))
        })],
        ["bulkhead full", "BulkheadRejected", Effect.gen(function*() {
          const b = yield* Bulkhead.make({ name: "p", maxConcurrent: 1, maxQueue: 0 })
          yield* Effect.forkChild(b.execute(hang))
          yield* Effect.yieldNow
          return yield* Effect.forEach([1, 2], () => Effect.exit(b.execute(Effect.void)))
        })],
        ["bulkhead queue timeout", "BulkheadRejected", Effect.gen(function*() {
          const b = yield* Bulkhead.make({ name: "p", maxConcurrent: 1, maxQueue: 2, queueTimeout: "1 second" })
          yield* Effect.forkChild(b.execute(hang))
          yield* Effect.yieldNow
          const waiters = yield* Effect.forEach([1, 2], () => Effect.forkChild(Effect.exit(b.execute(Effect.void))))
          yield* Effect.yieldNow
          yield* TestClock.adjust("1 second")
          return yield* Fiber.joinAll(waiters)
        })],
        ["load shed", "Shed", Effect.gen(function*() {
          const s = yield* LoadShedder.make({ name: "p", maxInFlight: 1 })
          yield* Effect.forkChild(s.execute({ priority: "normal" })(hang))
          yield* Effect.yieldNow
          return yield* Effect.forEach([1, 2], () => Effect.exit(s.execute({ priority: "sheddable" })(Effect.void)))
        })],
        ["rate limited", "RateLimited", Effect.gen(function*() {
          const policy = yield* Policy.make({ name: "p", rateLimit: { limit: 1, window: "1 second" } })
          return yield* Effect.forEach([1, 2, 3], () => Effect.exit(policy.execute(Effect.void)))
        })],
        ["timed out", "TimeoutFired", Effect.gen(function*() {
          const policy = yield* Policy.make({ name: "p", timeout: "1 second" })
          const fibers = yield* Effect.forEach([1, 2], () => Effect.forkChild(Effect.exit(policy.execute(hang))))
          yield* TestClock.adjust("1 second")
          return yield* Fiber.joinAll(fibers)
        })]
      ]
      for (const [label, tag, run] of scenarios) {
        const [exits, events] = yield* Events.collect(Effect.scoped(run))
        const rejections = exits.filter(Exit.isFailure).length
        assert.isAbove(rejections, 0, label)
        const matching = events.filter((e) => e._tag === tag)
        assert.strictEqual(matching.length, rejections, label)
        assert.isTrue(matching.every((e) => e.name === "p"), label)
      }
    }))

  it("$is and $match discriminate events", () => {
    const event = Events.ResilienceEvent.BulkheadRejected({ name: "db", timestamp: 0, reason: "full" })
    assert.isTrue(Events.ResilienceEvent.$is("BulkheadRejected")(event))
    assert.isFalse(Events.ResilienceEvent.$is("Shed")(event))
  })
})

describe("CircuitBreaker.changes", () => {
  it.effect("ends when the scope the breaker was made in closes, after delivering its transitions", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const breaker = yield* CircuitBreaker.make({ name: "db", policy: CircuitBreaker.consecutive(1) }).pipe(Scope.provide(scope))
      const reader = yield* breaker.changes.pipe(Stream.runCollect, Effect.forkChild)
      yield* Effect.yieldNow
      yield* Effect.exit(breaker.execute(Effect.fail("boom")))
      yield* Scope.close(scope, Exit.void)
      const ended = yield* Fiber.join(reader).pipe(Effect.timeoutOption("1 second"), Effect.forkChild)
      yield* TestClock.adjust("1 second")
      const transitions = yield* Fiber.join(ended)
      assert.isTrue(transitions._tag === "Some", "changes did not end")
      if (transitions._tag === "Some") assert.deepStrictEqual(Array.from(transitions.value).map((t) => t.to), ["Open"])
      // the breaker keeps working, its transitions still reach listeners
      const [, events] = yield* Events.collect(breaker.reset)
      assert.deepStrictEqual(events.map((e) => e._tag), ["BreakerTransition"])
    }))

  it.effect("a keyed breaker's changes end with its scope too", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const keyed = yield* CircuitBreaker.keyed({ name: "hosts", policy: CircuitBreaker.consecutive(1) }).pipe(Scope.provide(scope))
      const reader = yield* keyed.changes.pipe(Stream.runCollect, Effect.forkChild)
      yield* Effect.yieldNow
      yield* Scope.close(scope, Exit.void)
      const ended = yield* Fiber.join(reader).pipe(Effect.timeoutOption("1 second"), Effect.forkChild)
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(ended))._tag, "Some")
    }))
})

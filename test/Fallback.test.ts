import { assert, describe, it } from "@effect/vitest"
import { Context, Data, Duration, Effect, Exit, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Events, Fallback } from "../src/index.ts"
import { thrownInvalid } from "./helpers.ts"
import * as defaults from "../src/internal/defaults.ts"
import * as internal from "../src/internal/fallback.ts"
import * as Lru from "../src/internal/lru.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly service: string }> {}
class BadRequest extends Data.TaggedError("BadRequest")<{}> {}
class FallbackFailed extends Data.TaggedError("FallbackFailed")<{}> {}

const isUnavailable = (e: Unavailable | BadRequest): e is Unavailable => e._tag === "Unavailable"

describe("Fallback.orElse", () => {
  it.effect("a success passes through: the fallback does not run and nothing is emitted", () =>
    Effect.gen(function*() {
      let fallbacks = 0
      const [value, events] = yield* Events.collect(
        Effect.succeed("live").pipe(Fallback.orElse({ fallback: () => Effect.sync(() => `fallback ${++fallbacks}`) }))
      )
      assert.strictEqual(value, "live")
      assert.strictEqual(fallbacks, 0)
      assert.deepStrictEqual(events, [])
    }))

  it.effect("a failure runs the fallback with the error and emits FallbackUsed", () =>
    Effect.gen(function*() {
      const error = new Unavailable({ service: "recs" })
      const primary: Effect.Effect<string, Unavailable> = Effect.fail(error)
      const withFallback: Effect.Effect<string, never> = primary.pipe(
        Fallback.orElse({ name: "recs", fallback: (e) => Effect.succeed(`default (${e.service} down)`) })
      )
      const [value, events] = yield* Events.collect(withFallback)
      assert.strictEqual(value, "default (recs down)")
      assert.strictEqual(events.length, 1)
      const event = events[0]!
      assert.isTrue(
        event._tag === "FallbackUsed" && event.name === "recs" && event.source === "fallback" && event.error === error
      )
    }))

  it.effect("only the errors `when` accepts fall back; the others pass through, typed", () =>
    Effect.gen(function*() {
      const call = (error: Unavailable | BadRequest) => {
        const primary: Effect.Effect<string, Unavailable | BadRequest> = Effect.fail(error)
        // a refinement removes the covered errors from the type
        const typed: Effect.Effect<string, BadRequest> = primary.pipe(
          Fallback.orElse({ when: isUnavailable, fallback: (e) => Effect.succeed(`cached for ${e.service}`) })
        )
        return typed
      }
      assert.strictEqual(yield* call(new Unavailable({ service: "a" })), "cached for a")
      const bad = new BadRequest()
      const [exit, events] = yield* Events.collect(Effect.exit(call(bad)))
      assert.deepStrictEqual(exit, Exit.fail(bad))
      assert.deepStrictEqual(events, [])
    }))

  it.effect("with a plain predicate every error stays in the type", () =>
    Effect.gen(function*() {
      const primary: Effect.Effect<number, Unavailable | BadRequest> = Effect.fail(new BadRequest())
      const typed: Effect.Effect<number | string, Unavailable | BadRequest> = Fallback.orElse(primary, {
        when: (e) => e._tag === "Unavailable",
        fallback: () => Effect.succeed("fallback")
      })
      assert.deepStrictEqual(yield* Effect.flip(typed), new BadRequest())
    }))

  it.effect("the fallback's own errors are typed", () =>
    Effect.gen(function*() {
      const primary: Effect.Effect<number, Unavailable> = Effect.fail(new Unavailable({ service: "x" }))
      const typed: Effect.Effect<number, FallbackFailed> = Fallback.orElse(primary, {
        fallback: () => Effect.fail(new FallbackFailed())
      })
      const [error, events] = yield* Events.collect(Effect.flip(typed))
      assert.deepStrictEqual(error, new FallbackFailed())
      assert.deepStrictEqual(events.map((e) => e._tag), ["FallbackUsed"])
    }))

  it.effect("defects and interruption never fall back", () =>
    Effect.gen(function*() {
      let fallbacks = 0
      const fallback = () => Effect.sync(() => ++fallbacks)
      const died = yield* Effect.exit(Effect.die("bug").pipe(Fallback.orElse({ fallback })))
      assert.deepStrictEqual(died, Exit.die("bug"))
      const fiber = yield* Effect.never.pipe(Fallback.orElse({ fallback }), Effect.forkChild)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
      assert.strictEqual(fallbacks, 0)
    }))

  it("rejects bad options when applied, naming the field", () => {
    const effect = Effect.fail("x")
    assert.strictEqual(
      thrownInvalid(() => Fallback.orElse(effect, { name: "", fallback: () => Effect.void })).message,
      "Fallback.orElse: name must be a non-empty string, got \"\""
    )
    assert.strictEqual(thrownInvalid(() => Fallback.orElse(effect, { fallback: 42 as never })).field, "fallback")
    assert.strictEqual(
      thrownInvalid(() => Fallback.orElse(effect, { fallback: () => Effect.void, when: "yes" as never })).field,
      "when"
    )
  })
})

describe("Fallback.chain", () => {
  const source = <const N extends string>(name: N, outcome: "ok" | "fail", runs: Array<string>) =>
    Effect.suspend((): Effect.Effect<string, `${N} failed`> => {
      runs.push(name)
      return outcome === "ok" ? Effect.succeed(`from ${name}`) : Effect.fail(`${name} failed` as const)
    })

  it.effect("returns the first success and runs nothing after it", () =>
    Effect.gen(function*() {
      const runs: Array<string> = []
      const [value, events] = yield* Events.collect(Fallback.chain([
        source("cache", "ok", runs),
        source("db", "ok", runs),
        source("api", "ok", runs)
      ]))
      assert.strictEqual(value, "from cache")
      assert.deepStrictEqual(runs, ["cache"])
      assert.deepStrictEqual(events, [])
    }))

  it.effect("falls through in order, reporting each move", () =>
    Effect.gen(function*() {
      const runs: Array<string> = []
      const [value, events] = yield* Events.collect(Fallback.chain([
        source("cache", "fail", runs),
        source("db", "fail", runs),
        source("api", "ok", runs)
      ], { name: "user" }))
      assert.strictEqual(value, "from api")
      assert.deepStrictEqual(runs, ["cache", "db", "api"])
      assert.deepStrictEqual(
        events.map((e) => e._tag === "FallbackUsed" ? [e.name, e.source, e.error] : e._tag),
        [["user", "chain:2", "cache failed"], ["user", "chain:3", "db failed"]]
      )
    }))

  it.effect("when all fail: FallbackChainError with every failure in order, typed", () =>
    Effect.gen(function*() {
      const runs: Array<string> = []
      const chained: Effect.Effect<
        string,
        Fallback.FallbackChainError<"cache failed" | "db failed" | "api failed">
      > = Fallback.chain([source("cache", "fail", runs), source("db", "fail", runs), source("api", "fail", runs)], {
        name: "user"
      })
      const error = yield* Effect.flip(chained)
      assert.isTrue(Fallback.isFallbackChainError(error))
      assert.strictEqual(error._tag, "FallbackChainError")
      assert.strictEqual(error.policy, "user")
      assert.deepStrictEqual(error.failures, ["cache failed", "db failed", "api failed"])
      assert.strictEqual(error.message, 'all 3 alternatives of "user" failed')
      const caught = yield* chained.pipe(Effect.catchTag("FallbackChainError", (e) => Effect.succeed(e.failures.length)))
      assert.strictEqual(caught, 3)
      assert.isFalse(Fallback.isFallbackChainError(new Error("x")))
    }))

  it.effect("a defect stops the chain", () =>
    Effect.gen(function*() {
      const runs: Array<string> = []
      const exit = yield* Effect.exit(Fallback.chain([Effect.die("bug"), source("db", "ok", runs)]))
      assert.deepStrictEqual(exit, Exit.die("bug"))
      assert.deepStrictEqual(runs, [])
    }))

  it.effect("a one-element chain wraps its failure", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Fallback.chain([Effect.fail(1)]))
      assert.deepStrictEqual(error.failures, [1])
      assert.strictEqual(error.policy, defaults.fallback.name)
    }))

  it("rejects an empty list (a type error too), non-effects and an empty name", () => {
    // @ts-expect-error: a chain needs at least one alternative
    const empty = thrownInvalid(() => Fallback.chain([]))
    assert.strictEqual(empty.message, "Fallback.chain: effects must be a non-empty array of effects, got []")
    assert.strictEqual(thrownInvalid(() => Fallback.chain([Effect.void, "db" as never])).field, "effects[1]")
    assert.strictEqual(thrownInvalid(() => Fallback.chain([Effect.void], { name: "" })).field, "name")
  })
})

describe("Fallback.lastKnownGood", () => {
  class Down extends Data.TaggedError("Down")<{}> {}
  const down = Effect.fail(new Down())

  it.effect("a live success is returned and stored, with age zero, emitting nothing", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<number>({ name: "fx", ttl: "1 minute", capacity: 10 })
      const [served, events] = yield* Events.collect(lkg.execute(Effect.succeed(1.08), "EUR/USD"))
      assert.deepStrictEqual(served, { value: 1.08, source: "live", age: Duration.zero })
      assert.deepStrictEqual(events, [])
      assert.strictEqual(yield* lkg.size, 1)
    }))

  it.effect("a failure is answered from the cache with the value's age", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<number>({ name: "fx", ttl: "1 minute", capacity: 10 })
      yield* lkg.execute(Effect.succeed(1.08), "EUR/USD")
      yield* TestClock.adjust("12 seconds")
      const [served, events] = yield* Events.collect(lkg.execute(down, "EUR/USD"))
      assert.strictEqual(served.value, 1.08)
      assert.strictEqual(served.source, "cache")
      assert.strictEqual(Duration.toMillis(served.age), 12_000)
      assert.strictEqual(`[Cached: ${Duration.format(served.age)} old]`, "[Cached: 12s old]")
      assert.deepStrictEqual(
        events.map((e) => e._tag === "FallbackUsed" ? [e.name, e.source, e._tag, e.timestamp] : e._tag),
        [["fx", "cache", "FallbackUsed", 12_000]]
      )
      // a new live success resets the age
      yield* lkg.execute(Effect.succeed(1.09), "EUR/USD")
      yield* TestClock.adjust("1 second")
      const again = yield* lkg.execute(down, "EUR/USD")
      assert.deepStrictEqual([again.value, Duration.toMillis(again.age)], [1.09, 1000])
    }))

  it.effect("a failure with nothing cached returns the live error, typed", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<number>()
      yield* lkg.execute(Effect.succeed(1), "a")
      const failed: Effect.Effect<Fallback.Served<number>, Down> = lkg.execute(down, "b")
      assert.deepStrictEqual(yield* Effect.flip(failed), new Down())
    }))

  it.effect("a value is served while younger than ttl, and dropped from ttl on", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<string>({ ttl: "10 seconds" })
      yield* lkg.execute(Effect.succeed("v"), "k")
      yield* TestClock.adjust("9999 millis")
      assert.strictEqual((yield* lkg.execute(down, "k")).source, "cache")
      assert.deepStrictEqual(yield* lkg.peek("k"), { value: "v", age: Duration.millis(9999) })
      yield* TestClock.adjust("1 millis")
      assert.isUndefined(yield* lkg.peek("k"))
      const [exit, events] = yield* Events.collect(Effect.exit(lkg.execute(down, "k")))
      assert.deepStrictEqual(exit, Exit.fail(new Down()))
      assert.deepStrictEqual(events, [])
      assert.strictEqual(yield* lkg.size, 0) // the expired entry is gone
    }))

  it.effect("the cache keeps at most `capacity` keys, evicting the least recently used", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<string>({ capacity: 2 })
      yield* lkg.execute(Effect.succeed("A"), "a")
      yield* lkg.execute(Effect.succeed("B"), "b")
      // serving "a" from the cache counts as a use: "b" is now the least recently used
      assert.strictEqual((yield* lkg.execute(down, "a")).value, "A")
      yield* lkg.execute(Effect.succeed("C"), "c")
      assert.strictEqual(yield* lkg.size, 2)
      assert.strictEqual((yield* lkg.execute(down, "a")).value, "A")
      assert.strictEqual((yield* lkg.execute(down, "c")).value, "C")
      assert.deepStrictEqual(yield* Effect.flip(lkg.execute(down, "b")), new Down())
    }))

  it.effect("stays bounded under many keys", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<number, number>({ capacity: 100 })
      yield* Effect.forEach(Array.from({ length: 10_000 }, (_, i) => i), (i) => lkg.execute(Effect.succeed(i), i), {
        discard: true
      })
      assert.strictEqual(yield* lkg.size, 100)
      assert.strictEqual((yield* lkg.execute(down, 9_999)).value, 9_999)
      assert.deepStrictEqual(yield* Effect.flip(lkg.execute(down, 9_899)), new Down())
    }))

  it.effect("defects, interruption and errors `when` rejects are not answered from the cache", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<string>({ when: (e) => e instanceof Down })
      yield* lkg.execute(Effect.succeed("v"), "k")
      assert.deepStrictEqual(yield* Effect.exit(lkg.execute(Effect.die("bug"), "k")), Exit.die("bug"))
      assert.deepStrictEqual(yield* Effect.exit(lkg.execute(Effect.fail("other"), "k")), Exit.fail("other"))
      const fiber = yield* Effect.forkChild(lkg.execute(Effect.never, "k"))
      yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fiber)))
      assert.strictEqual((yield* lkg.execute(down, "k")).source, "cache")
    }))

  it.effect("invalidate and clear forget values", () =>
    Effect.gen(function*() {
      const lkg = yield* Fallback.lastKnownGood<number>()
      yield* lkg.execute(Effect.succeed(1), "a")
      yield* lkg.execute(Effect.succeed(2), "b")
      yield* lkg.invalidate("a")
      assert.isUndefined(yield* lkg.peek("a"))
      assert.strictEqual(yield* lkg.size, 1)
      yield* lkg.clear
      assert.strictEqual(yield* lkg.size, 0)
    }))

  it.effect("defaults: name, 5-minute ttl, 1,000 keys", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(defaults.fallback, { name: "fallback" })
      assert.deepStrictEqual(defaults.lastKnownGood, { name: "last-known-good", ttlMillis: 300_000, capacity: 1000 })
      const lkg = yield* Fallback.lastKnownGood()
      assert.strictEqual(lkg.name, "last-known-good")
      assert.strictEqual(Duration.toMillis(lkg.ttl), 300_000)
      assert.strictEqual(lkg.capacity, 1000)
      assert.isTrue(Fallback.isLastKnownGood(lkg))
      const forever = yield* Fallback.lastKnownGood({ ttl: "Infinity" })
      assert.strictEqual(Duration.toMillis(forever.ttl), Infinity)
    }))

  it.effect("bad options fail in the typed channel, naming the field", () =>
    Effect.gen(function*() {
      const fail = (options: Fallback.LastKnownGoodOptions) => Effect.flip(Fallback.lastKnownGood(options))
      assert.strictEqual(
        (yield* fail({ ttl: 0 })).message,
        "Fallback.lastKnownGood: ttl must be a duration > 0 or \"Infinity\", got 0"
      )
      assert.strictEqual((yield* fail({ ttl: -1 })).field, "ttl")
      assert.strictEqual(
        (yield* fail({ capacity: 0 })).message,
        "Fallback.lastKnownGood: capacity must be an integer >= 1, got 0"
      )
      assert.strictEqual((yield* fail({ capacity: 1.5 })).field, "capacity")
      assert.strictEqual((yield* fail({ name: "" })).field, "name")
      assert.strictEqual((yield* fail({ when: 1 as never })).field, "when")
    }))

  it.effect("layerLastKnownGood shares one cache through a service", () =>
    Effect.gen(function*() {
      class Prices extends Context.Service<Prices, Fallback.LastKnownGood<number>>()("test/Prices") {}
      const calls = yield* Ref.make(0)
      const program = Effect.gen(function*() {
        const first = yield* Prices
        yield* first.execute(Effect.succeed(7), "x")
        const second = yield* Prices
        yield* Ref.update(calls, (n) => n + 1)
        return yield* second.execute(down, "x")
      })
      const served = yield* Effect.provide(program, Fallback.layerLastKnownGood(Prices, { name: "prices" }))
      assert.strictEqual(served.value, 7)
      assert.strictEqual(yield* Ref.get(calls), 1)
    }))
})

describe("lastKnownGood decision (pure)", () => {
  it("serves below ttl, expires from ttl on, never reports a negative age", () => {
    const entry = { value: "v", storedAt: 1000 }
    assert.deepStrictEqual(internal.decide(undefined, 0, 10), { _tag: "Miss" })
    assert.deepStrictEqual(internal.decide(entry, 1009, 10), { _tag: "Serve", value: "v", ageMillis: 9 })
    assert.deepStrictEqual(internal.decide(entry, 1010, 10), { _tag: "Expired", ageMillis: 10 })
    assert.deepStrictEqual(internal.decide(entry, 500, 10), { _tag: "Serve", value: "v", ageMillis: 0 })
    assert.deepStrictEqual(internal.decide(entry, 1e12, Infinity)._tag, "Serve")
  })
})

describe("internal LRU", () => {
  it("evicts the least recently used entry and reports it", () => {
    const lru = Lru.make<string, number>(2)
    assert.isUndefined(Lru.set(lru, "a", 1))
    assert.isUndefined(Lru.set(lru, "b", 2))
    assert.strictEqual(Lru.get(lru, "a"), 1) // a is now the most recent
    assert.deepStrictEqual(Lru.set(lru, "c", 3), ["b", 2])
    assert.deepStrictEqual(Lru.keys(lru), ["a", "c"])
    assert.isUndefined(Lru.set(lru, "a", 10)) // an update never evicts, and refreshes recency
    assert.deepStrictEqual(Lru.keys(lru), ["c", "a"])
    assert.strictEqual(Lru.peek(lru, "c"), 3) // peek does not refresh
    assert.deepStrictEqual(Lru.set(lru, "d", 4), ["c", 3])
    assert.isTrue(Lru.has(lru, "a"))
    assert.isTrue(Lru.remove(lru, "a"))
    assert.isFalse(Lru.remove(lru, "a"))
    assert.strictEqual(Lru.size(lru), 1)
    Lru.clear(lru)
    assert.strictEqual(Lru.size(lru), 0)
  })

  it("stores undefined values like any other", () => {
    const lru = Lru.make<string, undefined>(1)
    Lru.set(lru, "a", undefined)
    assert.isTrue(Lru.has(lru, "a"))
    assert.deepStrictEqual(Lru.set(lru, "b", undefined), ["a", undefined])
  })
})

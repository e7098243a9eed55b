import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Events, Idempotency } from "../src/index.ts"
import { countdown, failsInvalid, settle } from "./helpers.ts"
import * as machine from "../src/internal/idempotency.ts"

/** A counter of runs and an effect that counts a run and returns `value`. */
const counted = Effect.gen(function*() {
  const runs = yield* Ref.make(0)
  const run = <A>(value: A) => Effect.as(Ref.update(runs, (n) => n + 1), value)
  return { runs: Ref.get(runs), run }
})

describe("Idempotency: coalescing", () => {
  it.effect("1,000 concurrent duplicates of 10 keys run exactly 10 effects", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make({ name: "scoring", ttl: "1 minute", capacity: 100 })
      const { run, runs } = yield* counted
      // every call arrives once: 10 runs start, 990 duplicates join them
      const arrivals = yield* countdown(1000)
      const slow = (key: string) => Effect.andThen(arrivals.arrive, Effect.andThen(Effect.sleep("1 second"), run(`scored:${key}`)))
      const calls = Array.from({ length: 1000 }, (_, i) => `key-${i % 10}`)
      const events: Array<Events.ResilienceEvent> = []
      const fiber = yield* Effect.forEach(calls, (key) => guard.execute(slow(key), key), { concurrency: "unbounded" }).pipe(
        Events.withListener((e) => Effect.andThen(Effect.sync(() => void events.push(e)), arrivals.arrive)),
        Effect.forkChild
      )
      yield* arrivals.arrived
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      assert.strictEqual(yield* runs, 10)
      assert.deepStrictEqual(results, calls.map((key) => `scored:${key}`))
      assert.strictEqual(events.length, 990)
      // the events that are not what they should be: none
      assert.deepStrictEqual(events.filter((e) => !(e._tag === "IdempotentHit" && e.kind === "coalesced" && e.name === "scoring")), [])
    }))

  it.effect("concurrent duplicates share a failure, which is not stored", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make({ ttl: "1 minute" })
      const runs = yield* Ref.make(0)
      const failing = Effect.andThen(
        Effect.andThen(Ref.update(runs, (n) => n + 1), Effect.sleep(10)),
        Effect.fail("payment declined" as const)
      )
      const fiber = yield* Effect.forkChild(
        Effect.forEach([1, 2, 3, 4, 5], () => Effect.flip(guard.execute(failing, "order-1")), { concurrency: 5 })
      )
      yield* settle
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(yield* Fiber.join(fiber), Array(5).fill("payment declined"))
      assert.strictEqual(yield* Ref.get(runs), 1)
      // not stored: the next call runs again
      const second = yield* Effect.forkChild(Effect.flip(guard.execute(failing, "order-1")))
      yield* TestClock.adjust(10)
      yield* Fiber.join(second)
      assert.strictEqual(yield* Ref.get(runs), 2)
      assert.strictEqual(yield* guard.size, 0)
    }))

  it.effect("a defect is shared with the waiting duplicates and not stored", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make()
      const { run, runs } = yield* counted
      const dying = Effect.andThen(Effect.andThen(run(0), Effect.sleep(5)), Effect.die("bug"))
      const fiber = yield* Effect.forkChild(
        Effect.forEach([1, 2, 3], () => Effect.exit(guard.execute(dying, "k")), { concurrency: 3 })
      )
      yield* settle
      yield* TestClock.adjust(5)
      const exits = yield* Fiber.join(fiber)
      assert.deepStrictEqual(exits.map((exit) => Exit.isFailure(exit) && Cause.hasDies(exit.cause)), [true, true, true])
      assert.strictEqual(yield* runs, 1)
      yield* Effect.exit(guard.execute(run(1), "k"))
      assert.strictEqual(yield* runs, 2)
    }))

  it.effect("when the running call is interrupted, a waiting duplicate runs in its place", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make()
      const { run, runs } = yield* counted
      const slow = Effect.andThen(Effect.sleep("1 second"), run("done"))
      const leader = yield* Effect.forkChild(guard.execute(slow, "k"))
      yield* settle
      const followers = yield* Effect.forkChild(
        Effect.forEach([1, 2, 3], () => guard.execute(slow, "k"), { concurrency: 3 })
      )
      yield* settle
      yield* Fiber.interrupt(leader)
      yield* settle
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.join(followers), ["done", "done", "done"])
      assert.strictEqual(yield* runs, 1)
      // nothing left running under "k": the stored result answers
      assert.strictEqual(yield* guard.execute(run("again"), "k"), "done")
      assert.strictEqual(yield* runs, 1)
    }))

  it.effect("an interrupted duplicate does not disturb the running call", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make()
      const { run, runs } = yield* counted
      const slow = Effect.andThen(Effect.sleep("1 second"), run("done"))
      const leader = yield* Effect.forkChild(guard.execute(slow, "k"))
      yield* settle
      const follower = yield* Effect.forkChild(guard.execute(slow, "k"))
      yield* settle
      yield* Fiber.interrupt(follower)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(leader), "done")
      assert.strictEqual(yield* runs, 1)
    }))
})

describe("Idempotency: stored results", () => {
  it.effect("a success is served without running within ttl, and runs again after it", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make({ name: "emails", ttl: "10 seconds" })
      const { run, runs } = yield* counted
      assert.strictEqual(yield* guard.execute(run("sent-1"), "welcome:7"), "sent-1")
      yield* TestClock.adjust("9999 millis")
      const [value, events] = yield* Events.collect(guard.execute(run("sent-2"), "welcome:7"))
      assert.strictEqual(value, "sent-1")
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(events, [
        Events.ResilienceEvent.IdempotentHit({ name: "emails", timestamp: 9999, key: "welcome:7", kind: "cached" })
      ])
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* guard.execute(run("sent-3"), "welcome:7"), "sent-3")
      assert.strictEqual(yield* runs, 2)
    }))

  it.effect("the first run emits nothing", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make()
      const [, events] = yield* Events.collect(guard.execute(Effect.succeed(1), "k"))
      assert.deepStrictEqual(events, [])
    }))

  it.effect("capacity evicts the least recently used success", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make({ capacity: 2 })
      const { run, runs } = yield* counted
      yield* guard.execute(run("a1"), "a")
      yield* guard.execute(run("b1"), "b")
      yield* guard.execute(run("a2"), "a") // a is now the most recently used
      yield* guard.execute(run("c1"), "c") // evicts b
      assert.strictEqual(yield* runs, 3)
      assert.strictEqual(yield* guard.execute(run("a3"), "a"), "a1")
      assert.strictEqual(yield* guard.execute(run("b2"), "b"), "b2")
      assert.strictEqual(yield* runs, 4)
      assert.strictEqual(yield* guard.size, 2)
    }))

  it.effect("invalidate forgets a key; size counts live successes only", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make({ ttl: "1 minute" })
      const { run, runs } = yield* counted
      yield* guard.execute(run(1), "a")
      yield* TestClock.adjust("30 seconds")
      yield* guard.execute(run(2), "b")
      assert.strictEqual(yield* guard.size, 2)
      assert.isTrue(yield* guard.invalidate("b"))
      assert.isFalse(yield* guard.invalidate("b"))
      yield* guard.execute(run(3), "b")
      assert.strictEqual(yield* runs, 3)
      yield* TestClock.adjust("30 seconds") // a expires
      assert.strictEqual(yield* guard.size, 1)
    }))

  it.effect("ttl Infinity keeps successes until evicted", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make({ ttl: "Infinity" })
      const { run, runs } = yield* counted
      yield* guard.execute(run(1), "a")
      yield* TestClock.adjust(Duration.days(365))
      assert.strictEqual(yield* guard.execute(run(2), "a"), 1)
      assert.strictEqual(yield* runs, 1)
    }))

  it.effect("data-last forms: guard.execute(key) and Idempotency.execute(guard, key)", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make()
      const { run, runs } = yield* counted
      assert.strictEqual(yield* run("x").pipe(guard.execute("k")), "x")
      assert.strictEqual(yield* run("y").pipe(Idempotency.execute(guard, "k")), "x")
      assert.strictEqual(yield* Idempotency.execute(run("z"), guard, "other"), "z")
      assert.strictEqual(yield* runs, 2)
      assert.isTrue(Idempotency.isIdempotency(guard))
      assert.isFalse(Idempotency.isIdempotency({}))
    }))
})

describe("Idempotency: decision machine", () => {
  it("decides run, join and hit; settle stores successes only", () => {
    const state = machine.make<string>(10, 100)
    let n = 0
    const waiter = () => `w${++n}`
    assert.deepStrictEqual(machine.decide(state, "k", 0, waiter), { _tag: "Run", waiter: "w1" })
    assert.deepStrictEqual(machine.decide(state, "k", 1, waiter), { _tag: "Join", waiter: "w1" })
    machine.settle(state, "k", "w1", undefined, 2)
    assert.deepStrictEqual(machine.decide(state, "k", 3, waiter), { _tag: "Run", waiter: "w2" })
    machine.settle(state, "k", "w2", { value: 42 }, 4)
    assert.deepStrictEqual(machine.decide(state, "k", 103, waiter), { _tag: "Hit", value: 42 })
    assert.deepStrictEqual(machine.decide(state, "k", 104, waiter), { _tag: "Run", waiter: "w3" })
    // a stale settle (another run took over the key) does not unregister the current run
    machine.settle(state, "k", "w2", undefined, 105)
    assert.deepStrictEqual(machine.decide(state, "k", 106, waiter), { _tag: "Join", waiter: "w3" })
  })
})

describe("Idempotency: bad options", () => {
  it.effect("ttl <= 0, capacity < 1 and an empty name fail with InvalidConfigError", () =>
    Effect.gen(function*() {
      yield* failsInvalid(
        Idempotency.make({ ttl: 0 }),
        "ttl",
        "Idempotency.make: ttl must be a duration > 0 or \"Infinity\", got 0"
      )
      yield* failsInvalid(
        Idempotency.make({ ttl: "0 millis" }),
        "ttl",
        "Idempotency.make: ttl must be a duration > 0 or \"Infinity\", got \"0 millis\""
      )
      yield* failsInvalid(
        Idempotency.make({ ttl: -1 }),
        "ttl",
        "Idempotency.make: ttl must be a duration > 0 or \"Infinity\", got -1"
      )
      yield* failsInvalid(
        Idempotency.make({ capacity: 0 }),
        "capacity",
        "Idempotency.make: capacity must be an integer >= 1, got 0"
      )
      yield* failsInvalid(
        Idempotency.make({ capacity: 1.5 }),
        "capacity",
        "Idempotency.make: capacity must be an integer >= 1, got 1.5"
      )
      yield* failsInvalid(Idempotency.make({ name: "" }), "name", "Idempotency.make: name must be a non-empty string, got \"\"")
    }))

  it.effect("defaults: name idempotency, ttl 1 hour, capacity 10,000", () =>
    Effect.gen(function*() {
      const guard = yield* Idempotency.make()
      assert.strictEqual(guard.name, "idempotency")
      assert.strictEqual(Duration.toMillis(guard.ttl), 3_600_000)
      assert.strictEqual(guard.capacity, 10_000)
    }))
})

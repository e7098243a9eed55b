import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Data, Deferred, Effect, Exit, Fiber, Layer, Random, Ref, Scheduler, Schema } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, DeadLetterQueue, Events, Retry } from "../src/index.ts"
import { failsInvalid, settle } from "./helpers.ts"
import { input, jsonStore, slowStore, suite } from "./DeadLetterStoreSuite.ts"
import * as internal from "../src/internal/deadLetter.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

class Order extends Schema.Class<Order>("Order")({ id: Schema.String, placedAt: Schema.Date }) {}

/** Interruption points tried: the test yields this many times, then interrupts (more than a whole run takes). */
const positions = 60

describe("DeadLetterQueue: entries", () => {
  it.effect("offer stores an entry with id, stage, cause, message, attempts and Clock timestamps", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust(5000)
      const dlq = yield* DeadLetterQueue.make<string>({ name: "orders", capacity: 10 })
      const [entry, events] = yield* Events.collect(dlq.offer(input("o-1")))
      assert.strictEqual(entry.id, "orders#1")
      assert.strictEqual(entry.item, "o-1")
      assert.strictEqual(entry.stage, "scoring")
      assert.strictEqual(entry.attempts, 1)
      assert.strictEqual(entry.firstFailedAt, 5000)
      assert.strictEqual(entry.lastFailedAt, 5000)
      assert.strictEqual(entry.error.message, "Unavailable {\"status\":503}")
      assert.deepStrictEqual(Cause.squash(entry.error.cause), new Unavailable({ status: 503 }))
      assert.deepStrictEqual(events, [
        Events.ResilienceEvent.DeadLettered({ name: "orders", timestamp: 5000, stage: "scoring", id: "orders#1" })
      ])
      assert.deepStrictEqual(yield* dlq.entries, [entry])
      assert.strictEqual(yield* dlq.size, 1)
    }))

  it.effect("entries is a snapshot, oldest first; take removes the oldest", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      for (const item of ["a", "b", "c"]) yield* dlq.offer(input(item))
      const snapshot = yield* dlq.entries
      assert.deepStrictEqual(snapshot.map((e) => e.item), ["a", "b", "c"])
      assert.deepStrictEqual(snapshot.map((e) => e.id), ["dead-letters#1", "dead-letters#2", "dead-letters#3"])
      assert.strictEqual((yield* dlq.take).item, "a")
      assert.strictEqual((yield* dlq.take).item, "b")
      assert.deepStrictEqual(snapshot.map((e) => e.item), ["a", "b", "c"])
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["c"])
    }))

  it.effect("take waits for an entry", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      const taker = yield* Effect.forkChild(dlq.take)
      yield* settle
      assert.isUndefined(taker.pollUnsafe())
      yield* dlq.offer(input("late"))
      assert.strictEqual((yield* Fiber.join(taker)).item, "late")
      assert.strictEqual(yield* dlq.size, 0)
    }))

  it.effect("waiting takers are served in arrival order", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      const first = yield* Effect.forkChild(dlq.take)
      yield* settle
      const second = yield* Effect.forkChild(dlq.take)
      yield* settle
      yield* dlq.offer(input("x"))
      yield* dlq.offer(input("y"))
      assert.strictEqual((yield* Fiber.join(first)).item, "x")
      assert.strictEqual((yield* Fiber.join(second)).item, "y")
    }))

  it.effect("drain removes and returns every entry, oldest first, and frees the capacity", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 3 })
      for (const item of ["a", "b", "c"]) yield* dlq.offer(input(item))
      assert.deepStrictEqual((yield* dlq.drain).map((e) => e.item), ["a", "b", "c"])
      assert.strictEqual(yield* dlq.size, 0)
      for (const item of ["d", "e", "f"]) yield* dlq.offer(input(item))
      assert.strictEqual(yield* dlq.size, 3)
      assert.strictEqual((yield* dlq.take).item, "d")
      assert.strictEqual((yield* dlq.take).item, "e")
      assert.strictEqual((yield* dlq.take).item, "f")
      // empty again: a take waits
      const taker = yield* Effect.forkChild(dlq.take)
      yield* settle
      assert.isUndefined(taker.pollUnsafe())
      yield* Fiber.interrupt(taker)
    }))

  it.effect("readable messages for failures, defects and plain values", () =>
    Effect.sync(() => {
      assert.strictEqual(internal.describeCause(Cause.fail(new Unavailable({ status: 500 }))), "Unavailable {\"status\":500}")
      assert.strictEqual(internal.describeCause(Cause.fail(new Error("boom"))), "Error: boom")
      assert.strictEqual(internal.describeCause(Cause.fail("plain")), "plain")
      assert.strictEqual(internal.describeCause(Cause.fail({ status: 404 })), "{\"status\":404}")
      assert.strictEqual(internal.describeCause(Cause.die(new TypeError("x is undefined"))), "defect: TypeError: x is undefined")
      assert.strictEqual(internal.describeCause(Cause.interrupt(1)), "interrupted")
      assert.strictEqual(internal.sequenceOf("q#12"), 12)
      assert.strictEqual(internal.sequenceOf("external-id"), 0)
    }))
})

describe("DeadLetterQueue: a full queue never drops silently", () => {
  it.effect("whenFull: fail returns DeadLetterQueueFullError to the producer and stores nothing", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ name: "payments", capacity: 2, whenFull: "fail" })
      yield* dlq.offer(input("a"))
      yield* dlq.offer(input("b"))
      const [error, events] = yield* Events.collect(Effect.flip(dlq.offer(input("c"))))
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(error))
      assert.deepStrictEqual(error, new DeadLetterQueue.DeadLetterQueueFullError({ policy: "payments", capacity: 2 }))
      assert.strictEqual(error.message, 'dead-letter queue "payments" is full (capacity 2)')
      assert.deepStrictEqual(events, [
        Events.ResilienceEvent.DeadLetterRejected({ name: "payments", timestamp: 0, capacity: 2 })
      ])
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["a", "b"])
      yield* dlq.take
      yield* dlq.offer(input("c"))
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["b", "c"])
    }))

  it.effect("whenFull: backpressure makes the producer wait until there is room", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 2, whenFull: "backpressure" })
      yield* dlq.offer(input("a"))
      yield* dlq.offer(input("b"))
      const producer = yield* Effect.forkChild(dlq.offer(input("c")))
      yield* settle
      assert.isUndefined(producer.pollUnsafe())
      assert.strictEqual(yield* dlq.size, 2)
      assert.strictEqual((yield* dlq.take).item, "a")
      assert.strictEqual((yield* Fiber.join(producer)).item, "c")
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["b", "c"])
    }))

  it.effect("whenFull: backpressure serves waiting offers in order; a new offer does not overtake them", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 1, whenFull: "backpressure" })
      yield* dlq.offer(input("a"))
      const waiting: Array<Fiber.Fiber<unknown, unknown>> = []
      for (const item of ["b", "c", "d"]) {
        waiting.push(yield* Effect.forkChild(dlq.offer(input(item))))
        yield* settle
      }
      // a slot frees up, and the same fiber offers at once, before the waiting offers can run
      const taken: Array<string> = []
      const late = yield* Effect.forkChild(
        Effect.flatMap(dlq.take, (entry) => {
          taken.push(entry.item)
          return dlq.offer(input("e"))
        })
      )
      yield* settle
      for (let i = 0; i < 4; i++) taken.push((yield* dlq.take).item)
      yield* Fiber.joinAll([...waiting, late])
      assert.deepStrictEqual(taken, ["a", "b", "c", "d", "e"])
    }))

  it.effect("many producers, one consumer, capacity 5: every item delivered exactly once", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<number>({ capacity: 5, whenFull: "backpressure" })
      const items = Array.from({ length: 200 }, (_, i) => i)
      const producers = yield* Effect.forkChild(
        Effect.forEach(items, (item) => dlq.offer({ item, stage: "s", cause: Cause.fail("x") }), {
          concurrency: 50,
          discard: true
        })
      )
      const taken: Array<number> = []
      for (let i = 0; i < items.length; i++) {
        taken.push((yield* dlq.take).item)
        assert.isAtMost(yield* dlq.size, 5)
      }
      yield* Fiber.join(producers)
      assert.deepStrictEqual([...taken].sort((a, b) => a - b), items)
      assert.strictEqual(yield* dlq.size, 0)
    }))
})

describe("DeadLetterQueue: replay", () => {
  it.effect("successes are removed; failures stay in place with attempts + 1 and the new cause", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      for (const item of ["ok-1", "bad-2", "ok-3", "bad-4"]) yield* dlq.offer(input(item))
      yield* TestClock.adjust(60_000)
      const handled: Array<string> = []
      const result = yield* dlq.replay((item, entry) =>
        Effect.suspend(() => {
          handled.push(`${item}@${entry.attempts}`)
          return item.startsWith("ok") ? Effect.void : Effect.fail(new Error(`still down: ${item}`))
        })
      )
      assert.deepStrictEqual(result, { replayed: 2, failedAgain: 2 })
      assert.deepStrictEqual(handled, ["ok-1@1", "bad-2@1", "ok-3@1", "bad-4@1"])
      const left = yield* dlq.entries
      assert.deepStrictEqual(left.map((e) => [e.id, e.item, e.attempts]), [
        ["dead-letters#2", "bad-2", 2],
        ["dead-letters#4", "bad-4", 2]
      ])
      assert.deepStrictEqual(left.map((e) => [e.firstFailedAt, e.lastFailedAt]), [[0, 60_000], [0, 60_000]])
      assert.strictEqual(left[0]!.error.message, "Error: still down: bad-2")

      const again = yield* dlq.replay(() => Effect.fail("nope"))
      assert.deepStrictEqual(again, { replayed: 0, failedAgain: 2 })
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.attempts), [3, 3])
      assert.deepStrictEqual(yield* dlq.replay(() => Effect.void), { replayed: 2, failedAgain: 0 })
      assert.strictEqual(yield* dlq.size, 0)
    }))

  it.effect("a policy wraps each handler call", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      yield* dlq.offer(input("flaky"))
      const calls = yield* Ref.make(0)
      const handler = () => Effect.flatMap(Ref.updateAndGet(calls, (n) => n + 1), (n) => n < 3 ? Effect.fail("503") : Effect.void)
      const result = yield* dlq.replay(handler, {
        policy: Retry.retry(Retry.make({ maxAttempts: 3, backoff: Backoff.constant(0) }))
      })
      assert.deepStrictEqual(result, { replayed: 1, failedAgain: 0 })
      assert.strictEqual(yield* Ref.get(calls), 3)
    }))

  it.effect("a handler that dies fails again with the defect in its cause", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      yield* dlq.offer(input("poison"))
      const result = yield* dlq.replay(() => Effect.die(new RangeError("bad payload")))
      assert.deepStrictEqual(result, { replayed: 0, failedAgain: 1 })
      const [entry] = yield* dlq.entries
      assert.strictEqual(entry!.error.message, "defect: RangeError: bad payload")
      assert.isTrue(Cause.hasDies(entry!.error.cause))
      // a handler that throws is a defect too
      const thrown = yield* dlq.replay((): Effect.Effect<void> => {
        throw new Error("thrown")
      })
      assert.deepStrictEqual(thrown, { replayed: 0, failedAgain: 1 })
    }))

  it.effect("take waits while a replay runs and never gets an entry the replay handled", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      yield* dlq.offer(input("a"))
      yield* dlq.offer(input("b"))
      const gate = yield* Deferred.make<void>()
      const replay = yield* Effect.forkChild(dlq.replay((item) => item === "a" ? Deferred.await(gate) : Effect.fail("down")))
      yield* settle
      const taker = yield* Effect.forkChild(dlq.take)
      yield* settle
      assert.isUndefined(taker.pollUnsafe())
      yield* Deferred.succeed(gate, undefined)
      assert.deepStrictEqual(yield* Fiber.join(replay), { replayed: 1, failedAgain: 1 })
      const taken = yield* Fiber.join(taker)
      assert.strictEqual(taken.item, "b")
      assert.strictEqual(taken.attempts, 2)
    }))

  it.effect("an interrupted replay leaves the entry as it was", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      yield* dlq.offer(input("a"))
      const fiber = yield* Effect.forkChild(dlq.replay(() => Effect.never))
      yield* settle
      yield* Fiber.interrupt(fiber)
      const [entry] = yield* dlq.entries
      assert.strictEqual(entry!.attempts, 1)
      // the lock was released: take works
      assert.strictEqual((yield* dlq.take).item, "a")
    }))
})

describe("DeadLetterQueue: nothing leaks on interruption", () => {
  it.effect("an interrupted waiting take loses no entry", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      const taker = yield* Effect.forkChild(dlq.take)
      yield* settle
      yield* Fiber.interrupt(taker)
      yield* dlq.offer(input("a"))
      assert.strictEqual((yield* dlq.take).item, "a")
    }))

  it.effect("a take interrupted while waiting for a replay gives its wake-up back", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 })
      yield* dlq.offer(input("a"))
      yield* dlq.offer(input("b"))
      const gate = yield* Deferred.make<void>()
      const replay = yield* Effect.forkChild(dlq.replay(() => Effect.andThen(Deferred.await(gate), Effect.fail("down"))))
      yield* settle
      const taker = yield* Effect.forkChild(dlq.take)
      yield* settle
      yield* Fiber.interrupt(taker)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(replay)
      assert.strictEqual((yield* dlq.take).item, "a")
      assert.strictEqual((yield* dlq.take).item, "b")
    }))

  it.effect("an interrupted waiting offer takes no slot and stores nothing", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 1, whenFull: "backpressure" })
      yield* dlq.offer(input("a"))
      const producer = yield* Effect.forkChild(dlq.offer(input("b")))
      yield* settle
      yield* Fiber.interrupt(producer)
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["a"])
      yield* dlq.take
      yield* dlq.offer(input("c"))
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["c"])
    }))
})

describe("DeadLetterQueue: nothing lost when take, drain or offer is interrupted at any point", () => {
  const offered = ["a", "b", "c", "d"]

  /**
   * For every interruption point: `consumer` runs against a queue holding
   * `offered` (on a store that yields inside every operation), reporting what
   * it received; then the queue and the receipts together hold each entry
   * exactly once, and what is left is still in order.
   */
  const everyPoint = (
    consume: (dlq: DeadLetterQueue.DeadLetterQueue<string>, received: Array<string>) => Effect.Effect<unknown, unknown>,
    store: () => DeadLetterQueue.DeadLetterStoreShape,
    opsBeforeYield: ReadonlyArray<number> = [2048]
  ) =>
    Effect.gen(function*() {
      for (const ops of opsBeforeYield) {
        // the points run from before the first store operation to after the last one
        let untouched = 0
        let done = 0
        for (let point = 0; done < 3; point++) {
          assert.isBelow(point, 1000, "the consumer never finished")
        const dlq = yield* DeadLetterQueue.make({ capacity: offered.length, item: Schema.String }).pipe(
          Effect.provideService(DeadLetterQueue.DeadLetterStore, store())
        )
        for (const item of offered) yield* dlq.offer(input(item))
        const received: Array<string> = []
        const consumer = yield* Effect.forkChild(consume(dlq, received).pipe(Effect.provideService(Scheduler.MaxOpsBeforeYield, ops)))
        for (let i = 0; i < point; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(consumer)
        const left = (yield* dlq.entries).map((e) => e.item)
        const where = `${ops} ops per slice, interrupted after ${point} yields: left ${left}, received ${received}`
        assert.deepStrictEqual([...received, ...left].sort(), offered, where)
        assert.deepStrictEqual(left, offered.filter((item) => !received.includes(item)), where)
        // the queue still works: its tickets and slots add up
        assert.strictEqual(yield* dlq.size, left.length)
        for (const item of left) assert.strictEqual((yield* dlq.take).item, item)
        for (const item of offered) yield* dlq.offer(input(item))
        assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(dlq.offer(input("extra")))))
        if (received.length === 0) untouched++
        if (left.length === 0) done++
        }
        assert.isAbove(untouched, 0)
      }
    }).pipe(Random.withSeed(7))

  /**
   * Records what `effect` returns. The scheduler must not yield between its
   * return and the record, or the runtime itself could drop the value in
   * between (that gap is the caller's, not the queue's).
   */
  const receive = <X>(effect: Effect.Effect<X, unknown>, record: (x: X) => void) =>
    Effect.onExit(effect, (exit) => Effect.sync(() => Exit.isSuccess(exit) && record(exit.value))).pipe(
      Effect.provideService(Scheduler.PreventSchedulerYield, true)
    )

  /** Takes forever; an entry counts as received when `take` succeeds. */
  const takeAll = (dlq: DeadLetterQueue.DeadLetterQueue<string>, received: Array<string>) =>
    Effect.forever(receive(dlq.take, (entry) => received.push(entry.item)))

  const drainAll = (dlq: DeadLetterQueue.DeadLetterQueue<string>, received: Array<string>) =>
    receive(dlq.drain, (entries) => received.push(...entries.map((e) => e.item)))

  it.effect("take, on a store with I/O", () => everyPoint(takeAll, slowStore))
  // the runtime's own forced yields (every few operations) stand in for I/O
  it.effect("take, on the memory store, the fiber yielding every 3 to 7 operations", () =>
    everyPoint(takeAll, DeadLetterQueue.makeStoreMemory, [3, 4, 5, 7]))
  it.effect("drain, on a store with I/O", () => everyPoint(drainAll, slowStore))
  // a store that keeps JSON and hands back copies, as a durable one would
  it.effect("take, on a JSON store with I/O", () => everyPoint(takeAll, () => slowStore(jsonStore())))
  it.effect("drain, on a JSON store with I/O", () => everyPoint(drainAll, () => slowStore(jsonStore())))
  it.effect("drain, on the memory store, the fiber yielding every 3 to 7 operations", () =>
    everyPoint(drainAll, DeadLetterQueue.makeStoreMemory, [3, 4, 5, 7]))

  it.effect("an interrupted take keeps the capacity right: a waiting offer gets in only when the entry is handed over", () =>
    Effect.gen(function*() {
      for (let point = 0; point < positions; point++) {
        const dlq = yield* DeadLetterQueue.make<string>({ capacity: 2, whenFull: "backpressure" }).pipe(
          Effect.provideService(DeadLetterQueue.DeadLetterStore, slowStore())
        )
        yield* dlq.offer(input("a"))
        yield* dlq.offer(input("b"))
        const producer = yield* Effect.forkChild(dlq.offer(input("c")))
        const received: Array<string> = []
        const taker = yield* Effect.forkChild(takeAll(dlq, received))
        for (let i = 0; i < point; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(taker)
        yield* settle
        const left = (yield* dlq.entries).map((e) => e.item)
        const where = `interrupted after ${point} yields: left ${left}, received ${received}`
        assert.isAtMost(left.length, 2, where)
        assert.deepStrictEqual([...received, ...left].sort(), received.length === 0 ? ["a", "b"] : ["a", "b", "c"], where)
        // take what is left (the producer gets in when there is room), then exactly 2 slots are free
        while (received.length + (yield* dlq.size) > 0 && (yield* dlq.size) > 0) received.push((yield* dlq.take).item)
        yield* Fiber.join(producer)
        while ((yield* dlq.size) > 0) received.push((yield* dlq.take).item)
        assert.deepStrictEqual(received.sort(), ["a", "b", "c"], where)
        yield* dlq.offer(input("x"))
        yield* dlq.offer(input("y"))
        const blocked = yield* Effect.forkChild(dlq.offer(input("z")))
        yield* settle
        assert.isUndefined(blocked.pollUnsafe(), where)
        yield* Fiber.interrupt(blocked)
      }
    }).pipe(Random.withSeed(11)))

  it.effect("an offer interrupted at any point either stored its entry and succeeded, or stored nothing", () =>
    Effect.gen(function*() {
      for (let point = 0; point < positions; point++) {
        const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 }).pipe(
          Effect.provideService(DeadLetterQueue.DeadLetterStore, slowStore())
        )
        let stored = false
        const events: Array<Events.ResilienceEvent> = []
        const producer = yield* Effect.forkChild(
          Effect.onExit(dlq.offer(input("a")), (exit) => Effect.sync(() => stored = Exit.isSuccess(exit))).pipe(
            Events.withListener((event) => Effect.sync(() => void events.push(event)))
          )
        )
        for (let i = 0; i < point; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(producer)
        assert.strictEqual(yield* dlq.size, stored ? 1 : 0, `interrupted after ${point} yields`)
        // DeadLettered only for an offer that stands
        assert.deepStrictEqual(events.map((e) => e._tag), stored ? ["DeadLettered"] : [], `events after ${point} yields`)
      }
    }).pipe(Random.withSeed(13)))

  it.effect("a producer that retries an interrupted offer with its id stores the entry once", () =>
    Effect.gen(function*() {
      for (let point = 0; point < positions; point++) {
        const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 }).pipe(
          Effect.provideService(DeadLetterQueue.DeadLetterStore, slowStore())
        )
        const first = yield* Effect.forkChild(dlq.offer({ ...input("a"), id: "msg-1" }))
        for (let i = 0; i < point; i++) yield* Effect.yieldNow
        yield* Fiber.interrupt(first)
        const retried = yield* dlq.offer({ ...input("a"), id: "msg-1" })
        assert.strictEqual(retried.id, "msg-1")
        assert.deepStrictEqual((yield* dlq.entries).map((e) => e.id), ["msg-1"], `interrupted after ${point} yields`)
      }
    }).pipe(Random.withSeed(17)))
})

describe("DeadLetterQueue: idempotent offers", () => {
  it.effect("a second offer with the same id stores nothing and returns the existing entry, even when full", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 1, whenFull: "fail" })
      const [first, events] = yield* Events.collect(dlq.offer({ ...input("a"), id: "msg-1" }))
      assert.strictEqual(first.id, "msg-1")
      yield* TestClock.adjust(1000)
      const [again, moreEvents] = yield* Events.collect(dlq.offer({ ...input("a, again"), id: "msg-1" }))
      assert.strictEqual(again, first)
      assert.strictEqual(events.length, 1)
      assert.deepStrictEqual(moreEvents, [])
      assert.deepStrictEqual((yield* dlq.entries).map((e) => [e.id, e.item]), [["msg-1", "a"]])
      // another id still finds the queue full; once taken, the id can be offered again
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(dlq.offer({ ...input("b"), id: "msg-2" }))))
      assert.strictEqual((yield* dlq.take).id, "msg-1")
      assert.strictEqual((yield* dlq.offer({ ...input("a"), id: "msg-1" })).lastFailedAt, 1000)
    }))

  it.effect("a producer id that looks like a counter id never makes an offer without id return another entry", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 10 })
      yield* dlq.offer({ ...input("mine"), id: "q#1" })
      const entry = yield* dlq.offer(input("counted"))
      assert.strictEqual(entry.item, "counted")
      assert.strictEqual(entry.id, "q#2")
      assert.strictEqual(yield* dlq.size, 2)
    }))

  it.effect("concurrent offers with the same id store one entry", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ capacity: 10 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, slowStore())
      )
      const results = yield* Effect.forEach([1, 2, 3, 4], () => dlq.offer({ ...input("a"), id: "msg-1" }), {
        concurrency: "unbounded"
      })
      assert.deepStrictEqual(results.map((e) => e.id), ["msg-1", "msg-1", "msg-1", "msg-1"])
      assert.strictEqual(yield* dlq.size, 1)
      // the slots the duplicates took were given back
      for (let i = 0; i < 9; i++) yield* dlq.offer(input(`x${i}`))
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(dlq.offer(input("y")))))
    }).pipe(Random.withSeed(19)))
})

describe("DeadLetterQueue: store", () => {
  it.effect("queues with different names share one store without mixing their entries", () =>
    Effect.gen(function*() {
      const orders = yield* DeadLetterQueue.make<string>({ name: "orders" })
      const emails = yield* DeadLetterQueue.make<string>({ name: "emails" })
      yield* orders.offer(input("o"))
      yield* emails.offer(input("e1"))
      yield* emails.offer(input("e2"))
      const store = yield* DeadLetterQueue.DeadLetterStore
      assert.strictEqual(yield* store.count("orders"), 1)
      assert.strictEqual(yield* store.count("emails"), 2)
      assert.deepStrictEqual((yield* emails.entries).map((e) => e.item), ["e1", "e2"])
    }).pipe(Effect.provide(DeadLetterQueue.layerStoreMemory)))

  it.effect("a new queue adopts the entries its store already holds (a restart)", () =>
    Effect.gen(function*() {
      const store = DeadLetterQueue.makeStoreMemory()
      const before = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 3 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
      )
      yield* before.offer(input("a"))
      yield* before.offer(input("b"))
      const after = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 3 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
      )
      assert.strictEqual(yield* after.size, 2)
      const c = yield* after.offer(input("c"))
      assert.strictEqual(c.id, "q#3")
      // the adopted entries count against capacity
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(after.offer(input("d")))))
      assert.strictEqual((yield* after.take).item, "a")
      assert.strictEqual((yield* after.take).item, "b")
      assert.strictEqual((yield* after.take).item, "c")
    }))

  it.effect("adopting more entries than the capacity: removing the excess frees no slot", () =>
    Effect.gen(function*() {
      const store = DeadLetterQueue.makeStoreMemory()
      const big = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 3 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
      )
      for (const item of ["a", "b", "c"]) yield* big.offer(input(item))
      const small = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 1 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
      )
      yield* small.take
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(small.offer(input("d")))))
      yield* small.take
      yield* small.take
      yield* small.offer(input("d"))
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(small.offer(input("e")))))
    }))

  it.effect("a store failure reaches the producer as DeadLetterStoreError and frees the slot", () =>
    Effect.gen(function*() {
      const memory = DeadLetterQueue.makeStoreMemory()
      let failNext = true
      const flaky: DeadLetterQueue.DeadLetterStoreShape = {
        ...memory,
        append: (name, entry) =>
          failNext
            ? Effect.fail(new DeadLetterQueue.DeadLetterStoreError({ policy: name, operation: "append", cause: "disk full" }))
            : memory.append(name, entry)
      }
      const dlq = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 1 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, flaky)
      )
      const error = yield* Effect.flip(dlq.offer(input("a")))
      assert.isTrue(DeadLetterQueue.isDeadLetterStoreError(error))
      assert.strictEqual(error.message, 'dead-letter store of "q" failed to append: disk full')
      failNext = false
      yield* dlq.offer(input("b"))
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["b"])
    }))
})

describe("DeadLetterQueue: a store failure in the middle of drain", () => {
  it.effect("puts back the entries drain had removed, in place, and reports the failure", () =>
    Effect.gen(function*() {
      const memory = DeadLetterQueue.makeStoreMemory()
      let removes = 0
      const flaky: DeadLetterQueue.DeadLetterStoreShape = {
        ...memory,
        remove: (name, id) =>
          ++removes === 3
            ? Effect.fail(new DeadLetterQueue.DeadLetterStoreError({ policy: name, operation: "remove", cause: "timeout" }))
            : memory.remove(name, id)
      }
      const dlq = yield* DeadLetterQueue.make<string>({ name: "q", capacity: 4 }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, flaky)
      )
      for (const item of ["a", "b", "c", "d"]) yield* dlq.offer(input(item))
      const error = yield* Effect.flip(dlq.drain)
      assert.isTrue(DeadLetterQueue.isDeadLetterStoreError(error))
      assert.deepStrictEqual((yield* dlq.entries).map((e) => e.item), ["a", "b", "c", "d"])
      // capacity and tickets unchanged: the queue is full, and takes return the entries in order
      assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(dlq.offer(input("e")))))
      assert.deepStrictEqual((yield* dlq.drain).map((e) => e.item), ["a", "b", "c", "d"])
    }))
})

describe("DeadLetterQueue: bad options", () => {
  it.effect("capacity < 1, non-integer capacity, unknown whenFull and empty name fail with InvalidConfigError", () =>
    Effect.gen(function*() {
      yield* failsInvalid(
        DeadLetterQueue.make({ capacity: 0 }),
        "capacity",
        "DeadLetterQueue.make: capacity must be an integer >= 1, got 0"
      )
      yield* failsInvalid(
        DeadLetterQueue.make({ capacity: -5 }),
        "capacity",
        "DeadLetterQueue.make: capacity must be an integer >= 1, got -5"
      )
      yield* failsInvalid(
        DeadLetterQueue.make({ capacity: 2.5 }),
        "capacity",
        "DeadLetterQueue.make: capacity must be an integer >= 1, got 2.5"
      )
      yield* failsInvalid(
        DeadLetterQueue.make({ whenFull: "drop" as never }),
        "whenFull",
        "DeadLetterQueue.make: whenFull must be \"fail\" or \"backpressure\", got \"drop\""
      )
      yield* failsInvalid(
        DeadLetterQueue.make({ name: "" }),
        "name",
        "DeadLetterQueue.make: name must be a non-empty string, got \"\""
      )
    }))

  it.effect("defaults: name dead-letters, capacity 10,000, whenFull fail", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>()
      assert.deepStrictEqual([dlq.name, dlq.capacity, dlq.whenFull], ["dead-letters", 10_000, "fail"])
      assert.isTrue(DeadLetterQueue.isDeadLetterQueue(dlq))
      const exit = yield* Effect.exit(dlq.offer(input("x")))
      assert.isTrue(Exit.isSuccess(exit))
    }))
})

describe("DeadLetterQueue: entries cross the store encoded", () => {
  const cause = Cause.combine(
    Cause.combine(Cause.fail(new Unavailable({ status: 503 })), Cause.die(new TypeError("x is undefined"))),
    Cause.interrupt(7)
  )
  const order = new Order({ id: "o-1", placedAt: new Date(86_400_000) })
  /** A decoded order: an `Order` with the same fields (its `Date` is a new one). */
  const sameOrder = (item: Order) => {
    assert.instanceOf(item, Order)
    assert.deepStrictEqual([item.id, item.placedAt.getTime()], [order.id, order.placedAt.getTime()])
  }

  it.effect("a class item and a cause with a failure, a defect and an interruption round-trip through a JSON store", () =>
    Effect.gen(function*() {
      const store = jsonStore()
      const dlq = yield* DeadLetterQueue.make({ name: "orders", item: Order }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
      )
      const offered = yield* dlq.offer({ id: "o-1", item: order, stage: "payment", cause })
      assert.strictEqual(offered.item, order)
      // what the store holds is plain JSON
      assert.deepStrictEqual(JSON.parse(store.raw.get("orders/o-1")!), {
        id: "o-1",
        item: { id: "o-1", placedAt: "1970-01-02T00:00:00.000Z" },
        stage: "payment",
        error: {
          cause: [
            { _tag: "Fail", error: { name: "Unavailable", message: "" } },
            { _tag: "Die", defect: { name: "TypeError", message: "x is undefined" } },
            { _tag: "Interrupt", fiberId: 7 }
          ],
          message: "Unavailable {\"status\":503}; defect: TypeError: x is undefined; interrupted"
        },
        attempts: 1,
        firstFailedAt: 0,
        lastFailedAt: 0
      })
      const check = (entry: DeadLetterQueue.DeadLetterEntry<Order>) => {
        sameOrder(entry.item)
        const [fail, die, interrupt] = entry.error.cause.reasons
        assert.deepStrictEqual(entry.error.cause.reasons.map((reason) => reason._tag), ["Fail", "Die", "Interrupt"])
        assert.instanceOf(Cause.isFailReason(fail!) ? fail.error : undefined, Error)
        assert.strictEqual(Cause.isFailReason(fail!) && (fail.error as Error).name, "Unavailable")
        assert.instanceOf(Cause.isDieReason(die!) ? die.defect : undefined, Error)
        assert.strictEqual(Cause.isDieReason(die!) && (die.defect as Error).message, "x is undefined")
        assert.strictEqual(Cause.isDieReason(die!) && (die.defect as Error).name, "TypeError")
        assert.strictEqual(Cause.isInterruptReason(interrupt!) ? interrupt.fiberId : undefined, 7)
        assert.strictEqual(entry.error.message, offered.error.message)
      }
      check((yield* dlq.entries)[0]!)
      // a repeated offer returns the stored entry, decoded
      check(yield* dlq.offer({ id: "o-1", item: order, stage: "payment", cause }))
      const replayed: Array<Order> = []
      yield* dlq.replay((item) => Effect.andThen(Effect.sync(() => replayed.push(item)), Effect.fail("still down")))
      sameOrder(replayed[0]!)
      const again = (yield* dlq.entries)[0]!
      assert.strictEqual(again.attempts, 2)
      assert.deepStrictEqual(again.error.cause, Cause.fail("still down"))
      const taken = yield* dlq.take
      assert.deepStrictEqual([taken.id, taken.attempts], ["o-1", 2])
      sameOrder(taken.item)
      yield* dlq.offer({ item: order, stage: "payment", cause })
      const drained = yield* dlq.drain
      assert.strictEqual(drained.length, 1)
      check(drained[0]!)
      assert.strictEqual(yield* dlq.size, 0)
    }))

  it.effect("the memory store hands back the entry as offered, with its exact cause", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make({ name: "orders", item: Order })
      yield* dlq.offer({ item: order, stage: "payment", cause })
      const entry = yield* dlq.take
      assert.strictEqual(entry.item, order)
      assert.strictEqual(entry.error.cause, cause)
    }))

  it.effect("a durable store needs an item schema", () =>
    failsInvalid(
      DeadLetterQueue.make<string>({ name: "orders" }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, jsonStore())
      ),
      "item",
      "DeadLetterQueue.make: item must be a Schema of the item (the DeadLetterStore is durable), got undefined"
    ))

  it.effect("an item the schema rejects fails the offer with DeadLetterStoreError encode, storing nothing", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make({ name: "q", capacity: 1, item: Schema.String }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, jsonStore())
      )
      const error = yield* Effect.flip(dlq.offer({ item: 42 as unknown as string, stage: "s", cause: Cause.fail("x") }))
      assert.isTrue(DeadLetterQueue.isDeadLetterStoreError(error))
      assert.strictEqual(DeadLetterQueue.isDeadLetterStoreError(error) && error.operation, "encode")
      assert.strictEqual(yield* dlq.size, 0)
      yield* dlq.offer({ item: "fits", stage: "s", cause: Cause.fail("x") })
    }))

  it.effect("an entry that does not decode fails take, entries, drain and replay with DeadLetterStoreError decode, and stays", () =>
    Effect.gen(function*() {
      const store = jsonStore()
      const dlq = yield* DeadLetterQueue.make({ name: "orders", item: Order }).pipe(
        Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
      )
      yield* dlq.offer({ id: "o-1", item: order, stage: "payment", cause })
      // another process wrote an entry this version cannot read
      const bad = JSON.parse(store.raw.get("orders/o-1")!)
      store.raw.set("orders/o-1", JSON.stringify({ ...bad, item: { id: 1 } }))
      const decodeFailure = <E>(effect: Effect.Effect<unknown, E>) =>
        Effect.map(Effect.flip(effect), (error) => {
          assert.isTrue(DeadLetterQueue.isDeadLetterStoreError(error))
          if (!DeadLetterQueue.isDeadLetterStoreError(error)) return
          assert.strictEqual(error.operation, "decode")
          assert.isTrue(error.message.startsWith('dead-letter store of "orders" failed to decode:'), error.message)
        })
      yield* decodeFailure(dlq.take)
      yield* decodeFailure(dlq.entries)
      yield* decodeFailure(dlq.drain)
      yield* decodeFailure(dlq.replay(() => Effect.void))
      yield* decodeFailure(dlq.offer({ id: "o-1", item: order, stage: "payment", cause }))
      assert.strictEqual(yield* dlq.size, 1)
      // once repaired, it can be taken
      store.raw.set("orders/o-1", JSON.stringify(bad))
      assert.strictEqual((yield* dlq.take).id, "o-1")
    }))
})

describe("DeadLetterQueue: module structure", () => {
  it("the machinery imports the public module for types only (no value import cycle)", () => {
    for (const file of ["deadLetter.ts", "deadLetterErrors.ts", "deadLetterStore.ts"]) {
      const source = readFileSync(new URL(`../src/internal/${file}`, import.meta.url), "utf8")
      const imports = [...source.matchAll(/^import\s+(type\s+)?[^"]*?from\s+"\.\.\/DeadLetterQueue\.ts"/gm)]
      assert.isTrue(imports.every((m) => m[1] !== undefined), `${file} imports DeadLetterQueue.ts by value`)
    }
  })
})

suite("memory", () => DeadLetterQueue.layerStoreMemory)
suite("JSON, with I/O", () => Layer.sync(DeadLetterQueue.DeadLetterStore, () => slowStore(jsonStore())))

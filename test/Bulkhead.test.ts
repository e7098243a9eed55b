import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Random, Scheduler } from "effect"
import { TestClock } from "effect/testing"
import { Bulkhead, Errors, Events } from "../src/index.ts"
import * as machine from "../src/internal/bulkhead.ts"
import * as defaults from "../src/internal/defaults.ts"
import { settle } from "./helpers.ts"

/** A call that records when it starts and ends, and how many run at once. */
const probe = () => {
  const log: Array<string> = []
  let running = 0
  let peak = 0
  const call = (id: string | number, duration: Duration.Input) =>
    Effect.gen(function*() {
      running++
      peak = Math.max(peak, running)
      log.push(`start ${id} @${yield* Clock.currentTimeMillis}`)
      yield* Effect.sleep(duration)
      log.push(`end ${id} @${yield* Clock.currentTimeMillis}`)
      return id
    }).pipe(Effect.ensuring(Effect.sync(() => void running--)))
  return { log, call, peak: () => peak, running: () => running }
}

const rejectionOf = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return error !== undefined && Bulkhead.isBulkheadRejectedError(error.error) ? error.error.reason : "other"
}

const assertIdle = (bulkhead: Bulkhead.Bulkhead) =>
  Effect.gen(function*() {
    const stats = yield* bulkhead.stats
    assert.strictEqual(stats.active, 0, "active")
    assert.strictEqual(stats.queued, 0, "queued")
    assert.strictEqual(stats.available, stats.maxConcurrent, "available")
  })

describe("Bulkhead: admission", () => {
  for (const queueTimeout of [undefined, "1 minute"] as const) {
    it.effect(`runs at most maxConcurrent at once and serves waiters first in, first out (queueTimeout ${queueTimeout})`, () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "db", maxConcurrent: 2, maxQueue: 3, queueTimeout })
        const p = probe()
        const fibers = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => Effect.forkChild(p.call(i, 100).pipe(bulkhead.execute)))
        yield* settle
        assert.deepStrictEqual(yield* bulkhead.stats, {
          active: 2,
          queued: 3,
          available: 0,
          rejected: 0,
          maxConcurrent: 2,
          maxQueue: 3
        })
        yield* TestClock.adjust(300)
        assert.deepStrictEqual(yield* Fiber.joinAll(fibers), [0, 1, 2, 3, 4])
        assert.deepStrictEqual(p.log.filter((l) => l.startsWith("start")), [
          "start 0 @0",
          "start 1 @0",
          "start 2 @100",
          "start 3 @100",
          "start 4 @200"
        ])
        assert.strictEqual(p.peak(), 2)
        yield* assertIdle(bulkhead)
      }))
  }

  it.effect("rejects at once beyond maxQueue with BulkheadRejectedError { name, reason: 'full' }", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "payments", maxConcurrent: 1, maxQueue: 1 })
      const p = probe()
      const [[running, queued], events] = yield* Events.collect(Effect.gen(function*() {
        const running = yield* Effect.forkChild(p.call("a", 100).pipe(bulkhead.execute))
        const queued = yield* Effect.forkChild(p.call("b", 100).pipe(bulkhead.execute))
        yield* settle
        return [running, queued] as const
      }))
      const [error, rejectedEvents] = yield* Events.collect(Effect.flip(p.call("c", 100).pipe(bulkhead.execute)))
      assert.deepStrictEqual(events, [])
      assert.isTrue(Bulkhead.isBulkheadRejectedError(error))
      assert.strictEqual(error._tag, "BulkheadRejectedError")
      assert.strictEqual(error.policy, "payments")
      assert.strictEqual(error.reason, "full")
      assert.strictEqual(error.message, "bulkhead \"payments\" is full, call rejected")
      assert.deepStrictEqual(rejectedEvents.map((e) => [e._tag, e.name, (e as { reason?: string }).reason]), [[
        "BulkheadRejected",
        "payments",
        "full"
      ]])
      assert.isFalse(p.log.some((l) => l.includes("start c")), "a rejected call never runs")
      assert.strictEqual((yield* bulkhead.stats).rejected, 1)
      yield* TestClock.adjust(200)
      assert.deepStrictEqual([yield* Fiber.join(running), yield* Fiber.join(queued)], ["a", "b"])
      yield* assertIdle(bulkhead)
    }))

  it.effect("maxQueue defaults to 0: a call that finds no free permit is rejected at once", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(defaults.bulkhead, { name: "bulkhead", maxQueue: 0 })
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1 })
      assert.strictEqual(bulkhead.maxQueue, 0)
      assert.isUndefined(bulkhead.queueTimeout)
      const first = yield* Effect.forkChild(Effect.sleep(10).pipe(bulkhead.execute))
      yield* settle
      const error = yield* Effect.flip(Effect.void.pipe(bulkhead.execute))
      assert.strictEqual(error.reason, "full")
      yield* TestClock.adjust(10)
      yield* Fiber.join(first)
      assert.strictEqual(yield* Effect.succeed(7).pipe(bulkhead.execute), 7)
      // the module's dual form is the same call
      assert.strictEqual(yield* Effect.succeed(8).pipe(Bulkhead.execute(bulkhead)), 8)
      assert.strictEqual(yield* Bulkhead.execute(Effect.succeed(9), bulkhead), 9)
    }))

  it.effect("a waiter past queueTimeout fails with reason 'queue-timeout'; running calls are not bounded by it", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "inventory", maxConcurrent: 1, maxQueue: 5, queueTimeout: "1 second" })
      assert.strictEqual(Duration.toMillis(bulkhead.queueTimeout!), 1000)
      const p = probe()
      const [[slow, waiter], events] = yield* Events.collect(Effect.gen(function*() {
        const slow = yield* Effect.forkChild(p.call("slow", "5 seconds").pipe(bulkhead.execute))
        yield* settle
        const waiter = yield* Effect.forkChild(Effect.exit(p.call("waiter", 10).pipe(bulkhead.execute)))
        yield* settle
        assert.strictEqual((yield* bulkhead.stats).queued, 1)
        yield* TestClock.adjust(999)
        assert.isUndefined(waiter.pollUnsafe())
        yield* TestClock.adjust(1)
        return [slow, waiter] as const
      }))
      const exit = yield* Fiber.join(waiter)
      assert.strictEqual(rejectionOf(exit), "queue-timeout")
      if (Exit.isFailure(exit)) {
        const error = exit.cause.reasons.find((r) => r._tag === "Fail")
        assert.strictEqual(
          (error as { error: Bulkhead.BulkheadRejectedError }).error.message,
          "call waited too long for a permit of bulkhead \"inventory\", rejected"
        )
      }
      assert.deepStrictEqual(events.map((e) => [e._tag, e.name, e.timestamp, (e as { reason?: string }).reason]), [[
        "BulkheadRejected",
        "inventory",
        1000,
        "queue-timeout"
      ]])
      assert.deepStrictEqual(yield* bulkhead.stats, {
        active: 1,
        queued: 0,
        available: 0,
        rejected: 1,
        maxConcurrent: 1,
        maxQueue: 5
      })
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* Fiber.join(slow), "slow")
      assert.deepStrictEqual(p.log, ["start slow @0", "end slow @5000"])
      yield* assertIdle(bulkhead)
    }))

  it.effect("a waiter handed a permit at the instant its queueTimeout fires runs, and nothing leaks", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 1, queueTimeout: 100 })
      const p = probe()
      const first = yield* Effect.forkChild(p.call("first", 100).pipe(bulkhead.execute))
      yield* settle
      const second = yield* Effect.forkChild(Effect.exit(p.call("second", 10).pipe(bulkhead.execute)))
      yield* settle
      // `first` ends and hands its permit over at 100 ms, the instant `second`'s wait times out
      yield* TestClock.adjust(100)
      yield* settle
      yield* TestClock.adjust(10)
      assert.strictEqual(yield* Fiber.join(first), "first")
      const exit = yield* Fiber.join(second)
      // served or timed out, but never both, and never a lost permit
      if (Exit.isSuccess(exit)) {
        assert.deepStrictEqual(p.log, ["start first @0", "end first @100", "start second @100", "end second @110"])
        assert.strictEqual((yield* bulkhead.stats).rejected, 0)
      } else {
        assert.strictEqual(rejectionOf(exit), "queue-timeout")
        assert.strictEqual((yield* bulkhead.stats).rejected, 1)
      }
      yield* assertIdle(bulkhead)
      assert.strictEqual(yield* Effect.succeed(1).pipe(bulkhead.execute), 1)
    }))

  it.effect("a deep line: 1,000 waiters behind 10 permits are served first in, first out", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 10, maxQueue: 1_000 })
      const started: Array<number> = []
      const fibers = yield* Effect.forEach(
        Array.from({ length: 1_010 }, (_, i) => i),
        (i) => Effect.forkChild(Effect.sync(() => started.push(i)).pipe(Effect.andThen(Effect.sleep(1)), bulkhead.execute))
      )
      yield* settle
      assert.deepStrictEqual([(yield* bulkhead.stats).active, (yield* bulkhead.stats).queued], [10, 1_000])
      for (let round = 0; round < 101; round++) yield* TestClock.adjust(1)
      yield* Fiber.joinAll(fibers)
      assert.deepStrictEqual(started, Array.from({ length: 1_010 }, (_, i) => i))
      yield* assertIdle(bulkhead)
    }))

  it.effect("a waiter served before queueTimeout runs to completion, however long it runs", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 1, queueTimeout: "1 second" })
      const p = probe()
      const first = yield* Effect.forkChild(p.call("first", 500).pipe(bulkhead.execute))
      yield* settle
      const second = yield* Effect.forkChild(p.call("second", "10 seconds").pipe(bulkhead.execute))
      yield* TestClock.adjust("11 seconds")
      assert.deepStrictEqual([yield* Fiber.join(first), yield* Fiber.join(second)], ["first", "second"])
      assert.deepStrictEqual(p.log, ["start first @0", "end first @500", "start second @500", "end second @10500"])
      assert.strictEqual((yield* bulkhead.stats).rejected, 0)
      yield* assertIdle(bulkhead)
    }))

  it.effect("the success path emits no events; execute is pipeable and keeps the call's own type", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 2 })
      const [values, events] = yield* Events.collect(
        Effect.all([Effect.succeed(1).pipe(bulkhead.execute), bulkhead.execute(Effect.succeed("two"))])
      )
      const typed: [number, string] = values
      assert.deepStrictEqual(typed, [1, "two"])
      assert.deepStrictEqual(events, [])
    }))
})

describe("Bulkhead: no permit leaks", () => {
  it.effect("interrupting running calls returns their permits", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 2, maxQueue: 2 })
      const p = probe()
      const fibers = yield* Effect.forEach([0, 1, 2, 3], (i) => Effect.forkChild(p.call(i, "1 hour").pipe(bulkhead.execute)))
      yield* settle
      assert.deepStrictEqual([(yield* bulkhead.stats).active, (yield* bulkhead.stats).queued], [2, 2])
      yield* Fiber.interrupt(fibers[0]!)
      yield* Fiber.interrupt(fibers[1]!)
      yield* settle
      // the two waiters moved up
      assert.deepStrictEqual([(yield* bulkhead.stats).active, (yield* bulkhead.stats).queued], [2, 0])
      assert.deepStrictEqual(p.log, ["start 0 @0", "start 1 @0", "start 2 @0", "start 3 @0"])
      yield* Fiber.interruptAll(fibers)
      yield* settle
      yield* assertIdle(bulkhead)
      assert.strictEqual(p.running(), 0)
      // full capacity again, on the fast path
      const again = yield* Effect.forEach([4, 5], (i) => Effect.forkChild(p.call(i, 10).pipe(bulkhead.execute)))
      yield* settle
      assert.strictEqual((yield* bulkhead.stats).active, 2)
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(yield* Fiber.joinAll(again), [4, 5])
      yield* assertCounters(bulkhead, { active: 0, queued: 0, rejected: 0 })
    }))

  it.effect("interrupting queued calls removes them from the line; the others keep their order", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 4 })
      const p = probe()
      const fibers = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => Effect.forkChild(p.call(i, 100).pipe(bulkhead.execute)))
      yield* settle
      assert.strictEqual((yield* bulkhead.stats).queued, 4)
      yield* Fiber.interrupt(fibers[1]!)
      yield* Fiber.interrupt(fibers[3]!)
      yield* settle
      assert.deepStrictEqual(yield* bulkhead.stats, {
        active: 1,
        queued: 2,
        available: 0,
        rejected: 0,
        maxConcurrent: 1,
        maxQueue: 4
      })
      yield* TestClock.adjust(300)
      assert.deepStrictEqual(p.log.filter((l) => l.startsWith("start")), ["start 0 @0", "start 2 @100", "start 4 @200"])
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(fibers[1]!)))
      yield* assertIdle(bulkhead)
    }))

  it.effect("failures and defects inside pass through unchanged and return their permits", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 2 })
      const failing = Effect.sleep(10).pipe(Effect.andThen(Effect.fail("boom" as const)))
      const dying = Effect.sleep(10).pipe(Effect.andThen(Effect.die("defect")))
      const [f1, f2, f3] = [
        yield* Effect.forkChild(Effect.exit(failing.pipe(bulkhead.execute))),
        yield* Effect.forkChild(Effect.exit(dying.pipe(bulkhead.execute))),
        yield* Effect.forkChild(Effect.exit(failing.pipe(bulkhead.execute)))
      ]
      yield* settle
      assert.deepStrictEqual([(yield* bulkhead.stats).active, (yield* bulkhead.stats).queued], [1, 2])
      yield* TestClock.adjust(30)
      const exits = [yield* Fiber.join(f1), yield* Fiber.join(f2), yield* Fiber.join(f3)]
      assert.deepStrictEqual(exits[0], Exit.fail("boom"))
      assert.isTrue(Exit.hasDies(exits[1]!))
      assert.deepStrictEqual(exits[2], Exit.fail("boom"))
      yield* assertIdle(bulkhead)
      assert.strictEqual((yield* bulkhead.stats).rejected, 0, "failures inside are not rejections")
    }))

  it.effect("a waiter interrupted as a permit is handed to it passes the permit on", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 2 })
      const p = probe()
      let doomed: Fiber.Fiber<string | number, Bulkhead.BulkheadRejectedError> | undefined
      // `first` ends and lends its permit to `doomed`, which is interrupted before it runs
      const first = yield* Effect.forkChild(
        p.call("first", 100).pipe(
          bulkhead.execute,
          Effect.tap(() => Effect.suspend(() => Fiber.interrupt(doomed!)))
        )
      )
      yield* settle
      doomed = yield* Effect.forkChild(p.call("doomed", 100).pipe(bulkhead.execute))
      const next = yield* Effect.forkChild(p.call("next", 100).pipe(bulkhead.execute))
      yield* settle
      yield* assertCounters(bulkhead, { active: 1, queued: 2, rejected: 0 })
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(first), "first")
      assert.isTrue(Exit.hasInterrupts(yield* Fiber.await(doomed)))
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(next), "next")
      assert.deepStrictEqual(p.log.filter((l) => l.startsWith("start")), ["start first @0", "start next @100"])
      yield* assertIdle(bulkhead)
      yield* assertCounters(bulkhead, { active: 0, queued: 0, rejected: 0 })
    }))

  it.effect("a newcomer arriving while a permit is being handed over does not wait behind a free permit", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 2, maxQueue: 1 })
      const p = probe()
      let b: Fiber.Fiber<string | number, Bulkhead.BulkheadRejectedError> | undefined
      let newcomer: Fiber.Fiber<string | number, Bulkhead.BulkheadRejectedError> | undefined
      // `a` ends and hands its permit to `waiter`; before `waiter` has run, `b` ends (its permit becomes
      // free) and a newcomer arrives: it must use that free permit, not wait behind `waiter`
      const a = yield* Effect.forkChild(
        p.call("a", 100).pipe(
          bulkhead.execute,
          Effect.tap(() => Fiber.interrupt(b!)),
          Effect.tap(() =>
            Effect.map(
              Effect.forkDetach(p.call("newcomer", 100).pipe(bulkhead.execute), { startImmediately: true }),
              (fiber) => void (newcomer = fiber)
            )
          )
        )
      )
      b = yield* Effect.forkChild(p.call("b", "1 hour").pipe(bulkhead.execute))
      yield* settle
      const waiter = yield* Effect.forkChild(p.call("waiter", "1 hour").pipe(bulkhead.execute))
      yield* settle
      yield* TestClock.adjust(100)
      yield* Fiber.join(a)
      yield* settle
      // both start at once; which logs first depends on the scheduler tick the waiter resumes on
      // (it holds its permit from the moment `a` ends), so the order is not asserted
      assert.sameMembers(p.log.filter((l) => l.startsWith("start")), [
        "start a @0",
        "start b @0",
        "start waiter @100",
        "start newcomer @100"
      ])
      yield* assertCounters(bulkhead, { active: 2, queued: 0, rejected: 0 })
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(newcomer!), "newcomer")
      yield* Fiber.interrupt(waiter)
      yield* settle
      yield* assertCounters(bulkhead, { active: 0, queued: 0, rejected: 0 })
    }))

  it.effect("a waiter with the last lent permit leaving gives it back to the pool", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 1 })
      const first = yield* Effect.forkChild(Effect.sleep(100).pipe(bulkhead.execute))
      yield* settle
      const waiter = yield* Effect.forkChild(Effect.never.pipe(bulkhead.execute))
      yield* TestClock.adjust(100)
      yield* Fiber.join(first)
      // the waiter runs on the lent permit; interrupting it returns the permit to the pool
      assert.strictEqual((yield* bulkhead.stats).active, 1)
      yield* Fiber.interrupt(waiter)
      yield* settle
      yield* assertCounters(bulkhead, { active: 0, queued: 0, rejected: 0 })
      yield* assertIdle(bulkhead)
    }))

  it.effect("a call that waited and, running, waits again on the same bulkhead (same fiber) gives back both permits", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 2, maxQueue: 2 })
      const p = probe()
      const holders = [
        yield* Effect.forkChild(p.call("h1", 10).pipe(bulkhead.execute)),
        yield* Effect.forkChild(p.call("h2", 20).pipe(bulkhead.execute))
      ]
      yield* settle
      const inner = p.call("inner", 5).pipe(bulkhead.execute)
      const outer = yield* Effect.forkChild(Effect.andThen(p.call("outer", 1), inner).pipe(bulkhead.execute))
      yield* settle
      yield* assertCounters(bulkhead, { active: 2, queued: 1, rejected: 0 })
      yield* TestClock.adjust(11) // h1 ends at 10: outer runs, then waits again behind h2 (ends at 20)
      yield* assertCounters(bulkhead, { active: 2, queued: 1, rejected: 0 })
      yield* TestClock.adjust(20)
      assert.strictEqual(yield* Fiber.join(outer), "inner")
      yield* Fiber.join(holders[1]!)
      assert.deepStrictEqual(p.log.filter((line) => line.startsWith("start")), ["start h1 @0", "start h2 @0", "start outer @10", "start inner @20"])
      yield* assertCounters(bulkhead, { active: 0, queued: 0, rejected: 0 })
      yield* assertIdle(bulkhead)
    }))

  // MaxOpsBeforeYield 3 makes every fiber yield between almost every two
  // operations, so other fibers run inside each window of the permit hand-off.
  for (const opsBeforeYield of [2048, 3]) {
    it.effect(`seeded stress (yield every ${opsBeforeYield} ops): random durations, interruptions and timeouts never exceed maxConcurrent or maxQueue and leave nothing behind`, () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 4, maxQueue: 8, queueTimeout: 250 })
        const p = probe()
        let peakQueued = 0
        const fibers: Array<Fiber.Fiber<Exit.Exit<string | number, Bulkhead.BulkheadRejectedError>>> = []
        for (let i = 0; i < 300; i++) {
          const duration = yield* Random.nextIntBetween(1, 200)
          fibers.push(yield* Effect.forkChild(Effect.exit(p.call(i, duration).pipe(bulkhead.execute))))
          if ((yield* Random.next) < 0.15) {
            const victim = fibers[yield* Random.nextIntBetween(0, fibers.length - 1)]!
            yield* Fiber.interrupt(victim)
          }
          yield* settle
          peakQueued = Math.max(peakQueued, (yield* bulkhead.stats).queued)
          yield* TestClock.adjust(yield* Random.nextIntBetween(0, 30))
        }
        yield* TestClock.adjust("1 minute")
        const exits = yield* Effect.forEach(fibers, Fiber.await)
        const outcomes = exits.map((exit) =>
          Exit.isSuccess(exit) ? (Exit.isSuccess(exit.value) ? "ok" : rejectionOf(exit.value)) : "interrupted"
        )
        const count = (o: string | undefined) => outcomes.filter((x) => x === o).length
        assert.isAtMost(p.peak(), 4)
        assert.isAtMost(peakQueued, 8)
        assert.isAbove(count("ok"), 0)
        assert.isAbove(count("full"), 0)
        assert.isAbove(count("queue-timeout"), 0)
        assert.isAbove(count("interrupted"), 0)
        assert.strictEqual(count("ok") + count("full") + count("queue-timeout") + count("interrupted"), 300)
        assert.strictEqual((yield* bulkhead.stats).rejected, count("full") + count("queue-timeout"))
        assert.strictEqual(p.running(), 0)
        yield* assertIdle(bulkhead)
      }).pipe(Random.withSeed(42), Effect.provideService(Scheduler.MaxOpsBeforeYield, opsBeforeYield)))
  }
})

describe("Bulkhead: isolation", () => {
  it.effect("a saturated bulkhead (slow dependency) does not slow calls through another", () =>
    Effect.gen(function*() {
      const reports = yield* Bulkhead.make({ name: "reports", maxConcurrent: 2, maxQueue: 2 })
      const orders = yield* Bulkhead.make({ name: "orders", maxConcurrent: 2, maxQueue: 20 })
      // the slow dependency: 10 s per call, 10 callers
      const slow = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        () => Effect.forkChild(Effect.exit(Effect.sleep("10 seconds").pipe(reports.execute)))
      )
      yield* settle
      const ordersAlone = yield* serve20(orders)
      assert.deepStrictEqual(ordersAlone, { completed: 20, tookMillis: 1000 })
      const reportsStats = yield* reports.stats
      assert.deepStrictEqual([reportsStats.active, reportsStats.queued, reportsStats.rejected], [2, 2, 6])
      yield* TestClock.adjust("20 seconds")
      const slowOutcomes = (yield* Effect.forEach(slow, Fiber.join)).map(rejectionOf)
      assert.deepStrictEqual(slowOutcomes.filter((o) => o === undefined).length, 4)
      assert.deepStrictEqual(slowOutcomes.filter((o) => o === "full").length, 6)

      // the same load with one shared bulkhead: the slow dependency starves the fast one
      const shared = yield* Bulkhead.make({ name: "shared", maxConcurrent: 4, maxQueue: 4 })
      yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => i),
        () => Effect.forkChild(Effect.exit(Effect.sleep("10 seconds").pipe(shared.execute)))
      )
      yield* settle
      const starved = yield* Effect.exit(Effect.sleep(100).pipe(shared.execute))
      assert.strictEqual(rejectionOf(starved), "full")
    }))
})

/** 20 calls of 100 ms through `bulkhead` (2 at a time): how many complete, and how long all take. */
const serve20 = (bulkhead: Bulkhead.Bulkhead) =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.forkChild(
      Effect.forEach(Array.from({ length: 20 }, (_, i) => i), () => Effect.sleep(100).pipe(bulkhead.execute), {
        concurrency: "unbounded"
      })
    )
    yield* TestClock.adjust(1000)
    const results = yield* Fiber.join(fiber)
    return { completed: results.length, tookMillis: (yield* Clock.currentTimeMillis) - started }
  })

/** The counters of a bulkhead; `available` must match (a permit stranded anywhere shows there). */
const assertCounters = (
  bulkhead: Bulkhead.Bulkhead,
  expected: { readonly active: number; readonly queued: number; readonly rejected: number }
) =>
  Effect.gen(function*() {
    const stats = yield* bulkhead.stats
    assert.deepStrictEqual(
      { active: stats.active, queued: stats.queued, rejected: stats.rejected, available: stats.available },
      { ...expected, available: stats.maxConcurrent - expected.active }
    )
  })

describe("Bulkhead: construction", () => {
  it.effect("bad options fail with InvalidConfigError naming the field, range and value", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[Bulkhead.BulkheadOptions, string]> = [
        [{ name: "x", maxConcurrent: 0 }, "Bulkhead.make: maxConcurrent must be an integer >= 1, got 0"],
        [{ name: "x", maxConcurrent: -3 }, "Bulkhead.make: maxConcurrent must be an integer >= 1, got -3"],
        [{ name: "x", maxConcurrent: 1.5 }, "Bulkhead.make: maxConcurrent must be an integer >= 1, got 1.5"],
        [{ name: "x", maxConcurrent: 2, maxQueue: -1 }, "Bulkhead.make: maxQueue must be an integer >= 0, got -1"],
        [{ name: "x", maxConcurrent: 2, maxQueue: 0.5 }, "Bulkhead.make: maxQueue must be an integer >= 0, got 0.5"],
        [
          { name: "x", maxConcurrent: 2, queueTimeout: -5 },
          "Bulkhead.make: queueTimeout must be a duration > 0 or \"Infinity\", got -5"
        ],
        [
          { name: "x", maxConcurrent: 2, queueTimeout: 0 },
          "Bulkhead.make: queueTimeout must be a duration > 0 or \"Infinity\", got 0"
        ],
        [
          { name: "x", maxConcurrent: 2, queueTimeout: "soon" as Duration.Input },
          "Bulkhead.make: queueTimeout must be a duration > 0 or \"Infinity\", got \"soon\""
        ],
        [{ name: "", maxConcurrent: 2 }, "Bulkhead.make: name must be a non-empty string, got \"\""]
      ]
      for (const [options, message] of cases) {
        const error = yield* Effect.flip(Bulkhead.make(options))
        assert.isTrue(Errors.isInvalidConfigError(error))
        assert.strictEqual(error.message, message)
      }
      const error = yield* Effect.flip(Bulkhead.make({ name: "x", maxConcurrent: 2, maxQueue: -1 }))
      assert.deepStrictEqual([error.source, error.field, error.value], ["Bulkhead.make", "maxQueue", -1])
    }))

  it.effect("queueTimeout 'Infinity' means waiters never time out", () =>
    Effect.gen(function*() {
      const bulkhead = yield* Bulkhead.make({ name: "x", maxConcurrent: 1, maxQueue: 1, queueTimeout: "Infinity" })
      assert.isUndefined(bulkhead.queueTimeout)
    }))

  it.effect("layer: every user of the service shares one bulkhead", () =>
    Effect.gen(function*() {
      class Db extends Context.Service<Db, Bulkhead.Bulkhead>()("test/DbBulkhead") {}
      const program = Effect.gen(function*() {
        const a = yield* Db
        const b = yield* Db
        const fiber = yield* Effect.forkChild(Effect.sleep(10).pipe(a.execute))
        yield* settle
        const error = yield* Effect.flip(Effect.void.pipe(b.execute))
        yield* TestClock.adjust(10)
        yield* Fiber.join(fiber)
        return [a === b, Bulkhead.isBulkhead(a), error.reason, a.name] as const
      })
      assert.deepStrictEqual(yield* program.pipe(Effect.provide(Bulkhead.layer(Db, { name: "db", maxConcurrent: 1 }))), [
        true,
        true,
        "full",
        "db"
      ])
      const failed = yield* Effect.flip(
        Effect.provide(Effect.service(Db), Bulkhead.layer(Db, { name: "db", maxConcurrent: 0 })).pipe(Effect.asVoid)
      )
      assert.strictEqual(failed.field, "maxConcurrent")
      assert.isFalse(Bulkhead.isBulkhead({}))
      assert.isTrue(Layer.isLayer(Bulkhead.layer(Db, { name: "db", maxConcurrent: 1 })))
    }))
})

describe("Bulkhead: decisions and the line", () => {
  const config: machine.Config = { name: "m", maxConcurrent: 2, maxQueue: 1, queueTimeoutMillis: Infinity }

  it("admits while a permit is free, then queues up to maxQueue, then rejects", () => {
    assert.strictEqual(machine.admission({ running: 1, queued: 0, rejected: 0 }, config), "run")
    assert.strictEqual(machine.admission({ running: 2, queued: 0, rejected: 0 }, config), "wait")
    assert.strictEqual(machine.admission({ running: 2, queued: 1, rejected: 0 }, config), "reject")
    const line = new machine.Line(config)
    assert.deepStrictEqual([line.admit(), line.admit(), line.admit(), line.admit()], ["run", "run", "wait", "reject"])
    assert.deepStrictEqual(machine.stats(line, config), {
      active: 2,
      queued: 1,
      available: 0,
      rejected: 1,
      maxConcurrent: 2,
      maxQueue: 1
    })
  })

  it("a returned permit goes to the first waiter (it stays taken), else it is free", () => {
    assert.strictEqual(machine.releaseTo({ running: 2, queued: 1, rejected: 0 }, config), "hand-over")
    assert.strictEqual(machine.releaseTo({ running: 2, queued: 0, rejected: 0 }, config), "free")
    // after the limit was lowered below the calls running: freed, not handed over, until fewer than the limit run
    assert.strictEqual(machine.releaseTo({ running: 3, queued: 1, rejected: 0 }, config), "free")
    const line = new machine.Line({ ...config, maxQueue: 3 })
    line.admit()
    line.admit()
    const waiters = [0, 1, 2].map(() => (line.admit(), line.push(Effect.void)))
    line.leave(waiters[1]!, true)
    assert.deepStrictEqual([line.running, line.queued, line.rejected], [2, 2, 1])
    line.release()
    assert.deepStrictEqual([line.isGranted(waiters[0]!), line.isGranted(waiters[2]!)], [true, false])
    line.release()
    assert.isTrue(line.isGranted(waiters[2]!))
    assert.deepStrictEqual([line.running, line.queued], [2, 0])
    line.exit(waiters[0]!)
    line.exit(waiters[2]!)
    line.exit(waiters[2]!) // a second exit gives nothing back twice
    assert.deepStrictEqual([line.running, line.queued, line.rejected], [0, 0, 1])
  })
})

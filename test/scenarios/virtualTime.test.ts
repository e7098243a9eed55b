import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Semaphore } from "effect"
import { ragClient } from "../../scenarios/ragClient.ts"
import * as VirtualTime from "../../scenarios/virtualTime.ts"

describe("scenarios: virtual time", () => {
  it.effect("wakes sleepers in time order, at their own instants, and ends with the program", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const sleeper = (name: string, ms: number) =>
        Effect.andThen(Effect.sleep(ms), Effect.map(Clock.currentTimeMillis, (t) => void log.push(`${name}@${t}`)))
      const [, stats] = yield* VirtualTime.run(
        Effect.all([sleeper("c", 300), sleeper("a", 100), sleeper("b", 200), sleeper("a2", 100)], { concurrency: "unbounded" })
      )
      assert.deepStrictEqual(log, ["a@100", "a2@100", "b@200", "c@300"])
      assert.deepStrictEqual(stats, { instants: 3, wakes: 4, elapsed: 300 })
    }))

  it.effect("a woken fiber settles (through semaphores and deferreds) before the clock moves on", () =>
    Effect.gen(function*() {
      const [times] = yield* VirtualTime.run(Effect.gen(function*() {
        const lock = yield* Semaphore.make(1)
        const done = yield* Deferred.make<number>()
        // each holder sleeps 10 ms with the permit: the n-th ends at 10·n exactly
        const holders = yield* Effect.forEach(
          [1, 2, 3],
          () => Effect.forkChild(lock.withPermits(1)(Effect.andThen(Effect.sleep(10), Clock.currentTimeMillis))),
          { concurrency: 1 }
        )
        yield* Effect.forkChild(Effect.andThen(Effect.sleep(25), Deferred.succeed(done, 25)))
        const ends = yield* Fiber.joinAll(holders)
        return [...ends, yield* Deferred.await(done)]
      }))
      assert.deepStrictEqual(times, [10, 20, 30, 25])
    }))

  it.effect("an interrupted sleep does not wake; a program waiting on something else dies", () =>
    Effect.gen(function*() {
      const [t] = yield* VirtualTime.run(Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(Effect.sleep(1_000))
        yield* Effect.sleep(10)
        yield* Fiber.interrupt(fiber)
        return yield* Clock.currentTimeMillis
      }))
      assert.strictEqual(t, 10)
      const stuck = yield* Effect.exit(VirtualTime.run(Effect.never))
      assert.isTrue(stuck._tag === "Failure")
    }))

  it.live("live: true runs a scenario on the real clock, for a call doing real I/O", () =>
    Effect.gen(function*() {
      const result = yield* ragClient({ call: Effect.promise(() => Promise.resolve("ok")), requests: 20, rate: 200, live: true })
      assert.strictEqual(result.with.records.length, 20)
      assert.isTrue(result.with.records.every((r) => r.ok))
    }))
})

import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Random, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Bulkhead, Errors, Events, LoadShedder } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import * as machine from "../src/internal/loadShedder.ts"
import { settle } from "./helpers.ts"

type Priority = LoadShedder.Priority

/** Forks one call of `priority` that holds its slot for `millis`, and returns its exit later. */
const hold = (shedder: LoadShedder.LoadShedder, priority: Priority, millis = 1000) =>
  Effect.forkChild(Effect.exit(Effect.sleep(millis).pipe(Effect.as(priority), shedder.execute({ priority }))))

const shedPriority = (exit: Exit.Exit<unknown, unknown>): Priority | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const fail = exit.cause.reasons.find((r) => r._tag === "Fail")
  return fail !== undefined && LoadShedder.isLoadShedError(fail.error) ? fail.error.priority : undefined
}

describe("LoadShedder: admission by priority", () => {
  it.effect("sheddable is admitted below 50% of maxInFlight, normal below 80%, critical up to the hard cap", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "api", maxInFlight: 10 })
      const admitted = (priority: Priority) =>
        Effect.gen(function*() {
          const fiber = yield* hold(shedder, priority)
          yield* settle
          const exit = fiber.pollUnsafe()
          return exit === undefined || (Exit.isSuccess(exit) && Exit.isSuccess(exit.value))
        })
      const trace: Array<string> = []
      for (const priority of ["sheddable", "sheddable", "sheddable", "sheddable", "sheddable", "sheddable"] as const) {
        trace.push(`${priority}:${(yield* admitted(priority)) ? "in" : "shed"}`)
      }
      for (const priority of ["normal", "normal", "normal", "normal"] as const) {
        trace.push(`${priority}:${(yield* admitted(priority)) ? "in" : "shed"}`)
      }
      for (const priority of ["critical", "critical", "critical"] as const) {
        trace.push(`${priority}:${(yield* admitted(priority)) ? "in" : "shed"}`)
      }
      assert.deepStrictEqual(trace, [
        "sheddable:in",
        "sheddable:in",
        "sheddable:in",
        "sheddable:in",
        "sheddable:in",
        "sheddable:shed", // 5 in flight = 50%
        "normal:in",
        "normal:in",
        "normal:in",
        "normal:shed", // 8 in flight = 80%
        "critical:in",
        "critical:in",
        "critical:shed" // 10 in flight: the hard cap
      ])
      assert.deepStrictEqual(yield* shedder.stats, {
        inFlight: 10,
        maxInFlight: 10,
        limits: { sheddable: 5, normal: 8, critical: 10 },
        shed: { critical: 1, normal: 1, sheddable: 1 },
        overloaded: true
      })
      yield* TestClock.adjust(1000)
      const stats = yield* shedder.stats
      assert.strictEqual(stats.inFlight, 0)
      assert.isFalse(stats.overloaded)
    }))

  it.effect("a shed call fails at once with LoadShedError { name, priority }, never runs, and emits Shed", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "search", maxInFlight: 2 })
      const busy = yield* hold(shedder, "normal")
      yield* settle
      let ran = false
      const [error, events] = yield* Events.collect(
        Effect.flip(Effect.sync(() => void (ran = true)).pipe(shedder.execute({ priority: "sheddable" })))
      )
      assert.isFalse(ran)
      assert.isTrue(LoadShedder.isLoadShedError(error))
      assert.strictEqual(error._tag, "LoadShedError")
      assert.strictEqual(error.policy, "search")
      assert.strictEqual(error.priority, "sheddable")
      assert.strictEqual(error.message, 'load shedder "search" shed a sheddable call under load')
      assert.deepStrictEqual(events.map((e) => [e._tag, e.name, (e as { priority?: string }).priority]), [[
        "Shed",
        "search",
        "sheddable"
      ]])
      yield* TestClock.adjust(1000)
      yield* Fiber.join(busy)
    }))

  it.effect("admitted calls emit nothing and pass their own result, error and defect through", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "x", maxInFlight: 1 })
      const [results, events] = yield* Events.collect(Effect.all([
        Effect.exit(Effect.succeed(1).pipe(shedder.execute())),
        Effect.exit(Effect.fail("nope").pipe(shedder.execute({ priority: "critical" }))),
        Effect.exit(Effect.die("bug").pipe(shedder.execute({ priority: "sheddable" })))
      ]))
      assert.deepStrictEqual(results[0], Exit.succeed(1))
      assert.deepStrictEqual(results[1], Exit.fail("nope"))
      assert.isTrue(Exit.hasDies(results[2]))
      assert.deepStrictEqual(events, [])
      assert.strictEqual((yield* shedder.stats).inFlight, 0)
    }))

  it.effect("a burst of 10× capacity keeps every critical call and sheds sheddable work first", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "api", maxInFlight: 100 })
      // 1,000 calls: 20 critical (the reserve above normalAt), 480 normal, 500 sheddable, in a seeded random order
      const burst = yield* Random.shuffle([
        ...Array.from({ length: 20 }, () => "critical" as const),
        ...Array.from({ length: 480 }, () => "normal" as const),
        ...Array.from({ length: 500 }, () => "sheddable" as const)
      ])
      const [fibers, events] = yield* Events.collect(Effect.gen(function*() {
        const fibers = yield* Effect.forEach(burst, (priority) => hold(shedder, priority))
        yield* settle
        return fibers
      }))
      const peak = (yield* shedder.stats).inFlight
      yield* TestClock.adjust(1000)
      const exits = yield* Effect.forEach(fibers, Fiber.join)
      const outcome = (priority: Priority) => {
        const calls = exits.filter((_, i) => burst[i] === priority)
        const shed = calls.filter((exit) => shedPriority(exit) === priority).length
        return { calls: calls.length, kept: calls.length - shed, shed }
      }
      const critical = outcome("critical")
      const normal = outcome("normal")
      const sheddable = outcome("sheddable")
      assert.deepStrictEqual(critical, { calls: 20, kept: 20, shed: 0 })
      assert.strictEqual(peak, 100)
      assert.strictEqual(critical.kept + normal.kept + sheddable.kept, 100)
      // sheddable work got at most its 50% share, and was shed at a higher rate than normal work
      assert.isAtMost(sheddable.kept, 50)
      assert.isAbove(sheddable.shed / sheddable.calls, normal.shed / normal.calls)
      // the first calls shed were sheddable ones: normal work was only shed once load reached 80%
      const shedEvents = events.filter(Events.ResilienceEvent.$is("Shed"))
      assert.strictEqual(shedEvents.length, 900)
      assert.strictEqual(shedEvents[0]!.priority, "sheddable")
      const firstNormalShed = shedEvents.findIndex((e) => e.priority === "normal")
      assert.isTrue(shedEvents.slice(0, firstNormalShed).every((e) => e.priority === "sheddable"))
      assert.deepStrictEqual((yield* shedder.stats).shed, { critical: 0, normal: normal.shed, sheddable: sheddable.shed })
      assert.strictEqual((yield* shedder.stats).inFlight, 0)
    }).pipe(Random.withSeed(7)))

  it.effect("custom thresholds, rounded up without floating-point dust", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "x", maxInFlight: 10, sheddableAt: 0.7, normalAt: 0.95 })
      assert.deepStrictEqual((yield* shedder.stats).limits, { sheddable: 7, normal: 10, critical: 10 })
      assert.strictEqual(machine.limitOf(0.7, 10), 7)
      assert.strictEqual(machine.limitOf(0.55, 10), 6)
      assert.strictEqual(machine.limitOf(0, 10), 0)
      const none = yield* LoadShedder.make({ name: "x", maxInFlight: 4, sheddableAt: 0, normalAt: 0 })
      assert.strictEqual(shedPriority(yield* Effect.exit(Effect.void.pipe(none.execute()))), "normal")
      assert.strictEqual(yield* Effect.succeed("only critical").pipe(none.execute({ priority: "critical" })), "only critical")
    }))

  it("defaults: sheddable at 50%, normal at 80%, priority normal", () => {
    assert.deepStrictEqual(defaults.loadShedder, {
      name: "load-shedder",
      sheddableAt: 0.5,
      normalAt: 0.8,
      priority: "normal",
      degradeName: "degrade"
    })
  })
})

describe("LoadShedder: no leaks and call forms", () => {
  it.effect("interrupted, failed and dying calls leave the in-flight count", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "x", maxInFlight: 4 })
      const running = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(Effect.never.pipe(shedder.execute({ priority: "critical" }))))
      const failing = yield* Effect.forkChild(Effect.exit(Effect.sleep(10).pipe(Effect.andThen(Effect.fail("x")), shedder.execute())))
      yield* settle
      assert.strictEqual((yield* shedder.stats).inFlight, 4)
      yield* Fiber.interruptAll(running)
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(yield* Fiber.join(failing), Exit.fail("x"))
      yield* Effect.exit(Effect.die("boom").pipe(shedder.execute()))
      assert.strictEqual((yield* shedder.stats).inFlight, 0)
      assert.isFalse(yield* shedder.overloaded)
    }))

  it.effect("data-first and data-last forms; the default priority is normal", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "x", maxInFlight: 10, sheddableAt: 0, normalAt: 0.5 })
      const a: number = yield* shedder.execute(Effect.succeed(1), { priority: "sheddable" }).pipe(
        Effect.catchTag("LoadShedError", () => Effect.succeed(-1))
      )
      const b: number = yield* Effect.succeed(2).pipe(shedder.execute({ priority: "critical" }))
      const d: number = yield* shedder.execute(Effect.succeed(4))
      const e: number = yield* Effect.succeed(5).pipe(shedder.execute())
      // @ts-expect-error the uncalled form would lose the effect's types, so it does not compile
      Effect.succeed(3).pipe(shedder.execute)
      assert.deepStrictEqual([a, b, d, e], [-1, 2, 4, 5])
      assert.deepStrictEqual((yield* shedder.stats).shed, { critical: 0, normal: 0, sheddable: 1 })
    }))

  it.effect("an unknown priority is a construction error naming the field", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "x", maxInFlight: 10 })
      try {
        shedder.execute({ priority: "urgent" as Priority })
        assert.fail("expected a throw")
      } catch (error) {
        assert.isTrue(Errors.isInvalidConfigError(error))
        assert.strictEqual(
          (error as Errors.InvalidConfigError).message,
          `LoadShedder.execute: priority must be "critical", "normal" or "sheddable", got "urgent"`
        )
      }
    }))

  it.effect("in flight includes calls waiting in a bulkhead inside the shedder", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "api", maxInFlight: 8 })
      const bulkhead = yield* Bulkhead.make({ name: "db", maxConcurrent: 2, maxQueue: 10 })
      const call = (priority: Priority) =>
        Effect.forkChild(Effect.exit(Effect.sleep(100).pipe(bulkhead.execute, shedder.execute({ priority }))))
      const fibers = yield* Effect.forEach(["normal", "normal", "normal", "normal"] as const, call)
      yield* settle
      assert.deepStrictEqual([(yield* bulkhead.stats).active, (yield* bulkhead.stats).queued], [2, 2])
      assert.strictEqual((yield* shedder.stats).inFlight, 4)
      assert.isTrue(yield* shedder.overloaded)
      const shed = yield* call("sheddable")
      yield* settle
      assert.strictEqual(shedPriority(yield* Fiber.join(shed)), "sheddable")
      yield* TestClock.adjust(200)
      yield* Effect.forEach(fibers, Fiber.join)
      assert.isFalse(yield* shedder.overloaded)
    }))
})

describe("LoadShedder.degrade", () => {
  it.effect("runs the degraded variant while the signal is on and emits Degraded; the full one otherwise", () =>
    Effect.gen(function*() {
      const signal = yield* Ref.make(false)
      const page = LoadShedder.degrade({
        name: "product-page",
        full: Effect.succeed("with recommendations"),
        degraded: Effect.succeed("without recommendations"),
        when: Ref.get(signal)
      })
      const [first, quiet] = yield* Events.collect(page)
      yield* Ref.set(signal, true)
      const [second, noisy] = yield* Events.collect(page)
      yield* Ref.set(signal, false)
      const third = yield* page
      assert.deepStrictEqual([first, second, third], ["with recommendations", "without recommendations", "with recommendations"])
      assert.deepStrictEqual(quiet, [])
      assert.deepStrictEqual(noisy.map((e) => [e._tag, e.name]), [["Degraded", "product-page"]])
    }))

  it.effect("follows a shedder's overloaded signal: the analytics stage is skipped under load", () =>
    Effect.gen(function*() {
      const shedder = yield* LoadShedder.make({ name: "pipeline", maxInFlight: 4 })
      let analyticsRuns = 0
      const handle = LoadShedder.degrade({
        full: Effect.sync(() => void analyticsRuns++).pipe(Effect.as("processed + analytics")),
        degraded: Effect.succeed("processed"),
        when: shedder.overloaded
      })
      assert.strictEqual(yield* handle, "processed + analytics")
      const load = yield* Effect.forEach([1, 2], () => hold(shedder, "critical"))
      yield* settle
      const [underLoad, events] = yield* Events.collect(handle)
      assert.strictEqual(underLoad, "processed")
      assert.deepStrictEqual(events.map((e) => [e._tag, e.name]), [["Degraded", "degrade"]])
      yield* TestClock.adjust(1000)
      yield* Effect.forEach(load, Fiber.join)
      assert.strictEqual(yield* handle, "processed + analytics")
      assert.strictEqual(analyticsRuns, 2)
    }))

  it("rejects options that are not effects and empty names", () => {
    assert.throws(
      () => LoadShedder.degrade({ full: Effect.void, degraded: "no" as never, when: Effect.succeed(true) }),
      "LoadShedder.degrade: degraded must be an Effect, got \"no\""
    )
    assert.throws(
      () => LoadShedder.degrade({ name: "", full: Effect.void, degraded: Effect.void, when: Effect.succeed(true) }),
      "LoadShedder.degrade: name must be a non-empty string, got \"\""
    )
  })
})

describe("LoadShedder: construction", () => {
  it.effect("bad options fail with InvalidConfigError naming the field, range and value", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[LoadShedder.LoadShedderOptions, string]> = [
        [{ name: "x", maxInFlight: 0 }, "LoadShedder.make: maxInFlight must be an integer >= 1, got 0"],
        [{ name: "x", maxInFlight: 2.5 }, "LoadShedder.make: maxInFlight must be an integer >= 1, got 2.5"],
        [{ name: "x", maxInFlight: 10, sheddableAt: 1.2 }, "LoadShedder.make: sheddableAt must be a number in [0, 1], got 1.2"],
        [{ name: "x", maxInFlight: 10, normalAt: -0.1 }, "LoadShedder.make: normalAt must be a number in [0, 1], got -0.1"],
        [
          { name: "x", maxInFlight: 10, sheddableAt: 0.9, normalAt: 0.6 },
          "LoadShedder.make: sheddableAt must be a number in [0, normalAt = 0.6], got 0.9"
        ],
        [{ name: "", maxInFlight: 10 }, "LoadShedder.make: name must be a non-empty string, got \"\""]
      ]
      for (const [options, message] of cases) {
        const error = yield* Effect.flip(LoadShedder.make(options))
        assert.isTrue(Errors.isInvalidConfigError(error))
        assert.strictEqual(error.message, message)
      }
    }))

  it.effect("layer: every user of the service shares one in-flight count", () =>
    Effect.gen(function*() {
      class Api extends Context.Service<Api, LoadShedder.LoadShedder>()("test/ApiShedder") {}
      const program = Effect.gen(function*() {
        const a = yield* Api
        const fiber = yield* Effect.forkChild(Effect.sleep(10).pipe(a.execute({ priority: "critical" })))
        yield* settle
        const b = yield* Api
        const stats = yield* b.stats
        yield* TestClock.adjust(10)
        yield* Fiber.join(fiber)
        return [stats.inFlight, LoadShedder.isLoadShedder(b), b.name, b.maxInFlight] as const
      })
      assert.deepStrictEqual(
        yield* program.pipe(Effect.provide(LoadShedder.layer(Api, { name: "api", maxInFlight: 3 }))),
        [1, true, "api", 3]
      )
      assert.isFalse(LoadShedder.isLoadShedder({}))
    }))
})

describe("LoadShedder: state machine", () => {
  const limits: machine.Limits = { sheddable: 1, normal: 2, critical: 3 }

  it("admits while in-flight is below the priority's limit, and counts what it sheds", () => {
    let s = machine.initial
    const trace: Array<boolean> = []
    for (const p of ["sheddable", "sheddable", "normal", "normal", "critical", "critical"] as const) {
      const [ok, next] = machine.admit(s, limits, p)
      trace.push(ok)
      s = next
    }
    assert.deepStrictEqual(trace, [true, false, true, false, true, false])
    assert.deepStrictEqual(s, { inFlight: 3, shed: { critical: 1, normal: 1, sheddable: 1 } })
    assert.isTrue(machine.overloaded(s, limits))
    assert.isFalse(machine.overloaded(machine.release(machine.release(machine.release(s))), limits))
  })
})

import { assert, describe, it } from "@effect/vitest"
import { Cause, Data, Effect, Fiber, Random, Ref, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, DeadLetterQueue, Errors, Events, Idempotency, Pipeline, Retry } from "../src/index.ts"
import { settle } from "./helpers.ts"

class Transient extends Data.TaggedError("Transient")<{ readonly stage: string; readonly attempt: number }> {}
class Permanent extends Data.TaggedError("Permanent")<{ readonly stage: string }> {}

interface Event {
  readonly index: number
  readonly key: string
  readonly trail: ReadonlyArray<string>
}

const events = (n: number): Array<Event> => Array.from({ length: n }, (_, index) => ({ index, key: `e${index}`, trail: [] }))

/** A stage handler that appends the stage name to the event's trail. */
const mark = (stage: string) => (event: Event): Effect.Effect<Event> => Effect.succeed({ ...event, trail: [...event.trail, stage] })

const noDelay = Backoff.constant(0)

const collect = <A, E, R>(run: Pipeline.PipelineRun<A, E, R>) =>
  Effect.flatMap(Stream.runCollect(run.stream), (out) => Effect.map(run.summary, (summary) => ({ out, summary })))

describe("Pipeline: processing", () => {
  it.effect("items go through the stages in order; the output keeps the input order", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const stages = [Pipeline.stage("a", mark("a")), Pipeline.stage("b", mark("b")), Pipeline.stage("c", mark("c"))]
      const [{ out, summary }, emitted] = yield* Events.collect(
        Effect.flatMap(Pipeline.run(Stream.fromIterable(events(5)), stages, { deadLetters }), collect)
      )
      assert.deepStrictEqual(out.map((p) => p.item.index), [0, 1, 2, 3, 4])
      assert.deepStrictEqual(out.map((p) => [p.item.trail.join(), p.skipped.length]), Array(5).fill(["a,b,c", 0]))
      assert.deepStrictEqual(summary, {
        input: 5,
        processed: 5,
        deadLettered: 0,
        skippedStages: 0,
        duplicates: 0,
        inFlight: 0,
        stages: {
          a: { succeeded: 5, deadLettered: 0, skipped: 0, duplicates: 0 },
          b: { succeeded: 5, deadLettered: 0, skipped: 0, duplicates: 0 },
          c: { succeeded: 5, deadLettered: 0, skipped: 0, duplicates: 0 }
        }
      })
      assert.deepStrictEqual(emitted, [])
    }))

  it.effect("a failing item goes to the dead-letter queue with its stage and cause; the stream goes on", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "events-dlq", capacity: 10 })
      const ran: Array<string> = []
      const stages = [
        Pipeline.stage("validate", (e: Event) => e.index === 2 ? Effect.fail(new Permanent({ stage: "validate" })) : mark("validate")(e)),
        Pipeline.stage("store", (e: Event) => Effect.sync(() => (ran.push(e.key), e)))
      ]
      const [{ out, summary }, emitted] = yield* Events.collect(
        Effect.flatMap(Pipeline.run(Stream.fromIterable(events(4)), stages, { deadLetters }), collect)
      )
      assert.deepStrictEqual(out.map((p) => p.item.index), [0, 1, 3])
      assert.deepStrictEqual(ran, ["e0", "e1", "e3"])
      assert.strictEqual(summary.deadLettered, 1)
      assert.strictEqual(summary.stages.validate!.deadLettered, 1)
      const [entry] = yield* deadLetters.entries
      assert.strictEqual(entry!.stage, "validate")
      assert.strictEqual(entry!.item.index, 2)
      assert.deepStrictEqual(Cause.squash(entry!.error.cause), new Permanent({ stage: "validate" }))
      assert.deepStrictEqual(emitted.map((e) => e._tag === "DeadLettered" && [e.name, e.stage, e.id]), [
        ["events-dlq", "validate", "events-dlq#1"]
      ])
    }))

  it.effect("the dead letter names the failing stage and holds the item as that stage received it", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const ran: Array<string> = []
      const failAt = (stage: string, index: number) => (e: Event): Effect.Effect<Event, Permanent> =>
        Effect.suspend(() => {
          ran.push(`${stage}:${e.index}`)
          return e.index === index ? Effect.fail(new Permanent({ stage })) : mark(stage)(e)
        })
      // three stream steps (concurrency 1, 4, 1), two stages in the last one
      const stages = [
        Pipeline.stage("a", failAt("a", 0)),
        Pipeline.stage("b", failAt("b", 1), { concurrency: 4 }),
        Pipeline.stage("c", failAt("c", 2)),
        Pipeline.stage("d", failAt("d", 3))
      ]
      const { out } = yield* Effect.flatMap(Pipeline.run(Stream.fromIterable(events(5)), stages, { deadLetters }), collect)
      assert.deepStrictEqual(out.map((p) => [p.item.index, p.item.trail.join()]), [[4, "a,b,c,d"]])
      assert.deepStrictEqual((yield* deadLetters.entries).map((l) => [l.item.index, l.stage, l.item.trail.join()]), [
        [0, "a", ""],
        [1, "b", "a"],
        [2, "c", "a,b"],
        [3, "d", "a,b,c"]
      ])
      // no stage ran after an item's failure
      assert.deepStrictEqual(ran.filter((r) => r.endsWith(":0")), ["a:0"])
      assert.deepStrictEqual(ran.filter((r) => r.endsWith(":1")), ["a:1", "b:1"])
      assert.deepStrictEqual(ran.filter((r) => r.endsWith(":2")), ["a:2", "b:2", "c:2"])
    }))

  it.effect("a handler that dies or throws sends the item to the dead-letter queue with the defect", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const stages = [
        Pipeline.stage("parse", (e: Event) => e.index === 1 ? Effect.die(new TypeError("payload is undefined")) : Effect.succeed(e)),
        Pipeline.stage("score", (e: Event) => {
          if (e.index === 3) throw new RangeError("score out of range")
          return Effect.succeed(e)
        })
      ]
      const { out, summary } = yield* Effect.flatMap(
        Pipeline.run(Stream.fromIterable(events(5)), stages, { deadLetters }),
        collect
      )
      assert.deepStrictEqual(out.map((p) => p.item.index), [0, 2, 4])
      assert.strictEqual(summary.processed + summary.deadLettered, 5)
      assert.deepStrictEqual((yield* deadLetters.entries).map((e) => [e.item.index, e.stage, e.error.message]), [
        [1, "parse", "defect: TypeError: payload is undefined"],
        [3, "score", "defect: RangeError: score out of range"]
      ])
    }))

  it.effect("concurrent stages keep the input order; ordered: false emits in completion order", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      // item i takes (8 - i) ms: the last finishes first
      const slow = Pipeline.stage("slow", (e: Event) => Effect.as(Effect.sleep(8 - e.index), e), { concurrency: 8 })
      const ordered = yield* Pipeline.run(Stream.fromIterable(events(8)), [slow], { deadLetters })
      const first = yield* Effect.forkChild(Stream.runCollect(ordered.stream))
      yield* settle
      yield* TestClock.adjust(7)
      assert.isUndefined(first.pollUnsafe())
      yield* TestClock.adjust(1)
      assert.deepStrictEqual((yield* Fiber.join(first)).map((p) => p.item.index), [0, 1, 2, 3, 4, 5, 6, 7])

      const unordered = yield* Pipeline.run(Stream.fromIterable(events(8)), [slow], { deadLetters, ordered: false })
      const second = yield* Effect.forkChild(Stream.runCollect(unordered.stream))
      yield* settle
      yield* TestClock.adjust(8)
      assert.deepStrictEqual((yield* Fiber.join(second)).map((p) => p.item.index), [7, 6, 5, 4, 3, 2, 1, 0])
    }))

  it.effect("a stage's concurrency bounds the items it handles at once", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const tracked = (e: Event) =>
        Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(running, (n) => n + 1)
          yield* Ref.update(peak, (p) => Math.max(p, now))
          yield* Effect.sleep(10)
          yield* Ref.update(running, (n) => n - 1)
          return e
        })
      const run = yield* Pipeline.run(
        Stream.fromIterable(events(12)),
        [Pipeline.stage("s", tracked, { concurrency: 4 }), Pipeline.stage("t", (e: Event) => Effect.succeed(e), { concurrency: 2 })],
        { deadLetters }
      )
      const fiber = yield* Effect.forkChild(Stream.runCollect(run.stream))
      yield* settle
      yield* TestClock.adjust(10)
      yield* settle
      yield* TestClock.adjust(10)
      yield* settle
      yield* TestClock.adjust(10)
      assert.strictEqual((yield* Fiber.join(fiber)).length, 12)
      assert.strictEqual(yield* Ref.get(peak), 4)
    }))

  it.effect("the data-last form and an empty stage list", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<number>({ capacity: 10 })
      const summary = yield* Stream.make(1, 2, 3).pipe(Pipeline.runDrain([], { deadLetters }))
      assert.strictEqual(summary.processed, 3)
      const run = yield* Stream.make(1, 2).pipe(Pipeline.run([Pipeline.stage("double", (n: number) => Effect.succeed(n * 2))], { deadLetters }))
      assert.deepStrictEqual((yield* Stream.runCollect(run.stream)).map((p) => p.item), [2, 4])
    }))
})

describe("Pipeline: non-critical stages under overload", () => {
  it.effect("a non-critical stage is skipped while the shedder says overload; the item is marked", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const overloaded = yield* Ref.make(false)
      const shedder = { overloaded: Ref.get(overloaded) }
      const stages = [
        // items 2 and 3 arrive while the system is overloaded
        Pipeline.stage("ingest", (e: Event) => Effect.as(Ref.set(overloaded, e.index === 2 || e.index === 3), e)),
        Pipeline.stage("recommend", mark("recommend"), { critical: false }),
        Pipeline.stage("store", mark("store"))
      ]
      const [{ out, summary }, emitted] = yield* Events.collect(
        Effect.flatMap(Pipeline.run(Stream.fromIterable(events(5)), stages, { name: "analytics", deadLetters, shedder }), collect)
      )
      assert.deepStrictEqual(out.map((p) => [p.item.index, p.item.trail.join(), p.skipped]), [
        [0, "recommend,store", []],
        [1, "recommend,store", []],
        [2, "store", ["recommend"]],
        [3, "store", ["recommend"]],
        [4, "recommend,store", []]
      ])
      assert.strictEqual(summary.skippedStages, 2)
      assert.strictEqual(summary.stages.recommend!.skipped, 2)
      assert.strictEqual(summary.processed, 5)
      assert.deepStrictEqual(emitted, [
        Events.ResilienceEvent.StageSkipped({ name: "analytics", timestamp: 0, stage: "recommend" }),
        Events.ResilienceEvent.StageSkipped({ name: "analytics", timestamp: 0, stage: "recommend" })
      ])
    }))

  it.effect("critical stages always run; either signal (shedder or overloaded) skips", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const stages = [Pipeline.stage("critical", mark("critical")), Pipeline.stage("optional", mark("optional"), { critical: false })]
      for (
        const [shedder, overloaded, skipped] of [
          [false, false, false],
          [true, false, true],
          [false, true, true]
        ] as const
      ) {
        const { out } = yield* Effect.flatMap(
          Pipeline.run(Stream.fromIterable(events(2)), stages, {
            deadLetters,
            shedder: { overloaded: Effect.succeed(shedder) },
            overloaded: Effect.succeed(overloaded)
          }),
          collect
        )
        assert.deepStrictEqual(out.map((p) => p.item.trail.join()), skipped ? ["critical", "critical"] : ["critical,optional", "critical,optional"])
      }
    }))
})

describe("Pipeline: idempotent stages", () => {
  it.effect("items with the same key run the stage once; the duplicates get its output", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const charges = yield* Ref.make<Array<string>>([])
      const charge = Pipeline.stage(
        "charge",
        (e: Event): Effect.Effect<Event> => Effect.as(Ref.update(charges, (all) => [...all, e.key]), { ...e, trail: [`charged#${e.index}`] }),
        { idempotencyKey: (e) => e.key }
      )
      const input = [0, 1, 0, 2, 1, 0].map((i, index) => ({ index, key: `order-${i}`, trail: [] }))
      const [{ out, summary }, emitted] = yield* Events.collect(
        Effect.flatMap(Pipeline.run(Stream.fromIterable(input), [charge], { name: "orders", deadLetters }), collect)
      )
      assert.deepStrictEqual(yield* Ref.get(charges), ["order-0", "order-1", "order-2"])
      // a duplicate carries the output of the run it shared
      assert.deepStrictEqual(out.map((p) => p.item.trail.join()), ["charged#0", "charged#1", "charged#0", "charged#3", "charged#1", "charged#0"])
      assert.strictEqual(summary.duplicates, 3)
      assert.strictEqual(summary.stages.charge!.duplicates, 3)
      assert.strictEqual(summary.processed, 6)
      assert.strictEqual(emitted.filter((e) => e._tag === "IdempotentHit" && e.name === "orders/charge").length, 3)
    }))

  it.effect("a guard passed to the stage is shared between runs", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const guard = yield* Idempotency.make({ ttl: "1 hour" })
      const runs = yield* Ref.make(0)
      const stage = Pipeline.stage("once", (e: Event) => Effect.as(Ref.update(runs, (n) => n + 1), e), {
        idempotencyKey: (e) => e.key,
        idempotency: guard
      })
      yield* Pipeline.runDrain(Stream.fromIterable(events(3)), [stage], { deadLetters })
      const second = yield* Pipeline.runDrain(Stream.fromIterable(events(3)), [stage], { deadLetters })
      assert.strictEqual(yield* Ref.get(runs), 3)
      assert.strictEqual(second.duplicates, 3)
    }))
  it.effect("deadLetterId: an item that fails again in a second run finds its dead letter and stores nothing", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const stage = Pipeline.stage("fails", (e: Event) => e.index % 2 === 0 ? Effect.fail(new Permanent({ stage: "fails" })) : Effect.succeed(e))
      const options = { deadLetters, deadLetterId: (e: Event) => e.key }
      yield* Pipeline.runDrain(Stream.fromIterable(events(4)), [stage], options)
      const second = yield* Pipeline.runDrain(Stream.fromIterable(events(4)), [stage], options)
      assert.strictEqual(second.deadLettered, 2)
      assert.deepStrictEqual((yield* deadLetters.entries).map((entry) => entry.id), ["e0", "e2"])
      const bad = yield* Effect.flip(Pipeline.run(Stream.empty, [stage], { deadLetters, deadLetterId: "key" as never }))
      assert.strictEqual(bad.field, "deadLetterId")
    }))
})

describe("Pipeline: the dead-letter queue is never bypassed", () => {
  it.effect("a full queue with whenFull: fail fails the stream with DeadLetterQueueFullError", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "small", capacity: 2, whenFull: "fail" })
      const failing = Pipeline.stage("s", (e: Event) => e.index % 2 === 1 ? Effect.fail("down") : Effect.succeed(e))
      const run = yield* Pipeline.run(Stream.fromIterable(events(10)), [failing], { deadLetters })
      const error = yield* Effect.flip(Stream.runDrain(run.stream))
      assert.deepStrictEqual(error, new DeadLetterQueue.DeadLetterQueueFullError({ policy: "small", capacity: 2 }))
      const summary = yield* run.summary
      // items 0-4 done, item 5 could not be stored: it is the one in flight, and the stream failed with it
      assert.deepStrictEqual([summary.input, summary.processed, summary.deadLettered, summary.inFlight], [6, 3, 2, 1])
    }))

  it.effect("whenFull: backpressure makes the pipeline wait for a consumer of the queue", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 1, whenFull: "backpressure" })
      const failing = Pipeline.stage("s", (e: Event) => e.index % 2 === 1 ? Effect.fail("down") : Effect.succeed(e))
      const fiber = yield* Effect.forkChild(Pipeline.runDrain(Stream.fromIterable(events(6)), [failing], { deadLetters }))
      yield* settle
      assert.isUndefined(fiber.pollUnsafe())
      const taken: Array<number> = []
      taken.push((yield* deadLetters.take).item.index)
      taken.push((yield* deadLetters.take).item.index)
      const summary = yield* Fiber.join(fiber)
      assert.deepStrictEqual(taken, [1, 3])
      assert.deepStrictEqual([summary.processed, summary.deadLettered], [3, 3])
      assert.strictEqual((yield* deadLetters.take).item.index, 5)
    }))

  it.effect("interrupting the pipeline dead-letters nothing and leaves no idempotent key running", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const guard = yield* Idempotency.make()
      const runs = yield* Ref.make(0)
      const stage = Pipeline.stage(
        "slow",
        (e: Event) => Effect.andThen(Ref.update(runs, (n) => n + 1), Effect.as(Effect.sleep("1 hour"), e)),
        { idempotencyKey: (e) => e.key, idempotency: guard, concurrency: 4 }
      )
      const fiber = yield* Effect.forkChild(Pipeline.runDrain(Stream.fromIterable(events(4)), [stage], { deadLetters }))
      yield* settle
      assert.strictEqual(yield* Ref.get(runs), 4)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* deadLetters.size, 0)
      // the keys are free again: a new run runs them
      const again = yield* Effect.forkChild(Pipeline.runDrain(Stream.fromIterable(events(4)), [stage], { deadLetters }))
      yield* settle
      assert.strictEqual(yield* Ref.get(runs), 8)
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* Fiber.join(again)).processed, 4)
    }))
})

describe("Pipeline: the summary counts what the consumer received", () => {
  it.effect("items done but held back for order are not processed when the run is interrupted", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      // item 0 takes an hour, items 1-3 finish at once and wait behind it (the output keeps the input order)
      const stage = Pipeline.stage("s", (e: Event) => e.index === 0 ? Effect.as(Effect.sleep("1 hour"), e) : Effect.succeed(e), {
        concurrency: 4
      })
      const run = yield* Pipeline.run(Stream.fromIterable(events(4)), [stage], { deadLetters })
      const received: Array<number> = []
      const fiber = yield* Effect.forkChild(Stream.runForEach(run.stream, (out) => Effect.sync(() => received.push(out.item.index))))
      yield* settle
      yield* Fiber.interrupt(fiber)
      const summary = yield* run.summary
      assert.deepStrictEqual(received, [])
      assert.deepStrictEqual([summary.input, summary.processed, summary.deadLettered, summary.inFlight], [4, 0, 0, 4])
      assert.strictEqual(summary.stages.s!.succeeded, 3)
    }))

  it.effect("a consumer that stops early: processed is what it received", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const cases = [
        { stages: [Pipeline.stage("s", (e: Event) => Effect.succeed(e), { concurrency: 4 })], ordered: true },
        { stages: [Pipeline.stage("s", (e: Event) => Effect.succeed(e), { concurrency: 4 })], ordered: false },
        { stages: [Pipeline.stage("s", (e: Event) => Effect.succeed(e))], ordered: true },
        { stages: [], ordered: true }
      ]
      for (const { ordered, stages } of cases) {
        const run = yield* Pipeline.run(Stream.fromIterable(events(8)), stages, { deadLetters, ordered })
        const out = yield* Stream.runCollect(Stream.take(run.stream, 2))
        const summary = yield* run.summary
        const where = `${stages.length} stages, concurrency ${stages[0]?.concurrency}, ordered: ${ordered}`
        assert.strictEqual(out.length, 2)
        assert.strictEqual(summary.processed, 2, where)
        assert.strictEqual(summary.inFlight, summary.input - 2, where)
      }
    }))
})

describe("Pipeline: interruption is not a failure", () => {
  it.effect("a handler interrupted from within interrupts the stream; the item is not dead-lettered", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const stage = Pipeline.stage("s", (e: Event) => e.index === 1 ? Effect.interrupt : Effect.succeed(e))
      const run = yield* Pipeline.run(Stream.fromIterable(events(3)), [stage], { deadLetters })
      const exit = yield* Effect.exit(Stream.runCollect(run.stream))
      assert.deepStrictEqual([exit._tag, exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)], ["Failure", true])
      assert.strictEqual(yield* deadLetters.size, 0)
      assert.deepStrictEqual(
        yield* Effect.map(run.summary, (s) => [s.input, s.processed, s.deadLettered, s.inFlight]),
        [2, 1, 0, 1]
      )
    }))
})

describe("Pipeline: bad input", () => {
  it.effect("duplicate stage names fail with InvalidConfigError", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const error = yield* Effect.flip(
        Pipeline.run(Stream.empty, [Pipeline.stage("score", mark("a")), Pipeline.stage("score", mark("b"))], { deadLetters })
      )
      assert.isTrue(Errors.isInvalidConfigError(error))
      assert.strictEqual(error.message, "Pipeline.run: stages must be stages with distinct names, got \"score\"")
      const unnamed = yield* Effect.flip(Pipeline.run(Stream.empty, [], { deadLetters, name: "" }))
      assert.strictEqual(unnamed.field, "name")
    }))

  it("stage defaults: critical, concurrency 1, no policy, not idempotent", () => {
    const stage = Pipeline.stage("s", mark("s"))
    assert.deepStrictEqual([stage.name, stage.critical, stage.concurrency, stage.idempotencyKey, stage.idempotency], [
      "s",
      true,
      1,
      undefined,
      undefined
    ])
    assert.isTrue(Pipeline.isStage(stage))
    assert.isFalse(Pipeline.isStage({}))
  })

  it("bad stage options throw InvalidConfigError naming the field", () => {
    const cases: ReadonlyArray<[() => unknown, string]> = [
      [() => Pipeline.stage("", mark("a")), "Pipeline.stage: name must be a non-empty string, got \"\""],
      [() => Pipeline.stage("s", mark("a"), { concurrency: 0 }), "Pipeline.stage: concurrency must be an integer >= 1 or Infinity, got 0"],
      [() => Pipeline.stage("s", mark("a"), { concurrency: 2.5 }), "Pipeline.stage: concurrency must be an integer >= 1 or Infinity, got 2.5"],
      [() => Pipeline.stage("s", "nope" as never), "Pipeline.stage: handler must be a function, got \"nope\""],
      [() => Pipeline.stage("s", mark("a"), { policy: 3 as never }), "Pipeline.stage: policy must be a function, got 3"],
      [() => Pipeline.stage("s", mark("a"), { critical: "no" as never }), "Pipeline.stage: critical must be a boolean, got \"no\""],
      [
        () => Pipeline.stage("s", mark("a"), { idempotency: {} as never, idempotencyKey: (e) => e.key }),
        "Pipeline.stage: idempotency must be an Idempotency guard (see Idempotency.make), got {}"
      ]
    ]
    for (const [build, message] of cases) {
      try {
        build()
        assert.fail(`expected InvalidConfigError: ${message}`)
      } catch (error) {
        assert.isTrue(Errors.isInvalidConfigError(error), String(error))
        assert.strictEqual((error as Errors.InvalidConfigError).message, message)
      }
    }
  })
})

// -----------------------------------------------------------------------------
// Invariant: 10,000 seeded events, 20% transient and 1% permanent faults
// -----------------------------------------------------------------------------

const STAGES = ["validate", "charge", "enrich"] as const

interface Plan {
  /** Transient failures before the call succeeds, per stage. */
  readonly transient: Readonly<Record<string, number>>
  /** The stage where the event always fails, if any. */
  readonly permanent: string | undefined
}

/** Each call fails transiently with probability `rate`; a share `permanentRate` of events always fails at one stage. */
const makePlans = (keys: number, rate: number, permanentRate: number) =>
  Effect.gen(function*() {
    const plans = new Map<string, Plan>()
    for (let k = 0; k < keys; k++) {
      const transient: Record<string, number> = {}
      for (const stage of STAGES) {
        let failures = 0
        while ((yield* Random.next) < rate) failures++
        transient[stage] = failures
      }
      const permanent = (yield* Random.next) < permanentRate ? STAGES[yield* Random.nextIntBetween(0, 2)] : undefined
      plans.set(`k${k}`, { transient, permanent })
    }
    return plans
  })

/**
 * `n` deliveries: every 10th one redelivers one of the last few events (the
 * same event again, as an at-least-once source does).
 */
const deliveries = (n: number) =>
  Effect.gen(function*() {
    const out: Array<Event> = []
    const distinct: Array<Event> = []
    for (let index = 0; index < n; index++) {
      if (index % 10 === 9) {
        out.push(distinct[Math.max(0, distinct.length - (yield* Random.nextIntBetween(1, 4)))]!)
      } else {
        const event: Event = { index: distinct.length, key: `k${distinct.length}`, trail: [] }
        distinct.push(event)
        out.push(event)
      }
    }
    return { events: out, keys: distinct.length }
  })

/** Whether `sub` is `all` with some elements left out, in the same order (by key). */
const isSubsequence = (sub: ReadonlyArray<Event>, all: ReadonlyArray<Event>): boolean => {
  let j = 0
  for (const e of sub) {
    while (j < all.length && all[j]!.key !== e.key) j++
    if (j === all.length) return false
    j++
  }
  return true
}

const countKeys = (items: ReadonlyArray<Event>) => {
  const counts = new Map<string, number>()
  for (const e of items) counts.set(e.key, (counts.get(e.key) ?? 0) + 1)
  return counts
}

/** Stage handlers driven by the plans; `calls` and `successes` are counted per stage and key. */
const faultyStages = (plans: Map<string, Plan>, resilient: boolean) => {
  const attempts = new Map<string, number>()
  const successes = new Map<string, number>()
  const handler = (stage: string) => (e: Event): Effect.Effect<Event, Transient | Permanent> =>
    Effect.suspend(() => {
      const id = `${stage}/${e.key}`
      const attempt = (attempts.get(id) ?? 0) + 1
      attempts.set(id, attempt)
      const plan = plans.get(e.key)!
      return Effect.andThen(Effect.yieldNow, (): Effect.Effect<Event, Transient | Permanent> => {
        if (plan.permanent === stage) return Effect.fail(new Permanent({ stage }))
        if (attempt <= plan.transient[stage]!) return Effect.fail(new Transient({ stage, attempt }))
        successes.set(id, (successes.get(id) ?? 0) + 1)
        return Effect.succeed({ ...e, trail: [...e.trail, stage] })
      })
    })
  const retry = Retry.retry<Transient | Permanent>(Retry.make<Transient | Permanent>({
    maxAttempts: 5,
    backoff: noDelay,
    retryOn: (error) => error._tag === "Transient"
  }))
  const stages = STAGES.map((stage) =>
    Pipeline.stage(stage, handler(stage), {
      concurrency: 16,
      ...(resilient ? { policy: retry } : {}),
      ...(stage === "charge" ? { idempotencyKey: (e: Event) => e.key } : {})
    })
  )
  return { stages, successes, attempts }
}

describe("Pipeline: invariant under faults", () => {
  it.effect("10,000 events, 20% transient + 1% permanent faults, concurrency 16: nothing lost, nothing charged twice, order kept", () =>
    Effect.gen(function*() {
      const { events: input, keys } = yield* deliveries(10_000)
      const plans = yield* makePlans(keys, 0.2, 0.01)
      const { stages, successes } = faultyStages(plans, true)
      const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "events-dlq", capacity: 10_000 })
      const run = yield* Pipeline.run(Stream.fromIterable(input), stages, { deadLetters })
      const out = yield* Stream.runCollect(run.stream)
      const summary = yield* run.summary
      const letters = yield* deadLetters.entries

      // nothing lost: every delivery is either emitted or a dead letter
      assert.strictEqual(summary.input, 10_000)
      assert.strictEqual(summary.processed + summary.deadLettered, 10_000)
      assert.strictEqual(summary.inFlight, 0)
      assert.strictEqual(out.length, summary.processed)
      assert.strictEqual(letters.length, summary.deadLettered)
      assert.deepStrictEqual(countKeys([...out.map((p) => p.item), ...letters.map((l) => l.item)]), countKeys(input))

      // every event with a permanent fault is a dead letter, at that stage; the others only when retries ran out
      for (const letter of letters) {
        const plan = plans.get(letter.item.key)!
        if (plan.permanent !== undefined) {
          assert.strictEqual(letter.stage, plan.permanent)
        } else {
          assert.isAtLeast(plan.transient[letter.stage]!, 5, `${letter.item.key} dead-lettered at ${letter.stage}`)
        }
      }
      const permanentDeliveries = input.filter((e) => plans.get(e.key)!.permanent !== undefined).length
      assert.isAtLeast(summary.deadLettered, permanentDeliveries)
      assert.isAtLeast(permanentDeliveries, 50)

      // the idempotent stage handled no event twice, even the redelivered ones
      for (const [id, count] of successes) {
        if (id.startsWith("charge/")) assert.strictEqual(count, 1, id)
      }
      assert.isAbove(summary.duplicates, 500)
      for (const p of out) assert.deepStrictEqual(p.item.trail, STAGES)

      // ordered output: the input minus the dead letters, in input order
      assert.isTrue(isSubsequence(out.map((p) => p.item), input))
      assert.isFalse(isSubsequence([...out.map((p) => p.item)].reverse(), input))
    }).pipe(Random.withSeed(20_240_611)))

  it.effect("stability under artificial faults, with and without the resilience stages (seed exercise 4)", () =>
    Effect.gen(function*() {
      const { events: input, keys } = yield* deliveries(2_000)
      const plans = yield* makePlans(keys, 0.2, 0.01)
      const rate = (resilient: boolean) =>
        Effect.gen(function*() {
          const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 2_000 })
          const { stages } = faultyStages(plans, resilient)
          const summary = yield* Pipeline.runDrain(Stream.fromIterable(input), stages, { deadLetters })
          assert.strictEqual(summary.processed + summary.deadLettered, input.length)
          return summary.processed / summary.input
        })
      const without = yield* rate(false)
      const withResilience = yield* rate(true)
      console.log(
        `pipeline stability, 20% transient + 1% permanent faults, 3 stages: ` +
          `without resilience ${(without * 100).toFixed(1)}% processed, with retry ${(withResilience * 100).toFixed(1)}%`
      )
      // without retries an event survives 3 stages with about 0.8^3 ≈ 51%; with 5 attempts only the permanent faults remain
      assert.isBelow(without, 0.6)
      assert.isAbove(without, 0.4)
      assert.isAbove(withResilience, 0.97)
    }).pipe(Random.withSeed(7)))
})

// -----------------------------------------------------------------------------
// Seed exercises
// -----------------------------------------------------------------------------

describe("Pipeline: seed exercises", () => {
  it.effect("1. a retry wrapper around an unstable stage", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const calls = new Map<string, number>()
      // fails twice per event, then succeeds
      const unstable = (e: Event) =>
        Effect.suspend(() => {
          const n = (calls.get(e.key) ?? 0) + 1
          calls.set(e.key, n)
          return n <= 2 ? Effect.fail(new Transient({ stage: "scoring", attempt: n })) : Effect.succeed(e)
        })
      const scoring = Pipeline.stage("scoring", unstable, {
        policy: Retry.retry(Retry.make({ name: "scoring", maxAttempts: 3, backoff: Backoff.constant("100 millis") }))
      })
      const fiber = yield* Effect.forkChild(
        Events.collect(Pipeline.runDrain(Stream.fromIterable(events(3)), [scoring], { deadLetters }))
      )
      yield* settle
      for (let i = 0; i < 6; i++) {
        yield* TestClock.adjust("100 millis")
        yield* settle
      }
      const [summary, emitted] = yield* Fiber.join(fiber)
      assert.deepStrictEqual([summary.processed, summary.deadLettered], [3, 0])
      assert.strictEqual(emitted.filter((e) => e._tag === "RetryScheduled").length, 6)

      // with one attempt too few, the items end in the dead-letter queue, after RetryExhausted
      calls.clear()
      const tooFew = Pipeline.stage("scoring", unstable, { policy: Retry.retry(Retry.make({ maxAttempts: 2, backoff: noDelay })) })
      const [second, emitted2] = yield* Events.collect(
        Pipeline.runDrain(Stream.fromIterable(events(3)), [tooFew], { deadLetters })
      )
      assert.deepStrictEqual([second.processed, second.deadLettered], [0, 3])
      assert.deepStrictEqual(
        emitted2.filter((e) => e._tag === "RetryExhausted" || e._tag === "DeadLettered").map((e) => e._tag),
        ["RetryExhausted", "DeadLettered", "RetryExhausted", "DeadLettered", "RetryExhausted", "DeadLettered"]
      )
    }))

  it.effect("2. a dependency fails: the breaker opens, items go to the DLQ while it is open, and are replayed after recovery", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        name: "scoring-service",
        policy: CircuitBreaker.consecutive(3),
        resetTimeout: "30 seconds"
      })
      const up = yield* Ref.make(false)
      const scoringService = (e: Event) =>
        Effect.flatMap(
          Ref.get(up),
          (isUp): Effect.Effect<Event, Transient> =>
            isUp ? Effect.succeed({ ...e, trail: [...e.trail, "scored"] }) : Effect.fail(new Transient({ stage: "scoring", attempt: 1 }))
        )
      const scoring = Pipeline.stage("scoring", scoringService, { policy: breaker.execute })
      const recommend = Pipeline.stage("recommend", mark("recommend"), { critical: false })
      const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "scoring-dlq", capacity: 100 })
      const breakerOpen = Effect.map(breaker.state, (s) => s._tag !== "Closed")

      const summary = yield* Pipeline.runDrain(Stream.fromIterable(events(10)), [scoring, recommend], {
        deadLetters,
        overloaded: breakerOpen
      })
      assert.deepStrictEqual([summary.processed, summary.deadLettered], [0, 10])
      assert.strictEqual((yield* breaker.state)._tag, "Open")
      const letters = yield* deadLetters.entries
      // three calls failed and opened the circuit; the next seven were rejected without calling
      assert.deepStrictEqual(
        letters.map((l) => Cause.squash(l.error.cause) as { readonly _tag: string }).map((e) => e._tag),
        [...Array(3).fill("Transient"), ...Array(7).fill("CircuitOpenError")]
      )
      assert.isTrue(letters.every((l) => l.stage === "scoring"))

      // a replay while still open fails again, without calling the dependency
      assert.deepStrictEqual(yield* deadLetters.replay((item) => scoring.run(item)), { replayed: 0, failedAgain: 10 })

      // the dependency recovers; after the reset timeout the half-open probe succeeds and the rest follow
      yield* Ref.set(up, true)
      yield* TestClock.adjust("30 seconds")
      const replayed = yield* deadLetters.replay((item) => scoring.run(item))
      assert.deepStrictEqual(replayed, { replayed: 10, failedAgain: 0 })
      assert.strictEqual(yield* deadLetters.size, 0)
      assert.strictEqual((yield* breaker.state)._tag, "Closed")

      // with the breaker closed, new events flow through both stages again
      const after = yield* Effect.flatMap(
        Pipeline.run(Stream.fromIterable(events(2)), [scoring, recommend], { deadLetters, overloaded: breakerOpen }),
        collect
      )
      assert.deepStrictEqual(after.out.map((p) => p.item.trail.join()), ["scored,recommend", "scored,recommend"])
    }))

  it.effect("2b. while the breaker is open, a non-critical stage behind it is skipped instead of failing", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "recommender", policy: CircuitBreaker.consecutive(1), resetTimeout: "1 minute" })
      yield* Effect.exit(breaker.execute(Effect.fail("down")))
      const deadLetters = yield* DeadLetterQueue.make<Event>({ capacity: 10 })
      const recommend = Pipeline.stage("recommend", mark("recommend"), { critical: false, policy: breaker.execute })
      const { out, summary } = yield* Effect.flatMap(
        Pipeline.run(Stream.fromIterable(events(3)), [Pipeline.stage("store", mark("store")), recommend], {
          deadLetters,
          overloaded: Effect.map(breaker.state, (s) => s._tag === "Open")
        }),
        collect
      )
      assert.deepStrictEqual(out.map((p) => [p.item.trail.join(), p.skipped]), Array(3).fill(["store", ["recommend"]]))
      assert.deepStrictEqual([summary.processed, summary.deadLettered, summary.skippedStages], [3, 0, 3])
    }))

  it.effect("3. the DLQ after a run: inspect the entries, replay them through their stage", () =>
    Effect.gen(function*() {
      const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "payments-dlq", capacity: 100 })
      const declined = new Set(["e1", "e4"])
      const pay = Pipeline.stage("payment", (e: Event) => declined.has(e.key) ? Effect.fail(new Permanent({ stage: "payment" })) : mark("paid")(e))
      const summary = yield* Pipeline.runDrain(Stream.fromIterable(events(6)), [pay], { deadLetters })
      assert.deepStrictEqual([summary.processed, summary.deadLettered], [4, 2])
      const letters = yield* deadLetters.entries
      assert.deepStrictEqual(letters.map((l) => [l.id, l.item.key, l.stage, l.attempts, l.error.message]), [
        ["payments-dlq#1", "e1", "payment", 1, "Permanent {\"stage\":\"payment\"}"],
        ["payments-dlq#2", "e4", "payment", 1, "Permanent {\"stage\":\"payment\"}"]
      ])
      declined.delete("e1")
      assert.deepStrictEqual(yield* deadLetters.replay((item) => pay.run(item)), { replayed: 1, failedAgain: 1 })
      const [left] = yield* deadLetters.entries
      assert.deepStrictEqual([left!.item.key, left!.attempts], ["e4", 2])
    }))
})

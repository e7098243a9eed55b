import { assert, describe, it } from "@effect/vitest"
import { Clock, Data, Duration, Effect, Exit, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Events, Hedge, Retry } from "../src/index.ts"
import { thrownInvalid } from "./helpers.ts"
import * as defaults from "../src/internal/defaults.ts"

class BackendError extends Data.TaggedError("BackendError")<{ readonly attempt: number }> {}

interface Script {
  /** Latency of the i-th run, in ms (Infinity = never answers). */
  readonly latency: number
  readonly outcome?: "ok" | "fail" | "die"
}

/**
 * A backend whose i-th run follows `scripts[i]`. It logs starts (with the
 * clock time), interruptions and finalizers, so that tests can check what was
 * launched when and what was cleaned up.
 */
const backend = (scripts: ReadonlyArray<Script>) =>
  Effect.gen(function*() {
    const runs = yield* Ref.make(0)
    const log: Array<string> = []
    const effect = Effect.gen(function*() {
      const i = yield* Ref.getAndUpdate(runs, (n) => n + 1)
      const attempt = i + 1
      const script = scripts[i] ?? { latency: 0 }
      log.push(`start ${attempt} @${yield* Clock.currentTimeMillis}`)
      if (script.latency === Infinity) yield* Effect.never
      else if (script.latency > 0) yield* Effect.sleep(script.latency)
      if (script.outcome === "fail") return yield* new BackendError({ attempt })
      if (script.outcome === "die") return yield* Effect.die(`boom ${attempt}`)
      return `answer ${attempt}`
    }).pipe(
      Effect.onInterrupt(() => Effect.sync(() => void log.push("interrupted"))),
      Effect.ensuring(Effect.sync(() => void log.push("finalized")))
    )
    return { effect, runs: Ref.get(runs), log }
  })

const tags = (events: ReadonlyArray<Events.ResilienceEvent>) =>
  events.map((e) => `${e._tag}${"attempt" in e ? ` ${e.attempt}` : ""} @${e.timestamp}`)

describe("Hedge.hedge: a fast primary", () => {
  it.effect("a synchronous primary answers with no hedge, no timer and no event", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* backend([{ latency: 0 }])
      const [value, events] = yield* Events.collect(effect.pipe(Hedge.hedge({ delay: "10 millis", maxAttempts: 3 })))
      assert.strictEqual(value, "answer 1")
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(events, [])
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* runs, 1)
    }))

  it.effect("a primary that answers within the delay launches no hedge, even later", () =>
    Effect.gen(function*() {
      const { effect, runs, log } = yield* backend([{ latency: 9 }])
      const fiber = yield* effect.pipe(
        Hedge.hedgeWithWinner({ delay: "10 millis", maxAttempts: 3 }),
        Events.collect,
        Effect.forkChild
      )
      yield* TestClock.adjust(9)
      const [won, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(won, { value: "answer 1", attempt: 1 })
      assert.deepStrictEqual(events, [])
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(log, ["start 1 @0", "finalized"])
    }))
})

describe("Hedge.hedge: a slow primary", () => {
  it.effect("the hedge wins and the primary is interrupted, its finalizer run before the result is returned", () =>
    Effect.gen(function*() {
      const { effect, runs, log } = yield* backend([{ latency: 1000 }, { latency: 10 }])
      const fiber = yield* effect.pipe(
        Hedge.hedgeWithWinner({ name: "search", delay: "50 millis", maxAttempts: 2 }),
        Effect.tap(() => Effect.sync(() => void log.push("caller got result"))),
        Events.collect,
        Effect.forkChild
      )
      yield* TestClock.adjust(49)
      assert.strictEqual(yield* runs, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* runs, 2)
      yield* TestClock.adjust(9)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      const [won, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(won, { value: "answer 2", attempt: 2 })
      assert.deepStrictEqual(log, [
        "start 1 @0",
        "start 2 @50",
        "finalized", // attempt 2 completes
        "interrupted", // attempt 1 is interrupted ...
        "finalized", // ... and finalized ...
        "caller got result" // ... before the caller sees the result
      ])
      assert.deepStrictEqual(tags(events), ["HedgeLaunched 2 @50", "HedgeWon 2 @60"])
      assert.isTrue(events.every((e) => e.name === "search"))
    }))

  it.effect("the primary can still win after a hedge was launched; the hedge is interrupted", () =>
    Effect.gen(function*() {
      const { effect, log } = yield* backend([{ latency: 80 }, { latency: 100 }])
      const fiber = yield* effect.pipe(
        Hedge.hedgeWithWinner({ delay: 50 }),
        Effect.tap(() => Effect.sync(() => void log.push("caller got result"))),
        Events.collect,
        Effect.forkChild
      )
      yield* TestClock.adjust(80)
      const [won, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(won, { value: "answer 1", attempt: 1 })
      assert.deepStrictEqual(log, ["start 1 @0", "start 2 @50", "finalized", "interrupted", "finalized", "caller got result"])
      assert.deepStrictEqual(tags(events), ["HedgeLaunched 2 @50", "HedgeWon 1 @80"])
      assert.isTrue(events.every((e) => e.name === defaults.hedge.name))
    }))

  it.effect("launches at most maxAttempts attempts, one every delay", () =>
    Effect.gen(function*() {
      const { effect, runs, log } = yield* backend([{ latency: Infinity }, { latency: Infinity }, { latency: Infinity }])
      const fiber = yield* effect.pipe(Hedge.hedge({ delay: 100, maxAttempts: 3 }), Effect.forkChild)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* runs, 3)
      assert.deepStrictEqual(log, ["start 1 @0", "start 2 @100", "start 3 @200"])
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("delay 0 starts every attempt at once", () =>
    Effect.gen(function*() {
      const { effect, log } = yield* backend([{ latency: 30 }, { latency: 20 }, { latency: 10 }])
      const fiber = yield* effect.pipe(Hedge.hedgeWithWinner({ delay: 0, maxAttempts: 3 }), Effect.forkChild)
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(yield* Fiber.join(fiber), { value: "answer 3", attempt: 3 })
      assert.deepStrictEqual(log, [
        "start 1 @0",
        "start 2 @0",
        "start 3 @0",
        "finalized",
        "interrupted",
        "finalized",
        "interrupted",
        "finalized"
      ])
    }))
})

describe("Hedge.hedge: failures", () => {
  it.effect("a failed attempt starts the next one at once, and the next hedge waits delay from then", () =>
    Effect.gen(function*() {
      const { effect, log } = yield* backend([
        { latency: 5, outcome: "fail" },
        { latency: Infinity },
        { latency: 10 }
      ])
      const fiber = yield* effect.pipe(Hedge.hedgeWithWinner({ delay: 50, maxAttempts: 3 }), Events.collect, Effect.forkChild)
      yield* TestClock.adjust(5)
      assert.deepStrictEqual(log, ["start 1 @0", "finalized", "start 2 @5"])
      yield* TestClock.adjust(49)
      assert.strictEqual(log.length, 3)
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(log.slice(3), ["start 3 @55"])
      yield* TestClock.adjust(10)
      const [won, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(won, { value: "answer 3", attempt: 3 })
      assert.deepStrictEqual(tags(events), ["HedgeLaunched 2 @5", "HedgeLaunched 3 @55", "HedgeWon 3 @65"])
    }))

  it.effect("a synchronous failure of the primary launches the hedge at once", () =>
    Effect.gen(function*() {
      const { effect, log } = yield* backend([{ latency: 0, outcome: "fail" }, { latency: 0 }])
      const value = yield* effect.pipe(Hedge.hedge({ delay: "1 second" }))
      assert.strictEqual(value, "answer 2")
      assert.deepStrictEqual(log, ["start 1 @0", "finalized", "start 2 @0", "finalized"])
    }))

  it.effect("when every attempt fails, the last failure is returned, typed", () =>
    Effect.gen(function*() {
      // attempt 1 fails last (at 100), after attempt 2 (launched at 30, fails at 40) and 3 (launched at 40, fails at 60)
      const { effect, runs } = yield* backend([
        { latency: 100, outcome: "fail" },
        { latency: 10, outcome: "fail" },
        { latency: 20, outcome: "fail" }
      ])
      const hedged: Effect.Effect<string, BackendError> = effect.pipe(Hedge.hedge({ delay: 30, maxAttempts: 3 }))
      const fiber = yield* Effect.forkChild(Effect.exit(hedged))
      yield* TestClock.adjust(99)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(yield* Fiber.join(fiber), Exit.fail(new BackendError({ attempt: 1 })))
      assert.strictEqual(yield* runs, 3)
    }))

  it.effect("all failing with maxAttempts 2: the second failure is returned", () =>
    Effect.gen(function*() {
      const { effect } = yield* backend([{ latency: 5, outcome: "fail" }, { latency: 5, outcome: "fail" }])
      const fiber = yield* effect.pipe(Hedge.hedge({ delay: 100 }), Effect.flip, Effect.forkChild)
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(yield* Fiber.join(fiber), new BackendError({ attempt: 2 }))
    }))

  it.effect("a defect counts as a failed attempt; when all attempts die the defect is returned", () =>
    Effect.gen(function*() {
      const first = yield* backend([{ latency: 5, outcome: "die" }, { latency: 5 }])
      const won = yield* first.effect.pipe(Hedge.hedgeWithWinner({ delay: 100 }), Effect.forkChild)
      yield* TestClock.adjust(10)
      assert.deepStrictEqual(yield* Fiber.join(won), { value: "answer 2", attempt: 2 })

      const all = yield* backend([{ latency: 0, outcome: "die" }, { latency: 0, outcome: "die" }])
      const exit = yield* Effect.exit(all.effect.pipe(Hedge.hedge({ delay: 100 })))
      assert.deepStrictEqual(exit, Exit.die("boom 2"))
    }))
})

describe("Hedge.hedge: interruption", () => {
  it.effect("interrupting the hedged call interrupts every attempt and the timer", () =>
    Effect.gen(function*() {
      const { effect, runs, log } = yield* backend([{ latency: Infinity }, { latency: Infinity }, { latency: Infinity }])
      const fiber = yield* effect.pipe(Hedge.hedge({ delay: 100, maxAttempts: 3 }), Effect.forkChild)
      yield* TestClock.adjust(150)
      assert.strictEqual(yield* runs, 2)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(log, ["start 1 @0", "start 2 @100", "interrupted", "finalized", "interrupted", "finalized"])
      // the timer died with the race: no third attempt, ever
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* runs, 2)
    }))

  it.effect("an outer timeout interrupts the attempts before it fails", () =>
    Effect.gen(function*() {
      const { effect, log } = yield* backend([{ latency: 1000 }, { latency: 1000 }])
      const fiber = yield* effect.pipe(
        Hedge.hedge({ delay: 10 }),
        Effect.timeoutOrElse({ duration: 100, orElse: () => Effect.succeed("timed out") }),
        Effect.tap(() => Effect.sync(() => void log.push("caller continues"))),
        Effect.forkChild
      )
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(fiber), "timed out")
      assert.deepStrictEqual(log, [
        "start 1 @0",
        "start 2 @10",
        "interrupted",
        "finalized",
        "interrupted",
        "finalized",
        "caller continues"
      ])
    }))
})

describe("Hedge.hedge: one hedged effect, many concurrent calls", () => {
  it.effect("each run is an independent race", () =>
    Effect.gen(function*() {
      // runs 1 and 2 are the primaries of two concurrent calls; 3 and 4 their hedges
      const { effect, runs } = yield* backend([
        { latency: 1000 },
        { latency: 30 },
        { latency: 10 },
        { latency: 10 }
      ])
      const hedged = effect.pipe(Hedge.hedgeWithWinner({ delay: 50 }))
      const fiber = yield* Effect.forkChild(Effect.all([hedged, hedged], { concurrency: 2 }))
      yield* TestClock.adjust(60)
      const [a, b] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(a, { value: "answer 3", attempt: 2 })
      assert.deepStrictEqual(b, { value: "answer 2", attempt: 1 })
      assert.strictEqual(yield* runs, 3)
    }))
})

describe("Hedge: one budget with retries", () => {
  it.effect("a storm of hedges is refused once the budget is spent: no hedge launched, every call still answered", () =>
    Effect.gen(function*() {
      // 0.5 retries per second over 10 s, no share of calls: 5 hedges in all
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0.5, window: "10 seconds" })
      const { effect, runs } = yield* backend(Array.from({ length: 40 }, () => ({ latency: 100 })))
      const hedged = effect.pipe(Hedge.hedge({ name: "search", delay: 10, maxAttempts: 2, budget }))
      const fiber = yield* Effect.forkChild(Events.collect(Effect.all(Array.from({ length: 20 }, () => hedged), { concurrency: 20 })))
      yield* TestClock.adjust(200)
      const [answers, events] = yield* Fiber.join(fiber)
      assert.strictEqual(answers.length, 20)
      assert.strictEqual(yield* runs, 25) // 20 primaries and 5 hedges
      const tags = events.map((e) => e._tag)
      assert.strictEqual(tags.filter((t) => t === "HedgeLaunched").length, 5)
      assert.strictEqual(tags.filter((t) => t === "HedgeBudgetDenied").length, 15)
      assert.deepStrictEqual(events.find(Events.ResilienceEvent.$is("HedgeBudgetDenied"))?.attempt, 2)
      assert.deepStrictEqual(yield* budget.stats, { kind: "ratio", calls: 20, retries: 5, allowance: 5 })
    }))

  it.effect("with the budget spent, a failed primary launches no hedge: the call fails with the primary's error", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0, window: "10 seconds" })
      const { effect, runs } = yield* backend([{ latency: 5, outcome: "fail" }, { latency: 0 }])
      const fiber = yield* Effect.forkChild(Events.collect(Effect.flip(effect.pipe(Hedge.hedge({ delay: 50, maxAttempts: 3, budget })))))
      yield* TestClock.adjust(100)
      const [error, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(error, new BackendError({ attempt: 1 }))
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(events.map((e) => e._tag), ["HedgeBudgetDenied"])
    }))

  it.effect("a token budget: hedged attempts that fail cost tokens; at maxTokens/2 no hedge starts; a loser interrupted costs nothing", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.tokenBudget({ maxTokens: 4, tokenRatio: 0.5 })
      // call 1: primary fails fast, the hedge fails too (4 → 2); call 2: the slow primary gets no hedge
      const { effect, runs } = yield* backend([
        { latency: 5, outcome: "fail" },
        { latency: 5, outcome: "fail" },
        { latency: 100 }
      ])
      const hedged = effect.pipe(Hedge.hedge({ delay: 10, maxAttempts: 2, budget }))
      const first = yield* Effect.forkChild(Effect.flip(hedged))
      yield* TestClock.adjust(20)
      assert.deepStrictEqual(yield* Fiber.join(first), new BackendError({ attempt: 2 }))
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 2, maxTokens: 4, allows: false })
      const second = yield* Effect.forkChild(Events.collect(hedged))
      yield* TestClock.adjust(100)
      const [value, events] = yield* Fiber.join(second)
      assert.strictEqual(value, "answer 3")
      assert.strictEqual(yield* runs, 3)
      assert.deepStrictEqual(events.map((e) => e._tag), ["HedgeBudgetDenied"])
      assert.strictEqual((yield* budget.stats).tokens, 2.5) // the success gave back 0.5
    }))

  it.effect("interrupting a hedged call reports no outcome: the token budget is unchanged, every attempt interrupted", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.tokenBudget({ maxTokens: 4, tokenRatio: 0.5 })
      yield* budget.recordOutcome!(false) // 3 tokens: hedges allowed
      const { effect, log } = yield* backend([{ latency: Infinity }, { latency: Infinity }])
      const fiber = yield* Effect.forkChild(Events.collect(effect.pipe(Hedge.hedge({ delay: 10, maxAttempts: 2, budget }))))
      yield* TestClock.adjust(20)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(log.filter((l) => l === "interrupted").length, 2)
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 3, maxTokens: 4, allows: true })
    }))

  it.effect("a hedge inside a retry with the same budget: the call is counted once, retries and hedges draw on it together", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0.2, window: "10 seconds" }) // 2 in all
      // attempt 1: the slow primary fails, so does its hedge (1); the retry (2); its hedge and the next retry are refused
      const { effect, runs } = yield* backend([
        { latency: 20, outcome: "fail" },
        { latency: 5, outcome: "fail" },
        { latency: 20, outcome: "fail" },
        { latency: 0 }
      ])
      const call = effect.pipe(
        Hedge.hedge({ name: "api", delay: 10, maxAttempts: 2, budget }),
        Retry.retry({ name: "api", maxAttempts: 5, backoff: Backoff.constant(0), budget })
      )
      const fiber = yield* Effect.forkChild(Events.collect(Effect.flip(call)))
      yield* TestClock.adjust(100)
      const [error, events] = yield* Fiber.join(fiber)
      assert.deepStrictEqual(error, new BackendError({ attempt: 3 }))
      assert.strictEqual(yield* runs, 3)
      assert.deepStrictEqual(events.map((e) => e._tag), ["HedgeLaunched", "RetryScheduled", "HedgeBudgetDenied", "RetryBudgetDenied"])
      // one call recorded (by the retry, the outer stage); a hedge and a retry took the two withdrawals
      assert.deepStrictEqual(yield* budget.stats, { kind: "ratio", calls: 1, retries: 2, allowance: 2 })
    }))
})

describe("Hedge.race: different backends", () => {
  it.effect("launches the backends in turn and returns the first success with its index", () =>
    Effect.gen(function*() {
      const started: Array<string> = []
      const call = (region: string, latency: number) =>
        Effect.sync(() => void started.push(region)).pipe(Effect.andThen(Effect.sleep(latency)), Effect.as(region))
      const fiber = yield* Hedge.raceWithWinner([call("eu", 1000), call("us", 30), call("ap", 5)], {
        name: "profile",
        delay: 20
      }).pipe(Events.collect, Effect.forkChild)
      yield* TestClock.adjust(45)
      const [won, events] = yield* Fiber.join(fiber)
      // us started at 20 and answers at 50; ap started at 40 and answers at 45
      assert.deepStrictEqual(won, { value: "ap", attempt: 3 })
      assert.deepStrictEqual(started, ["eu", "us", "ap"])
      assert.deepStrictEqual(tags(events), ["HedgeLaunched 2 @20", "HedgeLaunched 3 @40", "HedgeWon 3 @45"])
    }))

  it.effect("the error type is the union of the backends' errors; the last failure is returned", () =>
    Effect.gen(function*() {
      const raced: Effect.Effect<string | number, "eu-down" | "us-down"> = Hedge.race(
        [Effect.fail("eu-down" as const), Effect.fail("us-down" as const) as Effect.Effect<number, "us-down">],
        { delay: 10 }
      )
      assert.strictEqual(yield* Effect.flip(raced), "us-down")
    }))

  it.effect("a fast first backend never starts the others", () =>
    Effect.gen(function*() {
      let secondRuns = 0
      const value = yield* Hedge.race([Effect.succeed(1), Effect.sync(() => ++secondRuns)], { delay: 0 })
      assert.strictEqual(value, 1)
      assert.strictEqual(secondRuns, 0)
    }))

  it.effect("a single backend is just that backend", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* Hedge.raceWithWinner([Effect.succeed("only")], { delay: 10 }), {
        value: "only",
        attempt: 1
      })
    }))
})

describe("Hedge: options", () => {
  it("defaults: name 'hedge', maxAttempts 2", () => {
    assert.deepStrictEqual(defaults.hedge, { name: "hedge", maxAttempts: 2 })
    const policy = Hedge.make({ delay: "25 millis" })
    assert.strictEqual(policy.name, "hedge")
    assert.strictEqual(policy.maxAttempts, 2)
    assert.strictEqual(Duration.toMillis(policy.delay), 25)
    assert.isTrue(Hedge.isHedgePolicy(policy))
    assert.isFalse(Hedge.isHedgePolicy({ delay: 1 }))
  })

  it("rejects bad options, naming the field, range and value", () => {
    assert.strictEqual(
      thrownInvalid(() => Hedge.make({ delay: -1 })).message,
      "Hedge.make: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got -1"
    )
    assert.strictEqual(thrownInvalid(() => Hedge.make({ delay: "Infinity" })).field, "delay")
    assert.strictEqual(thrownInvalid(() => Hedge.make({ delay: "soon" as Duration.Input })).field, "delay")
    assert.strictEqual(
      thrownInvalid(() => Hedge.make({ delay: 10, maxAttempts: 0 })).message,
      "Hedge.make: maxAttempts must be an integer in [1, 100], got 0"
    )
    assert.strictEqual(thrownInvalid(() => Hedge.make({ delay: 10, maxAttempts: 1.5 })).field, "maxAttempts")
    assert.strictEqual(thrownInvalid(() => Hedge.make({ delay: 10, name: "" })).field, "name")
    assert.strictEqual(thrownInvalid(() => Hedge.make(undefined as unknown as Hedge.HedgeOptions)).field, "options")
    assert.strictEqual(thrownInvalid(() => Effect.void.pipe(Hedge.hedge({ delay: -5 }))).source, "Hedge.make")
  })

  it("race rejects an empty list (a type error too), a non-effect and a negative delay", () => {
    // @ts-expect-error: the list of backends must not be empty
    const empty = thrownInvalid(() => Hedge.race([], { delay: 10 }))
    assert.strictEqual(empty.message, "Hedge.race: effects must be a non-empty array of effects, got []")
    assert.strictEqual(
      thrownInvalid(() => Hedge.race([Effect.void, 42 as unknown as Effect.Effect<void>], { delay: 10 })).field,
      "effects[1]"
    )
    assert.strictEqual(thrownInvalid(() => Hedge.race([Effect.void], { delay: -1 })).field, "delay")
    assert.strictEqual(thrownInvalid(() => Hedge.race([Effect.void], { delay: 1, name: "" })).field, "name")
  })

  it("maxAttempts 1 returns the effect unchanged", () => {
    const effect = Effect.succeed(1)
    assert.strictEqual(Hedge.hedge(effect, { delay: 10, maxAttempts: 1 }), effect)
  })

  it.effect("a policy built once serves many calls; data-first and data-last agree", () =>
    Effect.gen(function*() {
      const policy = Hedge.make({ name: "p", delay: 10, maxAttempts: 2 })
      const results = yield* Effect.all([
        Hedge.hedge(Effect.succeed("a"), policy),
        Effect.succeed("b").pipe(Hedge.hedge(policy)),
        Hedge.hedgeWithWinner(Effect.succeed("c"), policy)
      ])
      assert.deepStrictEqual(results, ["a", "b", { value: "c", attempt: 1 }])
    }))
})

class NotFound extends Data.TaggedError("NotFound")<{ readonly status: 404 }> {}

describe("Hedge: classification", () => {
  it.effect("a permanent failure launches no more hedges and ends the race at once", () =>
    Effect.gen(function*() {
      const launched = yield* Ref.make(0)
      const call = Effect.andThen(Ref.update(launched, (n) => n + 1), Effect.fail(new NotFound({ status: 404 })))
      const [error, events] = yield* Events.collect(
        Effect.flip(call.pipe(Effect.delay("10 millis"), Hedge.hedge({ delay: "50 millis", maxAttempts: 3 })))
      ).pipe(Effect.forkChild, Effect.tap(() => TestClock.adjust("10 millis")), Effect.flatMap(Fiber.join))
      assert.strictEqual(error._tag, "NotFound")
      assert.strictEqual(yield* Ref.get(launched), 1)
      assert.isFalse(events.some((e) => e._tag === "HedgeLaunched"))
    }))

  it.effect("a transient failure still starts the next attempt at once; classify overrides", () =>
    Effect.gen(function*() {
      const launched = yield* Ref.make(0)
      const call = Effect.andThen(Ref.update(launched, (n) => n + 1), Effect.fail(new NotFound({ status: 404 })))
      const hedged = call.pipe(Effect.delay("10 millis"), Hedge.hedge({ delay: "50 millis", maxAttempts: 3, classify: () => "transient" }))
      const fiber = yield* Effect.forkChild(Effect.flip(hedged))
      yield* TestClock.adjust("30 millis")
      assert.strictEqual((yield* Fiber.join(fiber))._tag, "NotFound")
      assert.strictEqual(yield* Ref.get(launched), 3)
    }))
})

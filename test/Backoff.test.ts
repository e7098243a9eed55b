import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Random, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { Backoff } from "../src/index.ts"
import { throwsInvalid } from "./helpers.ts"

const millis = (schedule: Backoff.Backoff | Schedule.Schedule<unknown>, n: number) =>
  Backoff.delays(schedule, n).pipe(Effect.map((ds) => ds.map(Duration.toMillis)))

describe("Backoff: deterministic sequences", () => {
  it.effect("exponential doubles from base and caps at max", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* millis(Backoff.exponential({ base: "100 millis", max: "1 second" }), 7),
        [100, 200, 400, 800, 1000, 1000, 1000]
      )
    }))

  it.effect("exponential honours factor", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* millis(Backoff.exponential({ base: 10, factor: 3 }), 4), [10, 30, 90, 270])
      assert.deepStrictEqual(yield* millis(Backoff.exponential({ base: 10, factor: 1 }), 3), [10, 10, 10])
    }))

  it.effect("linear adds the increment (default: base) and caps", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* millis(Backoff.linear({ base: 100, max: 350 }), 5), [100, 200, 300, 350, 350])
      assert.deepStrictEqual(yield* millis(Backoff.linear({ base: "1 second", increment: 500 }), 3), [1000, 1500, 2000])
    }))

  it.effect("constant repeats one delay", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* millis(Backoff.constant("250 millis"), 3), [250, 250, 250])
      assert.deepStrictEqual(yield* millis(Backoff.constant(0), 2), [0, 0])
    }))

  it.effect("fromDelays yields the list, then ends", () =>
    Effect.gen(function*() {
      const schedule = Backoff.fromDelays(["1 second", "2 seconds", "4 seconds"])
      assert.deepStrictEqual(yield* millis(schedule, 10), [1000, 2000, 4000])
    }))

  it.effect("capped clamps any schedule (Effect's own exponential here)", () =>
    Effect.gen(function*() {
      const schedule = Schedule.exponential("100 millis").pipe(Backoff.capped("300 millis"))
      assert.deepStrictEqual(yield* millis(schedule, 4), [100, 200, 300, 300])
      assert.deepStrictEqual(yield* millis(Backoff.capped(Backoff.constant(500), 200), 2), [200, 200])
    }))

  it.effect("delays stops at n and at the end of a finite schedule", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* millis(Backoff.constant(5), 0), [])
      assert.deepStrictEqual(yield* millis(Schedule.spaced(7).pipe(Schedule.upTo({ times: 2 })), 5), [7, 7])
    }))

  it.effect("a backoff drives Effect.retry under TestClock", () =>
    Effect.gen(function*() {
      let attempts = 0
      const fiber = yield* Effect.sync(() => attempts++).pipe(
        Effect.andThen(Effect.fail("boom")),
        Effect.retry(Schedule.max([Backoff.exponential({ base: "1 second" }), Schedule.recurs(3)])),
        Effect.flip,
        Effect.forkChild
      )
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(attempts, 1)
      yield* TestClock.adjust("1 millis") // t = 1s: second attempt
      assert.strictEqual(attempts, 2)
      yield* TestClock.adjust("2 seconds") // t = 3s: third attempt
      assert.strictEqual(attempts, 3)
      yield* TestClock.adjust("4 seconds") // t = 7s: fourth and last attempt
      assert.strictEqual(yield* Fiber.join(fiber), "boom")
      assert.strictEqual(attempts, 4)
    }))
})

describe("Backoff: jitter bounds over many seeds", () => {
  const seeds = Array.from({ length: 200 }, (_, i) => i + 1)
  const base = 100
  const max = 5_000
  const ceilings = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]

  it.effect("full jitter lies in [0, d] and never exceeds max", () =>
    Effect.gen(function*() {
      let sum = 0
      for (const seed of seeds) {
        const ds = yield* millis(Backoff.exponential({ base, max, jitter: "full" }), 10).pipe(Random.withSeed(seed))
        ds.forEach((d, i) => {
          assert.isAtLeast(d, 0)
          assert.isAtMost(d, ceilings[i]!)
        })
        sum += ds[9]!
      }
      // Not a constant: the mean of U[0, 5000] over 200 seeds is near 2500.
      assert.isAbove(sum / seeds.length, 2000)
      assert.isBelow(sum / seeds.length, 3000)
    }))

  it.effect("equal jitter lies in [d/2, d]", () =>
    Effect.gen(function*() {
      for (const seed of seeds) {
        const ds = yield* millis(Backoff.exponential({ base, max, jitter: "equal" }), 10).pipe(Random.withSeed(seed))
        ds.forEach((d, i) => {
          assert.isAtLeast(d, ceilings[i]! / 2)
          assert.isAtMost(d, ceilings[i]!)
        })
      }
    }))

  it.effect("decorrelated jitter lies in [base, min(max, 3·previous)]", () =>
    Effect.gen(function*() {
      for (const seed of seeds) {
        for (const schedule of [Backoff.decorrelated({ base, max }), Backoff.exponential({ base, max, jitter: "decorrelated" })]) {
          const ds = yield* millis(schedule, 12).pipe(Random.withSeed(seed))
          let previous = base
          for (const d of ds) {
            assert.isAtLeast(d, base)
            assert.isAtMost(d, Math.min(max, previous * 3) + 1e-9)
            previous = d
          }
        }
      }
    }))

  it.effect("linear and jittered combinator keep their bounds", () =>
    Effect.gen(function*() {
      for (const seed of seeds.slice(0, 50)) {
        const linear = yield* millis(Backoff.linear({ base: 100, max: 250, jitter: "full" }), 4).pipe(Random.withSeed(seed))
        linear.forEach((d, i) => assert.isAtMost(d, [100, 200, 250, 250][i]!))
        const fib = yield* millis(Schedule.fibonacci(100).pipe(Backoff.jittered("equal")), 4).pipe(Random.withSeed(seed))
        fib.forEach((d, i) => {
          assert.isAtLeast(d, [50, 50, 100, 150][i]!)
          assert.isAtMost(d, [100, 100, 200, 300][i]!)
        })
      }
    }))

  it.effect("a seed reproduces the sequence; another seed changes it", () =>
    Effect.gen(function*() {
      const schedule = () => Backoff.exponential({ base, max, jitter: "full" })
      const a = yield* millis(schedule(), 5).pipe(Random.withSeed(42))
      const b = yield* millis(schedule(), 5).pipe(Random.withSeed(42))
      const c = yield* millis(schedule(), 5).pipe(Random.withSeed(43))
      assert.deepStrictEqual(a, b)
      assert.notDeepEqual(a, c)
    }))
})

describe("Backoff: bad input fails at construction", () => {
  it("names the field, the range and the value", () => {
    throwsInvalid(() => Backoff.exponential({ base: -1 }), "Backoff.exponential: base must be a finite duration >= 0")
    throwsInvalid(() => Backoff.exponential({ base: 100, factor: 0.5 }), "factor must be a finite number >= 1, got 0.5")
    throwsInvalid(() => Backoff.exponential({ base: 100, factor: NaN }), "factor must be a finite number >= 1, got NaN")
    throwsInvalid(() => Backoff.exponential({ base: 100, factor: Infinity }), "factor")
    throwsInvalid(() => Backoff.exponential({ base: 100, max: 50 }), "max must be >= base (100 ms), got 50")
    throwsInvalid(() => Backoff.exponential({ base: "Infinity" }), "base")
    throwsInvalid(() => Backoff.exponential({ base: "soon" as Duration.Input }), `got "soon"`)
    throwsInvalid(() => Backoff.exponential({ base: 1, jitter: "wild" as Backoff.Jitter }), "jitter")
    throwsInvalid(() => Backoff.linear({ base: 100, increment: -5 }), "increment")
    throwsInvalid(() => Backoff.linear({ base: 100, max: 10 }), "max must be >= base")
    throwsInvalid(() => Backoff.constant(-10), "Backoff.constant: delay")
    throwsInvalid(() => Backoff.decorrelated({ base: 0, max: 10 }), "Backoff.decorrelated: base must be a finite duration > 0")
    throwsInvalid(() => Backoff.decorrelated({ base: 100, max: 10 }), "max must be >= base")
    throwsInvalid(() => Backoff.fromDelays([]), "Backoff.fromDelays: delays must be a non-empty list of durations, got []")
    throwsInvalid(() => Backoff.fromDelays([100, -1]), "delays[1]")
    throwsInvalid(() => Backoff.capped(Backoff.constant(1), -1), "Backoff.capped: max")
    throwsInvalid(() => Backoff.jittered(Backoff.constant(1), "none" as "full"), "Backoff.jittered: jitter")
    throwsInvalid(() => Backoff.delays(Backoff.constant(1), -1), "Backoff.delays: n must be an integer >= 0")
  })
})

/**
 * Model-based tests: seeded random sequences of calls (success, failure, slow
 * success) and time advances, run against the real breaker under TestClock
 * and against a small, obviously-correct reference model (it keeps every
 * recorded call and recomputes its window from scratch). After every step
 * both must agree on the state, the retry-after, the window and the
 * rejections. Plus direct tests of the windows and the pure machine.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Random } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker } from "../src/index.ts"
import * as machine from "../src/internal/circuitBreakerMachine.ts"
import { CountWindow, TimeWindow } from "../src/internal/circuitBreakerWindow.ts"
import * as budget from "../src/internal/retryBudget.ts"
import { TimeWindow as SlidingWindow } from "../src/internal/timeWindow.ts"

type Policy =
  | { readonly kind: "consecutive"; readonly failures: number }
  | { readonly kind: "count"; readonly size: number; readonly rate: number; readonly min: number }
  | { readonly kind: "time"; readonly windowMs: number; readonly buckets: number; readonly rate: number; readonly min: number }

interface Scenario {
  readonly policy: Policy
  readonly slow: { readonly ms: number; readonly rate: number } | undefined
  readonly resetBase: number
  readonly resetMax: number
  readonly successThreshold: number
}

type Op =
  | { readonly _tag: "Success" }
  | { readonly _tag: "Failure" }
  | { readonly _tag: "SlowSuccess"; readonly ms: number }
  | { readonly _tag: "Advance"; readonly ms: number }

interface Recorded {
  readonly t: number
  readonly failed: boolean
  readonly slow: boolean
}

/** The reference model: the breaker rules of docs/circuit-breaker.md, written the plain way. */
class Model {
  tag: "Closed" | "Open" | "HalfOpen" = "Closed"
  now = 0
  openUntil = 0
  openings = 0
  successes = 0
  streak = 0
  rejected = 0
  recorded: Array<Recorded> = []
  constructor(readonly s: Scenario) {}

  window(): Array<Recorded> {
    const p = this.s.policy
    if (p.kind === "count") return this.recorded.slice(-p.size)
    if (p.kind === "time") {
      const bucket = p.windowMs / p.buckets
      const current = Math.floor(this.now / bucket)
      return this.recorded.filter((r) => Math.floor(r.t / bucket) > current - p.buckets)
    }
    return this.recorded
  }

  trips(): boolean {
    const p = this.s.policy
    if (p.kind === "consecutive") return this.streak >= p.failures
    const w = this.window()
    if (w.length < p.min) return false
    const failures = w.filter((r) => r.failed).length
    const slow = w.filter((r) => r.slow).length
    return failures / w.length >= p.rate || (this.s.slow !== undefined && slow / w.length >= this.s.slow.rate)
  }

  open() {
    this.openings++
    this.tag = "Open"
    this.openUntil = this.now + Math.min(this.s.resetMax, this.s.resetBase * 2 ** (this.openings - 1))
    this.recorded = []
    this.streak = 0
  }

  close() {
    this.tag = "Closed"
    this.openings = 0
    this.successes = 0
    this.recorded = []
    this.streak = 0
  }

  step(op: Op) {
    if (op._tag === "Advance") {
      this.now += op.ms
      return
    }
    if (this.tag === "Open") {
      if (this.now < this.openUntil) {
        this.rejected++
        return
      }
      this.tag = "HalfOpen"
      this.successes = 0
    }
    if (op._tag === "SlowSuccess") this.now += op.ms
    const failed = op._tag === "Failure"
    const slow = this.s.slow !== undefined && op._tag === "SlowSuccess" && op.ms > this.s.slow.ms
    this.recorded.push({ t: this.now, failed, slow })
    this.streak = failed ? this.streak + 1 : 0
    if (this.tag === "HalfOpen") {
      if (failed || slow) return this.open()
      if (++this.successes >= this.s.successThreshold) this.close()
      return
    }
    if (this.trips()) this.open()
  }

  observed() {
    const w = this.window()
    return {
      tag: this.tag,
      retryAfter: this.tag === "Open" ? Math.max(0, this.openUntil - this.now) : undefined,
      calls: w.length,
      failures: w.filter((r) => r.failed).length,
      slowCalls: w.filter((r) => r.slow).length,
      streak: this.streak,
      rejected: this.rejected
    }
  }
}

const toPolicy = (p: Policy): CircuitBreaker.TripPolicy => {
  switch (p.kind) {
    case "consecutive":
      return CircuitBreaker.consecutive(p.failures)
    case "count":
      return CircuitBreaker.countWindow({ size: p.size, failureRate: p.rate, minimumCalls: p.min })
    case "time":
      return CircuitBreaker.timeWindow({ window: p.windowMs, buckets: p.buckets, failureRate: p.rate, minimumCalls: p.min })
  }
}

const randomOps = (s: Scenario, length: number): Effect.Effect<Array<Op>> =>
  Effect.gen(function*() {
    const slowMs = s.slow?.ms ?? 100
    const ops: Array<Op> = []
    for (let i = 0; i < length; i++) {
      const roll = yield* Random.nextIntBetween(0, 99)
      if (roll < 40) ops.push({ _tag: "Success" })
      else if (roll < 72) ops.push({ _tag: "Failure" })
      else if (roll < 84) ops.push({ _tag: "SlowSuccess", ms: yield* Random.nextIntBetween(0, slowMs * 2) })
      else ops.push({ _tag: "Advance", ms: yield* Random.nextIntBetween(0, s.resetBase * 2) })
    }
    return ops
  })

const runScenario = (s: Scenario, seed: number, length: number, seen: Set<string>) =>
  Effect.gen(function*() {
    const ops = yield* randomOps(s, length).pipe(Random.withSeed(seed))
    const start = yield* Effect.clockWith((clock) => Effect.sync(() => clock.currentTimeMillisUnsafe()))
    const b = yield* CircuitBreaker.make({
      policy: toPolicy(s.policy),
      resetTimeout: s.resetBase,
      maxResetTimeout: s.resetMax,
      successThreshold: s.successThreshold,
      ...(s.slow === undefined ? {} : { slowCall: { threshold: s.slow.ms, rate: s.slow.rate } })
    })
    const model = new Model(s)
    model.now = start
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!
      switch (op._tag) {
        case "Advance":
          yield* TestClock.adjust(op.ms)
          break
        case "Success":
          yield* Effect.exit(b.execute(Effect.void))
          break
        case "Failure":
          yield* Effect.exit(b.execute(Effect.fail("boom")))
          break
        case "SlowSuccess":
          yield* Effect.exit(b.execute(TestClock.adjust(op.ms)))
          break
      }
      model.step(op)
      seen.add(model.tag)
      seen.add(`openings:${model.openings}`)
      const stats = yield* b.stats
      const state = stats.state
      const actual = {
        tag: state._tag,
        retryAfter: state._tag === "Open" ? Duration.toMillis(state.retryAfter) : undefined,
        calls: stats.calls,
        failures: stats.failures,
        slowCalls: stats.slowCalls,
        streak: stats.consecutiveFailures,
        rejected: stats.rejected
      }
      assert.deepStrictEqual(actual, model.observed(), `seed ${seed}, step ${i} (${JSON.stringify(op)})`)
    }
    return model
  })

const scenarios: Record<string, Scenario> = {
  consecutive: {
    policy: { kind: "consecutive", failures: 3 },
    slow: undefined,
    resetBase: 500,
    resetMax: 2_000,
    successThreshold: 2
  },
  countWindow: {
    policy: { kind: "count", size: 6, rate: 0.5, min: 4 },
    slow: { ms: 100, rate: 0.6 },
    resetBase: 400,
    resetMax: 1_600,
    successThreshold: 2
  },
  timeWindow: {
    policy: { kind: "time", windowMs: 1_000, buckets: 4, rate: 0.4, min: 3 },
    slow: { ms: 150, rate: 0.5 },
    resetBase: 300,
    resetMax: 2_400,
    successThreshold: 3
  }
}

describe("CircuitBreaker: model-based", () => {
  for (const [name, scenario] of Object.entries(scenarios)) {
    it.effect(`${name}: 150 seeded sequences of 120 steps agree with the reference model`, () =>
      Effect.gen(function*() {
        const seen = new Set<string>()
        for (let seed = 1; seed <= 150; seed++) yield* runScenario(scenario, seed, 120, seen)
        // The sequences reach every state, and repeated openings (the reset timeout grows to its cap).
        for (const expected of ["Closed", "Open", "HalfOpen", "openings:3", "openings:4"]) {
          assert.isTrue(seen.has(expected), expected)
        }
      }))
  }
})

describe("CircuitBreaker: windows, driven directly", () => {
  it("a count window wraps around and keeps exact counts", () => {
    const w = new CountWindow(3)
    const outcomes = [true, false, true, true, false, false, false]
    outcomes.forEach((failed, i) => {
      w.record(0, failed, !failed)
      const last = outcomes.slice(Math.max(0, i - 2), i + 1)
      assert.deepStrictEqual([w.calls, w.failures, w.slow], [
        last.length,
        last.filter((f) => f).length,
        last.filter((f) => !f).length
      ])
    })
    w.clear()
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [0, 0, 0])
  })

  it("a time window drops whole buckets, survives long gaps, and a clock that steps back", () => {
    const w = new TimeWindow(100, 3)
    w.record(0, true, false)
    w.record(99, false, true)
    w.record(150, true, false)
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [3, 2, 1])
    w.advance(299)
    assert.strictEqual(w.calls, 3)
    w.advance(300) // bucket [0, 100) goes, whole
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [1, 1, 0])
    w.record(250, false, false) // the clock stepped back: counted in the newest bucket
    assert.strictEqual(w.calls, 2)
    w.advance(1e12)
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [0, 0, 0])
    w.record(1e12 + 1, true, true)
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [1, 1, 1])
  })
})

describe("The one sliding time window (breaker and retry budget)", () => {
  it("the breaker's time window and the retry budget are the same implementation", () => {
    assert.instanceOf(new TimeWindow(100, 3), SlidingWindow)
    assert.instanceOf(budget.initial({ ratio: 0.1, minPerSecond: 1, windowMillis: 1000 }), SlidingWindow)
  })

  it("counts stay exact when the ring of buckets is allocated late (the counts leave their first bucket)", () => {
    const w = new SlidingWindow(100, 3, 2)
    w.add(10, 0)
    w.add(20, 1, 2)
    assert.deepStrictEqual([w.total(0), w.total(1)], [1, 2])
    w.add(110, 0) // the first bucket now has a slot of its own
    w.add(220, 1)
    assert.deepStrictEqual([w.total(0), w.total(1)], [2, 3])
    w.advance(300) // bucket [0, 100) goes
    assert.deepStrictEqual([w.total(0), w.total(1)], [1, 1])
    w.advance(450) // and [100, 200)
    assert.deepStrictEqual([w.total(0), w.total(1)], [0, 1])
    w.clear()
    w.add(1000, 1)
    w.advance(1100)
    assert.deepStrictEqual([w.total(0), w.total(1)], [0, 1])
    w.advance(1300)
    assert.deepStrictEqual([w.total(0), w.total(1)], [0, 0])
  })

  it("the retry budget's window slides: deposits of calls expire with their bucket", () => {
    const config = { ratio: 0.5, minPerSecond: 0, windowMillis: 1000 }
    let state = budget.initial(config)
    for (let i = 0; i < 4; i++) state = budget.recordCall(state, 0)
    const [first, s1] = budget.tryWithdraw(config, state, 10)
    const [second, s2] = budget.tryWithdraw(config, s1, 20)
    const [third, s3] = budget.tryWithdraw(config, s2, 30)
    assert.deepStrictEqual([first, second, third], [true, true, false])
    // A window later the calls are gone and so is their allowance.
    assert.strictEqual(budget.allowance(config, budget.advance(s3, 1000)), 0)
  })

  it("a count window allocates its ring on the first failure and keeps exact counts after a wrap", () => {
    const w = new CountWindow(3)
    for (let i = 0; i < 5; i++) w.record(0, false, false)
    w.record(0, true, false)
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [3, 1, 0])
    w.record(0, false, true)
    w.record(0, false, false)
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [3, 1, 1])
    w.record(0, false, false) // the failure leaves the window
    assert.deepStrictEqual([w.calls, w.failures, w.slow], [3, 0, 1])
  })
})

describe("CircuitBreaker: the machine, driven directly", () => {
  const at = (millis: number): machine.Time => ({ currentTimeMillisUnsafe: () => millis })

  const config: machine.Config = {
    trip: { _tag: "Consecutive", failures: 1 },
    halfOpenMaxCalls: 2,
    successThreshold: 1,
    slowCallMillis: Infinity,
    slowCallRate: 1
  }
  const window = () => machine.makeWindow(config.trip)
  /** Opens on a failure and hands in the opening's length, as the shell does after replaying the schedule. */
  const failOpen = (s: machine.State, now: number, millis = 1_000): machine.State => {
    const open = machine.complete(config, s, window(), s.generation, machine.FAILURE, false, at(now))
    return machine.opened(open, open.generation, millis)
  }

  it("admission: Open rejects until openUntil, then admits probes up to halfOpenMaxCalls", () => {
    let s = machine.initial(config, 0)
    s = failOpen(s, 10)
    assert.strictEqual(s._tag, "Open")
    assert.strictEqual(machine.admit(config, s, 1_009)[1], machine.REJECT)
    assert.strictEqual(machine.retryAfterMillis(s, 1_009), 1)
    const [probing, first] = machine.admit(config, s, 1_010)
    assert.deepStrictEqual([probing._tag, first, probing.probes], ["HalfOpen", machine.PROBE, 1])
    const [two, second] = machine.admit(config, probing, 1_010)
    assert.deepStrictEqual([second, two.probes], [machine.PROBE, 2])
    assert.strictEqual(machine.admit(config, two, 1_010)[1], machine.REJECT)
    const freed = machine.complete(config, two, window(), two.generation, machine.IGNORED, false, at(1_011))
    assert.deepStrictEqual([freed._tag, freed.probes], ["HalfOpen", 1])
  })

  it("rejects agrees with admit in every state (the rejection fast path decides as admission would)", () => {
    const closed = machine.initial(config, 0)
    const pendingOpen = machine.complete(config, closed, window(), closed.generation, machine.FAILURE, false, at(0))
    const open = failOpen(closed, 0)
    const [half] = machine.admit(config, open, 1_000)
    const [full] = machine.admit(config, half, 1_000)
    const states = [closed, pendingOpen, open, half, full, machine.forceOpen(config, closed, 0), machine.disable(config, closed, 0)]
    for (const state of states) {
      for (const now of [0, 999, 1_000, 5_000]) {
        assert.strictEqual(machine.rejects(config, state, now), machine.admit(config, state, now)[1] === machine.REJECT)
      }
    }
  })

  it("generations fence late outcomes", () => {
    const closed = machine.initial(config, 0)
    const open = machine.complete(config, closed, window(), closed.generation, machine.FAILURE, false, at(0))
    const late = machine.complete(config, open, window(), closed.generation, machine.FAILURE, false, at(5))
    assert.strictEqual(late, open)
  })

  it("an opening is pending (rejects, no retryAfter) until its length is handed in, for its generation only", () => {
    const s = machine.initial(config, 0)
    const open = machine.complete(config, s, window(), s.generation, machine.FAILURE, false, at(5))
    assert.isTrue(machine.pending(open))
    assert.strictEqual(machine.admit(config, open, 1e15)[1], machine.REJECT)
    assert.strictEqual(machine.retryAfterMillis(open, 5), 0)
    assert.strictEqual(machine.opened(open, open.generation + 1, 2_000), open)
    const timed = machine.opened(open, open.generation, 2_000)
    assert.deepStrictEqual([timed.openUntil, timed.openMillis, timed.openings], [2_005, 2_000, 1])
    assert.isFalse(machine.pending(timed))
    assert.strictEqual(machine.opened(timed, timed.generation, 9_000), timed)
    const closed = machine.reset(config, timed, 10)
    assert.deepStrictEqual([closed._tag, closed.openings], ["Closed", 0])
  })

  it("a window holds one generation: carry starts it afresh on a transition, and only then", () => {
    const counted: machine.Config = { ...config, trip: { _tag: "CountWindow", size: 10, failureRate: 0.5, minimumCalls: 10 } }
    const w = machine.makeWindow(counted.trip)
    const closed = machine.initial(counted, 0)
    const after = machine.complete(counted, closed, w, closed.generation, machine.FAILURE, false, at(1))
    assert.strictEqual(machine.carry(w, closed, after), after)
    assert.deepStrictEqual([w.calls, w.failures], [1, 1])
    const forced = machine.forceOpen(counted, after, 2)
    assert.strictEqual(machine.carry(w, after, forced), forced)
    assert.deepStrictEqual([w.calls, w.failures], [0, 0])
  })

  it("a fresh state is shared, never written: two windows over one initial state stay apart", () => {
    const counted: machine.Config = { ...config, trip: { _tag: "CountWindow", size: 10, failureRate: 0.5, minimumCalls: 10 } }
    const shared = machine.initial(counted, 0)
    const a = machine.makeWindow(counted.trip)
    const b = machine.makeWindow(counted.trip)
    machine.complete(counted, shared, a, shared.generation, machine.FAILURE, false, at(1))
    assert.deepStrictEqual([a.calls, b.calls, shared.streak], [1, 0, 0])
  })
})

/**
 * The contract of a `CircuitBreakerStore`, run against every store:
 * `suite(name, storeLayer)` (as Effect's persistence tests do per backend).
 * The memory store runs it in `CircuitBreakerStore.test.ts`; a remote store
 * runs the same suite against its own layer.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, type Layer } from "effect"
import { TestClock } from "effect/testing"
import { CircuitBreaker } from "../src/index.ts"
import * as internal from "../src/internal/circuitBreaker.ts"
import * as machine from "../src/internal/circuitBreakerMachine.ts"

const configOf = (options: CircuitBreaker.CircuitBreakerOptions): machine.Config =>
  internal.resolve("test", options).config

/** A table of the store in context for a breaker `name` with `options`. */
const tableOf = (name: string, options: CircuitBreaker.CircuitBreakerOptions = {}, idleMillis = Infinity) =>
  Effect.flatMap(CircuitBreaker.CircuitBreakerStore, (store) =>
    store.table({ name, config: configOf({ resetTimeout: "10 seconds", ...options }), idleMillis, now: 0 }))

const clock = (millis: number): machine.Time => new machine.FixedTime(millis)

export const suite = (name: string, layer: Layer.Layer<CircuitBreaker.CircuitBreakerStore>): void => {
  describe(`CircuitBreakerStore: ${name}`, () => {
    it.effect("a circuit is made Closed on first use and found again while in use", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a")
        assert.isUndefined(table.find("k"))
        const cell = table.circuit("k", 5)
        assert.strictEqual(cell.state._tag, "Closed")
        assert.strictEqual(cell.key, "k")
        assert.strictEqual(table.circuit("k", 6), cell)
        assert.strictEqual(table.find("k"), cell)
        assert.deepStrictEqual(table.keys(), ["k"])
        // The single circuit of a plain breaker is no key.
        assert.strictEqual(table.circuit(undefined, 0), table.circuit(undefined, 1))
        assert.deepStrictEqual(table.keys(), ["k"])
      }).pipe(Effect.provide(layer)))

    it.effect("record trips, admit rejects while open, then admits probes up to halfOpenMaxCalls, and a probe success closes", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a", { policy: CircuitBreaker.consecutive(2), halfOpenMaxCalls: 2 })
        const cell = table.circuit("k", 0)
        const generation = cell.state.generation
        assert.strictEqual(table.record(cell, generation, machine.FAILURE, false, clock(1))._tag, "Closed")
        const pending = table.record(cell, generation, machine.FAILURE, false, clock(2))
        assert.strictEqual(pending._tag, "Open")
        assert.strictEqual(cell.state, pending)
        // The breaker replays its reset schedule and hands the opening's length in.
        const open = table.update(cell, (s) => machine.opened(s, pending.generation, 10_000))
        assert.strictEqual(open.openUntil, 10_002)
        assert.strictEqual(table.admit(cell, 10_001), machine.REJECT)
        assert.strictEqual(table.admit(cell, 10_002), machine.PROBE)
        assert.strictEqual(cell.state._tag, "HalfOpen")
        assert.strictEqual(table.admit(cell, 10_003), machine.PROBE)
        assert.strictEqual(table.admit(cell, 10_004), machine.REJECT)
        const closed = table.record(cell, cell.state.generation, machine.SUCCESS, false, clock(10_005))
        assert.strictEqual(closed._tag, "Closed")
      }).pipe(Effect.provide(layer)))

    it.effect("an outcome of an earlier generation changes nothing", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a", { policy: CircuitBreaker.consecutive(1) })
        const cell = table.circuit("k", 0)
        const early = cell.state.generation
        table.record(cell, early, machine.FAILURE, false, clock(1))
        assert.strictEqual(cell.state._tag, "Open")
        const open = cell.state
        assert.strictEqual(table.record(cell, early, machine.FAILURE, false, clock(2)), open)
        assert.strictEqual(table.record(cell, early, machine.SUCCESS, false, clock(3)), open)
      }).pipe(Effect.provide(layer)))

    it.effect("reconfigure (when the store has it) keeps every circuit's state and judges the next outcome by the new config", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a", { policy: CircuitBreaker.consecutive(5), halfOpenMaxCalls: 1 })
        if (table.reconfigure === undefined) return
        const closed = table.circuit("closed", 0)
        table.record(closed, closed.state.generation, machine.FAILURE, false, clock(1))
        table.record(closed, closed.state.generation, machine.FAILURE, false, clock(2))
        const forced = table.circuit("forced", 0)
        const before = table.update(forced, (s) => machine.forceOpen(configOf({}), s, 0))
        table.reconfigure(configOf({ policy: CircuitBreaker.consecutive(3), halfOpenMaxCalls: 2 }))
        assert.strictEqual(forced.state, before)
        assert.strictEqual(closed.state.streak, 2)
        assert.strictEqual(table.record(closed, closed.state.generation, machine.FAILURE, false, clock(3))._tag, "Open")
      }).pipe(Effect.provide(layer)))

    it.effect("update applies an admin decision", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a")
        const cell = table.circuit("k", 0)
        const config = configOf({})
        assert.strictEqual(table.update(cell, (s) => machine.forceOpen(config, s, 1))._tag, "ForcedOpen")
        assert.strictEqual(table.admit(cell, 2), machine.REJECT)
        assert.strictEqual(table.update(cell, (s) => machine.reset(config, s, 3))._tag, "Closed")
      }).pipe(Effect.provide(layer)))

    it.effect("each circuit records into a window of its own, started afresh by every transition", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a", { policy: CircuitBreaker.countWindow({ size: 10, minimumCalls: 10 }) })
        const a = table.circuit("a", 0)
        const b = table.circuit("b", 0)
        table.record(a, a.state.generation, machine.FAILURE, false, clock(1))
        table.record(a, a.state.generation, machine.SUCCESS, false, clock(2))
        assert.deepStrictEqual([a.window.calls, a.window.failures, b.window.calls], [2, 1, 0])
        table.update(a, (s) => machine.forceOpen(configOf({}), s, 3))
        assert.deepStrictEqual([a.window.calls, a.window.failures], [0, 0])
        table.update(a, (s) => machine.reset(configOf({}), s, 4))
        table.record(a, a.state.generation, machine.FAILURE, false, clock(5))
        assert.deepStrictEqual([a.state._tag, a.window.calls, a.window.failures], ["Closed", 1, 1])
      }).pipe(Effect.provide(layer)))

    it.effect("sweep drops idle circuits, keeps those whose dropping would let traffic through early", () =>
      Effect.gen(function*() {
        const table = yield* tableOf("a", { policy: CircuitBreaker.consecutive(1), resetTimeout: "1 hour" }, 1000)
        table.circuit("idle", 0)
        const open = table.circuit("open", 0)
        table.record(open, open.state.generation, machine.FAILURE, false, clock(0))
        table.update(open, (s) => machine.opened(s, s.generation, 3_600_000))
        const forced = table.circuit("forced", 0)
        table.update(forced, (s) => machine.forceOpen(configOf({}), s, 0))
        assert.strictEqual(table.sweep(2000), 1)
        assert.deepStrictEqual(table.keys().sort(), ["forced", "open"])
        // A circuit in use is kept.
        table.circuit("busy", 2500)
        assert.strictEqual(table.sweep(3000), 0)
        assert.deepStrictEqual(table.keys().sort(), ["busy", "forced", "open"])
      }).pipe(Effect.provide(layer)))

    it.effect("breakers under one store have separate circuits", () =>
      Effect.gen(function*() {
        const a = yield* CircuitBreaker.keyed({ name: "a", policy: CircuitBreaker.consecutive(1) })
        const b = yield* CircuitBreaker.keyed({ name: "b", policy: CircuitBreaker.consecutive(1) })
        yield* Effect.flip(a.execute(Effect.fail("boom"), "k"))
        assert.strictEqual((yield* a.state("k"))._tag, "Open")
        assert.strictEqual((yield* b.state("k"))._tag, "Closed")
        assert.strictEqual(yield* b.execute(Effect.succeed(1), "k"), 1)
        assert.deepStrictEqual(yield* b.keys, ["k"])
      }).pipe(Effect.provide(layer)))

    it.effect("a breaker under the store trips, rejects with retryAfter, and recovers through a probe", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ name: "s", policy: CircuitBreaker.consecutive(2), resetTimeout: "10 seconds" })
        yield* Effect.flip(breaker.execute(Effect.fail("boom")))
        yield* Effect.flip(breaker.execute(Effect.fail("boom")))
        const error = yield* Effect.flip(breaker.execute(Effect.succeed(1)))
        assert.isTrue(CircuitBreaker.isCircuitOpenError(error))
        if (CircuitBreaker.isCircuitOpenError(error)) assert.strictEqual(Duration.toMillis(error.retryAfter), 10_000)
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* breaker.execute(Effect.succeed(1)), 1)
        assert.strictEqual((yield* breaker.state)._tag, "Closed")
      }).pipe(Effect.provide(layer)))
  })
}

/**
 * Circuit breakers: stop calling a dependency that keeps failing, give it time
 * to recover, then let a few probes find out whether it has.
 *
 * ```text
 *            trip policy says so              resetTimeout elapsed, next call
 *  Closed ───────────────────────▶ Open ────────────────────────────────▶ HalfOpen
 *    ▲                              ▲                                        │
 *    │                              └──────── any probe fails ───────────────┤
 *    └──────────────── successThreshold probe successes in a row ────────────┘
 *
 *  forceOpen ▶ ForcedOpen (rejects all)   disable ▶ Disabled (passes all, records)   reset ▶ Closed
 * ```
 *
 * - **Closed**: calls run; the trip policy ({@link consecutive},
 *   {@link countWindow}, {@link timeWindow}, plus `slowCall`) judges their
 *   outcomes. Rates trip at `rate >= threshold`, never before `minimumCalls`.
 * - **Open**: calls fail at once with {@link CircuitOpenError}, whose
 *   `retryAfter` is the rest of the open period. The period is `resetTimeout`,
 *   or the next delay of a `Schedule` for each consecutive opening (it starts
 *   over once the circuit closes).
 * - **HalfOpen**: the first call after the open period becomes a probe; at
 *   most `halfOpenMaxCalls` probes run at once, the others are rejected.
 *   `successThreshold` successes in a row close the circuit; any probe
 *   failure (or slow probe) reopens it at once. An interrupted probe frees its
 *   slot and counts as nothing.
 * - `classify` (shared with `Retry`, `Hedge` and a `Policy`'s fallback)
 *   decides how typed errors count: transient = failure, permanent =
 *   success, ignored = neither (`isFailure`, if set, overrides it: what it
 *   accepts is a failure, the rest ignored). Defects always count; interruption never does. Rejections are never
 *   failures, but they are counted in `stats.rejected`; rejections by
 *   policies inside the breaker (`BulkheadRejectedError`, `LoadShedError`,
 *   `RateLimitedError`, a nested `CircuitOpenError`) are ignored.
 *
 * The Closed-state success path is one state read and one in-place window
 * update: no event, no PubSub, and (with `consecutive`) no clock read.
 * Transitions are reported as `BreakerTransition` events and on
 * `breaker.changes`; rejections as `BreakerRejected` events.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Predicate, type Stream } from "effect"
import type * as Schedule from "effect/Schedule"
import { dual } from "effect/Function"
import type { Redis as EffectRedis } from "effect/persistence"
import type { InvalidConfigError } from "./Errors.ts"
import type * as classify from "./internal/classify.ts"
import * as internal from "./internal/circuitBreaker.ts"
import * as store from "./internal/circuitBreakerStore.ts"
import * as redisStore from "./internal/circuitBreakerStoreRedis.ts"
import * as defaults from "./internal/defaults.ts"
import * as validate from "./internal/validate.ts"
import * as errors from "./internal/errors.ts"

const TypeId = "~effect-resilience/CircuitBreaker"
const KeyedTypeId = "~effect-resilience/CircuitBreaker/Keyed"

/**
 * A circuit breaker: run calls through it with `execute`, read it with
 * `state`, `stats` and `changes`, steer it with `forceOpen`, `disable` and
 * `reset`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker: CircuitBreaker.CircuitBreaker = yield* CircuitBreaker.make({ name: "payments", policy: CircuitBreaker.consecutive(2) })
 *   yield* Effect.fail("boom").pipe(breaker.execute, Effect.ignore)
 *   yield* Effect.fail("boom").pipe(breaker.execute, Effect.ignore)
 *   return (yield* breaker.state)._tag
 * })
 * console.log(await Effect.runPromise(Effect.scoped(program))) // => "Open"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface CircuitBreaker {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  /**
   * Runs an effect through the circuit. A function of the effect alone, so
   * `effect.pipe(breaker.execute)` works. Fails with `CircuitOpenError`
   * without running the effect when the circuit rejects the call.
   */
  readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpenError, R>
  /** The current state; `Open` carries the remaining `retryAfter`. */
  readonly state: Effect.Effect<State>
  /** What the trip policy sees now, and the rejections so far. */
  readonly stats: Effect.Effect<Stats>
  /**
   * Every transition from now on, with its timestamp (one PubSub, fed only on
   * transitions). Ends when the scope the breaker was made in closes (a
   * breaker made outside any scope never ends it).
   */
  readonly changes: Stream.Stream<Transition>
  /** Rejects every call (`ForcedOpen`) until `reset` or `disable`. */
  readonly forceOpen: Effect.Effect<void>
  /** Lets every call through and records it, never trips (`Disabled`), until `reset` or `forceOpen`. */
  readonly disable: Effect.Effect<void>
  /** Back to a fresh `Closed`: empty window, reset timeout started over. */
  readonly reset: Effect.Effect<void>
}

/**
 * The states a circuit can be in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { CircuitBreaker } from "effect-resilience"
 *
 * declare const breaker: CircuitBreaker.CircuitBreaker
 *
 * const refusing: ReadonlyArray<CircuitBreaker.StateTag> = ["Open", "ForcedOpen"]
 * const isRefusing = breaker.state.pipe(Effect.map((state) => refusing.includes(state._tag)))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type StateTag = "Closed" | "Open" | "HalfOpen" | "ForcedOpen" | "Disabled"

/**
 * A circuit's state. `since` is when it began (milliseconds since the epoch,
 * from `Clock`).
 *
 * **Details**
 *
 * - `Open.retryAfter` is the rest of the open period, zero once it is over:
 *   the circuit stays `Open` until the next call moves it to `HalfOpen` (no
 *   timer runs in the background). `openings` counts consecutive openings
 *   since the circuit last closed (it picks the reset timeout).
 * - `HalfOpen.probes` are the probes running, `successes` the probe
 *   successes in a row so far.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import type { CircuitBreaker } from "effect-resilience"
 *
 * const describe = (state: CircuitBreaker.State): string =>
 *   state._tag === "Open" ? `open, retry after ${Duration.format(state.retryAfter)}` : state._tag
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type State =
  | { readonly _tag: "Closed"; readonly since: number }
  | { readonly _tag: "Open"; readonly since: number; readonly retryAfter: Duration.Duration; readonly openings: number }
  | {
    readonly _tag: "HalfOpen"
    readonly since: number
    readonly probes: number
    readonly successes: number
    readonly openings: number
  }
  | { readonly _tag: "ForcedOpen"; readonly since: number }
  | { readonly _tag: "Disabled"; readonly since: number }

/**
 * A snapshot of a circuit.
 *
 * **Details**
 *
 * `calls`, `failures` and `slowCalls` are what the trip policy judges now:
 * the last `size` calls (`countWindow`), the calls of the last `window`
 * (`timeWindow`), or the calls since the circuit last changed state
 * (`consecutive`). The window starts empty at every transition. Ignored and
 * interrupted calls are not in it. `rejected` counts every rejection since
 * the breaker was made.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { CircuitBreaker } from "effect-resilience"
 *
 * declare const breaker: CircuitBreaker.CircuitBreaker
 *
 * const line = breaker.stats.pipe(
 *   Effect.map((s: CircuitBreaker.Stats) => `${s.name}: ${s.state._tag}, ${(s.failureRate * 100).toFixed(0)}% failing`)
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Stats {
  readonly name: string
  readonly state: State
  readonly calls: number
  readonly failures: number
  readonly slowCalls: number
  /** `failures / calls`, 0 without calls. */
  readonly failureRate: number
  /** `slowCalls / calls`, 0 without calls. */
  readonly slowCallRate: number
  readonly consecutiveFailures: number
  readonly rejected: number
}

/**
 * One transition, as seen on `changes`. `retryAfter` is the open period when
 * the circuit opened; `key` is set for the circuits of a keyed breaker.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import type { CircuitBreaker } from "effect-resilience"
 *
 * declare const breaker: CircuitBreaker.CircuitBreaker
 *
 * const alerts = breaker.changes.pipe(
 *   Stream.filter((t: CircuitBreaker.Transition) => t.to === "Open"),
 *   Stream.runForEach((t) => Effect.logWarning(`${t.name} opened (was ${t.from})`))
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Transition {
  readonly name: string
  readonly key: string | undefined
  readonly from: StateTag
  readonly to: StateTag
  /** Milliseconds since the epoch, from `Clock`. */
  readonly timestamp: number
  readonly retryAfter: Duration.Duration | undefined
}

// -----------------------------------------------------------------------------
// trip policies
// -----------------------------------------------------------------------------

/**
 * When a Closed circuit opens. Plain data: build it with {@link consecutive},
 * {@link countWindow} or {@link timeWindow}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const strict: CircuitBreaker.TripPolicy = CircuitBreaker.consecutive(3)
 * const tolerant: CircuitBreaker.TripPolicy = CircuitBreaker.timeWindow({ window: "30 seconds", failureRate: 0.5, minimumCalls: 20 })
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export type TripPolicy = Consecutive | CountWindow | TimeWindow

/**
 * Opens after `failures` failures in a row (in order of completion).
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const threshold = (policy: CircuitBreaker.TripPolicy): number | undefined =>
 *   policy._tag === "Consecutive" ? (policy satisfies CircuitBreaker.Consecutive).failures : undefined
 * console.log(threshold(CircuitBreaker.consecutive(5))) // => 5
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export interface Consecutive {
  readonly _tag: "Consecutive"
  readonly failures: number
}

/**
 * Opens when the failure rate (or slow-call rate) of the last `size` calls
 * reaches `failureRate`, once `minimumCalls` calls are in the window.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const size = (policy: CircuitBreaker.TripPolicy): number | undefined =>
 *   policy._tag === "CountWindow" ? (policy satisfies CircuitBreaker.CountWindow).size : undefined
 * console.log(size(CircuitBreaker.countWindow({ size: 100, failureRate: 0.5, minimumCalls: 10 }))) // => 100
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export interface CountWindow {
  readonly _tag: "CountWindow"
  readonly size: number
  readonly failureRate: number
  readonly minimumCalls: number
}

/**
 * Opens when the failure rate (or slow-call rate) of the calls of the last
 * `window` reaches `failureRate`, once `minimumCalls` calls are in the window.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const window = (policy: CircuitBreaker.TripPolicy): string | undefined =>
 *   policy._tag === "TimeWindow" ? Duration.format((policy satisfies CircuitBreaker.TimeWindow).window) : undefined
 * console.log(window(CircuitBreaker.timeWindow({ window: "1 minute", failureRate: 0.25 }))) // => "1m"
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export interface TimeWindow {
  readonly _tag: "TimeWindow"
  readonly window: Duration.Duration
  readonly buckets: number
  readonly failureRate: number
  readonly minimumCalls: number
}

/**
 * Trips after `failures` failures in a row; a success starts the count over.
 *
 * **When to use**
 *
 * Low or bursty traffic, where a rate over a window would judge too few
 * calls, and dependencies that fail hard (down, not degraded). The seed
 * profiles use 3 (conservative) to 10 (aggressive).
 *
 * **Gotchas**
 *
 * Throws `InvalidConfigError` unless `failures` is an integer >= 1. Slow-call
 * detection needs a window: `slowCall` with `consecutive` is rejected.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const policy = CircuitBreaker.consecutive(5)
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export const consecutive = (failures: number): TripPolicy => internal.consecutive("CircuitBreaker.consecutive", failures)

/**
 * Trips on the failure rate of the last `size` calls.
 *
 * **When to use**
 *
 * Steady traffic, when a share of failures matters more than a streak (a
 * dependency failing one call in two never fails five in a row for long).
 * `minimumCalls` keeps a handful of early calls from deciding.
 *
 * **Details**
 *
 * Defaults: `size` 100, `failureRate` 0.5, `minimumCalls` = `size`. Trips at
 * `failures / calls >= failureRate`. Memory: one byte per call slot.
 *
 * **Gotchas**
 *
 * Throws `InvalidConfigError` for a `failureRate` outside (0, 1], a `size` or
 * `minimumCalls` that is not an integer >= 1, or `minimumCalls > size`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * // Half of the last 20 calls failed, judged from the 10th call on.
 * const policy = CircuitBreaker.countWindow({ size: 20, failureRate: 0.5, minimumCalls: 10 })
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export const countWindow = (options: {
  readonly size?: number | undefined
  readonly failureRate?: number | undefined
  readonly minimumCalls?: number | undefined
} = {}): TripPolicy => internal.countWindow("CircuitBreaker.countWindow", options)

/**
 * Trips on the failure rate of the calls of the last `window`, counted in
 * `buckets` buckets (memory is O(buckets), not O(calls)).
 *
 * **When to use**
 *
 * High or variable traffic, when "the last minute" means more than "the last
 * N calls": a burst cannot push old failures out, and a quiet period lets
 * them age out.
 *
 * **Details**
 *
 * Defaults: `window` 60 s, `buckets` 10, `failureRate` 0.5, `minimumCalls`
 * 10. As the clock passes a bucket, the whole bucket is dropped: the window
 * spans between `window - window / buckets` and `window` of time.
 *
 * **Gotchas**
 *
 * Throws `InvalidConfigError` for a `failureRate` outside (0, 1], `buckets` or
 * `minimumCalls` that are not integers >= 1, a `window` that is not a finite
 * duration > 0, or buckets shorter than 1 millisecond (`buckets > window` in
 * milliseconds).
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const policy = CircuitBreaker.timeWindow({ window: "30 seconds", buckets: 10, failureRate: 0.25, minimumCalls: 20 })
 * ```
 *
 * @category trip policies
 * @since 0.1.0
 */
export const timeWindow = (options: {
  readonly window?: Duration.Input | undefined
  readonly buckets?: number | undefined
  readonly failureRate?: number | undefined
  readonly minimumCalls?: number | undefined
} = {}): TripPolicy => internal.timeWindow("CircuitBreaker.timeWindow", options)

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const options: CircuitBreaker.CircuitBreakerOptions = {
 *   name: "payments",
 *   policy: CircuitBreaker.countWindow({ size: 50, failureRate: 0.5, minimumCalls: 10 }),
 *   resetTimeout: "10 seconds",
 *   maxResetTimeout: "2 minutes", // doubles after each failed probe, up to this
 *   halfOpenMaxCalls: 2,
 *   successThreshold: 2,
 *   slowCall: { threshold: "2 seconds", rate: 0.8 }
 * }
 * const breaker = CircuitBreaker.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface CircuitBreakerOptions {
  /** Reported in errors, events and transitions. Default `"circuit-breaker"`. */
  readonly name?: string | undefined
  /** When a Closed circuit opens. Default `consecutive(5)`. */
  readonly policy?: TripPolicy | undefined
  /**
   * How long the circuit stays open: a duration > 0 (default 60 s), or a
   * `Schedule` whose n-th delay is the length of the n-th consecutive
   * opening (its last delay repeats once it ends; it starts over when the
   * circuit closes). A delay of `Infinity` is capped at `maxResetTimeout`;
   * with no cap, a first one is refused and a later one ends the schedule.
   */
  readonly resetTimeout?: Duration.Input | Schedule.Schedule<unknown, number> | undefined
  /**
   * With a duration `resetTimeout`: each consecutive opening lasts twice as
   * long as the previous one, up to this. With a `Schedule`: caps its delays.
   * Default: none (a duration stays constant).
   */
  readonly maxResetTimeout?: Duration.Input | undefined
  /** Probes running at once in HalfOpen; other calls are rejected. Default 1. */
  readonly halfOpenMaxCalls?: number | undefined
  /** Probe successes in a row that close the circuit. Default 1. */
  readonly successThreshold?: number | undefined
  /**
   * How typed failures count: `transient` is a failure,
   * `permanent` a success (the dependency answered: a 404 never trips the
   * breaker), `ignored` neither. Default `Retry.defaultClassifier`; a
   * `Policy` passes its own. Rejections by policies inside the breaker
   * (bulkhead, load shedder, rate limit, another breaker) are ignored before
   * this is asked.
   */
  readonly classify?: classify.Classifier | classify.ClassifierOptions | undefined
  /**
   * Overrides `classify`: the typed errors it accepts count as failures, the
   * others are ignored (neither failure nor success).
   */
  readonly isFailure?: ((error: unknown) => boolean) | undefined
  /**
   * A call slower than `threshold` is slow; the circuit trips when the share
   * of slow calls in the window reaches `rate`. Windowed policies only.
   */
  readonly slowCall?: { readonly threshold: Duration.Input; readonly rate: number } | undefined
}

/**
 * Makes a circuit breaker.
 *
 * **Details**
 *
 * Fails with `InvalidConfigError` (naming the field, the allowed range and
 * the value) for bad options: `halfOpenMaxCalls` and `successThreshold` must
 * be integers >= 1, `resetTimeout` a duration > 0 or a `Schedule`,
 * `maxResetTimeout` a duration >= `resetTimeout`, `slowCall.threshold` a
 * duration > 0 and `slowCall.rate` in (0, 1], and `slowCall` needs a windowed
 * policy. The breaker needs no `Scope`: it holds no fiber and no timer (the
 * open period ends when a call finds it over).
 *
 * **Example** (A breaker for a payment provider)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Backoff, CircuitBreaker } from "effect-resilience"
 *
 * declare const charge: Effect.Effect<string, { readonly status: number }>
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({
 *     name: "payments",
 *     policy: CircuitBreaker.countWindow({ size: 50, failureRate: 0.5, minimumCalls: 20 }),
 *     resetTimeout: Backoff.exponential({ base: "30 seconds", max: "5 minutes" }),
 *     successThreshold: 2,
 *     halfOpenMaxCalls: 2,
 *     isFailure: (error) => (error as { status?: number }).status === undefined || (error as { status: number }).status >= 500,
 *     slowCall: { threshold: "2 seconds", rate: 0.8 }
 *   })
 *   return yield* charge.pipe(breaker.execute)
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: CircuitBreakerOptions = {}): Effect.Effect<CircuitBreaker, InvalidConfigError> =>
  Effect.flatMap(validate.attempt(() => internal.resolve("CircuitBreaker.make", options)), (resolved) =>
    Effect.gen(function*() {
      const breaker = yield* internal.makeBreaker(resolved, Infinity)
      return internal.facade(breaker, breaker.table.circuit(undefined, yield* Clock.currentTimeMillis))
    }))

/**
 * Provides a circuit breaker as the service `tag`.
 *
 * **Example** (One breaker shared by every call to a service)
 *
 * ```ts
 * import { Context, Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * class InventoryBreaker extends Context.Service<InventoryBreaker, CircuitBreaker.CircuitBreaker>()("app/InventoryBreaker") {}
 *
 * const InventoryBreakerLive = CircuitBreaker.layer(InventoryBreaker, {
 *   name: "inventory",
 *   policy: CircuitBreaker.consecutive(5),
 *   resetTimeout: "30 seconds"
 * })
 *
 * const stock = Effect.gen(function*() {
 *   const breaker = yield* InventoryBreaker
 *   return yield* Effect.succeed(7).pipe(breaker.execute)
 * }).pipe(Effect.provide(InventoryBreakerLive))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <I>(tag: Context.Key<I, CircuitBreaker>, options: CircuitBreakerOptions = {}): Layer.Layer<I, InvalidConfigError> =>
  Layer.effect(tag, make(options))

/**
 * Runs an effect through a breaker: `CircuitBreaker.execute(effect, breaker)`
 * or `effect.pipe(CircuitBreaker.execute(breaker))`, the same as
 * `breaker.execute(effect)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * declare const breaker: CircuitBreaker.CircuitBreaker
 *
 * const guarded = Effect.succeed(1).pipe(CircuitBreaker.execute(breaker))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const execute: {
  (breaker: CircuitBreaker): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpenError, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, breaker: CircuitBreaker): Effect.Effect<A, E | CircuitOpenError, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, breaker: CircuitBreaker) => breaker.execute(self))

// -----------------------------------------------------------------------------
// keyed
// -----------------------------------------------------------------------------

/**
 * One circuit per key (per host, per tenant), made on first use, with the
 * same options for all. Idle circuits are dropped after `idleTimeToLive`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * declare const fetchFrom: (host: string) => Effect.Effect<string, Error>
 *
 * const program = Effect.gen(function*() {
 *   const breakers: CircuitBreaker.KeyedCircuitBreaker = yield* CircuitBreaker.keyed({ policy: CircuitBreaker.consecutive(3) })
 *   // one circuit per host: a dead mirror does not stop calls to the healthy ones
 *   const body = yield* fetchFrom("eu.example.com").pipe(breakers.execute("eu.example.com"))
 *   const open = yield* breakers.state("us.example.com")
 *   return { body, open: open._tag }
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface KeyedCircuitBreaker {
  readonly [KeyedTypeId]: typeof KeyedTypeId
  readonly name: string
  /** Runs an effect through the circuit of `key`: `effect.pipe(keyed.execute(key))` or `keyed.execute(effect, key)`. */
  readonly execute: {
    (key: string): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpenError, R>
    <A, E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<A, E | CircuitOpenError, R>
  }
  /**
   * A `CircuitBreaker` view of the circuit of `key`: its operations go
   * through the registry (the circuit is made on first use and kept alive
   * by use); its `changes` are that key's transitions.
   */
  readonly get: (key: string) => Effect.Effect<CircuitBreaker>
  /** The state of `key`'s circuit; `Closed` for a key without one (none is made). */
  readonly state: (key: string) => Effect.Effect<State>
  /** The keys that have a circuit. */
  readonly keys: Effect.Effect<ReadonlyArray<string>>
  /** Transitions of every circuit, each with its `key`. */
  readonly changes: Stream.Stream<Transition>
  /** Drops the circuits idle for `idleTimeToLive` now (this also happens on its own as calls come in); returns how many. */
  readonly evictIdle: Effect.Effect<number>
}

/**
 * Options of {@link keyed}: those of {@link make}, plus how long an unused
 * circuit is kept.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const options: CircuitBreaker.KeyedCircuitBreakerOptions = {
 *   name: "hosts",
 *   policy: CircuitBreaker.consecutive(5),
 *   idleTimeToLive: "10 minutes" // circuits idle this long (and Closed) are evicted
 * }
 * const breakers = CircuitBreaker.keyed(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface KeyedCircuitBreakerOptions extends CircuitBreakerOptions {
  /** A circuit unused for this long is dropped. Default 1 hour. */
  readonly idleTimeToLive?: Duration.Input | undefined
}

/**
 * Makes a keyed breaker: one independent circuit per key, all with the same
 * options. Circuit `k` of a breaker named `n` is named `n/k` in errors,
 * events and transitions (and `CircuitOpenError.key` is `k`).
 *
 * **Details**
 *
 * Memory stays bounded without a background fiber: calls sweep the registry
 * every quarter of `idleTimeToLive`, dropping circuits unused for
 * `idleTimeToLive` — except those running probes, forced open, disabled, or
 * whose open period ended less than `idleTimeToLive` ago (dropping them would
 * let traffic through early). A dropped key starts again as a fresh `Closed`
 * circuit. A `Closed` circuit costs a few hundred bytes (see
 * docs/performance.md).
 *
 * **Example** (One circuit per upstream host)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * declare const fetchFrom: (host: string) => Effect.Effect<string, Error>
 *
 * const program = Effect.gen(function*() {
 *   const breakers = yield* CircuitBreaker.keyed({
 *     name: "upstream",
 *     policy: CircuitBreaker.consecutive(3),
 *     resetTimeout: "30 seconds",
 *     idleTimeToLive: "10 minutes"
 *   })
 *   const host = "eu.example.com"
 *   return yield* fetchFrom(host).pipe(breakers.execute(host))
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const keyed = (options: KeyedCircuitBreakerOptions = {}): Effect.Effect<KeyedCircuitBreaker, InvalidConfigError> =>
  Effect.flatMap(
    validate.attempt(() => {
      const source = "CircuitBreaker.keyed"
      const resolved = internal.resolve(source, options)
      const idleMillis = validate.positiveDurationMillisOr(
        source,
        "idleTimeToLive",
        options.idleTimeToLive,
        defaults.circuitBreaker.keyedIdleTimeToLiveMillis
      )
      return { resolved, idleMillis }
    }),
    ({ idleMillis, resolved }) =>
      Effect.map(internal.makeBreaker(resolved, idleMillis), internal.makeKeyed)
  )

/**
 * Provides a keyed breaker as the service `tag`.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * class HostBreakers extends Context.Service<HostBreakers, CircuitBreaker.KeyedCircuitBreaker>()("app/HostBreakers") {}
 *
 * const HostBreakersLive = CircuitBreaker.layerKeyed(HostBreakers, { policy: CircuitBreaker.consecutive(3) })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerKeyed = <I>(
  tag: Context.Key<I, KeyedCircuitBreaker>,
  options: KeyedCircuitBreakerOptions = {}
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, keyed(options))

// -----------------------------------------------------------------------------
// stores
// -----------------------------------------------------------------------------

/**
 * A store of circuit states: what a breaker's circuits share with other
 * breakers (a remote store: with other processes). `table` is called once
 * per breaker, when it is made; every operation of the returned table is
 * synchronous, so the Closed-state path makes no Effect round trip.
 *
 * **Contract** (docs/circuit-breaker.md, "Stores"; checked for every store
 * by `test/CircuitBreakerStoreSuite.ts`)
 *
 * - `circuit(key, now)` returns the circuit of `key` (`undefined`: the one
 *   circuit of a plain breaker), made Closed on first use and marked used.
 *   Its `state` is the local view the breaker reads on every call.
 * - `admit`, `record` and `update` apply the machine's decisions
 *   (`internal/circuitBreakerMachine.ts`) and return the state after; a
 *   remote store applies them to its local view and sends outcomes in
 *   batches, merging the shared state back in the background.
 * - `sweep(now)` drops circuits idle for `idleMillis` unless that would let
 *   traffic through early (probing, forced open, disabled, still open).
 *
 * **Example** (Breakers built under an explicit memory store)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "payments" })
 *   return yield* Effect.succeed(1).pipe(breaker.execute)
 * }).pipe(Effect.provide(CircuitBreaker.layerStoreMemory))
 * ```
 *
 * @category store
 * @since 0.2.0
 */
export const CircuitBreakerStore = store.CircuitBreakerStore

/**
 * @category store
 * @since 0.2.0
 */
export type CircuitBreakerStore = store.CircuitBreakerStore

/**
 * @category store
 * @since 0.2.0
 */
export declare namespace CircuitBreakerStore {
  /**
   * The service: one table of circuits per breaker.
   *
   * @category store
   * @since 0.2.0
   */
  export type Shape = typeof store.CircuitBreakerStore.Service
  /**
   * The circuits of one breaker (see {@link CircuitBreakerStore} for the contract).
   *
   * @category store
   * @since 0.2.0
   */
  export type Table = store.Table
  /**
   * What a breaker tells its store: name, decision config, idle time-to-live, time.
   *
   * @category store
   * @since 0.2.0
   */
  export type TableOptions = store.TableOptions
  /**
   * One circuit: its local view (`state`), rejection count and last use.
   *
   * @category store
   * @since 0.2.0
   */
  export type Circuit = store.Cell
}

/**
 * The in-memory {@link CircuitBreakerStore}: each breaker's circuits live in
 * its process. It is what a breaker uses when no store is provided.
 *
 * **Example** (Providing it explicitly)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const program = CircuitBreaker.keyed({ name: "hosts" }).pipe(Effect.provide(CircuitBreaker.layerStoreMemory))
 * ```
 *
 * @category store
 * @since 0.2.0
 */
export const layerStoreMemory: Layer.Layer<CircuitBreakerStore> = Layer.succeed(CircuitBreakerStore, store.memory)

/**
 * Options of {@link layerStoreRedis}: the key prefix, the sharing `mode`
 * (`"shared"`, the default, or `{ quorum: n }`), how long one Redis command
 * may take (`timeout`, default 500 ms), how often outcomes are sent
 * (`flushInterval`, default 50 ms), how often Redis is asked again while it
 * does not answer (`retryInterval`, default 1 s) and how long a probe lease
 * lasts unless renewed (`leaseTimeout`, default 10 s).
 *
 * **Example** (A quorum of three replicas)
 *
 * ```ts
 * import type { CircuitBreaker } from "effect-resilience"
 *
 * const options: CircuitBreaker.RedisStoreOptions = { prefix: "orders:breaker:", mode: { quorum: 3 } }
 * ```
 *
 * @category store
 * @since 0.2.0
 */
export type RedisStoreOptions = redisStore.RedisStoreOptions

/**
 * A {@link CircuitBreakerStore} shared by every replica through Redis
 * (`effect/persistence`'s `Redis` service; on Node, `NodeRedis.layer` from
 * `@effect/platform-node`). Local-first: a healthy closed circuit makes no
 * Redis round trip per call; outcomes are sent in batches every
 * `flushInterval`, transitions are atomic in Redis (one Lua script, the
 * machine's rules) and reach the other replicas by pub/sub.
 *
 * **Details**
 *
 * - `mode: "shared"`: one circuit for every replica; the outcomes of all of
 *   them fill one window, and a replica that trips on its own outcomes opens
 *   it for everyone.
 * - `mode: { quorum: n }`: a replica's own trip opens only its own circuit;
 *   once `n` replicas have tripped, the circuit opens for every replica.
 * - A shared opening admits at most `halfOpenMaxCalls` probes over every
 *   replica: a probe needs a lease from Redis, renewed while it runs and
 *   expiring `leaseTimeout` after the opening's end if its holder dies.
 * - Every Redis command is bounded by `timeout`: when Redis does not answer,
 *   breakers go on with their local state, a warning is logged, the metric
 *   `resilience_circuit_breaker_store_unavailable_total` is incremented, and
 *   the shared state is read back when Redis answers again. No call ever
 *   waits for Redis. See docs/scale-out.md for the bounds measured.
 *
 * **Gotchas**: a bad option fails with `InvalidConfigError` naming it.
 *
 * **Example** (Every replica shares the payments circuit)
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import type { Redis } from "effect/persistence"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * // On Node: NodeRedis.layer({ url: "redis://127.0.0.1:6379" }) from @effect/platform-node.
 * declare const RedisLive: Layer.Layer<Redis.Redis>
 *
 * const Store = CircuitBreaker.layerStoreRedis({ prefix: "orders:breaker:" }).pipe(Layer.provide(RedisLive))
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "payments" })
 *   return yield* Effect.succeed("paid").pipe(breaker.execute)
 * }).pipe(Effect.provide(Store))
 * ```
 *
 * @category store
 * @since 0.2.0
 */
export const layerStoreRedis = (
  options?: RedisStoreOptions
): Layer.Layer<CircuitBreakerStore, InvalidConfigError, EffectRedis.Redis> =>
  Layer.effect(CircuitBreakerStore, redisStore.make(options))

// -----------------------------------------------------------------------------
// errors and guards
// -----------------------------------------------------------------------------

/**
 * The circuit rejected the call without running it.
 *
 * **Details**
 *
 * - `state` is where the circuit was: `Open` (the open period is not over;
 *   `retryAfter` is what is left of it), `HalfOpen` (all `halfOpenMaxCalls`
 *   probes are running; `retryAfter` is zero, since the circuit may close at
 *   any moment) or `ForcedOpen` (an operator opened it; `retryAfter` is zero,
 *   since nobody knows when it will be reset).
 * - `Retry.retry` honours `retryAfter`: it never retries sooner.
 * - A rejection is never counted as a failure by the breaker.
 *
 * **Example** (Falling back while the circuit is open)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * declare const breaker: CircuitBreaker.CircuitBreaker
 * declare const quote: Effect.Effect<number, Error>
 *
 * const price = quote.pipe(
 *   breaker.execute,
 *   Effect.catchTag("CircuitOpenError", (e) => Effect.succeed(-1).pipe(Effect.tap(Effect.log(e.message))))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const CircuitOpenError = errors.CircuitOpenError

/**
 * @category errors
 * @since 0.1.0
 */
export type CircuitOpenError = errors.CircuitOpenError

/**
 * Checks whether a value is a {@link CircuitOpenError}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * CircuitBreaker.isCircuitOpenError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isCircuitOpenError: (u: unknown) => u is CircuitOpenError = errors.isCircuitOpenError

/**
 * Checks whether a value is a {@link CircuitBreaker}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * CircuitBreaker.isCircuitBreaker({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isCircuitBreaker = (u: unknown): u is CircuitBreaker => Predicate.hasProperty(u, TypeId)

/**
 * Checks whether a value is a {@link KeyedCircuitBreaker}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * CircuitBreaker.isKeyedCircuitBreaker({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isKeyedCircuitBreaker = (u: unknown): u is KeyedCircuitBreaker => Predicate.hasProperty(u, KeyedTypeId)

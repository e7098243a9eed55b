/**
 * Bounds how long an effect may run. When the time is up the effect is
 * interrupted (its finalizers run before the caller sees the error) and the
 * caller gets a typed `TimeoutError { policy, duration }`.
 *
 * @since 0.1.0
 */
import { type Cause, Duration, Effect, Predicate } from "effect"
import { ResilienceEvent } from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import { dualPrepared } from "./internal/dual.ts"
import { emit } from "./internal/events.ts"
import * as internal from "./internal/timeout.ts"
import * as validate from "./internal/validate.ts"
import * as errors from "./internal/errors.ts"

/**
 * The effect ran longer than `duration` and was interrupted.
 *
 * **Details**
 *
 * Its `_tag` is `"TimeoutError"`, like Effect's own `Cause.TimeoutError`, so
 * one `Effect.catchTag("TimeoutError", ...)` handles both; this one also
 * carries the policy name in `policy` and the `duration`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Timeout } from "effect-resilience"
 *
 * const program = Effect.never.pipe(
 *   Timeout.timeout({ duration: "1 second", name: "db" }),
 *   Effect.catchTag("TimeoutError", (e) => Effect.succeed(`timed out: ${e.message}`))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const TimeoutError = errors.TimeoutError

/**
 * @category errors
 * @since 0.1.0
 */
export type TimeoutError = errors.TimeoutError

/**
 * Checks whether a value is a {@link TimeoutError} of this library.
 *
 * @example
 * ```ts
 * import { Timeout } from "effect-resilience"
 *
 * Timeout.isTimeoutError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isTimeoutError: (u: unknown) => u is TimeoutError = errors.isTimeoutError

/**
 * A duration alone, or with the `name` reported in errors and events, and a
 * `grace`: how long timed-out work may take to stop before the caller stops
 * waiting for it (see {@link timeout}).
 *
 * @example
 * ```ts
 * import { Timeout } from "effect-resilience"
 *
 * const short: Timeout.TimeoutOptions = "500 millis"
 * const named: Timeout.TimeoutOptions = { duration: "2 seconds", name: "ledger", grace: "200 millis" }
 * const bounded = Timeout.timeout(named)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type TimeoutOptions = Duration.Input | TimeoutOptionsObject

interface TimeoutOptionsObject {
  readonly duration: Duration.Input
  readonly name?: string | undefined
  readonly grace?: Duration.Input | undefined
}

const isOptionsObject = (u: TimeoutOptions): u is TimeoutOptionsObject =>
  Predicate.hasProperty(u, "duration") && !Duration.isDuration(u)

/**
 * Fails with `TimeoutError` when `self` runs longer than the duration, and
 * interrupts it.
 *
 * **Details**
 *
 * The duration is validated once, when the options are given: it must be
 * > 0 (or `"Infinity"`, which returns `self` unchanged). Emits `TimeoutFired`
 * when the time runs out. Under `TestClock`, time only passes when the test
 * adjusts it.
 *
 * With a `grace`, work that has not stopped `grace` after the deadline (it
 * runs in an uninterruptible region) is left to finish on its own — it stops
 * when it leaves that region — and reported as an `Abandoned` event (reason
 * `"uninterruptible"`); the caller gets its `TimeoutError` then.
 *
 * **Gotchas**
 *
 * Without a `grace`, an effect that masks interruption (`Effect.uninterruptible`)
 * keeps running until it finishes, and the timeout waits for it. A Promise
 * cannot be interrupted at all: bound Promise work with {@link promise}, which
 * aborts it.
 *
 * **Example** (A 2-second limit on a query)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Timeout } from "effect-resilience"
 *
 * declare const query: Effect.Effect<ReadonlyArray<string>>
 *
 * const bounded = query.pipe(Timeout.timeout({ duration: "2 seconds", name: "orders-db" }))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const timeout: {
  (options: TimeoutOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TimeoutError, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: TimeoutOptions): Effect.Effect<A, E | TimeoutError, R>
} = dualPrepared((options: TimeoutOptions) => {
  const source = "Timeout.timeout"
  if (isOptionsObject(options)) validate.options(source, "options", options, true)
  const input = isOptionsObject(options) ? options.duration : options
  const name = validate.nonEmptyName(
    source,
    "name",
    (isOptionsObject(options) ? options.name : undefined) ?? defaults.timeout.name
  )
  const millis = validate.positiveDurationOrInfinityMillis(source, "duration", input)
  const grace = isOptionsObject(options) && options.grace !== undefined
    ? Duration.millis(validate.durationMillis(source, "grace", options.grace))
    : undefined
  if (millis === Infinity) return <A, E, R>(self: Effect.Effect<A, E, R>) => self
  const duration = Duration.millis(millis)
  const fired = emit((timestamp) => ResilienceEvent.TimeoutFired({ name, timestamp, duration }))
  const timedOut = Effect.failSync(() => new TimeoutError({ policy: name, duration }))
  if (grace !== undefined) return internal.abandoning({ name, duration, grace, fired, timedOut })
  const timer = Effect.andThen(Effect.sleep(duration), Effect.andThen(fired, timedOut))
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | TimeoutError, R> => Effect.raceFirst(self, timer)
})

/**
 * Options of {@link promise}.
 *
 * @example
 * ```ts
 * import type { Timeout } from "effect-resilience"
 *
 * const options: Timeout.PromiseOptions<Error> = {
 *   duration: "2 seconds",
 *   name: "reports",
 *   grace: "200 millis",
 *   catch: (e) => e instanceof Error ? e : new Error(String(e))
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface PromiseOptions<E = Cause.UnknownError> {
  /** How long the Promise may run: a duration > 0, or `"Infinity"` (then only interruption aborts it). */
  readonly duration: Duration.Input
  /** Reported in errors and events. Default `"timeout"`. */
  readonly name?: string | undefined
  /**
   * How long aborted work may take to settle before it is reported
   * `Abandoned` (the caller does not wait for it). Default 1 second.
   */
  readonly grace?: Duration.Input | undefined
  /** Maps a rejection (or a synchronous throw) to the typed error. Default: `Cause.UnknownError`. */
  readonly catch?: ((error: unknown) => E) | undefined
}

/**
 * Runs Promise work under a timeout that stops it: on timeout, and when the
 * caller is interrupted, the `AbortSignal` given to `evaluate` is aborted, so
 * a `fetch` or a driver call that takes the signal really ends (the server
 * sees the request closed).
 *
 * **Details**
 *
 * The caller gets `TimeoutError` at the deadline and never waits for the
 * Promise. Work that does not stop is reported, never left running silently:
 * a function that declares no signal parameter is reported at once, one that
 * has not settled `grace` after the abort then — as an `Abandoned` event
 * (counted by `resilience_abandoned_total` under `Telemetry`). A rejection
 * is a typed failure: `Cause.UnknownError`, or what `catch` makes of it.
 *
 * **Gotchas**
 *
 * `Timeout.timeout` around `Effect.promise(() => p)` interrupts the fiber but
 * cannot stop `p`; use this instead.
 *
 * **Example** (A fetch that is cancelled at 2 seconds)
 *
 * ```ts
 * import { Timeout } from "effect-resilience"
 *
 * const body = Timeout.promise(
 *   (signal) => fetch("http://127.0.0.1:8080/slow", { signal }).then((r) => r.text()),
 *   { duration: "2 seconds", name: "slow-api" }
 * )
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const promise = <A, E = Cause.UnknownError>(
  evaluate: (signal: AbortSignal) => PromiseLike<A>,
  options: PromiseOptions<E>
): Effect.Effect<A, E | TimeoutError> => {
  const source = "Timeout.promise"
  validate.options(source, "options", options, true, "an object with a duration")
  if (typeof evaluate !== "function") throw validate.invalid(source, "evaluate", "a function (signal) => Promise", evaluate)
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.timeout.name)
  const millis = validate.positiveDurationOrInfinityMillis(source, "duration", options.duration)
  const graceMillis = validate.durationMillisOr(source, "grace", options.grace, defaults.timeoutPromise.graceMillis)
  const bound = timeout({ duration: options.duration, name })
  return internal.promise(evaluate, {
    name,
    duration: Duration.millis(millis),
    grace: Duration.millis(graceMillis),
    onError: (options.catch ?? internal.unknownError) as (error: unknown) => E
  }, bound)
}

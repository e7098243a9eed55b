/**
 * Bounds how long an effect may run. When the time is up the effect is
 * interrupted (its finalizers run before the caller sees the error) and the
 * caller gets a typed `TimeoutError { policy, duration }`.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Predicate } from "effect"
import { ResilienceEvent } from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import { dualPrepared } from "./internal/dual.ts"
import { emit } from "./internal/events.ts"
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
 * A duration alone, or with the `name` reported in errors and events.
 *
 * @example
 * ```ts
 * import { Timeout } from "effect-resilience"
 *
 * const short: Timeout.TimeoutOptions = "500 millis"
 * const named: Timeout.TimeoutOptions = { duration: "2 seconds", name: "inventory" }
 * const bounded = Timeout.timeout(named)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type TimeoutOptions = Duration.Input | {
  readonly duration: Duration.Input
  readonly name?: string | undefined
}

const isOptionsObject = (u: TimeoutOptions): u is { readonly duration: Duration.Input; readonly name?: string | undefined } =>
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
 * **Gotchas**
 *
 * An effect that masks interruption (`Effect.uninterruptible`) keeps running
 * until it finishes, and the timeout waits for it.
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
  if (millis === Infinity) return <A, E, R>(self: Effect.Effect<A, E, R>) => self
  const duration = Duration.millis(millis)
  const timer = Effect.andThen(
    Effect.sleep(duration),
    Effect.andThen(
      emit((timestamp) => ResilienceEvent.TimeoutFired({ name, timestamp, duration })),
      Effect.failSync(() => new TimeoutError({ policy: name, duration }))
    )
  )
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | TimeoutError, R> => Effect.raceFirst(self, timer)
})

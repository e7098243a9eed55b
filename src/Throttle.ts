/**
 * Client-side adaptive throttling, from Google's SRE book ("Handling
 * Overload"): when a backend refuses much of what a client sends, the client
 * rejects some requests itself, before they cost the backend anything.
 *
 * Over a sliding window (2 minutes by default) the throttle counts the
 * `requests` the client attempted and the `accepts` the backend answered.
 * A new request is rejected locally with probability
 * `max(0, (requests − k · accepts) / (requests + 1))`, `k = 2` by default:
 * nothing is rejected while the backend accepts at least one request in
 * `k`; beyond that, the traffic that reaches the backend settles near
 * `k · accepts`, enough to see it recover. Randomness comes from Effect's
 * `Random` (seed it with `Random.withSeed`), time from `Clock`.
 *
 * @since 0.1.0
 */
import { type Duration, Context, Effect, Layer, Predicate } from "effect"
import { dual } from "effect/Function"
import type { InvalidConfigError } from "./Errors.ts"
import { ResilienceEvent } from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import * as errors from "./internal/errors.ts"
import { emit } from "./internal/events.ts"
import * as internal from "./internal/throttle.ts"
import * as validate from "./internal/validate.ts"
import { retryOnHttpStatus } from "./Retry.ts"

const TypeId = "~effect-resilience/Throttle"

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import type { Throttle } from "effect-resilience"
 *
 * const options: Throttle.ThrottleOptions = { name: "search", k: 1.5, window: "1 minute", buckets: 6 }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ThrottleOptions {
  /** Reported in errors, events and stats. Default `"throttle"`. */
  readonly name?: string | undefined
  /** Requests may reach `k` times the accepts before any is rejected locally: a number >= 1. Default 2. */
  readonly k?: number | undefined
  /** The sliding window: a duration > 0. Default 2 minutes. */
  readonly window?: Duration.Input | undefined
  /** Buckets of the window (it slides one bucket at a time): an integer >= 1. Default 12 (10 s each). */
  readonly buckets?: number | undefined
  /**
   * Which typed failures are the backend refusing the request (not an
   * accept). Default: `Retry.retryOnHttpStatus`, the transient ones (5xx,
   * 408, 429, errors with no status); a 4xx is an answer, so an accept.
   */
  readonly isRejected?: ((error: unknown) => boolean) | undefined
}

/**
 * A snapshot of a throttle.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Throttle } from "effect-resilience"
 *
 * declare const throttle: Throttle.Throttle
 *
 * const shedding = Effect.map(throttle.stats, (s: Throttle.ThrottleStats) => s.probability > 0)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ThrottleStats {
  /** Requests in the window, those rejected locally included. */
  readonly requests: number
  /** Requests the backend accepted in the window. */
  readonly accepts: number
  /** The probability of rejecting the next request locally. */
  readonly probability: number
  /** Requests rejected locally since the throttle was made. */
  readonly rejected: number
}

/**
 * A client-side adaptive throttle.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Throttle } from "effect-resilience"
 *
 * declare const throttle: Throttle.Throttle
 *
 * const guarded = Effect.succeed("hit").pipe(throttle.execute)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Throttle {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly k: number
  /**
   * Runs an effect, or rejects it locally with `ThrottledError` with the
   * current probability. Pipeable: `effect.pipe(throttle.execute)`.
   */
  readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ThrottledError, R>
  /** The window's counts and the current probability. */
  readonly stats: Effect.Effect<ThrottleStats>
}

/**
 * Builds a throttle, validating its options.
 *
 * **When to use**
 *
 * In front of a backend that rejects work when overloaded (503, 429,
 * "resource exhausted"): rejecting in the client costs nothing, while each
 * rejection the backend sends still costs it a request. Put it outside the
 * retry (each attempt is a request) or inside (each call is): inside, the
 * retries it rejects stop a retry storm at the source.
 *
 * **Details**
 *
 * A request is counted when it ends: a success, or a typed failure that
 * `isRejected` does not claim, is an accept; a failure it claims is not. A
 * local rejection counts as a request (the SRE formula needs it, so that a
 * throttled client keeps probing). Interruptions, defects and rejections by
 * policies inside the throttle are not counted. Each local rejection fails
 * with `ThrottledError { policy, probability }` and emits
 * `Throttled { probability }`; while nothing is rejected, no random number
 * is drawn and no event emitted.
 *
 * Fails with `InvalidConfigError` for an empty `name`, a `k` below 1, a
 * `window` that is not a duration > 0, `buckets` that are not an integer
 * >= 1, or an `isRejected` that is not a function.
 *
 * **Example** (Throttling calls to an overloaded search backend)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Throttle } from "effect-resilience"
 *
 * declare const search: (q: string) => Effect.Effect<ReadonlyArray<string>, { readonly status: number }>
 *
 * const program = Effect.gen(function*() {
 *   const throttle = yield* Throttle.make({ name: "search", k: 2, window: "2 minutes" })
 *   return yield* search("effect").pipe(throttle.execute)
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: ThrottleOptions = {}): Effect.Effect<Throttle, InvalidConfigError> =>
  Effect.flatMap(validate.attempt(() => validateOptions(options)), (config) =>
    Effect.sync((): Throttle => {
      const name = config.name
      const executor = internal.make(config, (probability) =>
        Effect.andThen(
          emit((timestamp) => ResilienceEvent.Throttled({ name, timestamp, probability })),
          Effect.failSync(() => new ThrottledError({ policy: name, probability }))
        ))
      return { [TypeId]: TypeId, name, k: config.k, execute: executor.execute, stats: executor.stats }
    }))

const validateOptions = (options: ThrottleOptions): internal.Config => {
  const source = "Throttle.make"
  if (typeof options !== "object" || options === null) throw validate.invalid(source, "options", "an object", options)
  const d = defaults.throttle
  return {
    name: validate.nonEmptyName(source, "name", options.name ?? d.name),
    k: validate.finiteAtLeast(source, "k", options.k ?? d.k, 1),
    windowMillis: validate.positiveDurationMillisOr(source, "window", options.window, d.windowMillis),
    buckets: validate.positiveInt(source, "buckets", options.buckets ?? d.buckets),
    isRejected: options.isRejected === undefined
      ? retryOnHttpStatus
      : validate.predicate(source, "isRejected", options.isRejected)
  }
}

/**
 * A layer that builds a throttle for the service `tag`, so that every user
 * of the service shares one window.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { Throttle } from "effect-resilience"
 *
 * class SearchThrottle extends Context.Service<SearchThrottle, Throttle.Throttle>()("app/SearchThrottle") {}
 *
 * const SearchThrottleLive = Throttle.layer(SearchThrottle, { name: "search" })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <I>(
  tag: Context.Key<I, Throttle>,
  options: ThrottleOptions = {}
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, make(options))

/**
 * Runs an effect through a throttle: `Throttle.execute(effect, throttle)` or
 * `effect.pipe(Throttle.execute(throttle))`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Throttle } from "effect-resilience"
 *
 * declare const throttle: Throttle.Throttle
 *
 * const guarded = Effect.succeed(42).pipe(Throttle.execute(throttle))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const execute: {
  (throttle: Throttle): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ThrottledError, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, throttle: Throttle): Effect.Effect<A, E | ThrottledError, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, throttle: Throttle) => throttle.execute(self))

/**
 * Checks whether a value is a {@link Throttle}.
 *
 * @example
 * ```ts
 * import { Throttle } from "effect-resilience"
 *
 * Throttle.isThrottle({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isThrottle = (u: unknown): u is Throttle => Predicate.hasProperty(u, TypeId)

/**
 * The throttle rejected a request locally: the backend has accepted too few
 * of the recent ones. `probability` is the chance it rejected with. The
 * request never left.
 *
 * **Details**
 *
 * Like every rejection, a circuit breaker outside the throttle does not count
 * it as a failure. A retry may try again later; the probability falls as the
 * backend accepts again, and to 0 once the window has no refusals left.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Throttle } from "effect-resilience"
 *
 * declare const throttle: Throttle.Throttle
 *
 * const answer = Effect.succeed("fresh").pipe(
 *   throttle.execute,
 *   Effect.catchTag("ThrottledError", () => Effect.succeed("stale"))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const ThrottledError = errors.ThrottledError

/**
 * @category errors
 * @since 0.1.0
 */
export type ThrottledError = errors.ThrottledError

/**
 * Checks whether a value is a {@link ThrottledError}.
 *
 * @example
 * ```ts
 * import { Throttle } from "effect-resilience"
 *
 * Throttle.isThrottledError(new Throttle.ThrottledError({ policy: "search", probability: 0.5 })) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isThrottledError: (u: unknown) => u is ThrottledError = errors.isThrottledError

/**
 * Adaptive concurrency: a limiter whose concurrency limit follows the
 * latency and errors it observes, in place of a fixed bulkhead.
 *
 * A fixed `maxConcurrent` is right for one latency only: when the dependency
 * slows down, the same number of calls in flight means a queue inside it,
 * and every caller waits. An adaptive limiter measures each call (time from
 * `Clock`) and moves its limit with an algorithm taken from Netflix's
 * concurrency-limits: {@link gradient2} (the default: the limit falls when
 * latency rises above its long-term average) or {@link aimd} (the limit falls
 * by a ratio on each error or very slow call, and grows by 1 otherwise).
 * Calls beyond the limit fail at once with `AdaptiveLimitRejectedError`:
 * admitted calls keep their normal latency, excess calls fail fast.
 *
 * @since 0.1.0
 */
import { type Duration, Context, Effect, Layer, Predicate } from "effect"
import { dual } from "effect/Function"
import type { InvalidConfigError } from "./Errors.ts"
import { ResilienceEvent } from "./Events.ts"
import * as internal from "./internal/adaptiveLimit.ts"
import * as defaults from "./internal/defaults.ts"
import * as errors from "./internal/errors.ts"
import { emit } from "./internal/events.ts"
import * as validate from "./internal/validate.ts"
import { retryOnHttpStatus } from "./Retry.ts"

const TypeId = "~effect-resilience/AdaptiveLimit"

/**
 * How the limit moves: built by {@link aimd} or {@link gradient2}, validated
 * when built. Plain data, so it can be shown, compared and logged.
 *
 * @example
 * ```ts
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * const algorithm: AdaptiveLimit.Algorithm = AdaptiveLimit.gradient2()
 * algorithm._tag // "Gradient2"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Algorithm = internal.Algorithm

/**
 * Options of {@link aimd}. Defaults are Netflix `AIMDLimit`'s.
 *
 * @example
 * ```ts
 * import type { AdaptiveLimit } from "effect-resilience"
 *
 * const options: AdaptiveLimit.AimdOptions = { minLimit: 2, backoffRatio: 0.8, timeout: "2 seconds" }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface AimdOptions {
  /** The limit at start: an integer in [minLimit, maxLimit]. Default 20. */
  readonly initialLimit?: number | undefined
  /** The limit never falls below this: an integer >= 1. Default 20. */
  readonly minLimit?: number | undefined
  /** The limit never grows above this: an integer >= minLimit. Default 200. */
  readonly maxLimit?: number | undefined
  /** On a drop the limit is multiplied by this: a number in [0.5, 1). Default 0.9. */
  readonly backoffRatio?: number | undefined
  /** A call slower than this counts as a drop: a duration > 0. Default 5 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** One sample per window of this length (average latency, most calls in flight, any drop); 0 = every call is a sample. A duration >= 0. Default 0 (every call). */
  readonly window?: Duration.Input | undefined
  /** A window of this many calls or fewer is discarded: an integer >= 0. Default 10. */
  readonly windowMinSamples?: number | undefined
}

/**
 * Options of {@link gradient2}. Defaults are Netflix `Gradient2Limit`'s.
 *
 * @example
 * ```ts
 * import type { AdaptiveLimit } from "effect-resilience"
 *
 * const options: AdaptiveLimit.Gradient2Options = { minLimit: 4, rttTolerance: 1.2, window: "500 millis" }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Gradient2Options {
  /** The limit at start: an integer in [minLimit, maxLimit]. Default 20. */
  readonly initialLimit?: number | undefined
  /** The limit never falls below this: an integer >= 1. Default 20. */
  readonly minLimit?: number | undefined
  /** The limit never grows above this: an integer >= minLimit. Default 200. */
  readonly maxLimit?: number | undefined
  /** Share of the new estimate taken at each sample: a number in (0, 1]. Default 0.2. */
  readonly smoothing?: number | undefined
  /** How far latency may rise above its long-term average before the limit falls: a number >= 1. Default 1.5. */
  readonly rttTolerance?: number | undefined
  /** Samples in the long-term latency average: an integer >= 1. Default 600. */
  readonly longWindow?: number | undefined
  /** Calls allowed to queue in the dependency, the limit's growth step: a number >= 0. Default 4. */
  readonly queueSize?: number | undefined
  /** One sample per window of this length (average latency, most calls in flight, any drop); 0 = every call is a sample. A duration >= 0. Default 1 second. */
  readonly window?: Duration.Input | undefined
  /** A window of this many calls or fewer is discarded: an integer >= 0. Default 10. */
  readonly windowMinSamples?: number | undefined
}

/**
 * AIMD: additive increase, multiplicative decrease (Netflix `AIMDLimit`).
 *
 * **When to use**
 *
 * When errors (timeouts, 503s, 429s) are the overload signal rather than
 * latency, or latency is too noisy for a gradient.
 *
 * **Details**
 *
 * After each call: if it was a drop (a typed failure that `isDropped` accepts,
 * or slower than `timeout`), `limit = max(minLimit, floor(limit · backoffRatio))`;
 * otherwise, if at least `limit / 2` calls were in flight when it was
 * admitted, `limit = min(maxLimit, limit + 1)`. Defaults: initial 20, min 20,
 * max 200, backoff ratio 0.9, timeout 5 s. Every call is a sample unless
 * `window` is set (then one sample per window, as for {@link gradient2}).
 * Throws `InvalidConfigError` on an option out of range.
 *
 * @example
 * ```ts
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * const algorithm = AdaptiveLimit.aimd({ initialLimit: 10, minLimit: 2, maxLimit: 100 })
 * ```
 *
 * @category algorithms
 * @since 0.1.0
 */
export const aimd = (options: AimdOptions = {}): Algorithm => {
  const source = "AdaptiveLimit.aimd"
  const d = defaults.adaptiveLimit.aimd
  if (typeof options !== "object" || options === null) throw validate.invalid(source, "options", "an object", options)
  const bounds = limits(source, options, d)
  const backoffRatio = options.backoffRatio ?? d.backoffRatio
  if (typeof backoffRatio !== "number" || !(backoffRatio >= 0.5 && backoffRatio < 1)) {
    throw validate.invalid(source, "backoffRatio", "a number in [0.5, 1)", backoffRatio)
  }
  return {
    _tag: "Aimd",
    config: {
      ...bounds,
      backoffRatio,
      timeoutMillis: validate.positiveDurationMillisOr(source, "timeout", options.timeout, d.timeoutMillis)
    },
    window: windowOf(source, options, d.windowMillis)
  }
}

/**
 * Gradient2 (Netflix `Gradient2Limit`): the limit follows the ratio of the
 * long-term average latency to the latest.
 *
 * **When to use**
 *
 * The default: a dependency whose latency rises as it saturates (a database,
 * a service with a thread pool). It finds the limit without being told the
 * dependency's capacity.
 *
 * **Details**
 *
 * After each call taking `rtt`, with `longRtt` the exponential average of the
 * last `longWindow` latencies: `gradient = clamp(rttTolerance · longRtt / rtt,
 * 0.5, 1)`, `next = limit · gradient + queueSize`, and the limit becomes
 * `limit · (1 − smoothing) + next · smoothing`, within [minLimit, maxLimit].
 * Latency within `rttTolerance` of normal lets the limit grow by about
 * `queueSize · smoothing` per call; higher latency shrinks it. While fewer
 * than `limit / 2` calls are in flight the limit stays put. Errors count by
 * their latency only (as in Netflix's); use {@link aimd} to react to errors.
 * Samples are gathered in windows of `window` (1 s, Netflix `WindowedLimit`):
 * the algorithm sees one sample per window (mean latency, most calls in
 * flight, any drop), so `longWindow` counts windows (600 ≈ 10 minutes); a
 * window of `windowMinSamples` (10) calls or fewer is discarded, calls under
 * 100 µs are ignored. Defaults: initial 20, min 20, max 200, smoothing 0.2,
 * rtt tolerance 1.5, long window 600, queue size 4. Throws
 * `InvalidConfigError` on an option out of range.
 *
 * **Gotchas**
 *
 * With `rttTolerance` 1.5 latency may rise by half before the limit falls;
 * for a latency-sensitive dependency use 1 to 1.2. `minLimit` 20 is a floor:
 * lower it for a dependency that serves fewer calls at once.
 *
 * @example
 * ```ts
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * const algorithm = AdaptiveLimit.gradient2({ minLimit: 5, maxLimit: 500, rttTolerance: 2 })
 * ```
 *
 * @category algorithms
 * @since 0.1.0
 */
export const gradient2 = (options: Gradient2Options = {}): Algorithm => {
  const source = "AdaptiveLimit.gradient2"
  const d = defaults.adaptiveLimit.gradient2
  if (typeof options !== "object" || options === null) throw validate.invalid(source, "options", "an object", options)
  const bounds = limits(source, options, d)
  return {
    _tag: "Gradient2",
    config: {
      ...bounds,
      smoothing: validate.rate(source, "smoothing", options.smoothing ?? d.smoothing),
      rttTolerance: validate.finiteAtLeast(source, "rttTolerance", options.rttTolerance ?? d.rttTolerance, 1),
      longWindow: validate.positiveInt(source, "longWindow", options.longWindow ?? d.longWindow),
      warmup: d.longWindowWarmup,
      queueSize: validate.finiteAtLeast(source, "queueSize", options.queueSize ?? d.queueSize, 0)
    },
    window: windowOf(source, options, d.windowMillis)
  }
}

const windowOf = (
  source: string,
  options: { readonly window?: Duration.Input | undefined; readonly windowMinSamples?: number | undefined },
  defaultMillis: number
) => ({
  millis: options.window === undefined ? defaultMillis : validate.durationMillis(source, "window", options.window),
  minSamples: validate.nonNegativeInt(
    source,
    "windowMinSamples",
    options.windowMinSamples ?? defaults.adaptiveLimit.window.minSamples
  ),
  minRttMillis: defaults.adaptiveLimit.window.minRttMillis
})

const limits = (
  source: string,
  options: { readonly initialLimit?: number | undefined; readonly minLimit?: number | undefined; readonly maxLimit?: number | undefined },
  d: { readonly initialLimit: number; readonly minLimit: number; readonly maxLimit: number }
) => {
  const minLimit = validate.positiveInt(source, "minLimit", options.minLimit ?? d.minLimit)
  const maxLimit = validate.positiveInt(source, "maxLimit", options.maxLimit ?? d.maxLimit)
  if (maxLimit < minLimit) throw validate.invalid(source, "maxLimit", `an integer >= minLimit = ${minLimit}`, maxLimit)
  // Without an explicit initial limit, start at the default clamped into the bounds given.
  const initialLimit = options.initialLimit ?? Math.min(maxLimit, Math.max(minLimit, d.initialLimit))
  if (!Number.isInteger(initialLimit) || initialLimit < minLimit || initialLimit > maxLimit) {
    throw validate.invalid(source, "initialLimit", `an integer in [minLimit = ${minLimit}, maxLimit = ${maxLimit}]`, initialLimit)
  }
  return { initialLimit, minLimit, maxLimit }
}

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * const options: AdaptiveLimit.AdaptiveLimitOptions = {
 *   name: "db",
 *   algorithm: AdaptiveLimit.aimd(),
 *   isDropped: (error) => error instanceof Error && error.message === "overloaded"
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface AdaptiveLimitOptions {
  /** Reported in errors, events and stats. Default `"adaptive-limit"`. */
  readonly name?: string | undefined
  /** How the limit moves. Default `gradient2()`. */
  readonly algorithm?: Algorithm | undefined
  /**
   * Which typed failures signal overload (a drop, for {@link aimd}). Default:
   * `Retry.retryOnHttpStatus`, the transient ones (5xx, 408, 429, errors with
   * no status); a 4xx means the dependency answered. Defects, interruptions
   * and rejections by policies inside the limiter are never samples.
   */
  readonly isDropped?: ((error: unknown) => boolean) | undefined
}

/**
 * A snapshot of an adaptive limiter.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { AdaptiveLimit } from "effect-resilience"
 *
 * declare const limiter: AdaptiveLimit.AdaptiveLimiter
 *
 * const busy = Effect.map(limiter.stats, (s: AdaptiveLimit.AdaptiveLimitStats) => s.inFlight >= s.limit)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface AdaptiveLimitStats {
  /** The limit now: a call is admitted while fewer than `limit` run. */
  readonly limit: number
  /** Calls running now. */
  readonly inFlight: number
  /** Calls rejected since the limiter was made. */
  readonly rejected: number
}

/**
 * An adaptive concurrency limiter.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { AdaptiveLimit } from "effect-resilience"
 *
 * declare const limiter: AdaptiveLimit.AdaptiveLimiter
 *
 * const guarded = Effect.succeed("row").pipe(limiter.execute)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface AdaptiveLimiter {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly algorithm: Algorithm
  /**
   * Runs an effect if fewer than `limit` calls run, else fails at once with
   * `AdaptiveLimitRejectedError`. Pipeable: `effect.pipe(limiter.execute)`.
   */
  readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | AdaptiveLimitRejectedError, R>
  /** The current limit, in-flight count and rejections. */
  readonly stats: Effect.Effect<AdaptiveLimitStats>
}

/**
 * Builds an adaptive limiter, validating its options.
 *
 * **When to use**
 *
 * In place of a `Bulkhead` when the right `maxConcurrent` is unknown or
 * changes with the dependency's health. There is no waiting line: a call
 * beyond the limit is rejected at once (a line would hide the latency the
 * algorithm reads).
 *
 * **Details**
 *
 * Each admitted call is one sample, taken when it ends: its latency (from
 * `Clock`, so `TestClock` drives it), the calls in flight when it was
 * admitted, and whether it was a drop (`isDropped`). Interrupted calls,
 * defects and rejections by inner policies are no samples. A call beyond the
 * limit fails with `AdaptiveLimitRejectedError { policy, limit, inFlight }`
 * and emits `LimitRejected`; every change of the limit emits
 * `LimitChanged { from, to }`. An admitted call leaves the in-flight count
 * however it ends (success, failure, defect, interruption).
 *
 * Fails with `InvalidConfigError` for an empty `name` or an `isDropped` that
 * is not a function.
 *
 * **Example** (A limiter that finds the database's capacity)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * declare const query: (sql: string) => Effect.Effect<ReadonlyArray<unknown>>
 *
 * const program = Effect.gen(function*() {
 *   const db = yield* AdaptiveLimit.make({ name: "db", algorithm: AdaptiveLimit.gradient2({ minLimit: 4 }) })
 *   return yield* query("select 1").pipe(db.execute)
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options?: AdaptiveLimitOptions): Effect.Effect<AdaptiveLimiter, InvalidConfigError> =>
  Effect.flatMap(validate.attempt(() => validateOptions(options)), (config) =>
    Effect.sync((): AdaptiveLimiter => {
      const name = config.name
      const executor = internal.make(
        config,
        (limit, inFlight) =>
          Effect.andThen(
            emit((timestamp) => ResilienceEvent.LimitRejected({ name, timestamp, limit, inFlight })),
            Effect.failSync(() => new AdaptiveLimitRejectedError({ policy: name, limit, inFlight }))
          ),
        (from, to) => emit((timestamp) => ResilienceEvent.LimitChanged({ name, timestamp, from, to }))
      )
      return { [TypeId]: TypeId, name, algorithm: config.algorithm, execute: executor.execute, stats: executor.stats }
    }))

const validateOptions = (input: AdaptiveLimitOptions | undefined): internal.Config => {
  const source = "AdaptiveLimit.make"
  const options = validate.options(source, "options", input, false)
  const algorithm = options.algorithm ?? gradient2()
  if (!Predicate.isObject(algorithm) || (algorithm._tag !== "Aimd" && algorithm._tag !== "Gradient2")) {
    throw validate.invalid(source, "algorithm", "AdaptiveLimit.aimd(...) or AdaptiveLimit.gradient2(...)", algorithm)
  }
  return {
    name: validate.nonEmptyName(source, "name", options.name ?? defaults.adaptiveLimit.name),
    algorithm,
    isDropped: options.isDropped === undefined
      ? retryOnHttpStatus
      : validate.predicate(source, "isDropped", options.isDropped)
  }
}

/**
 * A layer that builds an adaptive limiter for the service `tag`, so that
 * every user of the service shares one limit.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * class SearchLimit extends Context.Service<SearchLimit, AdaptiveLimit.AdaptiveLimiter>()("app/SearchLimit") {}
 *
 * const SearchLimitLive = AdaptiveLimit.layer(SearchLimit, { name: "search", algorithm: AdaptiveLimit.aimd() })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <I>(
  tag: Context.Key<I, AdaptiveLimiter>,
  options?: AdaptiveLimitOptions
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, make(options))

/**
 * Runs an effect through a limiter: `AdaptiveLimit.execute(effect, limiter)`
 * or `effect.pipe(AdaptiveLimit.execute(limiter))`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * declare const limiter: AdaptiveLimit.AdaptiveLimiter
 *
 * const guarded = Effect.succeed(42).pipe(AdaptiveLimit.execute(limiter))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const execute: {
  (limiter: AdaptiveLimiter): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | AdaptiveLimitRejectedError, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, limiter: AdaptiveLimiter): Effect.Effect<A, E | AdaptiveLimitRejectedError, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, limiter: AdaptiveLimiter) => limiter.execute(self)
)

/**
 * Checks whether a value is an {@link AdaptiveLimiter}.
 *
 * @example
 * ```ts
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * AdaptiveLimit.isAdaptiveLimiter({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isAdaptiveLimiter = (u: unknown): u is AdaptiveLimiter => Predicate.hasProperty(u, TypeId)

/**
 * The limiter rejected a call: `inFlight` calls were already running against
 * its current `limit`. The call itself never ran.
 *
 * **Details**
 *
 * Its own tag rather than `BulkheadRejectedError`: the fields differ (a
 * limit that moves, not a fixed line), and a caller may treat "the
 * dependency is saturated now" apart from "our own bulkhead is full". Code
 * that handles both alike catches both tags. Like every rejection, a circuit
 * breaker outside the limiter does not count it as a failure.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * declare const limiter: AdaptiveLimit.AdaptiveLimiter
 *
 * const answer = Effect.succeed("fresh").pipe(
 *   limiter.execute,
 *   Effect.catchTag("AdaptiveLimitRejectedError", (e) => Effect.succeed(`busy (limit ${e.limit})`))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const AdaptiveLimitRejectedError = errors.AdaptiveLimitRejectedError

/**
 * @category errors
 * @since 0.1.0
 */
export type AdaptiveLimitRejectedError = errors.AdaptiveLimitRejectedError

/**
 * Checks whether a value is an {@link AdaptiveLimitRejectedError}.
 *
 * @example
 * ```ts
 * import { AdaptiveLimit } from "effect-resilience"
 *
 * AdaptiveLimit.isAdaptiveLimitRejectedError(new AdaptiveLimit.AdaptiveLimitRejectedError({ policy: "db", limit: 4, inFlight: 4 })) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isAdaptiveLimitRejectedError: (u: unknown) => u is AdaptiveLimitRejectedError = errors.isAdaptiveLimitRejectedError

/**
 * Serve an alternative when a call fails: a fallback effect for the errors
 * you choose (`orElse`), the first success of an ordered list of sources
 * (`chain`: cache → database → remote API), or the last value that worked,
 * with its age (`lastKnownGood`).
 *
 * Only typed failures fall back. Defects and interruption pass through
 * untouched: a bug or a cancelled request is not something to paper over
 * with a stale answer.
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Predicate } from "effect"
import { dual } from "effect/Function"
import type { InvalidConfigError } from "./Errors.ts"
import { ResilienceEvent } from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import { dualPrepared } from "./internal/dual.ts"
import { emit } from "./internal/events.ts"
import * as internal from "./internal/fallback.ts"
import * as Lru from "./internal/lru.ts"
import * as validate from "./internal/validate.ts"
import * as errors from "./internal/errors.ts"

const LastKnownGoodTypeId = "~effect-resilience/Fallback/LastKnownGood"

// -----------------------------------------------------------------------------
// orElse
// -----------------------------------------------------------------------------

/**
 * Options of {@link orElse}.
 *
 * @example
 * ```ts
 * import { Data, Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable") {}
 * declare const livePrice: Effect.Effect<number, Unavailable>
 *
 * const price = livePrice.pipe(
 *   Fallback.orElse({ name: "price", fallback: () => Effect.succeed(0) } satisfies Fallback.OrElseOptions<Unavailable, number, never, never>)
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface OrElseOptions<E, A2, E2, R2> {
  /** The alternative, given the error that made the primary fail. */
  readonly fallback: (error: E) => Effect.Effect<A2, E2, R2>
  /** Which errors fall back. Default: all of them. The others pass through unchanged. */
  readonly when?: ((error: E) => boolean) | undefined
  /** Reported in events. Default `"fallback"`. */
  readonly name?: string | undefined
}

/**
 * Runs `fallback(error)` when `self` fails with an error that `when` accepts
 * (every typed error when `when` is left out).
 *
 * **Details**
 *
 * - An error that `when` rejects is returned unchanged, in the typed channel.
 * - The fallback's own errors are typed: with no `when` the result fails
 *   only with the fallback's errors; with a refinement `when` (`(e): e is
 *   NotFound => ...`) the errors it does not cover stay in the type.
 * - Defects and interruption of `self` never fall back.
 * - Emits `FallbackUsed { source: "fallback", error }` when it falls back
 *   (before the fallback runs, so also when the fallback then fails).
 *   The success path costs one `Effect.catch` and emits nothing.
 *
 * Throws `InvalidConfigError` (when applied) for an empty `name`, or a
 * `fallback` or `when` that is not a function.
 *
 * **Example** (Default recommendations when the recommender is unavailable)
 *
 * ```ts
 * import { Data, Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable")<{}> {}
 * class BadRequest extends Data.TaggedError("BadRequest")<{}> {}
 *
 * declare const recommend: Effect.Effect<ReadonlyArray<string>, Unavailable | BadRequest>
 *
 * // Effect<ReadonlyArray<string>, BadRequest>: only Unavailable falls back
 * const withDefaults = recommend.pipe(
 *   Fallback.orElse({
 *     name: "recommendations",
 *     when: (error): error is Unavailable => error._tag === "Unavailable",
 *     fallback: () => Effect.succeed(["bestsellers"])
 *   })
 * )
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const orElse: {
  <E, E1 extends E, A2, E2, R2>(options: {
    readonly fallback: (error: E1) => Effect.Effect<A2, E2, R2>
    readonly when: Predicate.Refinement<NoInfer<E>, E1>
    readonly name?: string | undefined
  }): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E2 | Exclude<E, E1>, R | R2>
  <E, A2, E2, R2>(options: {
    readonly fallback: (error: NoInfer<E>) => Effect.Effect<A2, E2, R2>
    readonly when: Predicate.Predicate<NoInfer<E>>
    readonly name?: string | undefined
  }): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E | E2, R | R2>
  <E, A2, E2, R2>(options: {
    readonly fallback: (error: E) => Effect.Effect<A2, E2, R2>
    readonly when?: undefined
    readonly name?: string | undefined
  }): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | A2, E2, R | R2>
  <A, E, R, E1 extends E, A2, E2, R2>(self: Effect.Effect<A, E, R>, options: {
    readonly fallback: (error: E1) => Effect.Effect<A2, E2, R2>
    readonly when: Predicate.Refinement<NoInfer<E>, E1>
    readonly name?: string | undefined
  }): Effect.Effect<A | A2, E2 | Exclude<E, E1>, R | R2>
  <A, E, R, A2, E2, R2>(self: Effect.Effect<A, E, R>, options: {
    readonly fallback: (error: NoInfer<E>) => Effect.Effect<A2, E2, R2>
    readonly when: Predicate.Predicate<NoInfer<E>>
    readonly name?: string | undefined
  }): Effect.Effect<A | A2, E | E2, R | R2>
  <A, E, R, A2, E2, R2>(self: Effect.Effect<A, E, R>, options: {
    readonly fallback: (error: E) => Effect.Effect<A2, E2, R2>
    readonly when?: undefined
    readonly name?: string | undefined
  }): Effect.Effect<A | A2, E2, R | R2>
} = dualPrepared(<E, A2, E2, R2>(input: OrElseOptions<E, A2, E2, R2>) => {
  const source = "Fallback.orElse"
  const options = validate.options(source, "options", input, true, "an object with a fallback")
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.fallback.name)
  const fallback = validate.predicate(source, "fallback", options.fallback)
  const when = options.when === undefined ? undefined : validate.predicate(source, "when", options.when)
  return <A, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A | A2, E | E2, R | R2> =>
    internal.orElse(self, name, fallback, when)
}
)

// -----------------------------------------------------------------------------
// chain
// -----------------------------------------------------------------------------

/**
 * Every alternative of a {@link chain} failed. `failures` holds their errors
 * in the order the alternatives were tried.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * const program = Fallback.chain([Effect.fail("cache miss"), Effect.fail("db down")], { name: "user" }).pipe(
 *   Effect.catchTag("FallbackChainError", (e) => Effect.succeed(e.failures)) // ["cache miss", "db down"]
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const FallbackChainError = errors.FallbackChainError

/**
 * @category errors
 * @since 0.1.0
 */
export type FallbackChainError<E = unknown> = errors.FallbackChainError<E>

/**
 * Checks whether a value is a {@link FallbackChainError}.
 *
 * @example
 * ```ts
 * import { Fallback } from "effect-resilience"
 *
 * Fallback.isFallbackChainError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isFallbackChainError: (u: unknown) => u is FallbackChainError = errors.isFallbackChainError

/**
 * Options of {@link chain}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * const options: Fallback.ChainOptions = { name: "exchange-rate" }
 * const rate = Fallback.chain([Effect.fail("primary down"), Effect.succeed(1.08)], options)
 * console.log(await Effect.runPromise(rate)) // => 1.08
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ChainOptions {
  /** Reported in events and in {@link FallbackChainError}. Default `"fallback"`. */
  readonly name?: string | undefined
}

/**
 * Tries each effect in order and returns the first success; when every one
 * fails, fails with a {@link FallbackChainError} holding all the errors in
 * order.
 *
 * **Details**
 *
 * An alternative runs only after the previous one failed with a typed error;
 * a defect or an interruption stops the chain and passes through. Moving on
 * to alternative `i` (1-based) emits `FallbackUsed { source: "chain:i",
 * error }` with the error that made the previous one fail.
 *
 * The list must not be empty: its type is a non-empty tuple, and an empty
 * array that slips past the types throws `InvalidConfigError` when `chain`
 * is called.
 *
 * **Example** (Cache, then database, then the remote API)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * declare const fromCache: Effect.Effect<string, "miss">
 * declare const fromDb: Effect.Effect<string, "db-down">
 * declare const fromApi: Effect.Effect<string, "api-down">
 *
 * // Effect<string, FallbackChainError<"miss" | "db-down" | "api-down">>
 * const user = Fallback.chain([fromCache, fromDb, fromApi], { name: "user" })
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const chain = <const Effects extends readonly [Effect.Effect<any, any, any>, ...Array<Effect.Effect<any, any, any>>]>(
  effects: Effects,
  input?: ChainOptions
): Effect.Effect<
  Effect.Success<Effects[number]>,
  FallbackChainError<Effect.Error<Effects[number]>>,
  Effect.Services<Effects[number]>
> => {
  const source = "Fallback.chain"
  const options = validate.options(source, "options", input, false)
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.fallback.name)
  if (!Array.isArray(effects) || effects.length === 0) {
    throw validate.invalid(source, "effects", "a non-empty array of effects", effects)
  }
  effects.forEach((effect, i) => {
    if (!Effect.isEffect(effect)) throw validate.invalid(source, `effects[${i}]`, "an Effect", effect)
  })
  return internal.chain(
    effects,
    name,
    (failures) => new FallbackChainError({ policy: name, failures: failures as ReadonlyArray<Effect.Error<Effects[number]>> })
  )
}

// -----------------------------------------------------------------------------
// lastKnownGood
// -----------------------------------------------------------------------------

/**
 * What {@link LastKnownGood.execute} returns: the value, where it came from,
 * and how old it is (zero for a live value).
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import type { Fallback } from "effect-resilience"
 *
 * declare const served: Effect.Effect<Fallback.Served<number>, Error>
 *
 * const withHeader = served.pipe(
 *   Effect.map((s) => ({ rate: s.value, stale: s.source === "cache" ? Duration.format(s.age) : undefined }))
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Served<A> {
  readonly value: A
  readonly source: "live" | "cache"
  readonly age: Duration.Duration
}

/**
 * Options of {@link lastKnownGood}.
 *
 * @example
 * ```ts
 * import { Fallback } from "effect-resilience"
 *
 * const options: Fallback.LastKnownGoodOptions = { name: "rates", ttl: "10 minutes", capacity: 500 }
 * const cache = Fallback.lastKnownGood<number>(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LastKnownGoodOptions {
  /** Reported in events. Default `"last-known-good"`. */
  readonly name?: string | undefined
  /** How long a stored value may be served, > 0 or `"Infinity"`. Default 5 minutes. */
  readonly ttl?: Duration.Input | undefined
  /** How many keys are kept; the least recently used goes first. Default 1,000. */
  readonly capacity?: number | undefined
  /**
   * Which failures may be answered from the cache (it sees the typed error
   * of any call). Default: all typed failures.
   */
  readonly when?: ((error: unknown) => boolean) | undefined
}

/**
 * A keyed cache of the last successful value of each call.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const rates: Fallback.LastKnownGood<number> = yield* Fallback.lastKnownGood<number>({ ttl: "1 hour" })
 *   yield* Effect.succeed(1.08).pipe(rates.execute("EUR/USD"))
 *   const served = yield* Effect.fail("rate service down").pipe(rates.execute("EUR/USD"))
 *   return [served.value, served.source]
 * })
 * console.log(await Effect.runPromise(program)) // => [1.08, "cache"]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LastKnownGood<A, K = string> {
  readonly [LastKnownGoodTypeId]: typeof LastKnownGoodTypeId
  readonly name: string
  readonly ttl: Duration.Duration
  readonly capacity: number
  /**
   * Runs `effect`. A success is stored under `key` and returned with
   * `source: "live"`; a failure is answered from the cache (`source:
   * "cache"`, with the value's `age`) while the stored value is younger than
   * `ttl`, and returned unchanged otherwise. Data-first
   * `cache.execute(effect, key)`, data-last `effect.pipe(cache.execute(key))`.
   */
  readonly execute: {
    (key: K): <E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<Served<A>, E, R>
    <E, R>(effect: Effect.Effect<A, E, R>, key: K): Effect.Effect<Served<A>, E, R>
  }
  /** The stored value under `key` and its age, if it is still within `ttl`. Does not change recency. */
  readonly peek: (key: K) => Effect.Effect<{ readonly value: A; readonly age: Duration.Duration } | undefined>
  /** Forgets `key`. */
  readonly invalidate: (key: K) => Effect.Effect<void>
  /** Forgets everything. */
  readonly clear: Effect.Effect<void>
  /** How many keys are stored (expired ones included until they are looked up). */
  readonly size: Effect.Effect<number>
}

/**
 * Checks whether a value is a {@link LastKnownGood} cache.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * const program = Effect.map(Fallback.lastKnownGood<string>(), Fallback.isLastKnownGood)
 * console.log(await Effect.runPromise(program)) // => true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isLastKnownGood = (u: unknown): u is LastKnownGood<unknown, unknown> =>
  Predicate.hasProperty(u, LastKnownGoodTypeId)

/**
 * Builds a last-known-good cache: when a call fails, answer with the last
 * value it returned for the same key, and say how old it is ("[Cached: 12s
 * old]").
 *
 * **Details**
 *
 * - Time comes from `Clock`, so `TestClock` controls ages and expiry.
 * - A value is served while its age is below `ttl`; from `ttl` on it is
 *   dropped and the live error is returned.
 * - At most `capacity` keys are kept; storing one more evicts the least
 *   recently used (a value served from the cache counts as a use).
 * - Defects and interruption are never answered from the cache.
 * - Serving from the cache emits `FallbackUsed { source: "cache", error }`;
 *   a live success emits nothing.
 *
 * Fails with `InvalidConfigError` for a `ttl` that is not > 0, a `capacity`
 * that is not an integer >= 1, an empty `name`, or a `when` that is not a
 * function.
 *
 * **Example** (Exchange rates that survive an outage)
 *
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * declare const fetchRate: (pair: string) => Effect.Effect<number, Error>
 *
 * const program = Effect.gen(function*() {
 *   const rates = yield* Fallback.lastKnownGood<number>({ name: "fx", ttl: "10 minutes", capacity: 500 })
 *   const served = yield* fetchRate("EUR/USD").pipe(rates.execute("EUR/USD"))
 *   if (served.source === "cache") {
 *     yield* Effect.log(`[Cached: ${Duration.format(served.age)} old] ${served.value}`)
 *   }
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const lastKnownGood = <A, K = string>(
  input?: LastKnownGoodOptions
): Effect.Effect<LastKnownGood<A, K>, InvalidConfigError> =>
  Effect.map(
    validate.attempt(() => {
      const source = "Fallback.lastKnownGood"
      const options = validate.options(source, "options", input, false)
      return {
        ...validate.cacheOptions(source, options, defaults.lastKnownGood),
        when: options.when === undefined ? undefined : validate.predicate(source, "when", options.when)
      }
    }),
    (config) => makeLastKnownGood<A, K>(config, config.when)
  )

const makeLastKnownGood = <A, K>(
  config: internal.LkgConfig,
  when: ((error: unknown) => boolean) | undefined
): LastKnownGood<A, K> => {
  const cache = Lru.make<K, internal.Entry<A>>(config.capacity)
  const { name, ttlMillis } = config
  const onFailure = <E>(key: K, error: E): Effect.Effect<Served<A>, E> => {
    if (when !== undefined && !when(error)) return Effect.fail(error)
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const decision = internal.lookup(cache, key, now, ttlMillis)
      if (decision._tag !== "Serve") return Effect.fail(error)
      const served: Served<A> = { value: decision.value, source: "cache", age: Duration.millis(decision.ageMillis) }
      return Effect.as(
        emit((timestamp) => ResilienceEvent.FallbackUsed({ name, timestamp, source: "cache", error })),
        served
      )
    })
  }
  return {
    [LastKnownGoodTypeId]: LastKnownGoodTypeId,
    name,
    ttl: Duration.millis(ttlMillis),
    capacity: config.capacity,
    execute: dual(2, <E, R>(effect: Effect.Effect<A, E, R>, key: K) =>
      Effect.matchEffect(effect, {
        onSuccess: (value) =>
          Effect.map(Clock.currentTimeMillis, (now): Served<A> => {
            internal.store(cache, key, value, now)
            return { value, source: "live", age: Duration.zero }
          }),
        onFailure: (error) => onFailure(key, error)
      })),
    peek: (key) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const decision = internal.decide(Lru.peek(cache, key), now, ttlMillis)
        return decision._tag === "Serve" ? { value: decision.value, age: Duration.millis(decision.ageMillis) } : undefined
      }),
    invalidate: (key) => Effect.sync(() => void Lru.remove(cache, key)),
    clear: Effect.sync(() => Lru.clear(cache)),
    size: Effect.sync(() => Lru.size(cache))
  }
}

/**
 * A layer that builds a {@link LastKnownGood} cache for a service tag, so
 * that every user of the tag shares one cache.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { Fallback } from "effect-resilience"
 *
 * class PriceCache extends Context.Service<PriceCache, Fallback.LastKnownGood<number>>()("app/PriceCache") {}
 *
 * const PriceCacheLive = Fallback.layerLastKnownGood(PriceCache, { name: "prices", ttl: "1 minute", capacity: 10_000 })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerLastKnownGood = <I, A, K = string>(
  tag: Context.Key<I, LastKnownGood<A, K>>,
  options: LastKnownGoodOptions = {}
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, lastKnownGood<A, K>(options))

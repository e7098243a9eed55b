/**
 * Hedged requests: cut tail latency by starting a second attempt when the
 * first one is slow, and keeping whichever answers first.
 *
 * `hedge` re-launches the same effect (another replica behind the same
 * load balancer); `race` launches different backends in turn (a primary
 * region, then a secondary).
 *
 * Semantics: attempt 1 starts at once; after `delay` without a
 * result attempt 2 starts, and so on up to `maxAttempts`; a failed attempt
 * starts the next one at once; the first success wins and every other
 * attempt is interrupted, their finalizers having run before the caller gets
 * the result; if every attempt fails, the caller gets the last failure, typed.
 *
 * Hedge at about the p95 latency of the dependency: only the slowest ~5% of
 * calls are duplicated, and their latency drops to about `delay` plus a
 * typical call. Only hedge idempotent calls: a hedged write runs twice.
 *
 * A hedged attempt is one more call to the dependency: with a `budget`
 * (shared with the retry: `Retry.budget`, `Retry.tokenBudget`), every hedge
 * draws on it, and none is launched once it is spent.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Predicate } from "effect"
import * as classify from "./internal/classify.ts"
import * as defaults from "./internal/defaults.ts"
import { dualPrepared } from "./internal/dual.ts"
import * as internal from "./internal/hedge.ts"
import * as validate from "./internal/validate.ts"
import { isRetryBudget, type RetryBudget } from "./Retry.ts"

const TypeId = "~effect-resilience/Hedge"

/**
 * Options of {@link make} and {@link hedge}.
 *
 * @example
 * ```ts
 * import { Hedge } from "effect-resilience"
 *
 * const options: Hedge.HedgeOptions = { name: "search", delay: "50 millis", maxAttempts: 3 }
 * const policy = Hedge.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface HedgeOptions {
  /** Reported in events. Default `"hedge"`. */
  readonly name?: string | undefined
  /**
   * How long an attempt runs without a result before the next one starts,
   * a finite duration >= 0 (0 starts every attempt at once). Typically the
   * dependency's p95 latency.
   */
  readonly delay: Duration.Input
  /** All attempts, the first included: an integer >= 1 (1 never hedges). Default 2. */
  readonly maxAttempts?: number | undefined
  /**
   * Only a `transient` failure starts the next attempt; a permanent or
   * ignored one (a 404: every attempt would get the same answer) ends the
   * hedge at once with that error, interrupting the attempts still running.
   * Default `Retry.defaultClassifier`; a `Policy` passes its own.
   */
  readonly classify?: classify.Classifier | classify.ClassifierOptions | undefined
  /**
   * A retry budget (`Retry.budget`, `Retry.tokenBudget`) every hedged
   * attempt must draw on, like a retry: with the budget spent, no hedge is
   * launched (`HedgeBudgetDenied`) and the attempts already running go on.
   * Give the same budget to the retry around the hedge (a `Policy` does it
   * for you): a storm of hedges is a storm of retries. Default: none.
   */
  readonly budget?: RetryBudget<unknown> | undefined
}

/**
 * A validated hedging policy. Stateless: one policy serves any number of
 * calls.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * const policy: Hedge.HedgePolicy = Hedge.make({ delay: "100 millis" })
 * console.log(Duration.toMillis(policy.delay)) // => 100
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface HedgePolicy {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly delay: Duration.Duration
  readonly maxAttempts: number
  readonly classify: classify.Classifier
  readonly budget: RetryBudget<unknown> | undefined
}

/**
 * A result and the attempt (1 = the primary) that produced it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * declare const primary: Effect.Effect<string>
 * declare const replica: Effect.Effect<string>
 *
 * const answered = Hedge.raceWithWinner([primary, replica], { delay: "20 millis" }).pipe(
 *   Effect.tap((won: Hedge.Won<string>) => Effect.logDebug(won.attempt === 1 ? "primary" : "replica"))
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Won<A> {
  readonly value: A
  readonly attempt: number
}

/**
 * Builds a hedging policy, validating its options.
 *
 * **Details**
 *
 * Throws `InvalidConfigError` for a `delay` that is negative, infinite or
 * unparsable, a `maxAttempts` that is not an integer >= 1, or an empty
 * `name`.
 *
 * **Example** (One hedge after 50 ms)
 *
 * ```ts
 * import { Hedge } from "effect-resilience"
 *
 * const policy = Hedge.make({ name: "search", delay: "50 millis", maxAttempts: 2 })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: HedgeOptions): HedgePolicy => {
  const source = "Hedge.make"
  validate.options(source, "options", options, true, "an object with a delay")
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.hedge.name)
  const delayMillis = validate.durationMillis(source, "delay", options.delay)
  const maxAttempts = validate.positiveInt(
    source,
    "maxAttempts",
    options.maxAttempts ?? defaults.hedge.maxAttempts,
    validate.limits.hedgeMaxAttempts
  )
  const classifier = classify.make(source, "classify", options.classify)
  if (options.budget !== undefined && !isRetryBudget(options.budget)) {
    throw validate.invalid(source, "budget", "a RetryBudget (see Retry.budget, Retry.tokenBudget)", options.budget)
  }
  return { [TypeId]: TypeId, name, delay: Duration.millis(delayMillis), maxAttempts, classify: classifier, budget: options.budget }
}

/**
 * Checks whether a value is a {@link HedgePolicy}.
 *
 * @example
 * ```ts
 * import { Hedge } from "effect-resilience"
 *
 * Hedge.isHedgePolicy(Hedge.make({ delay: "10 millis" })) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isHedgePolicy = (u: unknown): u is HedgePolicy => Predicate.hasProperty(u, TypeId)

const toConfig = (policy: HedgePolicy | HedgeOptions): internal.HedgeConfig => {
  const valid = isHedgePolicy(policy) ? policy : make(policy)
  return internal.makeConfig(valid.name, valid.maxAttempts, Duration.toMillis(valid.delay), valid.classify, valid.budget)
}

/**
 * Runs `self` and, while no attempt has succeeded, starts it again every
 * `delay`, up to `maxAttempts` attempts in all; returns the first success.
 *
 * **Details**
 *
 * - A failed attempt starts the next one at once; the next hedge then waits
 *   `delay` from that launch. Only a `transient` typed failure does (see
 *   `classify`): a permanent or ignored one ends the hedge at once with that
 *   error, and the attempts still running are interrupted.
 * - The first success wins; the other attempts are interrupted and their
 *   finalizers have run when the caller gets the result.
 * - When every attempt fails (a defect counts as a failure), the caller gets
 *   the last one to fail, typed, not a wrapper.
 * - Interrupting the hedged effect interrupts every attempt.
 * - Emits `HedgeLaunched { attempt }` for each hedge (attempt 2, 3, ...) and
 *   `HedgeWon { attempt }` when a hedge was launched. With a `budget`, each
 *   hedge draws on it first; refused, it emits `HedgeBudgetDenied { attempt }`
 *   and no further hedge starts. A primary that answers
 *   within `delay` emits nothing and launches nothing.
 * - `maxAttempts: 1` returns `self` unchanged.
 *
 * The options are validated once, when the combinator is applied (see
 * {@link make}).
 *
 * **Gotchas**
 *
 * Only hedge idempotent effects: a hedged write may run more than once. An
 * attempt that masks interruption keeps running until it ends, and the
 * result waits for it.
 *
 * **Example** (Search with one hedge at the p95)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * declare const search: Effect.Effect<ReadonlyArray<string>, Error>
 *
 * const fast = search.pipe(Hedge.hedge({ name: "search", delay: "40 millis", maxAttempts: 2 }))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const hedge: {
  (policy: HedgePolicy | HedgeOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: HedgePolicy | HedgeOptions): Effect.Effect<A, E, R>
} = dualPrepared((policy: HedgePolicy | HedgeOptions) => {
  const config = toConfig(policy)
  if (config.maxAttempts === 1) return <A, E, R>(self: Effect.Effect<A, E, R>) => self
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => internal.run(() => self, config, internal.valueOnly)
})

/**
 * Like {@link hedge}, and also tells which attempt won (1 = the primary).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * declare const lookup: Effect.Effect<string>
 *
 * const program = lookup.pipe(
 *   Hedge.hedgeWithWinner({ delay: "20 millis", maxAttempts: 3 }),
 *   Effect.tap(({ attempt }) => Effect.log(`answered by attempt ${attempt}`))
 * )
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const hedgeWithWinner: {
  (policy: HedgePolicy | HedgeOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<Won<A>, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: HedgePolicy | HedgeOptions): Effect.Effect<Won<A>, E, R>
} = dualPrepared((policy: HedgePolicy | HedgeOptions) => {
  const config = toConfig(policy)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<Won<A>, E, R> => internal.run(() => self, config, internal.won)
})

/**
 * Options of {@link race}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * declare const primary: Effect.Effect<string>
 * declare const replica: Effect.Effect<string>
 *
 * const options: Hedge.RaceOptions = { name: "read", delay: "30 millis" }
 * const fastest = Hedge.race([primary, replica], options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RaceOptions {
  /** Reported in events. Default `"hedge"`. */
  readonly name?: string | undefined
  /** How long an attempt runs without a result before the next backend is tried, >= 0. */
  readonly delay: Duration.Input
}

type NonEmptyEffects = readonly [Effect.Effect<any, any, any>, ...Array<Effect.Effect<any, any, any>>]

const raceConfig = (effects: NonEmptyEffects, options: RaceOptions): internal.HedgeConfig => {
  const source = "Hedge.race"
  if (!Array.isArray(effects) || effects.length === 0) {
    throw validate.invalid(source, "effects", "a non-empty array of effects", effects)
  }
  effects.forEach((effect, i) => {
    if (!Effect.isEffect(effect)) throw validate.invalid(source, `effects[${i}]`, "an Effect", effect)
  })
  validate.options(source, "options", options, true, "an object with a delay")
  return internal.makeConfig(
    validate.nonEmptyName(source, "name", options.name ?? defaults.hedge.name),
    effects.length,
    validate.durationMillis(source, "delay", options.delay),
    undefined,
    undefined
  )
}

/**
 * Hedges across different backends: starts `effects[0]`, then `effects[1]`
 * after `delay` without a result (or at once when `effects[0]` fails), and
 * so on; returns the first success, with the semantics of {@link hedge}.
 *
 * **Details**
 *
 * The list must not be empty: its type is a non-empty tuple, and an empty
 * array that slips past the types throws `InvalidConfigError` when `race` is
 * called, as do a negative `delay` or an empty `name`.
 *
 * **Example** (Primary region, then the secondary after 100 ms)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * declare const fromEu: Effect.Effect<string, "eu-down">
 * declare const fromUs: Effect.Effect<string, "us-down">
 *
 * // Effect<string, "eu-down" | "us-down">
 * const profile = Hedge.race([fromEu, fromUs], { name: "profile", delay: "100 millis" })
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const race = <const Effects extends NonEmptyEffects>(
  effects: Effects,
  options: RaceOptions
): Effect.Effect<Effect.Success<Effects[number]>, Effect.Error<Effects[number]>, Effect.Services<Effects[number]>> =>
  internal.run((index) => effects[index]!, raceConfig(effects, options), internal.valueOnly)

/**
 * Like {@link race}, and also tells which backend won (1 = `effects[0]`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * const program = Hedge.raceWithWinner([Effect.never, Effect.succeed("b")], { delay: "10 millis" })
 * // succeeds with { value: "b", attempt: 2 } after 10 ms
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const raceWithWinner = <const Effects extends NonEmptyEffects>(
  effects: Effects,
  options: RaceOptions
): Effect.Effect<
  Won<Effect.Success<Effects[number]>>,
  Effect.Error<Effects[number]>,
  Effect.Services<Effects[number]>
> => {
  return internal.run((index) => effects[index]!, raceConfig(effects, options), internal.won)
}

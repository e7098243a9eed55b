/**
 * Retries with backoff, error classification, `Retry-After` honouring and
 * retry budgets.
 *
 * `maxAttempts` counts every attempt, the first included. Only typed failures
 * are retried: defects and interruption never are. The error returned when
 * the policy gives up is the last attempt's own typed error, never a wrapper.
 *
 * The success path costs one `Effect.catch`: nothing about the schedule is
 * built until the first failure.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Predicate, Ref, Schedule } from "effect"
import * as Backoff from "./Backoff.ts"
import type { BulkheadRejectedError } from "./Bulkhead.ts"
import type { CircuitOpenError } from "./CircuitBreaker.ts"
import type { InvalidConfigError } from "./Errors.ts"
import * as backoffInternal from "./internal/backoff.ts"
import * as classify from "./internal/classify.ts"
import type { RateLimitedError } from "./internal/rateLimit.ts"
import type { LoadShedError } from "./LoadShedder.ts"
import type { ThrottledError } from "./Throttle.ts"
import type { TimeoutError } from "./Timeout.ts"
import * as budgetMachine from "./internal/retryBudget.ts"
import * as tokens from "./internal/tokenBudget.ts"
import * as defaults from "./internal/defaults.ts"
import { dualPrepared } from "./internal/dual.ts"
import * as internal from "./internal/retry.ts"
import * as validate from "./internal/validate.ts"

const TypeId = "~effect-resilience/Retry"
const BudgetTypeId = "~effect-resilience/Retry/Budget"

/**
 * What a retry hook receives: the attempt that failed (1 = the first call),
 * the delay before the next one, and the error.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const policy = Retry.make<Error>({
 *   maxAttempts: 4,
 *   onRetry: (info: Retry.RetryInfo<Error>) =>
 *     Effect.logInfo(`${info.name}: attempt ${info.attempt} failed (${info.error.message}), next in ${Duration.format(info.delay)}`)
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryInfo<E> {
  readonly name: string
  readonly attempt: number
  readonly delay: Duration.Duration
  readonly error: E
}

/**
 * How a typed failure is classified: `transient` (retried, a
 * breaker failure), `permanent` (a definite answer: not retried, a breaker
 * success) or `ignored` (neither).
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * const outcome: Retry.Outcome = Retry.defaultClassifier({ status: 404 }) // "permanent"
 * ```
 *
 * @category classification
 * @since 0.2.0
 */
export type Outcome = classify.Outcome

/**
 * A classification of typed failures, shared by `Retry`, `CircuitBreaker`,
 * `Hedge` and a `Policy`'s fallback. Build one with {@link classifier}.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * const byTag: Retry.Classifier = (error) =>
 *   (error as { readonly _tag?: string })._tag === "NotFound" ? "permanent" : "transient"
 * ```
 *
 * @category classification
 * @since 0.2.0
 */
export type Classifier = classify.Classifier

/**
 * Overrides of the default classification, by HTTP status (a numeric
 * `status` or `statusCode`) and by error `_tag`. Tags win over statuses;
 * statuses not listed keep the default (5xx, 408, 429 transient; other
 * statuses permanent; errors without a status transient).
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * const options: Retry.ClassifierOptions = { permanentStatus: [503], ignoredTags: ["Cancelled"] }
 * ```
 *
 * @category classification
 * @since 0.2.0
 */
export type ClassifierOptions = classify.ClassifierOptions

/**
 * The default classification: an error with a numeric `status` (or
 * `statusCode`) is transient for 5xx, 408 and 429 and permanent for any other
 * status; every other typed failure is transient.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * Retry.defaultClassifier({ status: 503 }) // "transient"
 * Retry.defaultClassifier({ status: 404 }) // "permanent"
 * Retry.defaultClassifier(new Error("ECONNRESET")) // "transient"
 * ```
 *
 * @category classification
 * @since 0.2.0
 */
export const defaultClassifier: Classifier = classify.defaultClassifier

/**
 * Builds a classifier from status lists and error tags (validated: statuses
 * are integers in [100, 599], tags non-empty strings, and nothing sits in two
 * lists; `InvalidConfigError` otherwise). Precedence: `ignoredTags`,
 * `permanentTags`, `transientTags`, then `transientStatus`,
 * `permanentStatus`, then {@link defaultClassifier}.
 *
 * **Example** (409 is worth retrying; a `ValidationError` never is)
 *
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * const classify = Retry.classifier({ transientStatus: [409], permanentTags: ["ValidationError"] })
 * classify({ status: 409 }) // "transient"
 * ```
 *
 * @category classification
 * @since 0.2.0
 */
export const classifier = (options: ClassifierOptions): Classifier => classify.make("Retry.classifier", "options", options)

/**
 * The errors the library's own policies fail with. A retry typed for a
 * call's own errors (`Retry.make<HttpError>`) also accepts a call that can
 * fail with these (a `Timeout` or a breaker inside the retry): they are
 * classified by the policy's classifier, never handed to `retryOn`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, Timeout } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, { readonly _tag: "HttpError"; readonly status: number }>
 * const policy = Retry.make<{ readonly _tag: "HttpError"; readonly status: number }>({
 *   retryOn: (e) => Retry.isRetryableStatus(e.status)
 * })
 * // the TimeoutError (a Retry.PolicyRejection) is classified, not handed to retryOn
 * const guarded = call.pipe(Timeout.timeout({ duration: "1 second", name: "api" }), Retry.retry(policy))
 * ```
 *
 * @category models
 * @since 0.2.0
 */
export type PolicyRejection =
  | TimeoutError
  | CircuitOpenError
  | BulkheadRejectedError
  | RateLimitedError
  | LoadShedError
  | ThrottledError

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { Backoff, Retry } from "effect-resilience"
 *
 * const options: Retry.RetryOptions = {
 *   name: "inventory",
 *   maxAttempts: 5,
 *   backoff: Backoff.exponential({ base: "100 millis", max: "5 seconds", jitter: "full" }),
 *   classify: { permanentStatus: [409] }, // a conflict will not change on retry
 *   maxRetryAfter: "30 seconds"
 * }
 * const policy = Retry.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryOptions<E = unknown> {
  /** Reported in events and errors. Default `"retry"`. */
  readonly name?: string | undefined
  /** All attempts, the first included: an integer >= 1 or `Infinity`. Default 3. */
  readonly maxAttempts?: number | undefined
  /**
   * Delays between attempts. A schedule that ends also ends the retries.
   * Default: exponential from 100 ms, ×2, capped at 10 s, full jitter.
   */
  readonly backoff?: Schedule.Schedule<unknown, E> | undefined
  /**
   * Which typed failures are retried: the `transient` ones. Default
   * {@link defaultClassifier}. A `Policy` passes its own.
   */
  readonly classify?: Classifier | ClassifierOptions | undefined
  /**
   * Overrides the classifier for the call's own errors: `true` retries.
   * The library's own rejections ({@link PolicyRejection}) are still
   * classified by `classify`: `retryOn` only ever sees an `E`.
   */
  readonly retryOn?: ((error: E) => boolean) | undefined
  /**
   * The longest `retryAfter` hint (on a `CircuitOpenError`, a
   * `RateLimitedError`, or any error with a `retryAfter` duration or
   * milliseconds) worth waiting for. A longer hint ends the retries at once
   * with that error: an open circuit fails fast. Default: the backoff's cap
   * (its `max`, for a backoff built by `Backoff`), or 10 s when it has none.
   */
  readonly maxRetryAfter?: Duration.Input | undefined
  /**
   * A shared budget (see {@link budget}, {@link tokenBudget}) that every
   * retry must draw on; a hedge given the same budget draws on it too.
   */
  readonly budget?: RetryBudget<unknown> | undefined
  /** Runs before each retry's delay. */
  readonly onRetry?: ((info: RetryInfo<E>) => Effect.Effect<void>) | undefined
}

/**
 * A validated retry policy. Stateless (its budget, if any, holds the shared
 * state), so one policy can serve any number of calls.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const call = Effect.fail(new Error("unavailable"))
 *
 * const policy: Retry.RetryPolicy<Error> = Retry.make({ maxAttempts: 3 })
 * const retried = call.pipe(Retry.retry(policy))
 * console.log(policy.maxAttempts) // => 3
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryPolicy<in E = unknown> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly maxAttempts: number
  readonly backoff: Schedule.Schedule<unknown, E>
  /** Classifies the library's own rejections, and the call's errors when `retryOn` is not set. */
  readonly classify: Classifier
  /** Whether one of the call's own errors is retried (from `retryOn`, or `classify`). */
  readonly retryOn: (error: E) => boolean
  /** The longest `retryAfter` hint waited for, in milliseconds. */
  readonly maxRetryAfterMillis: number
  readonly budget: RetryBudget<unknown> | undefined
  readonly onRetry: ((info: RetryInfo<E>) => Effect.Effect<void>) | undefined
}

/**
 * Builds a retry policy, validating its options.
 *
 * **Details**
 *
 * Throws `InvalidConfigError` for a `maxAttempts` that is not an integer >= 1
 * (or `Infinity`), or options of the wrong type.
 *
 * **Example** (Four attempts with capped exponential backoff, 5xx only)
 *
 * ```ts
 * import { Backoff, Retry } from "effect-resilience"
 *
 * const policy = Retry.make<{ readonly status: number }>({
 *   name: "scoring",
 *   maxAttempts: 4,
 *   backoff: Backoff.exponential({ base: "100 millis", max: "5 seconds", jitter: "full" }),
 *   retryOn: (error) => Retry.isRetryableStatus(error.status)
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <E = unknown>(input?: RetryOptions<E>): RetryPolicy<E> => {
  const source = "Retry.make"
  const options = validate.options(source, "options", input, false)
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.retry.name)
  const maxAttempts = validate.positiveIntOrInfinity(source, "maxAttempts", options.maxAttempts ?? defaults.retry.maxAttempts)
  const backoff = options.backoff ?? defaultBackoff()
  if (!Schedule.isSchedule(backoff)) throw validate.invalid(source, "backoff", "a Schedule (see Backoff)", backoff)
  const classifier = classify.make(source, "classify", options.classify)
  const retryOn = options.retryOn === undefined
    ? classifier === classify.defaultClassifier ? retryOnHttpStatus : (error: E) => classifier(error) === "transient"
    : validate.predicate(source, "retryOn", options.retryOn)
  const maxRetryAfterMillis =
    validate.durationMillisOr(source, "maxRetryAfter", options.maxRetryAfter, defaultMaxRetryAfter(backoff))
  if (options.budget !== undefined && !isRetryBudget(options.budget)) {
    throw validate.invalid(source, "budget", "a RetryBudget (see Retry.budget)", options.budget)
  }
  if (options.onRetry !== undefined) validate.predicate(source, "onRetry", options.onRetry)
  return {
    [TypeId]: TypeId,
    name,
    maxAttempts,
    backoff,
    classify: classifier,
    retryOn,
    maxRetryAfterMillis,
    budget: options.budget,
    onRetry: options.onRetry
  }
}

/** The backoff's own cap; for an uncapped or foreign schedule, the default backoff's cap. */
const defaultMaxRetryAfter = (backoff: Schedule.Schedule<unknown, any>): number => {
  const cap = backoffInternal.capOf(backoff)
  return cap === undefined || cap === Infinity ? defaults.retry.maxRetryAfterMillis : cap
}

const defaultBackoff = () =>
  Backoff.exponential({
    base: defaults.retry.backoffBaseMillis,
    factor: defaults.retry.backoffFactor,
    max: defaults.retry.backoffMaxMillis,
    jitter: defaults.retry.backoffJitter
  })

/**
 * Checks whether a value is a {@link RetryPolicy}.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * Retry.isRetryPolicy(Retry.make()) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isRetryPolicy = (u: unknown): u is RetryPolicy<never> => Predicate.hasProperty(u, TypeId)

/**
 * Runs an effect under a retry policy (or options, validated on the spot).
 *
 * **Details**
 *
 * After each typed failure the policy checks, in order: the classification
 * (`retryOn` for the call's own errors, `classify` for the library's own
 * rejections: only `transient` failures are retried), the attempt count,
 * the error's `retryAfter` hint against `maxRetryAfter`, the backoff
 * schedule, the budget. Then it waits `max(backoff delay, error.retryAfter)`
 * and runs the effect again. When it gives up, the caller gets the last
 * attempt's own error.
 *
 * A policy typed for the call's own errors (`RetryPolicy<HttpError>`)
 * applies to a call that can also fail with the library's rejections
 * ({@link PolicyRejection}, e.g. a `Timeout` inside the retry).
 *
 * Emits `RetryScheduled` before each wait, `RetryExhausted` when attempts or
 * the schedule run out or a `retryAfter` hint is longer than
 * `maxRetryAfter`, and `RetryBudgetDenied` when the budget refuses.
 *
 * **Example** (Retrying a flaky call)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Backoff, Retry } from "effect-resilience"
 *
 * declare const fetchUser: Effect.Effect<string, { readonly status: number }>
 *
 * const user = fetchUser.pipe(
 *   Retry.retry({ maxAttempts: 3, backoff: Backoff.constant("200 millis") })
 * )
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const retry: {
  <E>(policy: RetryPolicy<E>): <A, E2 extends E | PolicyRejection, R>(self: Effect.Effect<A, E2, R>) => Effect.Effect<A, E2, R>
  <E>(options: RetryOptions<NoInfer<E>>): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E2 extends E | PolicyRejection, R, E>(self: Effect.Effect<A, E2, R>, policy: RetryPolicy<E>): Effect.Effect<A, E2, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, options: RetryOptions<NoInfer<E>>): Effect.Effect<A, E, R>
} = dualPrepared(<E>(options: RetryPolicy<E> | RetryOptions<E>) => {
  const policy = isRetryPolicy(options) ? options : make(options)
  return <A, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => internal.retry(self, policy)
})

/**
 * Whether an HTTP status is worth retrying: 5xx, 408 (request timeout) and
 * 429 (too many requests) are; other statuses are not.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * Retry.isRetryableStatus(503) // true
 * Retry.isRetryableStatus(404) // false
 * ```
 *
 * @category classification
 * @since 0.1.0
 */
export const isRetryableStatus: (status: number) => boolean = classify.isRetryableStatus

/**
 * A ready `retryOn` for HTTP-like errors: an error with a numeric `status`
 * (or `statusCode`) is retried when {@link isRetryableStatus} says so; an
 * error without one (a network failure) is retried.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * const policy = Retry.make({ maxAttempts: 3, retryOn: Retry.retryOnHttpStatus })
 * ```
 *
 * @category classification
 * @since 0.1.0
 */
export const retryOnHttpStatus = (error: unknown): boolean => classify.defaultClassifier(error) === "transient"

/**
 * What a ratio budget ({@link budget}) reports: calls and retries in the
 * current window, and how many retries it allows in all.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const spent = Effect.gen(function*() {
 *   const budget = yield* Retry.budget()
 *   const stats: Retry.RatioBudgetStats = yield* budget.stats
 *   return stats.retries >= stats.allowance
 * })
 * ```
 *
 * @category budget
 * @since 0.1.0
 */
export interface RatioBudgetStats {
  readonly kind: "ratio"
  readonly calls: number
  /** Retries and hedged attempts taken from the budget in the window. */
  readonly retries: number
  readonly allowance: number
}

/**
 * What a token budget ({@link tokenBudget}) reports: the tokens left, the
 * most it holds, and whether a retry or hedge may start now
 * (`tokens > maxTokens / 2`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const throttled = Effect.gen(function*() {
 *   const budget = yield* Retry.tokenBudget()
 *   const stats: Retry.TokenBudgetStats = yield* budget.stats
 *   return !stats.allows
 * })
 * ```
 *
 * @category budget
 * @since 0.3.0
 */
export interface TokenBudgetStats {
  readonly kind: "tokens"
  readonly tokens: number
  readonly maxTokens: number
  readonly allows: boolean
}

/**
 * A retry budget, shared by every call to one dependency and by both its
 * retries and its hedged attempts: a storm of hedges is a storm of retries.
 * Built by {@link budget} (a share of recent calls) or {@link tokenBudget}
 * (gRPC's `retryThrottling`). Give the same budget to a `Retry` and a
 * `Hedge` (a `Policy` does it for you): the outer one counts the call, the
 * inner one only asks for permission, so nothing is counted twice.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const left = Effect.gen(function*() {
 *   const budget = yield* Retry.tokenBudget({ maxTokens: 10, tokenRatio: 0.1 })
 *   const stats = yield* budget.stats
 *   return stats.tokens // 10
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryBudget<out S = RatioBudgetStats | TokenBudgetStats> {
  readonly [BudgetTypeId]: typeof BudgetTypeId
  readonly kind: "ratio" | "tokens"
  /** Records one call (not a retry) as of now. */
  readonly recordCall: Effect.Effect<void>
  /** Takes one retry (or hedged attempt) if the budget has one. */
  readonly tryWithdraw: Effect.Effect<boolean>
  /**
   * Records the outcome of one attempt (`true`: success; `false`: a
   * transient failure) for a budget that learns from outcomes (a token
   * budget); `undefined` for one that does not, so that its callers pay
   * nothing on success.
   */
  readonly recordOutcome: ((success: boolean) => Effect.Effect<void>) | undefined
  readonly stats: Effect.Effect<S>
}

/**
 * Checks whether a value is a {@link RetryBudget}.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * Retry.isRetryBudget({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isRetryBudget = (u: unknown): u is RetryBudget<unknown> => Predicate.hasProperty(u, BudgetTypeId)

/**
 * Options of {@link budget}.
 *
 * @example
 * ```ts
 * import { Retry } from "effect-resilience"
 *
 * // Retries may add at most 10% to the calls of the last 10 s, and 5 per second at low traffic.
 * const options: Retry.BudgetOptions = { ratio: 0.1, minPerSecond: 5, window: "10 seconds" }
 * const budget = Retry.budget(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface BudgetOptions {
  /** Retries allowed per call in the window, in [0, 1]. Default 0.2. */
  readonly ratio?: number | undefined
  /** Retries always allowed per second, so that low traffic can still retry. Default 10. */
  readonly minPerSecond?: number | undefined
  /** How far back calls and retries count. Default 10 seconds. */
  readonly window?: Duration.Input | undefined
}

/**
 * A retry budget shared by many calls: over the last `window`, retries and
 * hedged attempts together may not exceed `minPerSecond · window + ratio ·
 * calls`. When it is spent, a failure is returned at once instead of being
 * retried, and no hedge is launched, which stops a struggling dependency
 * from being hit by a retry storm.
 *
 * **Example** (At most 20% extra load from retries)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* Retry.budget({ ratio: 0.2, minPerSecond: 5, window: "10 seconds" })
 *   const policy = Retry.make({ maxAttempts: 4, budget })
 *   // use `policy` for every call to the same dependency
 * })
 * ```
 *
 * @category budget
 * @since 0.1.0
 */
export const budget = (input?: BudgetOptions): Effect.Effect<RetryBudget<RatioBudgetStats>, InvalidConfigError> =>
  Effect.flatMap(
    validate.attempt(() => {
      const source = "Retry.budget"
      const options = validate.options(source, "options", input, false)
      return {
        ratio: validate.ratio(source, "ratio", options.ratio ?? defaults.retryBudget.ratio),
        minPerSecond: validate.finiteAtLeast(source, "minPerSecond", options.minPerSecond ?? defaults.retryBudget.minPerSecond, 0),
        windowMillis: validate.positiveDurationMillisOr(
          source,
          "window",
          options.window,
          defaults.retryBudget.windowMillis
        )
      }
    }),
    (config) =>
      Effect.map(Ref.make(budgetMachine.initial(config)), (ref): RetryBudget<RatioBudgetStats> => ({
        [BudgetTypeId]: BudgetTypeId,
        kind: "ratio",
        recordCall: internal.withNow((now) => Ref.update(ref, (s) => budgetMachine.recordCall(s, now))),
        tryWithdraw: internal.withNow((now) => Ref.modify(ref, (s) => budgetMachine.tryWithdraw(config, s, now))),
        recordOutcome: undefined,
        stats: internal.withNow((now) =>
          Effect.map(Ref.get(ref), (s) => {
            const current = budgetMachine.advance(s, now)
            return {
              kind: "ratio" as const,
              calls: current.total(budgetMachine.CALLS),
              retries: current.total(budgetMachine.RETRIES),
              allowance: budgetMachine.allowance(config, current)
            }
          }))
      }))
  )

/**
 * Options of {@link tokenBudget}, as gRPC's `retryThrottling`.
 *
 * @example
 * ```ts
 * import type { Retry } from "effect-resilience"
 *
 * const grpcExample: Retry.TokenBudgetOptions = { maxTokens: 10, tokenRatio: 0.1 }
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export interface TokenBudgetOptions {
  /** The tokens the budget starts with and never exceeds: in (0, 1000], at most 3 decimals. Default 10. */
  readonly maxTokens?: number | undefined
  /** Tokens a successful attempt gives back: > 0, at most 3 decimals. Default 0.1. */
  readonly tokenRatio?: number | undefined
}

/**
 * gRPC's retry throttling (`retryThrottling` in a service config, proposal
 * A6): the budget holds `maxTokens` tokens; every attempt that fails with a
 * transient error takes one, every successful attempt gives back
 * `tokenRatio`, and retries and hedged attempts are allowed only while more
 * than `maxTokens / 2` tokens are left. A failure that is not transient (a
 * 404: an answer) takes nothing, as in gRPC. The first attempt of a call is
 * never refused.
 *
 * **When to use**
 *
 * It stops retries when failures outnumber successes by more than
 * `1 / tokenRatio` recently (with the defaults, about 10%), without a clock:
 * unlike {@link budget}, it reacts to outcomes, not to the share of retries
 * among calls.
 *
 * **Details**
 *
 * Fails with `InvalidConfigError` for a `maxTokens` outside (0, 1000] or a
 * `tokenRatio` that is not > 0, or either with more than 3 decimals (gRPC
 * ignores the extra decimals; we refuse them rather than round silently).
 *
 * **Example** (gRPC's example: 10 tokens, 0.1 per success)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* Retry.tokenBudget({ maxTokens: 10, tokenRatio: 0.1 })
 *   const policy = Retry.make({ maxAttempts: 4, budget })
 * })
 * ```
 *
 * @category budget
 * @since 0.3.0
 */
export const tokenBudget = (input?: TokenBudgetOptions): Effect.Effect<RetryBudget<TokenBudgetStats>, InvalidConfigError> =>
  Effect.flatMap(
    validate.attempt(() => {
      const source = "Retry.tokenBudget"
      const options = validate.options(source, "options", input, false)
      const maxTokens = options.maxTokens ?? defaults.tokenBudget.maxTokens
      if (!(typeof maxTokens === "number" && maxTokens > 0 && maxTokens <= 1000 && tokens.hasMilliPrecision(maxTokens))) {
        throw validate.invalid(source, "maxTokens", "a number in (0, 1000] with at most 3 decimals", maxTokens)
      }
      const tokenRatio = options.tokenRatio ?? defaults.tokenBudget.tokenRatio
      if (!(typeof tokenRatio === "number" && Number.isFinite(tokenRatio) && tokenRatio >= 0.001 && tokens.hasMilliPrecision(tokenRatio))) {
        throw validate.invalid(source, "tokenRatio", "a finite number > 0 with at most 3 decimals", tokenRatio)
      }
      return tokens.config(maxTokens, tokenRatio)
    }),
    (config) =>
      Effect.map(Ref.make(tokens.initial(config)), (ref): RetryBudget<TokenBudgetStats> => {
        const failure = Ref.update(ref, tokens.onFailure)
        const success = Ref.update(ref, (t) => tokens.onSuccess(config, t))
        return {
          [BudgetTypeId]: BudgetTypeId,
          kind: "tokens",
          recordCall: Effect.void,
          tryWithdraw: Effect.map(Ref.get(ref), (t) => tokens.allows(config, t)),
          recordOutcome: (ok) => ok ? success : failure,
          stats: Effect.map(Ref.get(ref), (t) => ({
            kind: "tokens" as const,
            tokens: t / tokens.SCALE,
            maxTokens: config.maxMilli / tokens.SCALE,
            allows: tokens.allows(config, t)
          }))
        }
      })
  )

/**
 * Options of either budget, told apart by their keys: `maxTokens` or
 * `tokenRatio` make a {@link tokenBudget}, anything else a {@link budget}.
 *
 * @example
 * ```ts
 * import type { Retry } from "effect-resilience"
 *
 * const ratio: Retry.AnyBudgetOptions = { ratio: 0.1 }
 * const tokens: Retry.AnyBudgetOptions = { maxTokens: 10 }
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export type AnyBudgetOptions = BudgetOptions | TokenBudgetOptions

/**
 * Builds the budget that options describe (see {@link AnyBudgetOptions}),
 * or returns a built one as it is: what `Policy.make({ budget })` does.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* Retry.makeBudget({ maxTokens: 10, tokenRatio: 0.1 })
 *   return budget.kind // "tokens"
 * })
 * ```
 *
 * @category budget
 * @since 0.3.0
 */
export const makeBudget = (
  input: AnyBudgetOptions | RetryBudget<unknown>
): Effect.Effect<RetryBudget<unknown>, InvalidConfigError> => {
  if (isRetryBudget(input)) return Effect.succeed(input)
  if (typeof input === "object" && input !== null && ("maxTokens" in input || "tokenRatio" in input)) {
    if ("ratio" in input || "minPerSecond" in input || "window" in input) {
      return Effect.fail(
        validate.invalid("Retry.makeBudget", "options", "either a token budget (maxTokens, tokenRatio) or a ratio budget (ratio, minPerSecond, window), not both", input)
      )
    }
    return tokenBudget(input as TokenBudgetOptions)
  }
  return budget(input as BudgetOptions)
}

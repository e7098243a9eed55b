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
import type { InvalidConfigError } from "./Errors.ts"
import * as budgetMachine from "./internal/retryBudget.ts"
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
 * Options of {@link make}.
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
   * Which typed errors are retried. Default: every error, except an HTTP-like
   * one (a numeric `status` or `statusCode`) whose status is not retryable
   * (see {@link retryOnHttpStatus}).
   */
  readonly retryOn?: ((error: E) => boolean) | undefined
  /** A shared budget that caps retries to a share of recent calls. */
  readonly budget?: RetryBudget | undefined
  /** Runs before each retry's delay. */
  readonly onRetry?: ((info: RetryInfo<E>) => Effect.Effect<void>) | undefined
}

/**
 * A validated retry policy. Stateless (its budget, if any, holds the shared
 * state), so one policy can serve any number of calls.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryPolicy<in E = unknown> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly maxAttempts: number
  readonly backoff: Schedule.Schedule<unknown, E>
  readonly retryOn: (error: E) => boolean
  readonly budget: RetryBudget | undefined
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
  const retryOn = options.retryOn === undefined ? retryOnHttpStatus : validate.predicate(source, "retryOn", options.retryOn)
  if (options.budget !== undefined && !isRetryBudget(options.budget)) {
    throw validate.invalid(source, "budget", "a RetryBudget (see Retry.budget)", options.budget)
  }
  if (options.onRetry !== undefined) validate.predicate(source, "onRetry", options.onRetry)
  return {
    [TypeId]: TypeId,
    name,
    maxAttempts,
    backoff,
    retryOn,
    budget: options.budget,
    onRetry: options.onRetry
  }
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
 * After each typed failure the policy checks, in order: `retryOn`, the
 * attempt count, the backoff schedule, the budget. Then it waits
 * `max(backoff delay, error.retryAfter)` and runs the effect again. When it
 * gives up, the caller gets the last attempt's own error.
 *
 * Emits `RetryScheduled` before each wait, `RetryExhausted` when attempts or
 * the schedule run out, and `RetryBudgetDenied` when the budget refuses.
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
  <E>(policy: RetryPolicy<NoInfer<E>> | RetryOptions<NoInfer<E>>): <A, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy<NoInfer<E>> | RetryOptions<NoInfer<E>>): Effect.Effect<A, E, R>
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
export const isRetryableStatus = (status: number): boolean =>
  (status >= 500 && status <= 599) || status === 408 || status === 429

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
export const retryOnHttpStatus = (error: unknown): boolean => {
  const status = internal.statusOf(error)
  return status === undefined || isRetryableStatus(status)
}

/**
 * A shared retry budget.
 *
 * @category models
 * @since 0.1.0
 */
export interface RetryBudget {
  readonly [BudgetTypeId]: typeof BudgetTypeId
  /** Records one call (not a retry) as of now. */
  readonly recordCall: Effect.Effect<void>
  /** Takes one retry if the budget has one. */
  readonly tryWithdraw: Effect.Effect<boolean>
  /** Calls and retries in the current window, and how many retries it allows in all. */
  readonly stats: Effect.Effect<{ readonly calls: number; readonly retries: number; readonly allowance: number }>
}

/**
 * Checks whether a value is a {@link RetryBudget}.
 *
 * @category guards
 * @since 0.1.0
 */
export const isRetryBudget = (u: unknown): u is RetryBudget => Predicate.hasProperty(u, BudgetTypeId)

/**
 * Options of {@link budget}.
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
 * A retry budget shared by many calls: over the last `window`, retries may
 * not exceed `minPerSecond · window + ratio · calls`. When it is spent, a
 * failure is returned at once instead of being retried, which stops a
 * struggling dependency from being hit by a retry storm.
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
export const budget = (input?: BudgetOptions): Effect.Effect<RetryBudget, InvalidConfigError> =>
  Effect.flatMap(
    validate.attempt(() => {
      const source = "Retry.budget"
      const options = validate.options(source, "options", input, false)
      return {
        ratio: validate.ratio(source, "ratio", options.ratio ?? defaults.retryBudget.ratio),
        minPerSecond: validate.finiteAtLeast(source, "minPerSecond", options.minPerSecond ?? defaults.retryBudget.minPerSecond, 0),
        windowMillis: options.window === undefined
          ? defaults.retryBudget.windowMillis
          : validate.positiveDurationMillis(source, "window", options.window)
      }
    }),
    (config) =>
      Effect.map(Ref.make(budgetMachine.initial(config)), (ref): RetryBudget => ({
        [BudgetTypeId]: BudgetTypeId,
        recordCall: internal.withNow((now) => Ref.update(ref, (s) => budgetMachine.recordCall(s, now))),
        tryWithdraw: internal.withNow((now) => Ref.modify(ref, (s) => budgetMachine.tryWithdraw(config, s, now))),
        stats: internal.withNow((now) =>
          Effect.map(Ref.get(ref), (s) => {
            const current = budgetMachine.advance(s, now)
            return {
              calls: current.totals[budgetMachine.CALLS]!,
              retries: current.totals[budgetMachine.RETRIES]!,
              allowance: budgetMachine.allowance(config, current)
            }
          }))
      }))
  )

/**
 * Errors shared by every policy module.
 *
 * Policy-specific rejections live beside their policy (`TimeoutError` in
 * `Timeout`, `CircuitOpenError` in `CircuitBreaker`, ...). This module holds
 * the one error every constructor can raise: invalid options.
 *
 * @since 0.1.0
 */
import * as errors from "./internal/errors.ts"

/**
 * Raised when a policy is built with options outside their allowed range.
 *
 * **Details**
 *
 * Where it is reported depends only on what the function returns:
 *
 * - a function returning an `Effect` or a `Layer` that builds something
 *   (every `make`, `CircuitBreaker.keyed`, `Retry.budget`,
 *   `Fallback.lastKnownGood`, `Pipeline.run`, every `layer…`) fails with it
 *   in the typed error channel, and never throws or dies;
 * - every other function (pure constructors such as `Backoff.exponential`,
 *   `Retry.make`, `Hedge.make`, `Timeout.timeout`, and combinators such as
 *   `Retry.retry` or `Fallback.orElse`) throws it when called, the way
 *   Effect's own `Schedule` constructors throw on bad input.
 *
 * The message always names the constructor, the field (a path such as
 * `retry.maxAttempts` when a constructor is nested in `Policy.make`), the
 * allowed range and the value received. `NaN`, duration objects with an
 * unknown unit (`{ secs: 5 }`), durations that overflow to Infinity, `null`
 * options and sizes past their documented bound are all refused; see
 * docs/configuration.md, "Bad options in code".
 *
 * **Example** (Catching bad options at construction)
 *
 * ```ts
 * import { Retry, Errors } from "effect-resilience"
 *
 * try {
 *   Retry.make({ maxAttempts: 0 })
 * } catch (error) {
 *   if (Errors.isInvalidConfigError(error)) {
 *     error.message // "Retry.make: maxAttempts must be an integer >= 1, got 0"
 *   }
 * }
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const InvalidConfigError = errors.InvalidConfigError

/**
 * @category errors
 * @since 0.1.0
 */
export type InvalidConfigError = errors.InvalidConfigError

/**
 * Checks whether a value is an {@link InvalidConfigError}.
 *
 * @example
 * ```ts
 * import { Errors } from "effect-resilience"
 *
 * Errors.isInvalidConfigError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isInvalidConfigError: (u: unknown) => u is InvalidConfigError = errors.isInvalidConfigError

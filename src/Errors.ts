/**
 * Errors shared by every policy module.
 *
 * Policy-specific rejections live beside their policy (`TimeoutError` in
 * `Timeout`, `CircuitOpenError` in `CircuitBreaker`, ...). This module holds
 * the one error every constructor can raise: invalid options.
 *
 * @since 0.1.0
 */
import { Predicate } from "effect"
import { TaggedError } from "./internal/errors.ts"

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
export class InvalidConfigError extends TaggedError("InvalidConfigError")<{
  /** The constructor that rejected the options, e.g. `"Retry.make"`. */
  readonly source: string
  /** The option path, e.g. `"maxAttempts"` or `"backoff.max"`. */
  readonly field: string
  /** What the field allows, e.g. `"an integer >= 1"`. */
  readonly expected: string
  /** The value received. */
  readonly value: unknown
}> {
  override get message(): string {
    return `${this.source}: ${this.field} must be ${this.expected}, got ${describeValue(this.value)}`
  }
}

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
export const isInvalidConfigError = (u: unknown): u is InvalidConfigError =>
  Predicate.isTagged(u, "InvalidConfigError")

const describeValue = (value: unknown): string => {
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (isPlainObject(value)) {
    // `{ secs: 5 }`, not "[object Object]": the reader must see which key was wrong
    const entries = Object.entries(value)
    const shown = entries.slice(0, 8).map(([k, v]) => `${k}: ${Predicate.isObject(v) ? "{…}" : describeValue(v)}`)
    if (entries.length > 8) shown.push("…")
    return shown.length === 0 ? "{}" : `{ ${shown.join(", ")} }`
  }
  if (Predicate.isObject(value) && !Array.isArray(value)) {
    try {
      return String(value)
    } catch {
      return "an object"
    }
  }
  if (Array.isArray(value)) return `[${value.map(describeValue).join(", ")}]`
  return String(value)
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== "object") return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

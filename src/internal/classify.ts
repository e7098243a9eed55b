/**
 * The one error classification shared by Retry, CircuitBreaker, Hedge and
 * Fallback. A typed failure is:
 *
 * - `transient`: worth another try; retried, hedged, a breaker failure, falls back;
 * - `permanent`: a definite answer (the caller's own mistake): not retried, no
 *   more hedges, a breaker *success* (the dependency answered), no fallback;
 * - `ignored`: neither retried nor counted by a breaker, no fallback.
 *
 * Defects and interruption are not typed failures: they never reach a
 * classifier and are never retried.
 *
 * Precedence: `ignoredTags`, `permanentTags`, `transientTags` (by the error's
 * `_tag`), then `transientStatus`, `permanentStatus` (by a numeric `status`
 * or `statusCode`), then the default: a status that is 5xx, 408 or 429 is
 * transient, any other status permanent; an error without a status is
 * transient.
 */
import { Predicate } from "effect"
import * as defaults from "./defaults.ts"
import * as validate from "./validate.ts"

export type Outcome = "transient" | "permanent" | "ignored"

export type Classifier = (error: unknown) => Outcome

export interface ClassifierOptions {
  /** Statuses classified transient, whatever the default says. */
  readonly transientStatus?: ReadonlyArray<number> | undefined
  /** Statuses classified permanent, whatever the default says. */
  readonly permanentStatus?: ReadonlyArray<number> | undefined
  /** Error `_tag`s classified transient. */
  readonly transientTags?: ReadonlyArray<string> | undefined
  /** Error `_tag`s classified permanent. */
  readonly permanentTags?: ReadonlyArray<string> | undefined
  /** Error `_tag`s ignored. */
  readonly ignoredTags?: ReadonlyArray<string> | undefined
}

/** A numeric `status` or `statusCode` on an error. */
export const statusOf = (error: unknown): number | undefined => {
  if (Predicate.hasProperty(error, "status") && typeof error.status === "number") return error.status
  if (Predicate.hasProperty(error, "statusCode") && typeof error.statusCode === "number") return error.statusCode
  return undefined
}

export const isRetryableStatus = (status: number): boolean =>
  (status >= 500 && status <= 599) || defaults.classify.transientStatus.includes(status)

const tagOf = (error: unknown): string | undefined =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : undefined

/** The default classification. */
export const defaultClassifier: Classifier = (error) => {
  const status = statusOf(error)
  return status === undefined || isRetryableStatus(status) ? "transient" : "permanent"
}

const isClassifierOptions = (u: unknown): u is ClassifierOptions => typeof u === "object" && u !== null

/**
 * A classifier from options or a function, validated: statuses are integers
 * in [100, 599], tags non-empty strings, and no status or tag sits in two
 * lists. `field` names the option in errors (e.g. "classify").
 */
export const make = (source: string, field: string, input: Classifier | ClassifierOptions | undefined): Classifier => {
  if (input === undefined) return defaultClassifier
  if (typeof input === "function") return input
  if (!isClassifierOptions(input)) throw validate.invalid(source, field, "a function or an object of status lists and tags", input)
  const outcomes = new Map<string, Outcome>()
  const tags = (key: "ignoredTags" | "permanentTags" | "transientTags", outcome: Outcome) => {
    const list = input[key]
    if (list === undefined) return
    if (!Array.isArray(list)) throw validate.invalid(source, `${field}.${key}`, "an array of error tags", list)
    list.forEach((tag, i) => {
      if (typeof tag !== "string" || tag.length === 0) {
        throw validate.invalid(source, `${field}.${key}[${i}]`, "a non-empty string (an error's _tag)", tag)
      }
      const seen = outcomes.get(tag)
      if (seen !== undefined && seen !== outcome) {
        throw validate.invalid(source, `${field}.${key}[${i}]`, `a tag not also classified ${seen}`, tag)
      }
      outcomes.set(tag, outcome)
    })
  }
  tags("ignoredTags", "ignored")
  tags("permanentTags", "permanent")
  tags("transientTags", "transient")
  const statuses = new Map<number, Outcome>()
  const status = (key: "transientStatus" | "permanentStatus", outcome: Outcome) => {
    const list = input[key]
    if (list === undefined) return
    if (!Array.isArray(list)) throw validate.invalid(source, `${field}.${key}`, "an array of HTTP statuses", list)
    list.forEach((s, i) => {
      if (typeof s !== "number" || !Number.isInteger(s) || s < 100 || s > 599) {
        throw validate.invalid(source, `${field}.${key}[${i}]`, "an integer in [100, 599]", s)
      }
      const seen = statuses.get(s)
      if (seen !== undefined && seen !== outcome) {
        throw validate.invalid(source, `${field}.${key}[${i}]`, `a status not also classified ${seen}`, s)
      }
      statuses.set(s, outcome)
    })
  }
  status("transientStatus", "transient")
  status("permanentStatus", "permanent")
  if (outcomes.size === 0 && statuses.size === 0) return defaultClassifier
  return (error) => {
    if (outcomes.size > 0) {
      const tag = tagOf(error)
      const byTag = tag === undefined ? undefined : outcomes.get(tag)
      if (byTag !== undefined) return byTag
    }
    if (statuses.size > 0) {
      const s = statusOf(error)
      const byStatus = s === undefined ? undefined : statuses.get(s)
      if (byStatus !== undefined) return byStatus
    }
    return defaultClassifier(error)
  }
}

/**
 * The errors the library's own policies fail with (rejections and
 * timeouts), matched by tag so that no policy module depends on another.
 * A `Retry` typed for a call's own errors hands these to its classifier,
 * never to its `retryOn` (which is typed for the call's errors only).
 */
export const libraryTags: ReadonlySet<string> = new Set([
  "TimeoutError",
  "CircuitOpenError",
  "BulkheadRejectedError",
  "LoadShedError",
  "RateLimitedError",
  "ThrottledError"
])

export const isLibraryError = (error: unknown): boolean => {
  const tag = tagOf(error)
  return tag !== undefined && libraryTags.has(tag)
}

/**
 * The library's errors, defined here and re-exported (with their docs) by the
 * public modules, as Effect does with `Cause`'s errors: the machinery raises
 * them without importing a public module by value.
 */
import { Data, Duration, Predicate } from "effect"
import type { Priority } from "../Events.ts"

/** The mark of the library's errors; its value is the error's tag. */
const TypeId = "~effect-resilience/Error"

/**
 * `Data.TaggedError` for the library's own errors. Two differences, both for
 * the reader of a log:
 *
 * - no stack trace is captured: a rejection is raised inside the fiber loop, so
 *   its frames only point into the library, and capturing them costs more than
 *   the rejection itself; `stack` still reads `Tag: message`;
 * - `toJSON` (what `Effect.logError` and `util.inspect` print) carries the
 *   message first, then the fields.
 */
export const TaggedError = <Tag extends string>(tag: Tag): ReturnType<typeof Data.TaggedError<Tag>> => {
  class Base extends Data.TaggedError(tag)<Record<string, unknown>> {
    constructor(args: Record<string, unknown>) {
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
      try {
        super(args)
      } finally {
        Error.stackTraceLimit = limit
      }
    }
    override toJSON(): unknown {
      return Object.assign({ _tag: this._tag, message: this.message }, this)
    }
  }
  // on the prototype, not enumerable: not a field, so logs and deep equality do not see it
  Object.defineProperty(Base.prototype, TypeId, { value: tag })
  return Base as unknown as ReturnType<typeof Data.TaggedError<Tag>>
}

/**
 * The one kind of guard of every error of the library: an error made by
 * {@link TaggedError} with this tag. Unlike `instanceof` it holds across two
 * copies of the package; unlike a bare `_tag` check it refuses another
 * library's error of the same name (Effect's `Cause.TimeoutError`).
 */
export const guard = <E>(tag: string) => (u: unknown): u is E =>
  Predicate.hasProperty(u, TypeId) && u[TypeId] === tag

export class BulkheadRejectedError extends TaggedError("BulkheadRejectedError")<{
  readonly policy: string
  readonly reason: "full" | "queue-timeout"
}> {
  override get message(): string {
    return this.reason === "full"
      ? `bulkhead "${this.policy}" is full, call rejected`
      : `call waited too long for a permit of bulkhead "${this.policy}", rejected`
  }
}

export const isBulkheadRejectedError = guard<BulkheadRejectedError>("BulkheadRejectedError")

export class ThrottledError extends TaggedError("ThrottledError")<{
  readonly policy: string
  readonly probability: number
}> {
  override get message(): string {
    return `request throttled locally by "${this.policy}": the backend accepts too few requests (rejecting ${
      Math.round(this.probability * 100)
    }% now)`
  }
}

export const isThrottledError = guard<ThrottledError>("ThrottledError")

export class FallbackChainError<out E = unknown> extends TaggedError("FallbackChainError")<{
  readonly policy: string
  readonly failures: ReadonlyArray<E>
}> {
  override get message(): string {
    return `all ${this.failures.length} alternatives of "${this.policy}" failed`
  }
}

export const isFallbackChainError = guard<FallbackChainError>("FallbackChainError")

export class LoadShedError extends TaggedError("LoadShedError")<{
  readonly policy: string
  readonly priority: Priority
}> {
  override get message(): string {
    return `load shedder "${this.policy}" shed a ${this.priority} call under load`
  }
}

export const isLoadShedError = guard<LoadShedError>("LoadShedError")

export class TimeoutError extends TaggedError("TimeoutError")<{
  readonly policy: string
  readonly duration: Duration.Duration
}> {
  override get message(): string {
    return `"${this.policy}" timed out after ${Duration.format(this.duration)}`
  }
}

export const isTimeoutError = guard<TimeoutError>("TimeoutError")

export class AdaptiveLimitRejectedError extends TaggedError("AdaptiveLimitRejectedError")<{
  readonly policy: string
  readonly limit: number
  readonly inFlight: number
}> {
  override get message(): string {
    return `adaptive limit "${this.policy}" reached (${this.inFlight} in flight, limit ${this.limit}), call rejected`
  }
}

export const isAdaptiveLimitRejectedError = guard<AdaptiveLimitRejectedError>("AdaptiveLimitRejectedError")

export class CircuitOpenError extends TaggedError("CircuitOpenError")<{
  readonly policy: string
  readonly retryAfter: Duration.Duration
  readonly state: "Open" | "HalfOpen" | "ForcedOpen"
  /** The key, for a circuit of a keyed breaker. */
  readonly key: string | undefined
}> {
  override get message(): string {
    switch (this.state) {
      case "Open":
        return `circuit "${this.policy}" is open, retry after ${Duration.format(this.retryAfter)}`
      case "HalfOpen":
        return `circuit "${this.policy}" is half-open and every probe slot is taken`
      case "ForcedOpen":
        return `circuit "${this.policy}" is forced open`
    }
  }
}

export const isCircuitOpenError = guard<CircuitOpenError>("CircuitOpenError")

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

export const isInvalidConfigError = guard<InvalidConfigError>("InvalidConfigError")

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

/**
 * Option checks shared by every constructor. Each check returns the
 * normalised value or throws an `InvalidConfigError` naming the source, the
 * field, the allowed range and the value received.
 */
import { Duration, Effect, Option } from "effect"
import { InvalidConfigError, isInvalidConfigError } from "./errors.ts"

export const invalid = (source: string, field: string, expected: string, value: unknown): InvalidConfigError =>
  new InvalidConfigError({ source, field, expected, value })

/**
 * Upper bounds of the sizes that allocate up front (documented in
 * docs/configuration.md): past them a constructor would die allocating, or
 * hold memory no workload needs. Counts that allocate nothing are bounded by
 * `Number.MAX_SAFE_INTEGER` only, where integer arithmetic stays exact.
 */
export const limits = {
  /** `countWindow` `size`: one byte per call of the ring. */
  countWindowSize: 1_000_000,
  /** `timeWindow` `buckets`: 24 bytes per bucket, each scanned as the clock passes it. */
  timeWindowBuckets: 10_000,
  /** `Events.layerHub` `capacity`: the PubSub's buffer is allocated whole. */
  eventHubCapacity: 1_000_000,
  /** `Hedge` `maxAttempts`: copies of one call, all forked at once when `delay` is 0. */
  hedgeMaxAttempts: 100
} as const

/**
 * An integer in [min, max]. With no explicit `max` the message names only the
 * lower bound unless the value is past `Number.MAX_SAFE_INTEGER`, where
 * counters would stop counting exactly.
 */
const intIn = (source: string, field: string, value: number, min: number, max: number | undefined): number => {
  const upper = max ?? Number.MAX_SAFE_INTEGER
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= upper) return value
  const tooLarge = typeof value === "number" && Number.isInteger(value) && value > upper
  throw invalid(source, field, max !== undefined || tooLarge ? `an integer in [${min}, ${upper}]` : `an integer >= ${min}`, value)
}

export const positiveInt = (source: string, field: string, value: number, max?: number): number =>
  intIn(source, field, value, 1, max)

export const nonNegativeInt = (source: string, field: string, value: number, max?: number): number =>
  intIn(source, field, value, 0, max)

/** An integer >= 1, or `Infinity` (no limit). */
export const positiveIntOrInfinity = (source: string, field: string, value: number): number => {
  if (value === Infinity) return value
  if (!Number.isSafeInteger(value) || value < 1) {
    const tooLarge = typeof value === "number" && Number.isInteger(value) && value > 1
    throw invalid(source, field, tooLarge ? `an integer in [1, ${Number.MAX_SAFE_INTEGER}] or Infinity` : "an integer >= 1 or Infinity", value)
  }
  return value
}

/**
 * The options object of a constructor: `undefined` stands for `{}` where all
 * options are optional (`required` false); `null`, arrays and primitives are
 * refused, so no constructor reads a property of `null`. An option set to
 * `null` is refused too: read with `??` it would silently mean the default.
 * Its field is `prefix` + the key.
 */
export const options = <A extends object>(
  source: string,
  field: string,
  value: A | undefined,
  required: boolean,
  expected = "an object",
  prefix = ""
): A => {
  if (value === undefined && !required) return {} as A
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid(source, field, expected, value)
  for (const key of Object.keys(value)) {
    if ((value as Record<string, unknown>)[key] === null) {
      throw invalid(source, `${prefix}${key}`, "left out (for the default) or set, never null", null)
    }
  }
  return value
}

export const finiteAtLeast = (source: string, field: string, value: number, min: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw invalid(source, field, `a finite number >= ${min}`, value)
  }
  return value
}

/** A ratio in [0, 1]. */
export const ratio = (source: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(source, field, "a number in [0, 1]", value)
  }
  return value
}

/** A rate in (0, 1]: zero would trip on every call. */
export const rate = (source: string, field: string, value: number): number => {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw invalid(source, field, "a number in (0, 1]", value)
  }
  return value
}

export const nonEmptyName = (source: string, field: string, value: string): string => {
  if (typeof value !== "string" || value.length === 0) throw invalid(source, field, "a non-empty string", value)
  return value
}

export const predicate = <F extends (...args: ReadonlyArray<any>) => unknown>(
  source: string,
  field: string,
  value: F
): F => {
  if (typeof value !== "function") throw invalid(source, field, "a function", value)
  return value
}

const UNITS = ["weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"]

const isNumberOrUnset = (u: unknown): boolean => u === undefined || (typeof u === "number" && !Number.isNaN(u))

/**
 * What `Duration.fromInput` would get wrong: it reads NaN (a number, in a
 * tuple or in an object) as 0 and ignores unknown object keys (`{ secs: 5 }`
 * is 0 ms). Both are refused here, before decoding.
 */
const checkInput = (source: string, field: string, input: unknown, expected: string): void => {
  if (input === null || input === undefined) throw invalid(source, field, expected, input)
  if (typeof input === "number") {
    if (Number.isNaN(input)) throw invalid(source, field, expected, input)
    return
  }
  if (typeof input !== "object" || Duration.isDuration(input)) return
  if (Array.isArray(input)) {
    if (input.length !== 2 || !input.every((n) => typeof n === "number" && !Number.isNaN(n))) {
      throw invalid(source, field, `${expected}; a tuple is [seconds, nanos]`, input)
    }
    return
  }
  const keys = Object.keys(input)
  const unknown = keys.find((key) => !UNITS.includes(key))
  if (unknown !== undefined) {
    throw invalid(source, field, `${expected}; unknown unit ${JSON.stringify(unknown)} (units: ${UNITS.join(", ")})`, input)
  }
  const record = input as Record<string, unknown>
  if (!keys.some((key) => record[key] !== undefined) || !keys.every((key) => isNumberOrUnset(record[key]))) {
    throw invalid(source, field, expected, input)
  }
}

/** An input that asks for infinity; any other input decoding to infinity overflowed. */
const isExplicitInfinity = (input: unknown): boolean =>
  input === Infinity || input === "Infinity" || (Duration.isDuration(input) && !Duration.isFinite(input))

const decode = (source: string, field: string, input: Duration.Input, expected: string): number => {
  checkInput(source, field, input, expected)
  const decoded = Duration.fromInput(input)
  if (Option.isNone(decoded)) throw invalid(source, field, expected, input)
  const millis = Duration.toMillis(decoded.value)
  if (Number.isNaN(millis)) throw invalid(source, field, expected, input)
  if (millis === Infinity && !isExplicitInfinity(input)) throw invalid(source, field, `${expected}, not one that overflows to Infinity`, input)
  return millis
}

/** A finite duration >= 0, in milliseconds. */
export const durationMillis = (source: string, field: string, input: Duration.Input): number => {
  const expected = "a finite duration >= 0 (e.g. 100, \"2 seconds\")"
  const millis = decode(source, field, input, expected)
  if (!Number.isFinite(millis) || millis < 0) throw invalid(source, field, expected, input)
  return millis
}

/** A finite duration > 0, in milliseconds. */
export const positiveDurationMillis = (source: string, field: string, input: Duration.Input): number => {
  const expected = "a finite duration > 0 (e.g. 100, \"2 seconds\")"
  const millis = decode(source, field, input, expected)
  if (!Number.isFinite(millis) || millis <= 0) throw invalid(source, field, expected, input)
  return millis
}

/** A check of a duration made optional: `fallback` when the input is unset. */
const orFallback = (check: (source: string, field: string, input: Duration.Input) => number) =>
(source: string, field: string, input: Duration.Input | undefined, fallback: number): number =>
  input === undefined ? fallback : check(source, field, input)

/** An optional finite duration >= 0, in milliseconds: `fallback` when unset. */
export const durationMillisOr = orFallback(durationMillis)

/** An optional finite duration > 0, in milliseconds: `fallback` when unset. */
export const positiveDurationMillisOr = orFallback(positiveDurationMillis)

/** A duration > 0, in milliseconds; `Infinity` allowed (no limit). */
export const positiveDurationOrInfinityMillis = (source: string, field: string, input: Duration.Input): number => {
  const expected = "a duration > 0 or \"Infinity\""
  const millis = decode(source, field, input, expected)
  if (millis <= 0) throw invalid(source, field, expected, input)
  return millis
}

/** The `name`, `ttl` and `capacity` of a bounded, expiring cache (Idempotency, lastKnownGood). */
export const cacheOptions = (
  source: string,
  options: {
    readonly name?: string | undefined
    readonly ttl?: Duration.Input | undefined
    readonly capacity?: number | undefined
  },
  defaults: { readonly name: string; readonly ttlMillis: number; readonly capacity: number }
): { readonly name: string; readonly ttlMillis: number; readonly capacity: number } => ({
  name: nonEmptyName(source, "name", options.name ?? defaults.name),
  ttlMillis: options.ttl === undefined ? defaults.ttlMillis : positiveDurationOrInfinityMillis(source, "ttl", options.ttl),
  capacity: positiveInt(source, "capacity", options.capacity ?? defaults.capacity)
})

/**
 * Runs a throwing check inside an Effect constructor so that effectful `make`s
 * fail with the typed `InvalidConfigError` instead of a defect.
 */
export const attempt = <A>(f: () => A): Effect.Effect<A, InvalidConfigError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (error) {
      if (isInvalidConfigError(error)) return Effect.fail(error)
      throw error
    }
  })

const reframe = (source: string, prefix: string, self: string) => (error: InvalidConfigError): InvalidConfigError =>
  invalid(source, error.field === self ? prefix : `${prefix}.${error.field}`, error.expected, error.value)

/**
 * Runs the checks of a constructor nested in another (`Policy.make`'s
 * `retry` block is checked by `Retry.make`) so that its errors name the outer
 * constructor and the full path (`retry.maxAttempts`). The nested field
 * `self` (the nested options as a whole) becomes `prefix` itself.
 */
export const nested = <A>(source: string, prefix: string, f: () => A, self = "options"): A => {
  try {
    return f()
  } catch (error) {
    if (isInvalidConfigError(error)) throw reframe(source, prefix, self)(error)
    throw error
  }
}

/** {@link nested} for an effectful constructor. */
export const nestedEffect = <A, E, R>(
  source: string,
  prefix: string,
  effect: Effect.Effect<A, E | InvalidConfigError, R>
): Effect.Effect<A, E | InvalidConfigError, R> =>
  Effect.mapError(effect, (error) => isInvalidConfigError(error) ? reframe(source, prefix, "options")(error) : error)

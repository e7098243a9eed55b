/**
 * Option checks shared by every constructor. Each check returns the
 * normalised value or throws an `InvalidConfigError` naming the source, the
 * field, the allowed range and the value received.
 */
import { Duration, Effect, Option } from "effect"
import { InvalidConfigError } from "../Errors.ts"

export const invalid = (source: string, field: string, expected: string, value: unknown): InvalidConfigError =>
  new InvalidConfigError({ source, field, expected, value })

export const positiveInt = (source: string, field: string, value: number): number => {
  if (!Number.isInteger(value) || value < 1) throw invalid(source, field, "an integer >= 1", value)
  return value
}

export const nonNegativeInt = (source: string, field: string, value: number): number => {
  if (!Number.isInteger(value) || value < 0) throw invalid(source, field, "an integer >= 0", value)
  return value
}

/** An integer >= 1, or `Infinity` (no limit). */
export const positiveIntOrInfinity = (source: string, field: string, value: number): number => {
  if (value === Infinity) return value
  if (!Number.isInteger(value) || value < 1) throw invalid(source, field, "an integer >= 1 or Infinity", value)
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

const decode = (source: string, field: string, input: Duration.Input, expected: string): number => {
  const decoded = Duration.fromInput(input)
  if (Option.isNone(decoded)) throw invalid(source, field, expected, input)
  const millis = Duration.toMillis(decoded.value)
  if (Number.isNaN(millis)) throw invalid(source, field, expected, input)
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
      if (error instanceof InvalidConfigError) return Effect.fail(error)
      throw error
    }
  })

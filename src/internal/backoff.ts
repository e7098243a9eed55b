/**
 * Delay schedules as step functions over milliseconds. Every backoff is a
 * plain Effect `Schedule` whose output is the delay it chose, so it composes
 * with `Schedule` combinators and with `Effect.retry` as well as with `Retry`.
 */
import { Duration, Effect, Random, Schedule } from "effect"
import * as Cause from "effect/Cause"

export type Jitter = "none" | "full" | "equal"

const CapId = "~effect-resilience/Backoff/cap"

/**
 * Records the longest delay a backoff can produce (`Infinity`: no cap) on the
 * schedule itself, so that `Retry` can default its `maxRetryAfter` to it.
 * Schedules built by other means carry none (see `capOf`).
 */
export const withCap = <S extends Schedule.Schedule<any, any, any, any>>(schedule: S, capMillis: number): S =>
  Object.defineProperty(schedule, CapId, { value: capMillis, enumerable: false })

/** The cap recorded by `withCap`, if any. */
export const capOf = (schedule: unknown): number | undefined => {
  if (typeof schedule !== "object" || schedule === null || !(CapId in schedule)) return undefined
  return (schedule as { readonly [CapId]: number })[CapId]
}

const step = (millis: number): Effect.Effect<[Duration.Duration, Duration.Duration]> => {
  const d = Duration.millis(millis)
  return Effect.succeed([d, d])
}

/**
 * A schedule that recurs forever with delay `delayAt(n)` for the n-th
 * recurrence (0-based), then applies `jitter` to that delay.
 */
export const fromDelayFunction = (
  delayAt: (n: number) => number,
  jitter: Jitter,
  capMillis: number
): Schedule.Schedule<Duration.Duration> =>
  withCap(Schedule.fromStep(Effect.sync(() => {
    let n = 0
    return (_now: number, _input: unknown) => {
      const base = delayAt(n++)
      return jitter === "none" ? step(base) : Effect.flatMap(Random.next, (r) => step(applyJitter(base, jitter, r)))
    }
  })), capMillis)

/** `r` is uniform in [0, 1). */
export const applyJitter = (millis: number, jitter: Jitter, r: number): number => {
  switch (jitter) {
    case "none":
      return millis
    case "full":
      return r * millis
    case "equal":
      return millis / 2 + r * (millis / 2)
  }
}

/** AWS "decorrelated jitter": min(max, random in [base, previous * 3]), starting from previous = base. */
export const decorrelated = (baseMillis: number, maxMillis: number): Schedule.Schedule<Duration.Duration> =>
  withCap(Schedule.fromStep(Effect.sync(() => {
    let previous = baseMillis
    return (_now: number, _input: unknown) =>
      Effect.flatMap(Random.next, (r) => {
        const upper = Math.max(baseMillis, previous * 3)
        previous = Math.min(maxMillis, baseMillis + r * (upper - baseMillis))
        return step(previous)
      })
  })), maxMillis)

export const fromDelays = (millis: ReadonlyArray<number>): Schedule.Schedule<Duration.Duration> =>
  withCap(Schedule.fromStep(Effect.sync(() => {
    let n = 0
    return (_now: number, _input: unknown) => n < millis.length ? step(millis[n++]!) : Cause.done(Duration.millis(millis[millis.length - 1] ?? 0))
  })), Math.max(0, ...millis))

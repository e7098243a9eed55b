/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"):
 * over a sliding window, count the requests the client attempted and those
 * the backend accepted; reject a new request locally with probability
 * `max(0, (requests − k · accepts) / (requests + 1))`. While the backend
 * accepts at least one request in `k`, nothing is rejected; as it refuses
 * more, the client sends less, and locally rejected requests still count as
 * requests, so the rate that reaches the backend settles near `k · accepts`.
 *
 * The decision is a pure function of the library's sliding time window
 * (mutable, updated in place by its owner, like the retry budget's); the
 * executor holds the window and the local-rejection count in one `Ref`.
 */
import { Clock, Effect, type Exit, Random, Ref } from "effect"
import { ANSWERED, answerOf, IGNORED } from "./exitAnswer.ts"
import * as TimeWindow from "./timeWindow.ts"

export interface Config {
  readonly name: string
  readonly k: number
  readonly windowMillis: number
  readonly buckets: number
  readonly isRejected: (error: unknown) => boolean
}

export const REQUESTS = 0
export const ACCEPTS = 1

export interface State {
  readonly window: TimeWindow.TimeWindow
  /** Requests rejected locally since the throttle was made. */
  readonly rejected: number
}

export const initial = (config: Pick<Config, "windowMillis" | "buckets">): State => ({
  window: new TimeWindow.TimeWindow(config.windowMillis / config.buckets, config.buckets, 2),
  rejected: 0
})

/** The probability of rejecting the next request locally, given a window already advanced to now. */
export const probability = (k: number, window: TimeWindow.TimeWindow): number => {
  const requests = window.total(REQUESTS)
  return Math.max(0, (requests - k * window.total(ACCEPTS)) / (requests + 1))
}

/** One request, accepted by the backend or not (rejected by it, or locally), at `now`. */
export const record = (window: TimeWindow.TimeWindow, now: number, accepted: boolean): TimeWindow.TimeWindow => {
  window.add(now, REQUESTS)
  if (accepted) window.add(now, ACCEPTS)
  return window
}

export interface Stats {
  /** Requests in the window, those rejected locally included. */
  readonly requests: number
  /** Requests the backend accepted in the window. */
  readonly accepts: number
  /** The probability of rejecting the next request locally. */
  readonly probability: number
  /** Requests rejected locally since the throttle was made. */
  readonly rejected: number
}

export const stats = (config: Config, state: State, now: number): Stats => {
  const window = state.window
  window.advance(now)
  return {
    requests: window.total(REQUESTS),
    accepts: window.total(ACCEPTS),
    probability: probability(config.k, window),
    rejected: state.rejected
  }
}

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<Stats>
}

/** `reject` builds a local rejection (error and event); the public module owns the error type. */
export const make = <E>(config: Config, reject: (probability: number) => Effect.Effect<never, E>): Executor<E> => {
  const state = Ref.makeUnsafe(initial(config))
  const k = config.k

  const settle = (exit: Exit.Exit<unknown, unknown>, clock: Clock.Clock): undefined => {
    const outcome = answerOf(config.isRejected, exit)
    if (outcome === IGNORED) return undefined
    record(Ref.getUnsafe(state).window, clock.currentTimeMillisUnsafe(), outcome === ANSWERED)
    return undefined
  }

  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>): Effect.Effect<A, E1 | E, R> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const now = clock.currentTimeMillisUnsafe()
      const window = Ref.getUnsafe(state).window
      window.advance(now)
      const p = probability(k, window)
      // Randomness is drawn only when a rejection is possible: a healthy backend costs no draw.
      if (p > 0 && fiber.getRef(Random.Random).nextDoubleUnsafe() < p) {
        record(window, now, false)
        return Effect.andThen(Ref.update(state, (s) => ({ window: s.window, rejected: s.rejected + 1 })), reject(p))
      }
      return Effect.onExitPrimitive(self, (exit) => settle(exit, clock), true)
    })

  return {
    execute,
    stats: Effect.map(Clock.currentTimeMillis, (now) => stats(config, Ref.getUnsafe(state), now))
  }
}

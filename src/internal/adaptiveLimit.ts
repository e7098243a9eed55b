/**
 * Adaptive limiter machinery: the algorithms behind one interface, and the
 * executor that keeps the limit, the in-flight count and the rejections in
 * one `Ref`, updated synchronously: a slot is taken only after its release
 * is registered, so no in-flight slot can leak.
 */
import { Clock, Effect, type Exit, Ref } from "effect"
import * as Aimd from "./adaptiveLimitAimd.ts"
import * as Gradient2 from "./adaptiveLimitGradient2.ts"
import type { Sample } from "./adaptiveLimitSample.ts"
import * as Window from "./adaptiveLimitWindow.ts"
import { answerOf, IGNORED, REFUSED } from "./exitAnswer.ts"

export type { Sample }

export type Algorithm =
  | { readonly _tag: "Aimd"; readonly config: Aimd.Config; readonly window: Window.Config }
  | { readonly _tag: "Gradient2"; readonly config: Gradient2.Config; readonly window: Window.Config }

/** One algorithm as a machine over an opaque state. */
export interface Machine<S> {
  readonly initial: S
  readonly update: (state: S, sample: Sample) => S
  readonly limit: (state: S) => number
}

export const machineOf = (algorithm: Algorithm): Machine<unknown> => windowed(algorithm.window, bare(algorithm))

/** Feeds `machine` one sample per window, unless `config.millis` is 0. */
export const windowed = <S>(config: Window.Config, machine: Machine<S>): Machine<unknown> => {
  if (config.millis === 0) return machine as Machine<unknown>
  return {
    initial: Window.initial(machine.initial),
    update: (s, sample) => Window.update(config, machine.update, s as Window.State<S>, sample),
    limit: (s) => machine.limit((s as Window.State<S>).inner)
  }
}

const bare = (algorithm: Algorithm): Machine<unknown> => {
  switch (algorithm._tag) {
    case "Aimd": {
      const config = algorithm.config
      return {
        initial: Aimd.initial(config),
        update: (s, sample) => Aimd.update(config, s as Aimd.State, sample),
        limit: (s) => Aimd.limit(s as Aimd.State)
      }
    }
    case "Gradient2": {
      const config = algorithm.config
      return {
        initial: Gradient2.initial(config),
        update: (s, sample) => Gradient2.update(config, s as Gradient2.State, sample),
        limit: (s) => Gradient2.limit(s as Gradient2.State)
      }
    }
  }
}

export interface Config {
  readonly name: string
  readonly algorithm: Algorithm
  readonly isDropped: (error: unknown) => boolean
}

export interface State {
  readonly algorithm: unknown
  /** The limit applied: a call is admitted while `inFlight < limit`. */
  readonly limit: number
  readonly inFlight: number
  readonly rejected: number
}

export interface Stats {
  readonly limit: number
  readonly inFlight: number
  readonly rejected: number
}

export const stats = (s: State): Stats => ({ limit: s.limit, inFlight: s.inFlight, rejected: s.rejected })

/**
 * Monotonic time in fractional milliseconds: it measures elapsed time
 * whatever the wall clock does, and costs a fraction of the wall-clock
 * nanoseconds (no re-anchoring). As a double it keeps sub-microsecond
 * precision for 100 days of uptime, and costs no BigInt arithmetic.
 */
const nowMillis = (clock: Clock.Clock): number => Number(clock.monotonicTimeNanosUnsafe()) / 1e6

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<Stats>
  readonly state: Ref.Ref<State>
}

/**
 * Builds the executor. `reject` builds a rejection (error and event) and
 * `changed` reports a new limit; both are given by the public module, which
 * owns the error and event types.
 */
export const make = <E>(
  config: Config,
  reject: (limit: number, inFlight: number) => Effect.Effect<never, E>,
  changed: (from: number, to: number) => Effect.Effect<void>
): Executor<E> => {
  const machine = machineOf(config.algorithm)
  const state = Ref.makeUnsafe<State>({
    algorithm: machine.initial,
    limit: machine.limit(machine.initial),
    inFlight: 0,
    rejected: 0
  })
  const isDropped = config.isDropped

  const settle = (exit: Exit.Exit<unknown, unknown>, clock: Clock.Clock, start: number, inFlight: number) => {
    const s = state.ref.current
    const outcome = answerOf(isDropped, exit)
    if (outcome === IGNORED) {
      state.ref.current = { algorithm: s.algorithm, limit: s.limit, inFlight: s.inFlight - 1, rejected: s.rejected }
      return undefined
    }
    const end = nowMillis(clock)
    const algorithm = machine.update(s.algorithm, { rttMillis: end - start, inFlight, dropped: outcome === REFUSED, atMillis: end })
    const limit = machine.limit(algorithm)
    state.ref.current = { algorithm, limit, inFlight: s.inFlight - 1, rejected: s.rejected }
    return limit === s.limit ? undefined : changed(s.limit, limit)
  }

  /**
   * Admission happens inside the `onExitPrimitive` it is released by: the
   * exit handler is registered before the slot is taken, so no interruption
   * can fall between the two, without the cost of an uninterruptible region.
   * A call interrupted before its admission ran, or rejected, has
   * `start < 0` and releases nothing.
   */
  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>): Effect.Effect<A, E1 | E, R> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      let start = -1
      let inFlight = 0
      return Effect.onExitPrimitive(
        Effect.suspend((): Effect.Effect<A, E1 | E, R> => {
          const s = state.ref.current
          if (s.inFlight >= s.limit) {
            state.ref.current = { algorithm: s.algorithm, limit: s.limit, inFlight: s.inFlight, rejected: s.rejected + 1 }
            return reject(s.limit, s.inFlight)
          }
          inFlight = s.inFlight + 1
          state.ref.current = { algorithm: s.algorithm, limit: s.limit, inFlight, rejected: s.rejected }
          start = nowMillis(clock)
          return self
        }),
        // Not `interruptible`: an interruptible handler is skipped when the fiber is interrupted.
        (exit) => start < 0 ? undefined : settle(exit, clock, start, inFlight)
      )
    })

  return { execute, stats: Effect.sync(() => stats(state.ref.current)), state }
}

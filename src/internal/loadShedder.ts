/**
 * Load shedder machinery: a pure admission state machine over the in-flight
 * count, and the executor that keeps its state in one `Ref` (each admission
 * is one `Ref.modify`, each release one `Ref.update`), with the call run
 * uninterruptibly from its admission until its release is registered.
 */
import { Effect, Ref } from "effect"
import type { Priority } from "../Events.ts"

export interface Config {
  readonly name: string
  readonly maxInFlight: number
  /** Admission limits: a call of each priority is admitted while in-flight < limit. */
  readonly limits: Limits
}

export interface Limits {
  readonly sheddable: number
  readonly normal: number
  readonly critical: number
}

/** `fraction · maxInFlight`, rounded up, ignoring floating-point dust (0.7 · 10 is 7, not 8). */
export const limitOf = (fraction: number, maxInFlight: number): number =>
  Math.ceil(Math.round(fraction * maxInFlight * 1e9) / 1e9)

export interface State {
  readonly inFlight: number
  readonly shed: Readonly<Record<Priority, number>>
}

export const initial: State = { inFlight: 0, shed: { critical: 0, normal: 0, sheddable: 0 } }

/** A call of `priority` arrives: admitted (in-flight + 1) or shed (counted). */
export const admit = (s: State, limits: Limits, priority: Priority): readonly [boolean, State] =>
  s.inFlight < limits[priority]
    ? [true, { inFlight: s.inFlight + 1, shed: s.shed }]
    : [false, { inFlight: s.inFlight, shed: { ...s.shed, [priority]: s.shed[priority] + 1 } }]

/** An admitted call ended. */
export const release = (s: State): State => ({ inFlight: s.inFlight - 1, shed: s.shed })

/** Overloaded: sheddable work is being shed. */
export const overloaded = (s: State, limits: Limits): boolean => s.inFlight >= limits.sheddable

export interface Stats {
  readonly inFlight: number
  readonly maxInFlight: number
  readonly limits: Limits
  readonly shed: Readonly<Record<Priority, number>>
  readonly overloaded: boolean
}

export const stats = (s: State, c: Config): Stats => ({
  inFlight: s.inFlight,
  maxInFlight: c.maxInFlight,
  limits: c.limits,
  shed: s.shed,
  overloaded: overloaded(s, c.limits)
})

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>, priority: Priority) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<Stats>
  readonly overloaded: Effect.Effect<boolean>
}

/** `shed` builds the rejection (error and event); the public module owns the error type. */
export const make = <E>(config: Config, shed: (priority: Priority) => Effect.Effect<never, E>): Executor<E> => {
  const state = Ref.makeUnsafe(initial)
  const limits = config.limits
  const rejections: Record<Priority, Effect.Effect<never, E>> = {
    critical: shed("critical"),
    normal: shed("normal"),
    sheddable: shed("sheddable")
  }
  // One admission effect per priority, built once: a call reuses it rather
  // than building a `Ref.modify` of its own.
  const admissions: Record<Priority, Effect.Effect<boolean>> = {
    critical: Ref.modify(state, (s) => admit(s, limits, "critical")),
    normal: Ref.modify(state, (s) => admit(s, limits, "normal")),
    sheddable: Ref.modify(state, (s) => admit(s, limits, "sheddable"))
  }
  const released = Ref.update(state, release)
  const onExit = () => released
  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>, priority: Priority): Effect.Effect<A, E1 | E, R> =>
    // Uninterruptible from the admission until the release is registered, so
    // an admitted call is always released.
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        admissions[priority],
        (admitted): Effect.Effect<A, E1 | E, R> =>
          admitted ? Effect.onExitPrimitive(restore(self), onExit, true) : rejections[priority]
      )
    )
  return {
    execute,
    stats: Effect.map(Ref.get(state), (s) => stats(s, config)),
    overloaded: Effect.map(Ref.get(state), (s) => overloaded(s, limits))
  }
}

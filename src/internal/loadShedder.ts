/**
 * Load shedder machinery: a pure admission state machine over the in-flight
 * count, and the executor that steps it, with the call run uninterruptibly
 * from its admission until its release is registered.
 *
 * Why the state is not in a `Ref`: a release happens in the call's exit
 * hook, where a synchronous step costs nothing and an effect
 * (`Ref.update`) costs the hook three more steps; `Ref` has no public
 * synchronous write. So the executor keeps the machine's state in one
 * closure-owned {@link Gate}, as the bulkhead keeps its `Line`, and every
 * decision is the pure {@link admit}/{@link release} step over it.
 */
import { Effect } from "effect"
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

/** The executor's state, written only by the executor's steps (see the module note). */
class Gate {
  state: State = initial
}

/** `shed` builds the rejection (error and event); the public module owns the error type. */
export const make = <E>(config: Config, shed: (priority: Priority) => Effect.Effect<never, E>): Executor<E> => {
  const gate = new Gate()
  const limits = config.limits
  const rejections: Record<Priority, Effect.Effect<never, E>> = {
    critical: shed("critical"),
    normal: shed("normal"),
    sheddable: shed("sheddable")
  }
  const onExit = (): undefined => {
    gate.state = release(gate.state)
    return undefined
  }
  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>, priority: Priority): Effect.Effect<A, E1 | E, R> =>
    // Uninterruptible from the admission until the release is registered, so
    // an admitted call is always released.
    Effect.uninterruptibleMask((restore): Effect.Effect<A, E1 | E, R> => {
      const [admitted, next] = admit(gate.state, limits, priority)
      gate.state = next
      return admitted ? Effect.onExitPrimitive(restore(self), onExit, true) : rejections[priority]
    })
  return {
    execute,
    stats: Effect.sync(() => stats(gate.state, config)),
    overloaded: Effect.sync(() => overloaded(gate.state, limits))
  }
}

/**
 * The circuit breaker's decision logic as a state machine with no effects:
 * every function takes the state, the event and the time, and returns the
 * next state (and, for an admission, the decision). The shell
 * (`circuitBreaker.ts`) has a store keep the state, reads the clock, runs the
 * call and reports transitions; tests drive these functions directly.
 *
 * States: `Closed` (calls run, the trip policy judges them), `Open` (calls are
 * rejected until `openUntil`), `HalfOpen` (at most `halfOpenMaxCalls` probes
 * run; `successThreshold` successes in a row close the circuit, any failure
 * reopens it), `ForcedOpen` (every call rejected until `reset`) and
 * `Disabled` (every call runs and is recorded, nothing trips).
 *
 * Generations fence late outcomes: every transition bumps `generation`, and
 * an outcome only counts if the call was admitted in the current generation.
 * A call admitted while Closed that completes after the circuit opened
 * changes nothing; a probe that completes after an admin reset frees no slot
 * of the new state.
 *
 * States are immutable (a fresh circuit's first state can be shared by every
 * circuit of a breaker). The call window (see `circuitBreakerWindow.ts`) is
 * kept beside the state, by whoever keeps the state (a store's cell), and is
 * updated in place by {@link complete}; it belongs to one generation, so the
 * keeper starts it afresh whenever the generation changes ({@link carry}).
 */
import { CountWindow, Tally, TimeWindow, type Window } from "./circuitBreakerWindow.ts"

export type Tag = "Closed" | "Open" | "HalfOpen" | "ForcedOpen" | "Disabled"

/** Trip policies with durations in milliseconds. */
export type Trip =
  | { readonly _tag: "Consecutive"; readonly failures: number }
  | { readonly _tag: "CountWindow"; readonly size: number; readonly failureRate: number; readonly minimumCalls: number }
  | {
    readonly _tag: "TimeWindow"
    readonly windowMillis: number
    readonly buckets: number
    readonly failureRate: number
    readonly minimumCalls: number
  }

export interface Config {
  readonly trip: Trip
  readonly halfOpenMaxCalls: number
  readonly successThreshold: number
  /** Calls slower than this are slow; `Infinity` turns slow-call detection off. */
  readonly slowCallMillis: number
  readonly slowCallRate: number
}

export interface State {
  readonly _tag: Tag
  /** When the current state began (ms). */
  readonly since: number
  /** Bumped on every transition; fences outcomes of calls admitted earlier. */
  readonly generation: number
  /** Consecutive openings since the circuit last closed. */
  readonly openings: number
  /** Open: probes may start at this time; `Infinity` while the opening's length is {@link pending}. */
  readonly openUntil: number
  /** Open: the length of this opening; `NaN` while {@link pending}. */
  readonly openMillis: number
  /** HalfOpen: probes running. */
  readonly probes: number
  /** HalfOpen: probe successes in a row. */
  readonly successes: number
  /** Consecutive failures recorded (Closed, Disabled). */
  readonly streak: number
}

/** Admission decisions. */
export const RUN = 0
export const PROBE = 1
export const REJECT = 2
export type Admission = typeof RUN | typeof PROBE | typeof REJECT

/** Call outcomes. */
export const SUCCESS = 0
export const FAILURE = 1
export const IGNORED = 2
export type Outcome = typeof SUCCESS | typeof FAILURE | typeof IGNORED

export const makeWindow = (trip: Trip): Window => {
  switch (trip._tag) {
    case "Consecutive":
      return new Tally()
    case "CountWindow":
      return new CountWindow(trip.size)
    case "TimeWindow":
      return new TimeWindow(trip.windowMillis / trip.buckets, trip.buckets)
  }
}

/**
 * Whether two trip policies judge windows of the same shape (kind, size,
 * span), so that a window kept across a reconfiguration (`Policy.reconfigure`)
 * still holds what the new one would.
 */
export const sameWindow = (a: Trip, b: Trip): boolean => {
  switch (a._tag) {
    case "Consecutive":
      return b._tag === "Consecutive"
    case "CountWindow":
      return b._tag === "CountWindow" && a.size === b.size
    case "TimeWindow":
      return b._tag === "TimeWindow" && a.windowMillis === b.windowMillis && a.buckets === b.buckets
  }
}

/** A fresh Closed state at `generation`. */
const closed = (now: number, generation: number): State => ({
  _tag: "Closed",
  since: now,
  generation,
  openings: 0,
  openUntil: 0,
  openMillis: 0,
  probes: 0,
  successes: 0,
  streak: 0
})

/** The first state of a circuit: immutable, so one can serve every circuit made at `now`. */
export const initial = (_config: Config, now: number): State => closed(now, 0)

/**
 * Keeps `window` with the state after a step from `before` to `after`: a
 * window holds the calls of one generation, so a transition (every one bumps
 * the generation) starts it afresh. Returns `after`.
 */
export const carry = (window: Window, before: State, after: State): State => {
  if (after.generation !== before.generation) window.clear()
  return after
}

/**
 * Admits or rejects a call. `Closed` and `Disabled` admit every call without
 * changing the state or reading `now` (the shell skips this function and the
 * clock for them); `Open` past its time moves to `HalfOpen` and admits the
 * call as the first probe.
 */
export const admit = (config: Config, self: State, now: number): readonly [State, Admission] => {
  switch (self._tag) {
    case "Closed":
    case "Disabled":
      return [self, RUN]
    case "Open":
      if (now < self.openUntil) return [self, REJECT]
      return [{ ...self, _tag: "HalfOpen", since: now, generation: self.generation + 1, probes: 1, successes: 0 }, PROBE]
    case "HalfOpen":
      if (self.probes >= config.halfOpenMaxCalls) return [self, REJECT]
      return [{ ...self, probes: self.probes + 1 }, PROBE]
    case "ForcedOpen":
      return [self, REJECT]
  }
}

/** Whether {@link admit} would reject now: a read-only check, for a rejection path that changes nothing. */
export const rejects = (config: Config, self: State, now: number): boolean => {
  switch (self._tag) {
    case "Open":
      return now < self.openUntil
    case "HalfOpen":
      return self.probes >= config.halfOpenMaxCalls
    case "ForcedOpen":
      return true
    default:
      return false
  }
}

/** How long a rejected caller should wait, in ms: the rest of the opening, 0 when unknown (or {@link pending}). */
export const retryAfterMillis = (self: State, now: number): number =>
  self._tag === "Open" && self.openUntil !== Infinity ? Math.max(0, self.openUntil - now) : 0

/** Whether the window's failure rate (or slow-call rate) trips the circuit. */
export const judge = (config: Config, window: Window): boolean => {
  const trip = config.trip
  if (trip._tag === "Consecutive") return false
  const calls = window.calls
  if (calls < trip.minimumCalls) return false
  return window.failures / calls >= trip.failureRate ||
    (config.slowCallMillis !== Infinity && window.slow / calls >= config.slowCallRate)
}

/** A source of the current time, read only when a step needs it (Effect's `Clock` is one). */
export interface Time {
  currentTimeMillisUnsafe(): number
}

/** A time already read. */
export class FixedTime implements Time {
  constructor(readonly millis: number) {}
  currentTimeMillisUnsafe(): number {
    return this.millis
  }
}

/**
 * Records the outcome of a call admitted in `generation` in `window` (the
 * calls of `self`'s generation, updated in place). The time is read
 * from `time` only when it matters: a time window records the call, or the
 * state changes. A Closed success under `consecutive` or `countWindow` that
 * trips nothing never reads it.
 */
export const complete = (
  config: Config,
  self: State,
  window: Window,
  generation: number,
  outcome: Outcome,
  slow: boolean,
  time: Time
): State => {
  if (generation !== self.generation || outcome === IGNORED && self._tag !== "HalfOpen") return self
  const failed = outcome === FAILURE
  switch (self._tag) {
    case "Closed": {
      const trip = config.trip
      const now = trip._tag === "TimeWindow" ? time.currentTimeMillisUnsafe() : NaN
      window.record(now, failed, slow)
      const streak = failed ? self.streak + 1 : 0
      if (trip._tag === "Consecutive" ? streak >= trip.failures : judge(config, window)) {
        return open(config, self, now === now ? now : time.currentTimeMillisUnsafe())
      }
      return streak === self.streak ? self : { ...self, streak }
    }
    case "Disabled": {
      window.record(config.trip._tag === "TimeWindow" ? time.currentTimeMillisUnsafe() : NaN, failed, slow)
      const streak = failed ? self.streak + 1 : 0
      return streak === self.streak ? self : { ...self, streak }
    }
    case "HalfOpen": {
      if (outcome === IGNORED) return { ...self, probes: self.probes - 1 }
      const now = time.currentTimeMillisUnsafe()
      window.record(now, failed, slow)
      // A slow probe says the dependency is still unhealthy.
      if (failed || slow) return open(config, self, now)
      const successes = self.successes + 1
      if (successes >= config.successThreshold) return close(config, self, now)
      return { ...self, probes: self.probes - 1, successes }
    }
    case "Open":
    case "ForcedOpen":
      return self
  }
}

/**
 * Opens the circuit: the next consecutive opening. Its length comes from the
 * reset schedule, replayed by the shell for `openings` (an effect): until it
 * is handed in with {@link opened} the opening is pending, and rejects every
 * call.
 */
export const open = (_config: Config, self: State, now: number): State => ({
  ...self,
  _tag: "Open",
  since: now,
  generation: self.generation + 1,
  openings: self.openings + 1,
  openUntil: Infinity,
  openMillis: NaN,
  probes: 0,
  successes: 0,
  streak: 0
})

/** Closes the circuit: the reset schedule starts over. */
export const close = (_config: Config, self: State, now: number): State => closed(now, self.generation + 1)

/** Whether `self` is an opening whose length has not been handed in yet. */
export const pending = (self: State): boolean => self._tag === "Open" && self.openUntil === Infinity

/**
 * Hands in the length of the opening of `generation` (the reset schedule's
 * delay for its number of openings). A length for a state that has moved on
 * is dropped.
 */
export const opened = (self: State, generation: number, millis: number): State =>
  pending(self) && self.generation === generation ? { ...self, openUntil: self.since + millis, openMillis: millis } : self

/** Admin: reject every call until `reset` (or `disable`). */
export const forceOpen = (_config: Config, self: State, now: number): State => {
  if (self._tag === "ForcedOpen") return self
  return { ...self, _tag: "ForcedOpen", since: now, generation: self.generation + 1, probes: 0, successes: 0, streak: 0 }
}

/** Admin: let every call through and record it, never trip, until `reset` (or `forceOpen`). */
export const disable = (_config: Config, self: State, now: number): State => {
  if (self._tag === "Disabled") return self
  return { ...self, _tag: "Disabled", since: now, generation: self.generation + 1, probes: 0, successes: 0, streak: 0 }
}

/** Admin: back to a fresh `Closed` state, whatever the current one. */
export const reset = (config: Config, self: State, now: number): State => close(config, self, now)

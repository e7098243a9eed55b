/**
 * The circuit breaker's shell: option resolution, the `execute` wrapper, the
 * reset-timeout schedule, transitions (events and the `changes` PubSub) and
 * the keyed registry. Every decision is taken by `circuitBreakerMachine.ts`.
 *
 * The Closed-state success path is one state read when the call starts and
 * one machine step when it ends, inside a single `onExitPrimitive` frame; it
 * reads the clock only when the time matters (a time window, slow calls, a
 * transition), builds no event and touches no PubSub.
 */
import { Clock, Duration, Effect, Exit, type Fiber, Option, PubSub, Schedule, Scope, Stream } from "effect"
import type * as Cause from "effect/Cause"
import { dual } from "effect/Function"
import type {
  CircuitBreaker,
  KeyedCircuitBreaker,
  CircuitBreakerOptions,
  State,
  Stats,
  Transition,
  TripPolicy
} from "../CircuitBreaker.ts"
import { CircuitBreakerStore } from "./circuitBreakerStore.ts"
import { CircuitOpenError } from "./errors.ts"
import { ResilienceEvent, ResilienceEvents } from "../Events.ts"
import type { InvalidConfigError } from "../Errors.ts"
import * as classify from "./classify.ts"
import { attached } from "./attached.ts"
import { ClockCache } from "./clockCache.ts"
import * as defaults from "./defaults.ts"
import { emit } from "./events.ts"
import * as instrument from "./instrument.ts"
import * as machine from "./circuitBreakerMachine.ts"
import * as store from "./circuitBreakerStore.ts"
import type { Cell } from "./circuitBreakerStore.ts"
import * as validate from "./validate.ts"

export const TypeId = "~effect-resilience/CircuitBreaker"
export const KeyedTypeId = "~effect-resilience/CircuitBreaker/Keyed"

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

export const consecutive = (source: string, failures: number, prefix = ""): TripPolicy => ({
  _tag: "Consecutive",
  failures: validate.positiveInt(source, `${prefix}failures`, failures)
})

export interface CountWindowOptions {
  readonly size?: number | undefined
  readonly failureRate?: number | undefined
  readonly minimumCalls?: number | undefined
}

export const countWindow = (source: string, options: CountWindowOptions, prefix = ""): TripPolicy => {
  validate.options(source, prefix.slice(0, -1) || "options", options, true, "an object", prefix)
  const size = validate.positiveInt(
    source,
    `${prefix}size`,
    options.size ?? defaults.circuitBreaker.countWindowSize,
    validate.limits.countWindowSize
  )
  const failureRate = validate.rate(source, `${prefix}failureRate`, options.failureRate ?? defaults.circuitBreaker.failureRate)
  const minimumCalls = validate.positiveInt(source, `${prefix}minimumCalls`, options.minimumCalls ?? size)
  if (minimumCalls > size) {
    throw validate.invalid(source, `${prefix}minimumCalls`, `an integer in [1, size] (size is ${size})`, minimumCalls)
  }
  return { _tag: "CountWindow", size, failureRate, minimumCalls }
}

export interface TimeWindowOptions {
  readonly window?: Duration.Input | undefined
  readonly buckets?: number | undefined
  readonly failureRate?: number | undefined
  readonly minimumCalls?: number | undefined
}

const timeWindowTrip = (source: string, options: TimeWindowOptions, prefix: string): machine.Trip & { readonly _tag: "TimeWindow" } => {
  validate.options(source, prefix.slice(0, -1) || "options", options, true, "an object", prefix)
  const windowMillis = validate.positiveDurationMillisOr(
    source, `${prefix}window`,
    options.window,
    defaults.circuitBreaker.timeWindowMillis
  )
  const buckets = validate.positiveInt(
    source,
    `${prefix}buckets`,
    options.buckets ?? defaults.circuitBreaker.timeWindowBuckets,
    validate.limits.timeWindowBuckets
  )
  if (windowMillis / buckets < 1) {
    throw validate.invalid(
      source,
      `${prefix}buckets`,
      `an integer in [1, ${Math.floor(windowMillis)}] (each bucket must span at least 1 ms of the ${windowMillis} ms window)`,
      buckets
    )
  }
  const failureRate = validate.rate(source, `${prefix}failureRate`, options.failureRate ?? defaults.circuitBreaker.failureRate)
  const minimumCalls = validate.positiveInt(
    source,
    `${prefix}minimumCalls`,
    options.minimumCalls ?? defaults.circuitBreaker.timeWindowMinimumCalls
  )
  return { _tag: "TimeWindow", windowMillis, buckets, failureRate, minimumCalls }
}

export const timeWindow = (source: string, options: TimeWindowOptions): TripPolicy => {
  const t = timeWindowTrip(source, options, "")
  return { _tag: "TimeWindow", window: Duration.millis(t.windowMillis), buckets: t.buckets, failureRate: t.failureRate, minimumCalls: t.minimumCalls }
}

const expectedPolicy = "a trip policy (CircuitBreaker.consecutive, countWindow or timeWindow)"

/** Re-validates trip policy data (built by the constructors, or by hand), naming fields `policy.x`. */
const tripOf = (source: string, policy: unknown): machine.Trip => {
  if (policy === null || typeof policy !== "object" || !("_tag" in policy)) {
    throw validate.invalid(source, "policy", expectedPolicy, policy)
  }
  const p = policy as TripPolicy
  switch (p._tag) {
    case "Consecutive":
      return consecutive(source, p.failures, "policy.") as machine.Trip
    case "CountWindow":
      return countWindow(source, p, "policy.") as machine.Trip
    case "TimeWindow":
      return timeWindowTrip(source, p, "policy.")
    default:
      throw validate.invalid(source, "policy", expectedPolicy, policy)
  }
}

export type ResetSchedule = Schedule.Schedule<unknown, number, never, never>

export interface Resolved {
  /** The constructor, for errors found when the reset schedule is first stepped. */
  readonly source: string
  readonly name: string
  readonly config: machine.Config
  /** What a typed failure (other than a rejection) counts as: `isFailure` if set, else the classifier. */
  readonly outcomeOf: (error: unknown) => machine.Outcome
  /** The reset timeout as a schedule, replayed for each opening (a duration is one). */
  readonly schedule: ResetSchedule
  /** Caps every delay of the schedule (`maxResetTimeout`); `Infinity` when unset. */
  readonly maxResetMillis: number
  /** Slow calls are detected: the start time is read when a call is admitted. */
  readonly timesCalls: boolean
}

const byOutcome = { transient: machine.FAILURE, permanent: machine.SUCCESS, ignored: machine.IGNORED } as const

/**
 * `isFailure` (an override kept from before classification) counts what it
 * accepts and ignores the rest; otherwise a transient failure counts as a
 * failure and a permanent one as a success: the dependency answered.
 */
const outcomeOf = (source: string, options: CircuitBreakerOptions): (error: unknown) => machine.Outcome => {
  if (options.isFailure !== undefined) {
    const isFailure = validate.predicate(source, "isFailure", options.isFailure)
    return (error) => isFailure(error) ? machine.FAILURE : machine.IGNORED
  }
  const classifier = classify.make(source, "classify", options.classify)
  return (error) => byOutcome[classifier(error)]
}

export const resolve = (source: string, options: CircuitBreakerOptions): Resolved => {
  validate.options(source, "options", options, true)
  const d = defaults.circuitBreaker
  const name = validate.nonEmptyName(source, "name", options.name ?? d.name)
  const trip = options.policy === undefined ? { _tag: "Consecutive" as const, failures: d.consecutiveFailures } : tripOf(source, options.policy)
  const halfOpenMaxCalls = validate.positiveInt(source, "halfOpenMaxCalls", options.halfOpenMaxCalls ?? d.halfOpenMaxCalls)
  const successThreshold = validate.positiveInt(source, "successThreshold", options.successThreshold ?? d.successThreshold)
  const classifyError = outcomeOf(source, options)
  let slowCallMillis = Infinity
  let slowCallRate = 1
  if (options.slowCall !== undefined) {
    const slowCall = options.slowCall
    if (slowCall === null || typeof slowCall !== "object") {
      throw validate.invalid(source, "slowCall", "an object { threshold, rate }", slowCall)
    }
    if (trip._tag === "Consecutive") {
      throw validate.invalid(
        source,
        "slowCall",
        "absent with a consecutive policy (slow-call rates need countWindow or timeWindow)",
        slowCall
      )
    }
    slowCallMillis = validate.positiveDurationMillis(source, "slowCall.threshold", slowCall.threshold)
    slowCallRate = validate.rate(source, "slowCall.rate", slowCall.rate)
  }
  const maxResetMillis = validate.positiveDurationMillisOr(source, "maxResetTimeout", options.maxResetTimeout, Infinity)
  const input = options.resetTimeout ?? d.resetTimeoutMillis
  let schedule: ResetSchedule
  if (Schedule.isSchedule(input)) {
    schedule = input as ResetSchedule
  } else {
    const base = validate.positiveDurationMillis(source, "resetTimeout", input as Duration.Input)
    if (maxResetMillis < base) {
      throw validate.invalid(source, "maxResetTimeout", `a duration >= resetTimeout (${base} ms)`, options.maxResetTimeout)
    }
    // A duration is a schedule too: constant, or doubling up to `maxResetTimeout` (the cap of every delay).
    schedule = maxResetMillis === Infinity ? Schedule.spaced(base) : Schedule.exponential(base, 2)
  }
  return {
    source,
    name,
    config: { trip, halfOpenMaxCalls, successThreshold, slowCallMillis, slowCallRate },
    outcomeOf: classifyError,
    schedule,
    maxResetMillis,
    timesCalls: slowCallMillis !== Infinity
  }
}

/**
 * Checks the reset schedule once, at construction: a first delay that is
 * infinite with no `maxResetTimeout` to cap it has no length to fall back
 * to, and is refused.
 */
export const checkSchedule = (resolved: Resolved): Effect.Effect<Resolved, InvalidConfigError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatMap(replay(resolved, 1, now), (millis) =>
      millis === undefined
        ? Effect.fail(validate.invalid(
          resolved.source,
          "resetTimeout",
          "a Schedule whose first delay is finite (or a maxResetTimeout to cap it)",
          Duration.infinity
        ))
        : Effect.succeed(resolved)))

// -----------------------------------------------------------------------------
// the reset schedule
// -----------------------------------------------------------------------------

/**
 * The length of the `openings`-th consecutive opening: the schedule replayed
 * from its start (as Effect's `effect/persistence` breaker does), against a
 * simulated clock that starts at `now`, so `upTo`/`during` measure time spent
 * open. Once the schedule ends (or fails) its last delay repeats; an
 * uncapped infinite delay counts as its end, never as 0 ms. Every delay is
 * capped at `maxResetTimeout`. `undefined` when not even the first delay is
 * finite.
 */
const replay = (resolved: Resolved, openings: number, now: number): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(resolved.schedule)
    const max = resolved.maxResetMillis
    let at = now
    let last: number | undefined
    for (let attempt = 1; attempt <= openings; attempt++) {
      const result = yield* Effect.exit(step(at, attempt))
      if (Exit.isFailure(result)) break
      const millis = Duration.toMillis(result.value[1])
      if (millis === Infinity && max === Infinity) break
      last = Math.min(max, millis > 0 ? millis : 0)
      at += last
    }
    return last
  })

// -----------------------------------------------------------------------------
// one circuit
// -----------------------------------------------------------------------------

export interface Hub {
  readonly pubsub: PubSub.PubSub<Transition>
}

/** What the circuits of one breaker share; their states live in the store's `table`. */
export interface Breaker {
  /** Read on every call, so that `reconfigure` swaps it in place. */
  resolved: Resolved
  readonly hub: Hub
  readonly table: store.Table
  readonly clocks: ClockCache
}

/** `name`, or `name/key` for a circuit of a keyed breaker (built when needed, not stored). */
const nameOf = (breaker: Breaker, cell: Cell): string =>
  cell.key === undefined ? breaker.resolved.name : `${breaker.resolved.name}/${cell.key}`

const nowOf = (breaker: Breaker, fiber: Fiber.Fiber<unknown, unknown>): number =>
  breaker.clocks.of(fiber).currentTimeMillisUnsafe()

const outcomeOfExit = (outcomeOf: (error: unknown) => machine.Outcome, exit: Exit.Exit<unknown, unknown>): machine.Outcome => {
  if (exit._tag === "Success") return machine.SUCCESS
  const reasons = exit.cause.reasons
  let fail: Cause.Fail<unknown> | undefined
  for (let i = 0; i < reasons.length; i++) {
    const reason = reasons[i]!
    if (reason._tag === "Die") return machine.FAILURE
    if (reason._tag === "Fail" && fail === undefined) fail = reason
  }
  // Interruption alone says nothing about the dependency.
  if (fail === undefined) return machine.IGNORED
  // Neither does a rejection by a policy inside the breaker (docs/circuit-breaker.md).
  if (isRejection(fail.error)) return machine.IGNORED
  return outcomeOf(fail.error)
}

/**
 * Errors of policies that reject a call before it reaches the dependency
 * (another breaker, a full bulkhead, a load shedder, a rate limit): matched
 * by tag, so that this module depends on none of them.
 */
const rejectionTags = new Set(["CircuitOpenError", "BulkheadRejectedError", "LoadShedError", "RateLimitedError", "AdaptiveLimitRejectedError", "ThrottledError"])

export const isRejection = (error: unknown): boolean =>
  typeof error === "object" && error !== null && rejectionTags.has((error as { readonly _tag?: unknown })._tag as string)

/**
 * Runs `self` through the circuit. Closed and Disabled calls take no slot, so
 * they need no interruption mask: an interrupted call records nothing.
 */
export const execute = <A, E, R>(
  breaker: Breaker,
  cell: Cell,
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | CircuitOpenError, R> => {
  // A Closed call that times nothing needs nothing of its own: the wrapped
  // call of a generation and clock is built once and run again while they
  // last, so a call reused by its caller allocates nothing on the Closed
  // success path.
  let generation = -1
  let clock: Clock.Clock | undefined
  let closed: Effect.Effect<A, E, R> | undefined
  return Effect.withFiber((fiber) => {
    const state = cell.state
    if (
      (state._tag === "Closed" || state._tag === "Disabled") && !breaker.resolved.timesCalls &&
      instrument.of(fiber) === undefined
    ) {
      const current = breaker.clocks.of(fiber)
      if (state.generation !== generation || current !== clock || closed === undefined) {
        generation = state.generation
        clock = current
        closed = Effect.onExitPrimitive(self, settle(breaker, cell, generation, 0, current), true)
      }
      return closed
    }
    return runTraced(breaker, cell, self, fiber)
  })
}

/** `run`, in a `resilience.circuit_breaker` span when telemetry is installed (read in the fiber `run` needs anyway). */
const runTraced = <A, E, R>(
  breaker: Breaker,
  cell: Cell,
  self: Effect.Effect<A, E, R>,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<A, E | CircuitOpenError, R> => {
  const instrumentation = instrument.of(fiber)
  if (instrumentation === undefined) return run(breaker, cell, self, fiber)
  const attributes: Record<string, unknown> = {
    "resilience.circuit_breaker.state": instrument.breakerStateLabel(cell.state._tag)
  }
  if (cell.key !== undefined) attributes["resilience.circuit_breaker.key"] = cell.key
  return instrumentation.span(
    Effect.withFiber((inner) => run(breaker, cell, self, inner)),
    "circuit_breaker",
    breaker.resolved.name,
    attributes
  )
}

const run = <A, E, R>(
  breaker: Breaker,
  cell: Cell,
  self: Effect.Effect<A, E, R>,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<A, E | CircuitOpenError, R> => {
  // The store's local view, read synchronously: no round trip on the Closed path.
  const state = cell.state
  if (state._tag !== "Closed" && state._tag !== "Disabled") {
    // A rejection takes no slot: it needs no mask and no store round trip.
    const now = nowOf(breaker, fiber)
    if (machine.rejects(breaker.resolved.config, state, now)) return reject(breaker, cell, state, now, fiber)
    return guarded(breaker, cell, self)
  }
  const start = breaker.resolved.timesCalls ? nowOf(breaker, fiber) : 0
  // The handler may run interruptibly: a success or failure is recorded
  // synchronously, and a transition's report masks itself.
  return Effect.onExitPrimitive(self, settle(breaker, cell, state.generation, start, breaker.clocks.of(fiber)), true)
}

/** Open, HalfOpen and ForcedOpen: admission may take a probe slot, so it is masked until the slot's release is registered. */
const guarded = <A, E, R>(breaker: Breaker, cell: Cell, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpenError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiber<A, E | CircuitOpenError, R>((fiber) => {
      const now = nowOf(breaker, fiber)
      const state = cell.state
      const admission = breaker.table.admit(cell, now)
      if (admission === machine.REJECT) return reject(breaker, cell, state, now, fiber)
      const next = cell.state
      const probe = next._tag === state._tag
        ? restore(self)
        : Effect.andThen(transitioned(breaker, cell, state, next, now), restore(self))
      return Effect.onExitPrimitive(probe, settle(breaker, cell, next.generation, now, breaker.clocks.of(fiber)))
    })
  )

const reject = (
  breaker: Breaker,
  cell: Cell,
  state: machine.State,
  now: number,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<never, CircuitOpenError> => {
  cell.rejected++
  const name = nameOf(breaker, cell)
  const retryAfter = Duration.millis(machine.retryAfterMillis(state, now))
  const rejectedIn = state._tag as "Open" | "HalfOpen" | "ForcedOpen"
  const error = new CircuitOpenError({ policy: name, retryAfter, state: rejectedIn, key: cell.key })
  // With no listener (the default) the event is not built at all.
  if (fiber.getRef(ResilienceEvents) === undefined) return Effect.fail(error)
  return Effect.andThen(
    emit((timestamp) => ResilienceEvent.BreakerRejected({ name, timestamp, state: rejectedIn, retryAfter })),
    Effect.fail(error)
  )
}

/**
 * The exit handler: classifies the outcome and has the store record it, by
 * `clock`, the admitting fiber's (the fiber that completes the call, in the
 * same context again once the call is done).
 */
const settle = (breaker: Breaker, cell: Cell, generation: number, start: number, clock: Clock.Clock) =>
(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined => {
  const resolved = breaker.resolved
  let outcome: machine.Outcome
  let thrown: Effect.Effect<void> | undefined
  try {
    outcome = outcomeOfExit(resolved.outcomeOf, exit)
  } catch (defect) {
    // A throwing `isFailure` or classifier counts the call as a failure and adds the defect to its cause.
    outcome = machine.FAILURE
    thrown = Effect.die(defect)
  }
  let slow = false
  // Read only if the step needs the time.
  let time: machine.Time = clock
  if (resolved.timesCalls && outcome !== machine.IGNORED) {
    const now = time.currentTimeMillisUnsafe()
    slow = now - start > resolved.config.slowCallMillis
    time = new machine.FixedTime(now)
  }
  const state = cell.state
  const next = breaker.table.record(cell, generation, outcome, slow, time)
  const transition = next._tag === state._tag
    ? undefined
    : machine.pending(next)
    ? opening(breaker, cell, state, next)
    : transitioned(breaker, cell, state, next, next.since)
  if (thrown === undefined) return transition
  return transition === undefined ? thrown : Effect.andThen(transition, thrown)
}

/** Reports a transition (event, `changes`) and refreshes the next opening's length from the schedule. */
const transitioned = (breaker: Breaker, cell: Cell, from: machine.State, to: machine.State, now: number): Effect.Effect<void> => {
  const name = nameOf(breaker, cell)
  const retryAfter = to._tag === "Open" ? Duration.millis(to.openMillis) : undefined
  const transition: Transition = { name, key: cell.key, from: from._tag, to: to._tag, timestamp: now, retryAfter }
  const report = Effect.andThen(
    emit((timestamp) => ResilienceEvent.BreakerTransition({ name, timestamp, from: from._tag, to: to._tag })),
    PubSub.publish(breaker.hub.pubsub, transition)
  )
  return Effect.uninterruptible(Effect.asVoid(report))
}

/**
 * The failure path that opened the circuit: replays the reset schedule for
 * this opening, hands its length to the store, then reports the transition.
 * Until the length lands the opening rejects every call (it is pending).
 */
const opening = (breaker: Breaker, cell: Cell, from: machine.State, to: machine.State): Effect.Effect<void> =>
  Effect.uninterruptible(Effect.flatMap(replay(breaker.resolved, to.openings, to.since), (millis) => {
    // Refused at construction when even the first delay is infinite, so a later one repeats the last finite one.
    const next = breaker.table.update(cell, (state) => machine.opened(state, to.generation, millis ?? 0))
    return transitioned(breaker, cell, from, next.generation === to.generation ? next : to, to.since)
  }))

/** Applies an admin change now and reports it. */
export const admin = (breaker: Breaker, cell: Cell, f: typeof machine.forceOpen): Effect.Effect<void> =>
  Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = clock.currentTimeMillisUnsafe()
      const state = cell.state
      const next = breaker.table.update(cell, (current) => f(breaker.resolved.config, current, now))
      return next === state || next._tag === state._tag ? Effect.void : transitioned(breaker, cell, state, next, now)
    })
  )

export const publicState = (state: machine.State, now: number): State => {
  switch (state._tag) {
    case "Open":
      return {
        _tag: "Open",
        since: state.since,
        retryAfter: Duration.millis(machine.retryAfterMillis(state, now)),
        openings: state.openings
      }
    case "HalfOpen":
      return {
        _tag: "HalfOpen",
        since: state.since,
        probes: state.probes,
        successes: state.successes,
        openings: state.openings
      }
    default:
      return { _tag: state._tag, since: state.since }
  }
}

export const stateOf = (cell: Cell): Effect.Effect<State> =>
  Effect.clockWith((clock) => Effect.sync(() => publicState(cell.state, clock.currentTimeMillisUnsafe())))

export const statsOf = (breaker: Breaker, cell: Cell): Effect.Effect<Stats> =>
  Effect.clockWith((clock) =>
    Effect.sync(() => {
      const now = clock.currentTimeMillisUnsafe()
      const state = cell.state
      const window = cell.window
      window.advance(now)
      const calls = window.calls
      return {
        name: nameOf(breaker, cell),
        state: publicState(state, now),
        calls,
        failures: window.failures,
        slowCalls: window.slow,
        failureRate: calls === 0 ? 0 : window.failures / calls,
        slowCallRate: calls === 0 ? 0 : window.slow / calls,
        consecutiveFailures: state.streak,
        rejected: cell.rejected
      }
    })
  )

// -----------------------------------------------------------------------------
// the public objects
// -----------------------------------------------------------------------------

/**
 * The `changes` hub. The breaker requires no `Scope`, but when it is made in
 * one (a `Policy`, a layer, `Effect.scoped`) closing that scope shuts the hub
 * down, which ends every `changes` stream instead of leaving readers waiting
 * forever. Transitions after that still emit events.
 */
export const makeHub = (): Effect.Effect<Hub> =>
  Effect.gen(function*() {
    const pubsub = yield* PubSub.sliding<Transition>(defaults.circuitBreaker.changesCapacity)
    const scope = yield* Effect.serviceOption(Scope.Scope)
    if (Option.isSome(scope)) yield* Scope.addFinalizer(scope.value, PubSub.shutdown(pubsub))
    return { pubsub }
  })

/** The shared parts behind each plain breaker, for `Policy.reconfigure`. */
export const breakers = attached<Breaker>("effect-resilience/CircuitBreaker/breaker")

export const facade = (breaker: Breaker, cell: Cell): CircuitBreaker => breakers.attach(makeFacade(breaker, cell), breaker)

/**
 * Puts new settings (resolved and schedule-checked, same name) in force: the
 * store keeps every circuit's state; the next opening replays the new reset
 * schedule. The caller has checked that the store has `reconfigure`.
 */
export const reconfigure = (breaker: Breaker, resolved: Resolved): void => {
  breaker.table.reconfigure!(resolved.config)
  breaker.resolved = resolved
}

const makeFacade = (breaker: Breaker, cell: Cell): CircuitBreaker => ({
  [TypeId]: TypeId,
  name: nameOf(breaker, cell),
  execute: <A, E, R>(self: Effect.Effect<A, E, R>) => execute(breaker, cell, self),
  state: stateOf(cell),
  stats: statsOf(breaker, cell),
  changes: Stream.fromPubSub(breaker.hub.pubsub),
  forceOpen: admin(breaker, cell, machine.forceOpen),
  disable: admin(breaker, cell, machine.disable),
  reset: admin(breaker, cell, machine.reset)
})

export const makeKeyed = (breaker: Breaker): KeyedCircuitBreaker => {
  const { hub, resolved, table } = breaker
  const executeKey = <A, E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<A, E | CircuitOpenError, R> =>
    Effect.withFiber((fiber) => runTraced(breaker, table.circuit(key, nowOf(breaker, fiber)), self, fiber))
  /** Runs `f` on the circuit of `key`, made if absent and marked used. */
  const withCircuit = <A>(key: string, f: (cell: Cell) => Effect.Effect<A>): Effect.Effect<A> =>
    Effect.withFiber((fiber) => f(table.circuit(key, nowOf(breaker, fiber))))
  const stateOfKey = (key: string): Effect.Effect<State> =>
    Effect.withFiber((fiber) => {
      const cell = table.find(key)
      const now = nowOf(breaker, fiber)
      return Effect.succeed(cell === undefined ? { _tag: "Closed", since: now } : publicState(cell.state, now))
    })
  const changes = Stream.fromPubSub(hub.pubsub)
  // A view of one key: every operation goes through the store, so a view
  // kept by the caller keeps its circuit alive and never acts on a dropped one.
  const get = (key: string): CircuitBreaker => ({
    [TypeId]: TypeId,
    name: `${resolved.name}/${key}`,
    execute: <A, E, R>(self: Effect.Effect<A, E, R>) => executeKey(self, key),
    state: stateOfKey(key),
    stats: withCircuit(key, (cell) => statsOf(breaker, cell)),
    changes: Stream.filter(changes, (transition) => transition.key === key),
    forceOpen: withCircuit(key, (cell) => admin(breaker, cell, machine.forceOpen)),
    disable: withCircuit(key, (cell) => admin(breaker, cell, machine.disable)),
    reset: withCircuit(key, (cell) => admin(breaker, cell, machine.reset))
  })
  return {
    [KeyedTypeId]: KeyedTypeId,
    name: resolved.name,
    execute: dual(2, executeKey),
    get: (key) => Effect.sync(() => get(key)),
    state: stateOfKey,
    keys: Effect.sync(() => table.keys()),
    changes,
    evictIdle: Effect.withFiber((fiber) => Effect.succeed(table.sweep(nowOf(breaker, fiber))))
  }
}

/** The store of the context, or a fresh memory store. */
export const tableFor = (options: store.TableOptions): Effect.Effect<store.Table> =>
  Effect.flatMap(
    Effect.serviceOption(CircuitBreakerStore),
    (service) => Option.isSome(service) ? service.value.table(options) : store.memory.table(options)
  )

/** Builds a breaker's shared parts (the reset schedule checked, the hub, the store's table). */
export const makeBreaker = (resolved: Resolved, idleMillis: number): Effect.Effect<Breaker, InvalidConfigError> =>
  Effect.gen(function*() {
    const complete = yield* checkSchedule(resolved)
    const hub = yield* makeHub()
    const now = yield* Clock.currentTimeMillis
    // A remote store reports the changes it merges in through the breaker, made just below.
    let breaker: Breaker | undefined
    const table = yield* tableFor({
      name: complete.name,
      config: complete.config,
      idleMillis,
      now,
      openMillis: (openings, since) => Effect.map(replay(complete, openings, since), (millis) => millis ?? 0),
      onChange: (cell, from, to) => breaker === undefined ? Effect.void : transitioned(breaker, cell, from, to, to.since)
    })
    breaker = { resolved: complete, hub, table, clocks: new ClockCache() }
    return breaker
  })

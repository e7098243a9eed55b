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
import { Clock, Duration, Effect, Exit, type Fiber, Option, PubSub, Ref, Schedule, Scope, Stream } from "effect"
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
import { CircuitOpenError } from "../CircuitBreaker.ts"
import { ResilienceEvent } from "../Events.ts"
import type { InvalidConfigError } from "../Errors.ts"
import * as classify from "./classify.ts"
import * as defaults from "./defaults.ts"
import { emit } from "./events.ts"
import * as instrument from "./instrument.ts"
import * as machine from "./circuitBreakerMachine.ts"
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
  const windowMillis = options.window === undefined
    ? defaults.circuitBreaker.timeWindowMillis
    : validate.positiveDurationMillis(source, `${prefix}window`, options.window)
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
  /** The reset timeout when it is a schedule (stepped per opening). */
  readonly schedule: ResetSchedule | undefined
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
  const maxResetMillis = options.maxResetTimeout === undefined
    ? Infinity
    : validate.positiveDurationMillis(source, "maxResetTimeout", options.maxResetTimeout)
  const input = options.resetTimeout ?? d.resetTimeoutMillis
  let schedule: ResetSchedule | undefined
  let resetMillis: ((openings: number) => number) | undefined
  let firstOpenMillis = 0
  if (Schedule.isSchedule(input)) {
    schedule = input as ResetSchedule
  } else {
    const base = validate.positiveDurationMillis(source, "resetTimeout", input as Duration.Input)
    if (maxResetMillis < base) {
      throw validate.invalid(source, "maxResetTimeout", `a duration >= resetTimeout (${base} ms)`, options.maxResetTimeout)
    }
    firstOpenMillis = base
    resetMillis = maxResetMillis === Infinity
      ? () => base
      : (openings) => Math.min(maxResetMillis, base * Math.pow(2, openings - 1))
  }
  return {
    source,
    name,
    config: { trip, halfOpenMaxCalls, successThreshold, slowCallMillis, slowCallRate, firstOpenMillis, resetMillis },
    outcomeOf: classifyError,
    schedule,
    maxResetMillis,
    timesCalls: slowCallMillis !== Infinity
  }
}

/**
 * Steps a schedule to the length of its first opening (the fallback of every
 * fresh epoch). A first delay that is infinite with no `maxResetTimeout` to
 * cap it has no length to fall back to: it is refused.
 */
export const withFirstOpen = (resolved: Resolved): Effect.Effect<Resolved, InvalidConfigError> => {
  const schedule = resolved.schedule
  if (schedule === undefined) return Effect.succeed(resolved)
  return Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.flatMap(stepTo(schedule, resolved.maxResetMillis, now, 1), (stepper) =>
      stepper.infinite && stepper.taken === 0
        ? Effect.fail(validate.invalid(
          resolved.source,
          "resetTimeout",
          "a Schedule whose first delay is finite (or a maxResetTimeout to cap it)",
          Duration.infinity
        ))
        : Effect.succeed({ ...resolved, config: { ...resolved.config, firstOpenMillis: stepper.last } })))
}

// -----------------------------------------------------------------------------
// the reset-timeout schedule
// -----------------------------------------------------------------------------

interface Stepper {
  readonly epoch: number
  readonly step: (now: number, input: number) => Effect.Effect<[unknown, Duration.Duration], unknown>
  /** Simulated time: the schedule sees the time spent open, not wall time. */
  at: number
  taken: number
  last: number
  done: boolean
  /** The schedule yielded an infinite delay with no `maxResetTimeout` to cap it. */
  infinite: boolean
}

const stepTo = (
  schedule: ResetSchedule,
  maxMillis: number,
  now: number,
  target: number,
  epoch = -1,
  current?: Stepper
): Effect.Effect<Stepper> =>
  Effect.gen(function*() {
    const stepper: Stepper = current ?? {
      epoch,
      step: (yield* Schedule.toStep(schedule)) as Stepper["step"],
      at: now,
      taken: 0,
      last: 0,
      done: false,
      infinite: false
    }
    while (stepper.taken < target && !stepper.done) {
      const result = yield* Effect.exit(stepper.step(stepper.at, stepper.taken + 1))
      if (Exit.isFailure(result)) {
        // The schedule ended (or failed): its last delay repeats.
        stepper.done = true
        break
      }
      const millis = Duration.toMillis(result.value[1])
      if (millis === Infinity && maxMillis === Infinity) {
        // Uncapped infinity: treated as the schedule's end (its last finite delay repeats),
        // never as 0 ms, which would admit a probe at once.
        stepper.done = true
        stepper.infinite = true
        break
      }
      stepper.last = Math.min(maxMillis, millis > 0 ? millis : 0)
      stepper.at += stepper.last
      stepper.taken++
    }
    return stepper
  })

// -----------------------------------------------------------------------------
// one circuit
// -----------------------------------------------------------------------------

export interface Hub {
  readonly pubsub: PubSub.PubSub<Transition>
}

export class Circuit {
  readonly ref: Ref.Ref<machine.State>
  rejected = 0
  lastUsed: number
  stepper: Stepper | undefined = undefined
  constructor(
    readonly resolved: Resolved,
    readonly key: string | undefined,
    readonly hub: Hub,
    now: number
  ) {
    this.ref = Ref.makeUnsafe(machine.initial(resolved.config, now))
    this.lastUsed = now
  }
  /** `name`, or `name/key` for a circuit of a keyed breaker (built when needed, not stored). */
  get name(): string {
    return this.key === undefined ? this.resolved.name : `${this.resolved.name}/${this.key}`
  }
  get state(): machine.State {
    return this.ref.ref.current
  }
  set state(next: machine.State) {
    this.ref.ref.current = next
  }
}

const nowOf = (fiber: Fiber.Fiber<unknown, unknown>): number => fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()

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
export const execute = <A, E, R>(circuit: Circuit, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpenError, R> =>
  Effect.withFiber((fiber) => runTraced(circuit, self, fiber))

/** `run`, in a `resilience.circuit_breaker` span when telemetry is installed (read in the fiber `run` needs anyway). */
const runTraced = <A, E, R>(
  circuit: Circuit,
  self: Effect.Effect<A, E, R>,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<A, E | CircuitOpenError, R> => {
  const instrumentation = instrument.of(fiber)
  if (instrumentation === undefined) return run(circuit, self, fiber)
  const attributes: Record<string, unknown> = {
    "resilience.circuit_breaker.state": instrument.breakerStateLabel(circuit.state._tag)
  }
  if (circuit.key !== undefined) attributes["resilience.circuit_breaker.key"] = circuit.key
  return instrumentation.span(
    Effect.withFiber((inner) => run(circuit, self, inner)),
    "circuit_breaker",
    circuit.resolved.name,
    attributes
  )
}

const run = <A, E, R>(
  circuit: Circuit,
  self: Effect.Effect<A, E, R>,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<A, E | CircuitOpenError, R> => {
  const state = circuit.state
  if (state._tag !== "Closed" && state._tag !== "Disabled") return guarded(circuit, self)
  const start = circuit.resolved.timesCalls ? nowOf(fiber) : 0
  // The handler may run interruptibly: a success or failure is recorded
  // synchronously, and a transition's report masks itself.
  return Effect.onExitPrimitive(self, settle(circuit, state.generation, start, fiber), true)
}

/** Open, HalfOpen and ForcedOpen: admission may take a probe slot, so it is masked until the slot's release is registered. */
const guarded = <A, E, R>(circuit: Circuit, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | CircuitOpenError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.withFiber<A, E | CircuitOpenError, R>((fiber) => {
      const now = nowOf(fiber)
      const state = circuit.state
      const [next, admission] = machine.admit(circuit.resolved.config, state, now)
      if (admission === machine.REJECT) return reject(circuit, state, now)
      circuit.state = next
      const probe = next._tag === state._tag ? restore(self) : Effect.andThen(transitioned(circuit, state, next, now), restore(self))
      return Effect.onExitPrimitive(probe, settle(circuit, next.generation, now, fiber))
    })
  )

const reject = (circuit: Circuit, state: machine.State, now: number): Effect.Effect<never, CircuitOpenError> => {
  circuit.rejected++
  const retryAfter = Duration.millis(machine.retryAfterMillis(state, now))
  const rejectedIn = state._tag as "Open" | "HalfOpen" | "ForcedOpen"
  const error = new CircuitOpenError({ policy: circuit.name, retryAfter, state: rejectedIn, key: circuit.key })
  return Effect.andThen(
    emit((timestamp) => ResilienceEvent.BreakerRejected({ name: circuit.name, timestamp, state: rejectedIn, retryAfter })),
    Effect.fail(error)
  )
}

/**
 * The machine's time source when the shell has not read the clock: the
 * completing fiber's `Clock`, looked up only if the step needs the time
 * (machine steps are synchronous, so one instance serves every call).
 */
class FiberTime implements machine.Time {
  fiber: Fiber.Fiber<unknown, unknown> | undefined = undefined
  currentTimeMillisUnsafe(): number {
    return nowOf(this.fiber!)
  }
}
const fiberTime = new FiberTime()

/** The exit handler: classifies the outcome and steps the machine. */
const settle = (circuit: Circuit, generation: number, start: number, fiber: Fiber.Fiber<unknown, unknown>) =>
(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> | undefined => {
  const resolved = circuit.resolved
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
  let time: machine.Time = fiberTime
  if (resolved.timesCalls && outcome !== machine.IGNORED) {
    const now = nowOf(fiber)
    slow = now - start > resolved.config.slowCallMillis
    time = new machine.FixedTime(now)
  }
  const state = circuit.state
  fiberTime.fiber = fiber
  let next: machine.State
  try {
    next = machine.complete(resolved.config, state, generation, outcome, slow, time)
  } finally {
    fiberTime.fiber = undefined
  }
  let transition: Effect.Effect<void> | undefined
  if (next !== state) {
    circuit.state = next
    if (next._tag !== state._tag) transition = transitioned(circuit, state, next, next.since)
  }
  if (thrown === undefined) return transition
  return transition === undefined ? thrown : Effect.andThen(transition, thrown)
}

/** Reports a transition (event, `changes`) and refreshes the next opening's length from the schedule. */
const transitioned = (circuit: Circuit, from: machine.State, to: machine.State, now: number): Effect.Effect<void> => {
  const name = circuit.name
  const retryAfter = to._tag === "Open" ? Duration.millis(to.openMillis) : undefined
  const transition: Transition = { name, key: circuit.key, from: from._tag, to: to._tag, timestamp: now, retryAfter }
  const report = Effect.andThen(
    emit((timestamp) => ResilienceEvent.BreakerTransition({ name, timestamp, from: from._tag, to: to._tag })),
    PubSub.publish(circuit.hub.pubsub, transition)
  )
  const schedule = circuit.resolved.schedule
  if (schedule === undefined || (to._tag !== "Open" && to.epoch === from.epoch)) return Effect.uninterruptible(Effect.asVoid(report))
  return Effect.uninterruptible(Effect.andThen(report, refreshNextOpen(circuit, schedule, to.epoch, to.openings, now)))
}

const refreshNextOpen = (
  circuit: Circuit,
  schedule: ResetSchedule,
  epoch: number,
  openings: number,
  now: number
): Effect.Effect<void> => {
  const current = circuit.stepper?.epoch === epoch ? circuit.stepper : undefined
  return Effect.map(stepTo(schedule, circuit.resolved.maxResetMillis, now, openings + 1, epoch, current), (stepper) => {
    circuit.stepper = stepper
    circuit.state = machine.withNextOpen(circuit.state, epoch, openings, stepper.last)
  })
}

/** Applies an admin change now and reports it. */
export const admin = (circuit: Circuit, f: typeof machine.forceOpen): Effect.Effect<void> =>
  Effect.clockWith((clock) =>
    Effect.suspend(() => {
      const now = clock.currentTimeMillisUnsafe()
      const state = circuit.state
      const next = f(circuit.resolved.config, state, now)
      if (next === state) return Effect.void
      circuit.state = next
      return next._tag === state._tag ? Effect.void : transitioned(circuit, state, next, now)
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

export const stateOf = (circuit: Circuit): Effect.Effect<State> =>
  Effect.clockWith((clock) => Effect.sync(() => publicState(circuit.state, clock.currentTimeMillisUnsafe())))

export const statsOf = (circuit: Circuit): Effect.Effect<Stats> =>
  Effect.clockWith((clock) =>
    Effect.sync(() => {
      const now = clock.currentTimeMillisUnsafe()
      const state = circuit.state
      const window = state.window
      window.advance(now)
      const calls = window.calls
      return {
        name: circuit.name,
        state: publicState(state, now),
        calls,
        failures: window.failures,
        slowCalls: window.slow,
        failureRate: calls === 0 ? 0 : window.failures / calls,
        slowCallRate: calls === 0 ? 0 : window.slow / calls,
        consecutiveFailures: state.streak,
        rejected: circuit.rejected
      }
    })
  )

// -----------------------------------------------------------------------------
// the public object of one circuit
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

export const facade = (circuit: Circuit): CircuitBreaker => ({
  [TypeId]: TypeId,
  name: circuit.name,
  execute: <A, E, R>(self: Effect.Effect<A, E, R>) => execute(circuit, self),
  state: stateOf(circuit),
  stats: statsOf(circuit),
  changes: Stream.fromPubSub(circuit.hub.pubsub),
  forceOpen: admin(circuit, machine.forceOpen),
  disable: admin(circuit, machine.disable),
  reset: admin(circuit, machine.reset)
})

// -----------------------------------------------------------------------------
// keyed circuits
// -----------------------------------------------------------------------------

export class Registry {
  readonly circuits = new Map<string, Circuit>()
  lastSweep: number
  readonly sweepEvery: number
  constructor(
    readonly resolved: Resolved,
    readonly hub: Hub,
    readonly idleMillis: number,
    now: number
  ) {
    this.lastSweep = now
    this.sweepEvery = idleMillis / 4
  }
  /** The circuit of `key`, made on first use; marks it used now. Sweeps idle circuits when one is due. */
  circuitFor(key: string, now: number): Circuit {
    if (now - this.lastSweep >= this.sweepEvery) this.sweep(now)
    let circuit = this.circuits.get(key)
    if (circuit === undefined) {
      circuit = new Circuit(this.resolved, key, this.hub, now)
      this.circuits.set(key, circuit)
    }
    circuit.lastUsed = now
    return circuit
  }
  /**
   * Drops circuits idle for the TTL. A circuit running probes, forced open,
   * disabled, or open until less than a TTL ago is kept: dropping it would
   * let traffic through (or lose an admin decision) early.
   */
  sweep(now: number): number {
    this.lastSweep = now
    const limit = now - this.idleMillis
    let evicted = 0
    for (const [key, circuit] of this.circuits) {
      if (circuit.lastUsed > limit) continue
      const state = circuit.state
      const keep = state._tag === "ForcedOpen" || state._tag === "Disabled" ||
        (state._tag === "HalfOpen" && state.probes > 0) ||
        (state._tag === "Open" && state.openUntil > limit)
      if (keep) continue
      this.circuits.delete(key)
      evicted++
    }
    return evicted
  }
}


export const makeKeyed = (registry: Registry): KeyedCircuitBreaker => {
  const { hub, resolved } = registry
  const executeKey = <A, E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<A, E | CircuitOpenError, R> =>
    Effect.withFiber((fiber) => runTraced(registry.circuitFor(key, nowOf(fiber)), self, fiber))
  /** Runs `f` on the circuit of `key`, made if absent and marked used. */
  const withCircuit = <A>(key: string, f: (circuit: Circuit) => Effect.Effect<A>): Effect.Effect<A> =>
    Effect.withFiber((fiber) => f(registry.circuitFor(key, nowOf(fiber))))
  const stateOfKey = (key: string): Effect.Effect<State> =>
    Effect.withFiber((fiber) => {
      const circuit = registry.circuits.get(key)
      const now = nowOf(fiber)
      return Effect.succeed(circuit === undefined ? { _tag: "Closed", since: now } : publicState(circuit.state, now))
    })
  const changes = Stream.fromPubSub(hub.pubsub)
  // A view of one key: every operation goes through the registry, so a view
  // kept by the caller keeps its circuit alive and never acts on a dropped one.
  const get = (key: string): CircuitBreaker => ({
    [TypeId]: TypeId,
    name: `${resolved.name}/${key}`,
    execute: <A, E, R>(self: Effect.Effect<A, E, R>) => executeKey(self, key),
    state: stateOfKey(key),
    stats: withCircuit(key, statsOf),
    changes: Stream.filter(changes, (transition) => transition.key === key),
    forceOpen: withCircuit(key, (circuit) => admin(circuit, machine.forceOpen)),
    disable: withCircuit(key, (circuit) => admin(circuit, machine.disable)),
    reset: withCircuit(key, (circuit) => admin(circuit, machine.reset))
  })
  return {
    [KeyedTypeId]: KeyedTypeId,
    name: resolved.name,
    execute: dual(2, executeKey),
    get: (key) => Effect.sync(() => get(key)),
    state: stateOfKey,
    keys: Effect.sync(() => Array.from(registry.circuits.keys())),
    changes,
    evictIdle: Effect.withFiber((fiber) => Effect.succeed(registry.sweep(nowOf(fiber))))
  }
}

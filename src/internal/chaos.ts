/**
 * Chaos injection machinery: every injection is a wrapper
 * `(effect) => effect` gated by an `enabled` switch and an injection rate.
 * Draws come from the `Random` service and times from `Clock`, so
 * `Random.withSeed` and `TestClock` make a chaotic run reproducible.
 */
import { Clock, Context, Duration, Effect, Layer, Predicate, Random } from "effect"
import { guard, TaggedError } from "./errors.ts"
import * as defaults from "./defaults.ts"
import * as validate from "./validate.ts"

export const TypeId = "~effect-resilience/Chaos"

export type Kind = "fault" | "latency" | "outcome" | "outage" | "behavior"

export interface Injection<out E = never, out B = never> {
  readonly [TypeId]: typeof TypeId
  readonly kind: Kind
  readonly name: string
  readonly apply: <A, E0, R>(self: Effect.Effect<A, E0, R>) => Effect.Effect<A | B, E0 | E, R>
}

/** A duration drawn per call (from the `Random` service). */
export type Distribution = Effect.Effect<Duration.Duration>

export type Enabled = boolean | Effect.Effect<boolean>

/** A point in time: a `Date`, or a duration on `Clock` since its epoch (the start of a test under `TestClock`). */
export type Instant = Date | Duration.Input

export class ChaosError extends TaggedError("ChaosError")<{
  readonly policy: string
  readonly kind: "fault" | "outage"
}> {
  override get message(): string {
    return this.kind === "fault"
      ? `chaos "${this.policy}" injected a fault`
      : `chaos "${this.policy}" injected an outage`
  }
}

export const isChaosError = guard<ChaosError>("ChaosError")

export const isInjection = (u: unknown): u is Injection<unknown, unknown> => Predicate.hasProperty(u, TypeId)

// -----------------------------------------------------------------------------
// gates
// -----------------------------------------------------------------------------

interface GateOptions {
  /** Share of calls the injection fires on, in [0, 1]. Default 1. */
  readonly rate?: number | undefined
  /** A constant, or an `Effect<boolean>` read on every call. Default on. */
  readonly enabled?: Enabled | undefined
}

/** Validates `rate` and `enabled` once, and returns the per-call draw. */
const gate = (source: string, options: GateOptions): Effect.Effect<boolean> => {
  const rate = validate.ratio(source, "rate", options.rate ?? defaults.chaos.rate)
  const enabled = options.enabled ?? true
  if (typeof enabled !== "boolean" && !Effect.isEffect(enabled)) {
    throw validate.invalid(source, "enabled", "a boolean or an Effect<boolean>", enabled)
  }
  // rate 0 and 1 draw nothing, so adding a certain injection does not shift the seeded sequence
  const draw = rate === 0
    ? Effect.succeed(false)
    : rate === 1
    ? Effect.succeed(true)
    : Effect.map(Random.next, (r) => r < rate)
  if (enabled === false) return Effect.succeed(false)
  if (enabled === true) return draw
  return Effect.flatMap(enabled, (on) => (on ? draw : Effect.succeed(false)))
}

const make = <E, B>(
  kind: Kind,
  name: string,
  apply: <A, E0, R>(self: Effect.Effect<A, E0, R>) => Effect.Effect<A | B, E0 | E, R>
): Injection<E, B> => ({ [TypeId]: TypeId, kind, name, apply })

const nameOf = (source: string, name: string | undefined) =>
  validate.nonEmptyName(source, "name", name ?? defaults.chaos.name)

// -----------------------------------------------------------------------------
// durations and instants
// -----------------------------------------------------------------------------

/** A fixed delay (validated now) or a distribution (sampled per call). */
export const delayOf = (source: string, field: string, delay: Duration.Input | Distribution): Distribution => {
  if (Effect.isEffect(delay)) return delay as Distribution
  const millis = validate.durationMillis(source, field, delay as Duration.Input)
  return Effect.succeed(Duration.millis(millis))
}

export const instantMillis = (source: string, field: string, instant: Instant): number => {
  if (instant instanceof Date) {
    const t = instant.getTime()
    if (Number.isNaN(t)) throw validate.invalid(source, field, "a valid Date or a duration >= 0", instant)
    return t
  }
  if (instant === "Infinity") return Infinity
  return validate.durationMillis(source, field, instant)
}

// -----------------------------------------------------------------------------
// injections
// -----------------------------------------------------------------------------

export interface FaultOptions<E> extends GateOptions {
  /** The error, or a function making a fresh one per call. Default a `ChaosError`. */
  readonly error?: E | (() => E) | undefined
  /** Reported as the `policy` of a `ChaosError`. Default `"chaos"`. */
  readonly name?: string | undefined
}

export const fault = <E = ChaosError>(options: FaultOptions<E> = {}): Injection<E> => {
  const source = "Chaos.fault"
  const name = nameOf(source, options.name)
  const inject = gate(source, options)
  const error = options.error
  const makeError: () => E = error === undefined
    ? () => new ChaosError({ policy: name, kind: "fault" }) as E
    : typeof error === "function"
    ? (error as () => E)
    : () => error
  return make<E, never>("fault", name, <A, E0, R>(self: Effect.Effect<A, E0, R>) =>
    Effect.flatMap(inject, (hit): Effect.Effect<A, E0 | E, R> => (hit ? Effect.fail(makeError()) : self)))
}

export interface LatencyOptions extends GateOptions {
  /** A fixed delay, or a `Distribution` sampled per call. */
  readonly delay: Duration.Input | Distribution
  readonly name?: string | undefined
}

export const latency = (options: LatencyOptions): Injection => {
  const source = "Chaos.latency"
  const name = nameOf(source, options.name)
  const inject = gate(source, options)
  const delay = delayOf(source, "delay", options.delay)
  return make<never, never>("latency", name, (self) =>
    Effect.flatMap(inject, (hit) => (hit ? Effect.andThen(Effect.flatMap(delay, Effect.sleep), self) : self)))
}

export interface OutcomeOptions<B> extends GateOptions {
  /** The wrong but valid answer, or an effect computing it. */
  readonly value: B | Effect.Effect<B>
  readonly name?: string | undefined
}

export const outcome = <B>(options: OutcomeOptions<B>): Injection<never, B> => {
  const source = "Chaos.outcome"
  const name = nameOf(source, options.name)
  const inject = gate(source, options)
  const value: Effect.Effect<B> = Effect.isEffect(options.value)
    ? options.value as Effect.Effect<B>
    : Effect.succeed(options.value as B)
  return make<never, B>("outcome", name, <A, E0, R>(self: Effect.Effect<A, E0, R>) =>
    Effect.flatMap(inject, (hit): Effect.Effect<A | B, E0, R> => (hit ? value : self)))
}

export interface OutageOptions<E> {
  /** Start of the window (inclusive). Default: the epoch. */
  readonly from?: Instant | undefined
  /** End of the window (exclusive). Default: never. */
  readonly until?: Instant | undefined
  readonly error?: E | (() => E) | undefined
  readonly enabled?: Enabled | undefined
  readonly name?: string | undefined
}

export const outage = <E = ChaosError>(options: OutageOptions<E>): Injection<E> => {
  const source = "Chaos.outage"
  const name = nameOf(source, options.name)
  const from = instantMillis(source, "from", options.from ?? 0)
  const until = instantMillis(source, "until", options.until ?? "Infinity")
  if (!(until > from)) throw validate.invalid(source, "until", `an instant after from (${from} ms)`, options.until)
  const enabled = gate(source, { rate: 1, enabled: options.enabled })
  const error = options.error
  const makeError: () => E = error === undefined
    ? () => new ChaosError({ policy: name, kind: "outage" }) as E
    : typeof error === "function"
    ? (error as () => E)
    : () => error
  const down = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    now >= from && now < until ? enabled : Effect.succeed(false))
  return make<E, never>("outage", name, <A, E0, R>(self: Effect.Effect<A, E0, R>) =>
    Effect.flatMap(down, (hit): Effect.Effect<A, E0 | E, R> => (hit ? Effect.fail(makeError()) : self)))
}

export interface BehaviorOptions extends GateOptions {
  /** The side effect, run before the call. */
  readonly behavior: Effect.Effect<void>
  readonly name?: string | undefined
}

export const behavior = (options: BehaviorOptions): Injection => {
  const source = "Chaos.behavior"
  const name = nameOf(source, options.name)
  const inject = gate(source, options)
  if (!Effect.isEffect(options.behavior)) {
    throw validate.invalid(source, "behavior", "an Effect<void>", options.behavior)
  }
  const run = options.behavior
  return make<never, never>("behavior", name, (self) =>
    Effect.flatMap(inject, (hit) => (hit ? Effect.andThen(run, self) : self)))
}

// -----------------------------------------------------------------------------
// applying injections
// -----------------------------------------------------------------------------

/** Applies injections, the first one outermost (it decides first). */
export const inject = <A, E0, R, E, B>(
  self: Effect.Effect<A, E0, R>,
  injections: ReadonlyArray<Injection<E, B>>
): Effect.Effect<A | B, E0 | E, R> => {
  let wrapped: Effect.Effect<A | B, E0 | E, R> = self
  for (let i = injections.length - 1; i >= 0; i--) wrapped = injections[i]!.apply(wrapped)
  return wrapped
}

/** Per-method injections: an array applies to every method, a record to the methods it names. */
export type Plan = ReadonlyArray<Injection<any, any>> | { readonly [method: string]: ReadonlyArray<Injection<any, any>> | undefined }

const checkInjections = (source: string, field: string, value: unknown): ReadonlyArray<Injection<any, any>> => {
  if (!Array.isArray(value) || !value.every(isInjection)) {
    throw validate.invalid(source, field, "an array of Chaos injections", value)
  }
  return value
}

/** Checks the shape of a plan (not yet against a service). */
export const checkPlan = (source: string, plan: Plan): void => {
  if (Array.isArray(plan)) {
    checkInjections(source, "injections", plan)
    return
  }
  if (typeof plan !== "object" || plan === null) {
    throw validate.invalid(source, "injections", "an array of Chaos injections or a record of them by method", plan)
  }
  for (const [key, value] of Object.entries(plan)) {
    if (value !== undefined) checkInjections(source, `injections.${key}`, value)
  }
}

export const wrapService = <S extends object>(source: string, service: S, plan: Plan): S => {
  checkPlan(source, plan)
  const everyMethod = Array.isArray(plan) ? plan : undefined
  const perMethod = everyMethod === undefined ? plan as Record<string, ReadonlyArray<Injection<any, any>> | undefined> : {}
  for (const key of Object.keys(perMethod)) {
    if (!(key in service)) throw validate.invalid(source, `injections.${key}`, "a member of the service", key)
  }
  const wrapped: Record<string, unknown> = {}
  // own and inherited members (a class instance keeps its methods on the prototype)
  const keys = new Set<string>()
  for (let o: object | null = service; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) if (key !== "constructor") keys.add(key)
  }
  for (const key of keys) {
    const member = (service as Record<string, unknown>)[key]
    const injections = everyMethod ?? perMethod[key]
    if (injections === undefined || injections.length === 0) {
      wrapped[key] = typeof member === "function" ? member.bind(service) : member
    } else if (Effect.isEffect(member)) {
      wrapped[key] = inject(member, injections)
    } else if (typeof member === "function") {
      wrapped[key] = (...args: ReadonlyArray<unknown>) => {
        const result = member.apply(service, args)
        return Effect.isEffect(result) ? inject(result, injections) : result
      }
    } else {
      wrapped[key] = member
    }
  }
  return wrapped as S
}

export const layer = <I, S extends object>(tag: Context.Key<I, S>, plan: Plan) => {
  const source = "Chaos.layer"
  // the shape is checked where the layer is written; method names once the service exists
  checkPlan(source, plan)
  return <E, R>(self: Layer.Layer<I, E, R>): Layer.Layer<I, E, R> =>
    Layer.effect(tag, Effect.map(Effect.service(tag), (service) => wrapService(source, service, plan))).pipe(
      Layer.provide(self)
    )
}

// -----------------------------------------------------------------------------
// distributions
// -----------------------------------------------------------------------------

export const uniform = (options: { readonly min: Duration.Input; readonly max: Duration.Input }): Distribution => {
  const source = "Chaos.uniform"
  const min = validate.durationMillis(source, "min", options.min)
  const max = validate.durationMillis(source, "max", options.max)
  if (max < min) throw validate.invalid(source, "max", `a duration >= min (${min} ms)`, options.max)
  return Effect.map(Random.next, (r) => Duration.millis(min + r * (max - min)))
}

export const exponential = (options: { readonly mean: Duration.Input }): Distribution => {
  const mean = validate.durationMillis("Chaos.exponential", "mean", options.mean)
  // 1 - r is in (0, 1]: the logarithm stays finite
  return Effect.map(Random.next, (r) => Duration.millis(-mean * Math.log(1 - r)))
}

/** z-score of the 99th percentile of a standard normal distribution. */
const Z99 = 2.3263478740408408

export const logNormal = (options: { readonly median: Duration.Input; readonly p99: Duration.Input }): Distribution => {
  const source = "Chaos.logNormal"
  const median = validate.durationMillis(source, "median", options.median)
  if (median <= 0) throw validate.invalid(source, "median", "a duration > 0", options.median)
  const p99 = validate.durationMillis(source, "p99", options.p99)
  if (!Number.isFinite(p99) || p99 < median) throw validate.invalid(source, "p99", `a finite duration >= median (${median} ms)`, options.p99)
  const sigma = Math.log(p99 / median) / Z99
  // Box–Muller: two uniform draws give one standard normal draw
  return Effect.map(Effect.zip(Random.next, Random.next), ([u1, u2]) => {
    const z = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)
    return Duration.millis(median * Math.exp(sigma * z))
  })
}

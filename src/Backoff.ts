/**
 * Delay schedules for retries: exponential, linear, constant, decorrelated
 * jitter, explicit lists, and a cap for any of them.
 *
 * Every backoff is an Effect `Schedule` that recurs forever (except
 * `fromDelays`) and outputs the delay it chose; the number of attempts is the
 * retry policy's business (`Retry.make({ maxAttempts })`), or
 * `Schedule.max([backoff, Schedule.recurs(n)])` with `Effect.retry`.
 *
 * Jitter draws from Effect's `Random` service, so `Random.withSeed` makes any
 * sequence reproducible.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Random, Schedule } from "effect"
import * as Cause from "effect/Cause"
import { dual } from "effect/Function"
import * as Pull from "effect/Pull"
import * as internal from "./internal/backoff.ts"
import * as defaults from "./internal/defaults.ts"
import * as validate from "./internal/validate.ts"

/**
 * A delay schedule: its output is the delay before the next attempt.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, Error>
 *
 * // Any Backoff works with Effect's own retry too.
 * const backoff: Backoff.Backoff = Backoff.exponential({ base: "100 millis", max: "2 seconds" })
 * const retried = call.pipe(Effect.retry(Schedule.max([backoff, Schedule.recurs(3)])))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Backoff = Schedule.Schedule<Duration.Duration>

/**
 * How a delay `d` is randomised:
 * - `"none"`: exactly `d`;
 * - `"full"`: uniform in [0, d] (AWS "full jitter", the best spread);
 * - `"equal"`: d/2 + uniform in [0, d/2] (never shorter than half);
 * - `"decorrelated"` (exponential only): min(max, uniform in [base, previous·3]).
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 *
 * const jitter: Backoff.Jitter = "full"
 * const backoff = Backoff.linear({ base: "200 millis", jitter })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Jitter = "none" | "full" | "equal" | "decorrelated"

/**
 * Options of {@link exponential}.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 *
 * const options: Backoff.ExponentialOptions = { base: "50 millis", factor: 3, max: "10 seconds", jitter: "equal" }
 * const backoff = Backoff.exponential(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ExponentialOptions {
  /** The first delay (before jitter). */
  readonly base: Duration.Input
  /** Growth per attempt, >= 1. Default 2. */
  readonly factor?: number | undefined
  /** No delay exceeds this, jitter included. Default: no cap. */
  readonly max?: Duration.Input | undefined
  /** Default `"none"`. */
  readonly jitter?: Jitter | undefined
}

/**
 * Delays `base`, `base·factor`, `base·factor²`, ... capped at `max`, then
 * jittered.
 *
 * **When to use**
 *
 * The default for remote calls. Add `jitter: "full"` whenever many clients
 * may fail at once, so their retries do not arrive in waves.
 *
 * **Gotchas**
 *
 * Throws `InvalidConfigError` for `base < 0`, `factor < 1`, `max < base` or a
 * non-finite value. With `jitter: "decorrelated"`, `factor` is not used (the
 * spread is ×3 of the previous delay) and `max` defaults to `base·1000`.
 *
 * **Example** (Capped exponential backoff with full jitter)
 *
 * ```ts
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Backoff.exponential({ base: "100 millis", max: "5 seconds", jitter: "full" })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const exponential = (input: ExponentialOptions): Backoff => {
  const source = "Backoff.exponential"
  const options = validate.options(source, "options", input, true, "an object with a base")
  const base = validate.durationMillis(source, "base", options.base)
  const factor = validate.finiteAtLeast(source, "factor", options.factor ?? defaults.backoff.factor, 1)
  const max = validate.durationMillisOr(source, "max", options.max, Infinity)
  if (max < base) throw validate.invalid(source, "max", `>= base (${base} ms)`, options.max)
  const jitter = jitterOption(source, options.jitter)
  if (jitter === "decorrelated") return internal.decorrelated(base, max === Infinity ? base * 1000 : max)
  return internal.fromDelayFunction((n) => Math.min(max, base * Math.pow(factor, n)), jitter, max)
}

/**
 * Options of {@link linear}.
 *
 * @example
 * ```ts
 * import { Backoff } from "effect-resilience"
 *
 * const options: Backoff.LinearOptions = { base: "1 second", increment: "500 millis", max: "5 seconds" }
 * const backoff = Backoff.linear(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LinearOptions {
  /** The first delay. */
  readonly base: Duration.Input
  /** Added per attempt. Default: `base`. */
  readonly increment?: Duration.Input | undefined
  /** No delay exceeds this. Default: no cap. */
  readonly max?: Duration.Input | undefined
  /** `"none"` (default), `"full"` or `"equal"`. */
  readonly jitter?: Exclude<Jitter, "decorrelated"> | undefined
}

/**
 * Delays `base`, `base + increment`, `base + 2·increment`, ... capped at `max`.
 *
 * **Example** (1 s, 2 s, 3 s, ... up to 10 s)
 *
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Backoff.linear({ base: "1 second", max: "3 seconds" })
 * const millis = Backoff.delays(backoff, 4).pipe(Effect.map((ds) => ds.map(Duration.toMillis)))
 * console.log(Effect.runSync(millis)) // => [1000, 2000, 3000, 3000]
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const linear = (input: LinearOptions): Backoff => {
  const source = "Backoff.linear"
  const options = validate.options(source, "options", input, true, "an object with a base")
  const base = validate.durationMillis(source, "base", options.base)
  const increment = validate.durationMillisOr(source, "increment", options.increment, base)
  const max = validate.durationMillisOr(source, "max", options.max, Infinity)
  if (max < base) throw validate.invalid(source, "max", `>= base (${base} ms)`, options.max)
  const jitter = jitterOption(source, options.jitter)
  if (jitter === "decorrelated") throw validate.invalid(source, "jitter", `"none", "full" or "equal"`, jitter)
  return internal.fromDelayFunction((n) => Math.min(max, base + n * increment), jitter, max)
}

/**
 * The same delay before every retry.
 *
 * **Example** (Retry every 500 ms)
 *
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Backoff.constant("500 millis")
 * const millis = Backoff.delays(backoff, 3).pipe(Effect.map((ds) => ds.map(Duration.toMillis)))
 * console.log(Effect.runSync(millis)) // => [500, 500, 500]
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const constant = (delay: Duration.Input): Backoff => {
  const millis = validate.durationMillis("Backoff.constant", "delay", delay)
  return internal.fromDelayFunction(() => millis, "none", millis)
}

/**
 * AWS "decorrelated jitter": each delay is uniform in [base, previous·3],
 * capped at `max`. Spreads retries well while still growing.
 *
 * **Example** (Decorrelated jitter between 100 ms and 10 s)
 *
 * ```ts
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Backoff.decorrelated({ base: "100 millis", max: "10 seconds" })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const decorrelated = (input: { readonly base: Duration.Input; readonly max: Duration.Input }): Backoff => {
  const source = "Backoff.decorrelated"
  const options = validate.options(source, "options", input, true, "an object with a base and a max")
  const base = validate.positiveDurationMillis(source, "base", options.base)
  const max = validate.durationMillis(source, "max", options.max)
  if (max < base) throw validate.invalid(source, "max", `>= base (${base} ms)`, options.max)
  return internal.decorrelated(base, max)
}

/**
 * An explicit list of delays; the schedule ends after the last one, so it
 * also bounds the number of retries (`delays.length` retries at most).
 *
 * **Example** (1 s, 2 s, then 4 s)
 *
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Backoff.fromDelays(["1 second", "2 seconds", "4 seconds"])
 * // Asked for five, it gives its three: the list also bounds the retries.
 * const millis = Backoff.delays(backoff, 5).pipe(Effect.map((ds) => ds.map(Duration.toMillis)))
 * console.log(Effect.runSync(millis)) // => [1000, 2000, 4000]
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromDelays = (delays: ReadonlyArray<Duration.Input>): Backoff => {
  const source = "Backoff.fromDelays"
  if (!Array.isArray(delays) || delays.length === 0) {
    throw validate.invalid(source, "delays", "a non-empty list of durations", delays)
  }
  return internal.fromDelays(delays.map((d, i) => validate.durationMillis(source, `delays[${i}]`, d)))
}

/**
 * Clamps every delay of a schedule to at most `max`.
 *
 * **Example** (Cap Effect's own exponential schedule)
 *
 * ```ts
 * import { Duration, Effect, Schedule } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Schedule.exponential("100 millis").pipe(Backoff.capped("300 millis"))
 * const millis = Backoff.delays(backoff, 4).pipe(Effect.map((ds) => ds.map(Duration.toMillis)))
 * console.log(Effect.runSync(millis)) // => [100, 200, 300, 300]
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const capped: {
  (max: Duration.Input): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, max: Duration.Input): Schedule.Schedule<O, I, E, R>
} = dual(2, <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, max: Duration.Input): Schedule.Schedule<O, I, E, R> => {
  const maxMillis = validate.durationMillis("Backoff.capped", "max", max)
  return internal.withCap(
    Schedule.modifyDelay(self, ({ duration }) =>
      Effect.succeed(Duration.toMillis(duration) > maxMillis ? Duration.millis(maxMillis) : duration)),
    maxMillis
  )
})

/**
 * Randomises every delay of a schedule: `"full"` draws in [0, d], `"equal"`
 * in [d/2, d]. The result never exceeds the original delay, so a cap stays a cap.
 *
 * **Example** (Full jitter over a Fibonacci schedule)
 *
 * ```ts
 * import { Schedule } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * const backoff = Schedule.fibonacci("100 millis").pipe(Backoff.jittered("full"))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const jittered: {
  (jitter: "full" | "equal"): <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>) => Schedule.Schedule<O, I, E, R>
  <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, jitter: "full" | "equal"): Schedule.Schedule<O, I, E, R>
} = dual(2, <O, I, E, R>(self: Schedule.Schedule<O, I, E, R>, jitter: "full" | "equal"): Schedule.Schedule<O, I, E, R> => {
  if (jitter !== "full" && jitter !== "equal") {
    throw validate.invalid("Backoff.jittered", "jitter", `"full" or "equal"`, jitter)
  }
  return Schedule.modifyDelay(self, ({ duration }) =>
    Effect.map(Random.next, (r) => Duration.millis(internal.applyJitter(Duration.toMillis(duration), jitter, r))))
})

/**
 * The first `n` delays a schedule would produce (fewer if it ends sooner),
 * for previews, docs and tests. Jittered schedules draw from `Random`:
 * run under `Random.withSeed` for a reproducible preview.
 *
 * **Example** (Preview an exponential backoff)
 *
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Backoff } from "effect-resilience"
 *
 * const preview = Backoff.delays(Backoff.exponential({ base: "100 millis", max: "1 second" }), 5).pipe(
 *   Effect.map((ds) => ds.map(Duration.toMillis))
 * )
 * console.log(Effect.runSync(preview)) // => [100, 200, 400, 800, 1000]
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export const delays = <O, E, R>(
  schedule: Schedule.Schedule<O, unknown, E, R>,
  n: number
): Effect.Effect<Array<Duration.Duration>, E, R> => {
  const count = validate.nonNegativeInt("Backoff.delays", "n", n)
  return Effect.flatMap(Schedule.toStep(schedule), (step) =>
    Effect.suspend(() => {
      const out: Array<Duration.Duration> = []
      let now = 0
      const loop: Effect.Effect<Array<Duration.Duration>, E, R> = Effect.suspend(() =>
        out.length >= count
          ? Effect.succeed(out)
          : Pull.matchEffect(step(now, undefined), {
            onSuccess: ([, delay]) => {
              out.push(delay)
              now += Duration.toMillis(delay)
              return loop
            },
            onFailure: (cause) => Effect.failCause(cause as Cause.Cause<E>),
            onDone: () => Effect.succeed(out)
          })
      )
      return loop
    }))
}

const jitterOption = (source: string, jitter: Jitter | undefined): Jitter => {
  const value = jitter ?? defaults.backoff.jitter
  if (value !== "none" && value !== "full" && value !== "equal" && value !== "decorrelated") {
    throw validate.invalid(source, "jitter", `"none", "full", "equal" or "decorrelated"`, value)
  }
  return value
}

/**
 * Priority-aware load shedding and graceful degradation.
 *
 * A load shedder counts the calls in flight through it and, as that count
 * climbs, rejects the least important work first: `sheddable` calls once it
 * reaches `sheddableAt · maxInFlight`, `normal` calls once it reaches
 * `normalAt · maxInFlight`, and `critical` calls only at the hard cap,
 * `maxInFlight`. The gap between `normalAt` and the cap is a reserve that only
 * critical work can use. Rejections are typed `LoadShedError { name, priority }`.
 *
 * `shedder.overloaded` is a signal other parts read (a pipeline skipping
 * non-critical stages, {@link degrade} picking a cheaper variant).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, Predicate } from "effect"
import type { InvalidConfigError } from "./Errors.ts"
import { type Priority as EventPriority, ResilienceEvent } from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import { dualPrepared } from "./internal/dual.ts"
import { emit } from "./internal/events.ts"
import * as internal from "./internal/loadShedder.ts"
import * as validate from "./internal/validate.ts"
import * as errors from "./internal/errors.ts"

const TypeId = "~effect-resilience/LoadShedder"

/**
 * How important a call is: `critical` work is shed only at the hard cap,
 * `normal` work above `normalAt`, `sheddable` work first, above `sheddableAt`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { LoadShedder } from "effect-resilience"
 *
 * declare const shedder: LoadShedder.LoadShedder
 * declare const recommendations: Effect.Effect<ReadonlyArray<string>>
 *
 * const priority: LoadShedder.Priority = "sheddable" // the first to go under load
 * const guarded = recommendations.pipe(shedder.execute({ priority }))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Priority = EventPriority

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { LoadShedder } from "effect-resilience"
 *
 * // Sheddable work stops at 60% of 200 in flight, normal work at 85%, critical work only at 200.
 * const options: LoadShedder.LoadShedderOptions = { name: "api", maxInFlight: 200, sheddableAt: 0.6, normalAt: 0.85 }
 * const shedder = LoadShedder.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LoadShedderOptions {
  /** Reported in errors, events and stats. Default `"load-shedder"`. */
  readonly name?: string | undefined
  /** The hard cap on calls in flight, critical ones included: an integer >= 1. */
  readonly maxInFlight: number
  /** Sheddable calls are shed once in-flight reaches this share of `maxInFlight`: in [0, 1]. Default 0.5. */
  readonly sheddableAt?: number | undefined
  /** Normal calls are shed once in-flight reaches this share of `maxInFlight`: in [sheddableAt, 1]. Default 0.8. */
  readonly normalAt?: number | undefined
}

/**
 * Per-call options of `shedder.execute`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { LoadShedder } from "effect-resilience"
 *
 * declare const shedder: LoadShedder.LoadShedder
 * declare const checkout: Effect.Effect<string>
 *
 * const options: LoadShedder.ExecuteOptions = { priority: "critical" }
 * const guarded = shedder.execute(checkout, options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ExecuteOptions {
  /** Default `"normal"`. */
  readonly priority?: Priority | undefined
}

/**
 * A snapshot of a load shedder.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { LoadShedder } from "effect-resilience"
 *
 * declare const shedder: LoadShedder.LoadShedder
 *
 * const shedTotal = shedder.stats.pipe(
 *   Effect.map((s: LoadShedder.LoadShedderStats) => s.shed.sheddable + s.shed.normal + s.shed.critical)
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LoadShedderStats {
  /** Calls admitted and not yet finished. */
  readonly inFlight: number
  readonly maxInFlight: number
  /** A call of each priority is admitted while `inFlight` is below its limit. */
  readonly limits: { readonly sheddable: number; readonly normal: number; readonly critical: number }
  /** Calls shed since the shedder was made, by priority. */
  readonly shed: { readonly critical: number; readonly normal: number; readonly sheddable: number }
  /** Whether sheddable work is being shed now. */
  readonly overloaded: boolean
}

/**
 * A load shedder.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LoadShedder } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const shedder: LoadShedder.LoadShedder = yield* LoadShedder.make({ maxInFlight: 10 })
 *   const page = yield* Effect.succeed("page").pipe(shedder.execute({ priority: "critical" }))
 *   return [page, yield* shedder.overloaded]
 * })
 * console.log(await Effect.runPromise(program)) // => ["page", false]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LoadShedder {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly maxInFlight: number
  /**
   * Runs an effect if its priority is admitted at the current load, else
   * fails at once with `LoadShedError`. Data-first
   * `shedder.execute(effect, { priority })`, data-last
   * `effect.pipe(shedder.execute({ priority }))`; without options the
   * priority is `"normal"`: `effect.pipe(shedder.execute())`.
   */
  readonly execute: {
    // data-first comes first: `effect.pipe(shedder.execute)` (no call) is then
    // a type error, where with `dual`'s usual order it would infer `unknown`s
    <A, E, R>(self: Effect.Effect<A, E, R>, options?: ExecuteOptions): Effect.Effect<A, E | LoadShedError, R>
    (options?: ExecuteOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LoadShedError, R>
  }
  /** The current counters. */
  readonly stats: Effect.Effect<LoadShedderStats>
  /** `true` while sheddable work is being shed (in-flight >= the sheddable limit). */
  readonly overloaded: Effect.Effect<boolean>
}

/**
 * Builds a load shedder, validating its options.
 *
 * **Details**
 *
 * A call of priority `p` is admitted while the calls in flight are below `p`'s
 * limit: `ceil(sheddableAt · maxInFlight)` for `sheddable`,
 * `ceil(normalAt · maxInFlight)` for `normal`, `maxInFlight` for `critical`.
 * Otherwise it fails at once with `LoadShedError { name, priority }` and the
 * shedder emits `Shed { priority }`. An admitted call counts as in flight
 * until it ends, however it ends (success, failure, defect, interruption).
 *
 * In flight means admitted and not finished: put the shedder outside a
 * bulkhead and the calls waiting in the bulkhead's line count too, so the
 * shedder reacts to queue depth as well as to running work.
 *
 * Fails with `InvalidConfigError` for an empty `name`, a `maxInFlight` that is
 * not an integer >= 1, fractions outside [0, 1], or `sheddableAt > normalAt`.
 *
 * **Example** (Shedding analytics before checkout)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { LoadShedder } from "effect-resilience"
 *
 * declare const checkout: Effect.Effect<string>
 * declare const recordAnalytics: Effect.Effect<void>
 *
 * const program = Effect.gen(function*() {
 *   const shedder = yield* LoadShedder.make({ name: "api", maxInFlight: 200 })
 *   yield* recordAnalytics.pipe(shedder.execute({ priority: "sheddable" }), Effect.ignore)
 *   return yield* shedder.execute(checkout, { priority: "critical" })
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: LoadShedderOptions): Effect.Effect<LoadShedder, InvalidConfigError> =>
  Effect.flatMap(validate.attempt(() => validateOptions(options)), (config) =>
    Effect.sync(() => {
      const executor = internal.make(config, (priority) => shed(config.name, priority))
      const run = executor.execute
      const priorityOf = (options: ExecuteOptions | undefined): Priority => {
        const priority = options?.priority ?? defaults.loadShedder.priority
        if (!Predicate.hasProperty(config.limits, priority)) {
          throw validate.invalid("LoadShedder.execute", "priority", `"critical", "normal" or "sheddable"`, priority)
        }
        return priority
      }
      return {
        [TypeId]: TypeId,
        name: config.name,
        maxInFlight: config.maxInFlight,
        execute: dualPrepared((options: ExecuteOptions | undefined) => {
          const priority = priorityOf(options)
          return <A, E, R>(self: Effect.Effect<A, E, R>) => run(self, priority)
        }, (args) => Effect.isEffect(args[0])),
        stats: executor.stats,
        overloaded: executor.overloaded
      }
    }))

const validateOptions = (options: LoadShedderOptions): internal.Config => {
  const source = "LoadShedder.make"
  validate.options(source, "options", options, true)
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.loadShedder.name)
  const maxInFlight = validate.positiveInt(source, "maxInFlight", options.maxInFlight)
  const sheddableAt = validate.ratio(source, "sheddableAt", options.sheddableAt ?? defaults.loadShedder.sheddableAt)
  const normalAt = validate.ratio(source, "normalAt", options.normalAt ?? defaults.loadShedder.normalAt)
  if (sheddableAt > normalAt) {
    throw validate.invalid(source, "sheddableAt", `a number in [0, normalAt = ${normalAt}]`, sheddableAt)
  }
  return {
    name,
    maxInFlight,
    limits: {
      sheddable: internal.limitOf(sheddableAt, maxInFlight),
      normal: internal.limitOf(normalAt, maxInFlight),
      critical: maxInFlight
    }
  }
}

const shed = (name: string, priority: Priority): Effect.Effect<never, LoadShedError> =>
  Effect.andThen(
    emit((timestamp) => ResilienceEvent.Shed({ name, timestamp, priority })),
    Effect.failSync(() => new LoadShedError({ policy: name, priority }))
  )

/**
 * A layer that builds a load shedder for the service `tag`, so that every
 * user of the service shares the same in-flight count.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { LoadShedder } from "effect-resilience"
 *
 * class ApiShedder extends Context.Service<ApiShedder, LoadShedder.LoadShedder>()("app/ApiShedder") {}
 *
 * const ApiShedderLive = LoadShedder.layer(ApiShedder, { name: "api", maxInFlight: 200, sheddableAt: 0.6 })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <I>(
  tag: Context.Key<I, LoadShedder>,
  options: LoadShedderOptions
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, make(options))

/**
 * Options of {@link degrade}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LoadShedder } from "effect-resilience"
 *
 * declare const shedder: LoadShedder.LoadShedder
 * declare const personalised: Effect.Effect<ReadonlyArray<string>>
 * declare const bestsellers: Effect.Effect<ReadonlyArray<string>>
 *
 * const options: LoadShedder.DegradeOptions<ReadonlyArray<string>, never, never, ReadonlyArray<string>, never, never, never, never> = {
 *   name: "recommendations",
 *   full: personalised,
 *   degraded: bestsellers,
 *   when: shedder.overloaded
 * }
 * const recommendations = LoadShedder.degrade(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DegradeOptions<A1, E1, R1, A2, E2, R2, E3, R3> {
  /** The full variant, run while the signal is off. */
  readonly full: Effect.Effect<A1, E1, R1>
  /** The cheaper variant, run while the signal is on. */
  readonly degraded: Effect.Effect<A2, E2, R2>
  /** The signal, read once per run: `shedder.overloaded`, a breaker being open, a queue's depth... */
  readonly when: Effect.Effect<boolean, E3, R3>
  /** Reported in the `Degraded` event. Default `"degrade"`. */
  readonly name?: string | undefined
}

/**
 * Runs `degraded` instead of `full` while the signal `when` is on, and emits
 * `Degraded` each time it does.
 *
 * **Details**
 *
 * The signal is read at the start of each run, so the same effect switches
 * back to `full` as soon as the signal clears. Use it to drop optional work
 * under load ("skip the analytics stage when the queue grows too large") or
 * to serve a cheaper answer while a dependency's breaker is open.
 *
 * **Example** (Skipping recommendations under load)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { LoadShedder } from "effect-resilience"
 *
 * declare const shedder: LoadShedder.LoadShedder
 * declare const withRecommendations: Effect.Effect<ReadonlyArray<string>>
 *
 * const page = LoadShedder.degrade({
 *   name: "product-page",
 *   full: withRecommendations,
 *   degraded: Effect.succeed([] as ReadonlyArray<string>),
 *   when: shedder.overloaded
 * })
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const degrade = <A1, E1, R1, A2, E2, R2, E3 = never, R3 = never>(
  input: DegradeOptions<A1, E1, R1, A2, E2, R2, E3, R3>
): Effect.Effect<A1 | A2, E1 | E2 | E3, R1 | R2 | R3> => {
  const source = "LoadShedder.degrade"
  const options = validate.options(source, "options", input, true, "an object with full, degraded and when")
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.loadShedder.degradeName)
  for (const field of ["full", "degraded", "when"] as const) {
    if (!Effect.isEffect(options[field])) throw validate.invalid(source, field, "an Effect", options[field])
  }
  const degraded = Effect.andThen(
    emit((timestamp) => ResilienceEvent.Degraded({ name, timestamp })),
    options.degraded
  )
  return Effect.flatMap(
    options.when,
    (on): Effect.Effect<A1 | A2, E1 | E2, R1 | R2> => on ? degraded : options.full
  )
}

/**
 * Checks whether a value is a {@link LoadShedder}.
 *
 * @example
 * ```ts
 * import { LoadShedder } from "effect-resilience"
 *
 * LoadShedder.isLoadShedder({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isLoadShedder = (u: unknown): u is LoadShedder => Predicate.hasProperty(u, TypeId)

/**
 * A load shedder rejected a call of `priority` because the load was past that
 * priority's limit. The call never ran.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LoadShedder } from "effect-resilience"
 *
 * declare const shedder: LoadShedder.LoadShedder
 *
 * const analytics = Effect.void.pipe(
 *   shedder.execute({ priority: "sheddable" }),
 *   Effect.catchTag("LoadShedError", (e) => Effect.logDebug(`shed ${e.priority} work`))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const LoadShedError = errors.LoadShedError

/**
 * @category errors
 * @since 0.1.0
 */
export type LoadShedError = errors.LoadShedError

/**
 * Checks whether a value is a {@link LoadShedError}.
 *
 * @example
 * ```ts
 * import { LoadShedder } from "effect-resilience"
 *
 * LoadShedder.isLoadShedError(new LoadShedder.LoadShedError({ policy: "api", priority: "sheddable" })) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isLoadShedError: (u: unknown) => u is LoadShedError = errors.isLoadShedError

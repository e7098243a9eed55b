/**
 * Isolates a dependency: at most `maxConcurrent` calls run through a bulkhead
 * at once, at most `maxQueue` more wait for a permit in FIFO order, and every
 * call beyond that is rejected at once with a typed `BulkheadRejectedError`.
 * A slow dependency then holds only its own bulkhead's permits, and the rest
 * of the service keeps answering.
 *
 * A call that finds a permit free takes it in one synchronous step; a call
 * that has to wait joins an O(1) first-in, first-out line, and a finishing
 * call hands its permit straight to the first waiter. The success path costs
 * less than `Semaphore.withPermit`, and a line of 10,000 waiters costs no more
 * per call than a line of 10.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, Predicate } from "effect"
import { dual } from "effect/Function"
import type { InvalidConfigError } from "./Errors.ts"
import { ResilienceEvent } from "./Events.ts"
import * as internal from "./internal/bulkhead.ts"
import { emit } from "./internal/events.ts"
import * as validate from "./internal/validate.ts"
import * as errors from "./internal/errors.ts"

const TypeId = "~effect-resilience/Bulkhead"

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { Bulkhead } from "effect-resilience"
 *
 * const options: Bulkhead.BulkheadOptions = { name: "reports", maxConcurrent: 4, maxQueue: 100, queueTimeout: "2 seconds" }
 * const reports = Bulkhead.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface BulkheadOptions {
  /** Reported in errors, events and stats. Default `"bulkhead"`. */
  readonly name?: string | undefined
  /** Calls allowed to run at once: an integer >= 1. */
  readonly maxConcurrent: number
  /** Calls allowed to wait for a permit: an integer >= 0. Default 0 (no waiting). */
  readonly maxQueue?: number | undefined
  /** How long a call may wait for a permit: a duration > 0. Default: no limit. */
  readonly queueTimeout?: Duration.Input | undefined
}

/**
 * A snapshot of a bulkhead.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Bulkhead } from "effect-resilience"
 *
 * declare const bulkhead: Bulkhead.Bulkhead
 *
 * const saturation = bulkhead.stats.pipe(Effect.map((s: Bulkhead.BulkheadStats) => (s.active + s.queued) / (s.maxConcurrent + s.maxQueue)))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface BulkheadStats {
  /** Calls holding a permit now: running, or handed a permit by a finishing call and about to run. */
  readonly active: number
  /** Calls waiting for a permit now. */
  readonly queued: number
  /** Permits free now: `maxConcurrent - active` (a permit handed to a waiter is not free). */
  readonly available: number
  /** Calls rejected since the bulkhead was made (`full` and `queue-timeout`). */
  readonly rejected: number
  readonly maxConcurrent: number
  readonly maxQueue: number
}

/**
 * A bulkhead: a bounded set of permits and a bounded FIFO waiting line.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const render: (id: string) => Effect.Effect<Uint8Array>
 *
 * const program = Effect.gen(function*() {
 *   const reports: Bulkhead.Bulkhead = yield* Bulkhead.make({ name: "reports", maxConcurrent: 2 })
 *   const pdfs = yield* Effect.forEach(["a", "b", "c"], (id) => render(id).pipe(reports.execute), { concurrency: "unbounded" })
 *   return pdfs.length
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Bulkhead {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueue: number
  /** `undefined` when waiters never time out. */
  readonly queueTimeout: Duration.Duration | undefined
  /**
   * Runs an effect holding one permit, waiting in line for one if needed;
   * fails with `BulkheadRejectedError` when the line is full or the wait
   * exceeds `queueTimeout`. Pipeable: `effect.pipe(bulkhead.execute)`.
   */
  readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BulkheadRejectedError, R>
  /** The current counters. */
  readonly stats: Effect.Effect<BulkheadStats>
}

/**
 * Builds a bulkhead, validating its options.
 *
 * **Details**
 *
 * Fails with `InvalidConfigError` (naming the field, the allowed range and the
 * value) for an empty `name`, a `maxConcurrent` that is not an integer >= 1, a
 * `maxQueue` that is not an integer >= 0, or a `queueTimeout` that is not a
 * duration > 0.
 *
 * Semantics: at most `maxConcurrent` calls run; when all permits are taken, a
 * call waits in a FIFO line of at most `maxQueue`; beyond that it fails at once
 * with `BulkheadRejectedError { reason: "full" }`. A waiter still waiting after
 * `queueTimeout` fails with `reason: "queue-timeout"`. Each rejection emits
 * `BulkheadRejected { reason }`; the success path emits nothing.
 *
 * A permit is returned when the call ends however it ends: success, failure,
 * defect or interruption. Interrupting a waiter removes it from the line.
 *
 * **Example** (Isolating a payment provider)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const charge: (cents: number) => Effect.Effect<string>
 *
 * const program = Effect.gen(function*() {
 *   const payments = yield* Bulkhead.make({ name: "payments", maxConcurrent: 10, maxQueue: 50, queueTimeout: "2 seconds" })
 *   return yield* charge(1200).pipe(payments.execute)
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: BulkheadOptions): Effect.Effect<Bulkhead, InvalidConfigError> =>
  Effect.flatMap(validate.attempt(() => internal.configOf(options)), (config) =>
    Effect.sync((): Bulkhead => {
      const executor = internal.make(config, (reason) => rejection(config.name, reason))
      const bulkhead: Bulkhead = {
        [TypeId]: TypeId,
        name: config.name,
        // read from the executor: `Policy.reconfigure` may change the limits in place
        get maxConcurrent() {
          return executor.config().maxConcurrent
        },
        get maxQueue() {
          return executor.config().maxQueue
        },
        get queueTimeout() {
          const millis = executor.config().queueTimeoutMillis
          return millis === Infinity ? undefined : Duration.millis(millis)
        },
        execute: executor.execute,
        stats: executor.stats
      }
      return internal.executors.attach(bulkhead, executor)
    }))

const rejection = (name: string, reason: internal.Reason): Effect.Effect<never, BulkheadRejectedError> =>
  Effect.andThen(
    emit((timestamp) => ResilienceEvent.BulkheadRejected({ name, timestamp, reason })),
    Effect.failSync(() => new BulkheadRejectedError({ policy: name, reason }))
  )

/**
 * A layer that builds a bulkhead for the service `tag`, so that every user
 * of the service shares the same permits.
 *
 * **Example** (A bulkhead as a service)
 *
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * class InventoryBulkhead extends Context.Service<InventoryBulkhead, Bulkhead.Bulkhead>()("app/InventoryBulkhead") {}
 *
 * const InventoryBulkheadLive = Bulkhead.layer(InventoryBulkhead, { name: "inventory", maxConcurrent: 20, maxQueue: 100 })
 *
 * const stock = (sku: string) =>
 *   Effect.gen(function*() {
 *     const bulkhead = yield* InventoryBulkhead
 *     return yield* Effect.succeed({ sku, count: 3 }).pipe(bulkhead.execute)
 *   })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <I>(
  tag: Context.Key<I, Bulkhead>,
  options: BulkheadOptions
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, make(options))

/**
 * Runs an effect through a bulkhead: `Bulkhead.execute(effect, bulkhead)` or
 * `effect.pipe(Bulkhead.execute(bulkhead))`, the same as
 * `bulkhead.execute(effect)`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const bulkhead: Bulkhead.Bulkhead
 *
 * const guarded = Effect.succeed(1).pipe(Bulkhead.execute(bulkhead))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const execute: {
  (bulkhead: Bulkhead): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BulkheadRejectedError, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, bulkhead: Bulkhead): Effect.Effect<A, E | BulkheadRejectedError, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, bulkhead: Bulkhead) => bulkhead.execute(self))

/**
 * Checks whether a value is a {@link Bulkhead}.
 *
 * @example
 * ```ts
 * import { Bulkhead } from "effect-resilience"
 *
 * Bulkhead.isBulkhead({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isBulkhead = (u: unknown): u is Bulkhead => Predicate.hasProperty(u, TypeId)

/**
 * The bulkhead rejected a call: its line was `full`, or the call waited past
 * `queueTimeout` (`queue-timeout`). The call itself never ran.
 *
 * **Details**
 *
 * A rejection is not a failure of the dependency: a circuit breaker placed
 * outside the bulkhead should not count it (see docs/circuit-breaker.md), and a retry may
 * try again later.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * declare const bulkhead: Bulkhead.Bulkhead
 *
 * const answer = Effect.succeed("fresh").pipe(
 *   bulkhead.execute,
 *   Effect.catchTag("BulkheadRejectedError", (e) => Effect.succeed(`busy (${e.reason})`))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const BulkheadRejectedError = errors.BulkheadRejectedError

/**
 * @category errors
 * @since 0.1.0
 */
export type BulkheadRejectedError = errors.BulkheadRejectedError

/**
 * Checks whether a value is a {@link BulkheadRejectedError}.
 *
 * @example
 * ```ts
 * import { Bulkhead } from "effect-resilience"
 *
 * Bulkhead.isBulkheadRejectedError(new Bulkhead.BulkheadRejectedError({ policy: "db", reason: "full" })) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isBulkheadRejectedError: (u: unknown) => u is BulkheadRejectedError = errors.isBulkheadRejectedError

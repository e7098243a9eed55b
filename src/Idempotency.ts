/**
 * Run an effect once per key: concurrent duplicates wait for the run in
 * progress and share its outcome, later duplicates read the stored success
 * for a time-to-live, and failures are never stored, so a retry runs again.
 *
 * Memory is bounded: at most `capacity` successes are kept (the least
 * recently used one goes first) and each expires `ttl` after it was stored,
 * on the `Clock` (so `TestClock` controls expiry).
 *
 * @since 0.1.0
 */
import { Cause, Clock, Deferred, Duration, Effect, type Exit, Predicate } from "effect"
import { dual } from "effect/Function"
import type { InvalidConfigError } from "./Errors.ts"
import { ResilienceEvent } from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import { emit } from "./internal/events.ts"
import * as machine from "./internal/idempotency.ts"
import * as validate from "./internal/validate.ts"

const TypeId = "~effect-resilience/Idempotency"

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { Idempotency } from "effect-resilience"
 *
 * const options: Idempotency.IdempotencyOptions = { name: "payments", ttl: "24 hours", capacity: 100_000 }
 * const guard = Idempotency.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface IdempotencyOptions {
  /** Reported in events. Default `"idempotency"`. */
  readonly name?: string | undefined
  /** How long a success is served without running again: > 0, or `"Infinity"`. Default 1 hour. */
  readonly ttl?: Duration.Input | undefined
  /** Successes kept at most, an integer >= 1; beyond it the least recently used goes. Default 10,000. */
  readonly capacity?: number | undefined
}

/**
 * An idempotency guard. One guard serves any number of keys; a key should
 * always name the same kind of effect (the stored value is returned as is).
 *
 * @example
 * ```ts
 * import { Effect, Ref } from "effect"
 * import { Idempotency } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const charges = yield* Ref.make(0)
 *   const once: Idempotency.Idempotency = yield* Idempotency.make()
 *   const charge = Ref.updateAndGet(charges, (n) => n + 1)
 *   yield* charge.pipe(once.execute("order-42"))
 *   yield* charge.pipe(once.execute("order-42")) // a retried request: served from the stored result
 *   return yield* Ref.get(charges)
 * })
 * console.log(await Effect.runPromise(program)) // => 1
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Idempotency {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly ttl: Duration.Duration
  readonly capacity: number
  /**
   * Runs `self` unless a run for `key` is in progress (then waits for it and
   * shares its exit) or a success for `key` is stored and live (then returns
   * it). Data-first `guard.execute(self, key)`, data-last
   * `self.pipe(guard.execute(key))`.
   */
  readonly execute: {
    (key: string): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    <A, E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<A, E, R>
  }
  /** Forgets the stored success of `key`, so the next call runs; `true` if there was one. */
  readonly invalidate: (key: string) => Effect.Effect<boolean>
  /** How many live successes are stored. */
  readonly size: Effect.Effect<number>
}

/**
 * Checks whether a value is an {@link Idempotency} guard.
 *
 * @example
 * ```ts
 * import { Idempotency } from "effect-resilience"
 *
 * Idempotency.isIdempotency({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isIdempotency = (u: unknown): u is Idempotency => Predicate.hasProperty(u, TypeId)

/**
 * Builds an idempotency guard, validating its options.
 *
 * **Details**
 *
 * - The first call for a key runs. Calls for the same key that arrive while
 *   it runs do not run: they wait and get the same exit (success, failure or
 *   defect) and emit `IdempotentHit { kind: "coalesced" }`.
 * - A success is stored for `ttl`; a call within it returns the stored value
 *   without running and emits `IdempotentHit { kind: "cached" }`.
 * - A failure or defect is shared with the waiting duplicates but not
 *   stored: the next call runs again.
 * - If the running call is interrupted, the duplicates waiting for it are not:
 *   one of them runs in its place.
 *
 * Fails with `InvalidConfigError` for a `ttl` <= 0, a `capacity` that is not
 * an integer >= 1, or an empty `name`.
 *
 * **Example** (Charging a payment once per order id)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Idempotency } from "effect-resilience"
 *
 * declare const charge: (orderId: string) => Effect.Effect<string, Error>
 *
 * const program = Effect.gen(function*() {
 *   const once = yield* Idempotency.make({ name: "payments", ttl: "1 hour", capacity: 10_000 })
 *   // both run `charge` once between them
 *   const [a, b] = yield* Effect.all([
 *     charge("order-42").pipe(once.execute("order-42")),
 *     charge("order-42").pipe(once.execute("order-42"))
 *   ], { concurrency: 2 })
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options?: IdempotencyOptions): Effect.Effect<Idempotency, InvalidConfigError> =>
  Effect.map(
    validate.attempt(() =>
      validate.cacheOptions("Idempotency.make", validate.options("Idempotency.make", "options", options, false), defaults.idempotency)
    ),
    makeWith
  )

type Waiter = Deferred.Deferred<Exit.Exit<unknown, unknown> | undefined>

const makeWaiter = (): Waiter => Deferred.makeUnsafe()

const makeWith = (config: { readonly name: string; readonly ttlMillis: number; readonly capacity: number }): Idempotency => {
  const { name } = config
  const state = machine.make<Waiter>(config.capacity, config.ttlMillis)

  const hit = (key: string, kind: "coalesced" | "cached") =>
    emit((timestamp) => ResilienceEvent.IdempotentHit({ name, timestamp, key, kind }))

  const execute = <A, E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const decision = machine.decide(state, key, now, makeWaiter)
        switch (decision._tag) {
          case "Hit":
            return Effect.as(hit(key, "cached"), decision.value as A)
          case "Join": {
            const waiter = decision.waiter
            return Effect.andThen(
              hit(key, "coalesced"),
              restore(Effect.flatMap(Deferred.await(waiter), (exit) =>
                // the run was interrupted: run in its place (or join whoever did)
                exit === undefined ? execute(self, key) : (exit as Exit.Exit<A, E>)))
            )
          }
          case "Run": {
            const waiter = decision.waiter
            return Effect.onExit(restore(self), (exit) =>
              Effect.flatMap(Clock.currentTimeMillis, (end) =>
                Effect.sync(() => {
                  const abandoned = exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)
                  machine.settle(state, key, waiter, exit._tag === "Success" ? { value: exit.value } : undefined, end)
                  Deferred.doneUnsafe(waiter, Effect.succeed(abandoned ? undefined : exit))
                })))
          }
        }
      })
    )

  return {
    [TypeId]: TypeId,
    name,
    ttl: Duration.millis(config.ttlMillis),
    capacity: config.capacity,
    execute: dual(2, execute),
    invalidate: (key) => Effect.sync(() => machine.invalidate(state, key)),
    size: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => machine.size(state, now)))
  }
}

/**
 * Runs an effect through an idempotency guard under `key`; the same as
 * `guard.execute(self, key)`, as a module function.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Idempotency } from "effect-resilience"
 *
 * declare const guard: Idempotency.Idempotency
 * declare const sendEmail: Effect.Effect<void, Error>
 *
 * const once = sendEmail.pipe(Idempotency.execute(guard, "welcome:user-7"))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const execute: {
  (guard: Idempotency, key: string): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, guard: Idempotency, key: string): Effect.Effect<A, E, R>
} = dual(
  3,
  <A, E, R>(self: Effect.Effect<A, E, R>, guard: Idempotency, key: string): Effect.Effect<A, E, R> =>
    guard.execute(self, key)
)

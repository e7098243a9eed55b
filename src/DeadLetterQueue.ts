/**
 * A bounded dead-letter queue: where items that could not be processed wait,
 * with their cause, attempt count and timestamps, until someone inspects,
 * takes, replays or drains them.
 *
 * Nothing is ever dropped silently. When the queue is full, an offer either
 * fails with `DeadLetterQueueFullError` (`whenFull: "fail"`) or waits for room
 * (`whenFull: "backpressure"`), as chosen at construction. Nothing is lost on
 * interruption either: `offer`, `take` and `drain` succeed exactly when their
 * change to the store stands, and undo it otherwise.
 *
 * Entries live in a {@link DeadLetterStore} service (in memory by default,
 * {@link layerStoreMemory}); the queue itself only coordinates: capacity,
 * waiting takers (an Effect `Queue` hands entries to `take` in order) and the
 * exclusion between `take`, `drain` and `replay`.
 *
 * @since 0.1.0
 */
import { type Cause, Context, Effect, Layer, Predicate, type Schema } from "effect"
import type { InvalidConfigError } from "./Errors.ts"
import * as internal from "./internal/deadLetter.ts"
import * as memory from "./internal/deadLetterStore.ts"
import * as defaults from "./internal/defaults.ts"
import * as validate from "./internal/validate.ts"
import * as errors from "./internal/deadLetterErrors.ts"

const TypeId = "~effect-resilience/DeadLetterQueue"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * Why an item failed: the full `Cause` (typed failure, defect or both) and a
 * one-line readable `message` derived from it.
 *
 * **Details**
 *
 * The store keeps the cause encoded ({@link DeadLetterEntryEncoded}), so an
 * entry read back (`take`, `entries`, `drain`, `replay`) carries the decoded
 * cause: its reasons in order; a failure or defect that is an `Error` comes
 * back as an `Error` with its `name` and `message` (not its class or other
 * fields), a JSON value as itself; an interruption keeps its fiber id. The
 * `message`, computed when the entry was stored, keeps the fields
 * (`Unavailable {"status":503}`). The entry an `offer` returns holds the
 * cause as offered.
 *
 * @example
 * ```ts
 * import { Cause, Effect } from "effect"
 * import type { DeadLetterQueue } from "effect-resilience"
 *
 * declare const dlq: DeadLetterQueue.DeadLetterQueue<string>
 *
 * const reasons = dlq.entries.pipe(
 *   Effect.map((entries) => entries.map(({ error }: { readonly error: DeadLetterQueue.DeadLetterError }) => error.message))
 * )
 * const defects = dlq.entries.pipe(Effect.map((entries) => entries.filter((e) => Cause.hasDies(e.error.cause)).length))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DeadLetterError {
  readonly cause: Cause.Cause<unknown>
  readonly message: string
}

/**
 * One dead letter.
 *
 * **Details**
 *
 * - `id`: unique within the queue: the producer's `id`, or from a counter
 *   (`"<queue name>#<n>"`), so runs are reproducible.
 * - `stage`: where the item failed (a pipeline stage name, or any label).
 * - `attempts`: how many times the item failed into this queue: 1 when it
 *   arrives, +1 for each `replay` that fails again. (The retries a policy made
 *   before giving up are reported by that policy's own events.)
 * - `firstFailedAt` / `lastFailedAt`: milliseconds since the epoch, from `Clock`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { DeadLetterQueue } from "effect-resilience"
 *
 * declare const dlq: DeadLetterQueue.DeadLetterQueue<{ readonly orderId: string }>
 *
 * const stale = Effect.gen(function*() {
 *   const entries: ReadonlyArray<DeadLetterQueue.DeadLetterEntry<{ readonly orderId: string }>> = yield* dlq.entries
 *   return entries.filter((e) => e.attempts >= 3).map((e) => `${e.item.orderId} failed at ${e.stage}`)
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DeadLetterEntry<out A> {
  readonly id: string
  readonly item: A
  readonly stage: string
  readonly error: DeadLetterError
  readonly attempts: number
  readonly firstFailedAt: number
  readonly lastFailedAt: number
}

/**
 * A {@link DeadLetterEntry} as a {@link DeadLetterStore} holds it: plain
 * data (strings, numbers, arrays, plain objects), ready for
 * `JSON.stringify`.
 *
 * **Details**
 *
 * - `item`: `Schema.toCodecJson(item schema)` of the item; the item itself
 *   when the queue has no item schema (memory store only).
 * - `error.cause`: the cause as `Schema.toCodecJson(Schema.Cause(Schema.Defect(), Schema.Defect()))`
 *   encodes it: an array of `{ _tag: "Fail", error }`, `{ _tag: "Die", defect }`
 *   and `{ _tag: "Interrupt", fiberId }`, an `Error` as `{ name, message }`.
 *
 * @example
 * ```ts
 * import type { DeadLetterQueue } from "effect-resilience"
 *
 * // What a store keeps: the item encoded by the queue's Schema, the cause as JSON.
 * const stored: DeadLetterQueue.DeadLetterEntryEncoded = {
 *   id: "order-42",
 *   item: { orderId: "42" },
 *   stage: "charge",
 *   error: { cause: [{ _tag: "Fail", error: "card declined" }], message: "card declined" },
 *   attempts: 1,
 *   firstFailedAt: 0,
 *   lastFailedAt: 0
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DeadLetterEntryEncoded {
  readonly id: string
  readonly item: unknown
  readonly stage: string
  readonly error: { readonly cause: Schema.Json; readonly message: string }
  readonly attempts: number
  readonly firstFailedAt: number
  readonly lastFailedAt: number
}

/**
 * What a producer offers: the item, where it failed and why. The queue adds
 * the id, the readable message and the timestamps.
 *
 * @example
 * ```ts
 * import { Cause, Effect } from "effect"
 * import type { DeadLetterQueue } from "effect-resilience"
 *
 * declare const dlq: DeadLetterQueue.DeadLetterQueue<string>
 *
 * const input: DeadLetterQueue.DeadLetterInput<string> = { id: "msg-7", item: "msg-7", stage: "parse", cause: Cause.fail("bad json") }
 * const stored = dlq.offer(input) // a second offer with id "msg-7" returns the stored entry
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DeadLetterInput<A> {
  /**
   * The entry's id, chosen by the producer (e.g. the message id): makes the
   * offer idempotent. An offer whose id the queue already holds stores
   * nothing and returns the entry it holds, even when the queue is full.
   * Default: `"<queue name>#<n>"` from a counter.
   */
  readonly id?: string | undefined
  readonly item: A
  readonly stage: string
  readonly cause: Cause.Cause<unknown>
  /** Default 1. */
  readonly attempts?: number | undefined
  /** Default: now. */
  readonly firstFailedAt?: number | undefined
}

/**
 * What a full queue does to an offer: fail it with
 * {@link DeadLetterQueueFullError}, or make it wait for room.
 *
 * @example
 * ```ts
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * // Never lose a dead letter: a full queue slows the producer down instead.
 * const whenFull: DeadLetterQueue.WhenFull = "backpressure"
 * const dlq = DeadLetterQueue.make<string>({ name: "events-dlq", capacity: 1_000, whenFull })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type WhenFull = "fail" | "backpressure"

/**
 * Options of {@link make}.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * const Order = Schema.Struct({ orderId: Schema.String, cents: Schema.Number })
 * const options: DeadLetterQueue.DeadLetterQueueOptions<typeof Order.Type> = {
 *   name: "orders-dlq",
 *   item: Order, // required by durable stores
 *   capacity: 10_000,
 *   whenFull: "fail"
 * }
 * const dlq = DeadLetterQueue.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DeadLetterQueueOptions<A = unknown> {
  /**
   * The item's schema: entries cross the store encoded with
   * `Schema.toCodecJson(item)`, so a durable store holds plain JSON.
   * Required when the store is durable; without it (memory store only) the
   * item is kept as is.
   */
  readonly item?: Schema.Codec<A, unknown> | undefined
  /** The queue's name: reported in errors and events, and the key of its entries in the store. Default `"dead-letters"`. */
  readonly name?: string | undefined
  /** Entries held at most, an integer >= 1. Default 10,000. */
  readonly capacity?: number | undefined
  /** What a full queue does to an offer. Default `"fail"`. */
  readonly whenFull?: WhenFull | undefined
}

/**
 * The outcome of {@link DeadLetterQueue.replay}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { DeadLetterQueue } from "effect-resilience"
 *
 * declare const dlq: DeadLetterQueue.DeadLetterQueue<string>
 * declare const send: (item: string) => Effect.Effect<void, Error>
 *
 * const report = dlq.replay(send).pipe(
 *   Effect.map((r: DeadLetterQueue.ReplayResult) => `${r.replayed} replayed, ${r.failedAgain} kept`)
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ReplayResult {
  /** Entries the handler succeeded with: removed from the queue. */
  readonly replayed: number
  /** Entries that failed again: kept in place, `attempts` + 1. */
  readonly failedAgain: number
}

/**
 * Options of {@link DeadLetterQueue.replay}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { type DeadLetterQueue, Retry } from "effect-resilience"
 *
 * declare const dlq: DeadLetterQueue.DeadLetterQueue<string>
 * declare const send: (item: string) => Effect.Effect<void, Error>
 *
 * const options: DeadLetterQueue.ReplayOptions<Error, never, Error, never> = {
 *   policy: Retry.retry(Retry.make({ maxAttempts: 3 }))
 * }
 * const replayed = dlq.replay(send, options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ReplayOptions<E, R, E2, R2> {
  /** Wraps each handler call, e.g. `Retry.retry(policy)`. */
  readonly policy?: ((effect: Effect.Effect<unknown, E, R>) => Effect.Effect<unknown, E2, R2>) | undefined
}

/**
 * A bounded dead-letter queue of items of type `A`.
 *
 * @example
 * ```ts
 * import { Cause, Effect } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const dlq: DeadLetterQueue.DeadLetterQueue<string> = yield* DeadLetterQueue.make<string>({ name: "emails" })
 *   yield* dlq.offer({ item: "welcome:ada", stage: "send", cause: Cause.fail("smtp down") })
 *   const result = yield* dlq.replay(() => Effect.void) // the mail server is back
 *   return { result, left: yield* dlq.size }
 * })
 * console.log(await Effect.runPromise(program)) // => { result: { replayed: 1, failedAgain: 0 }, left: 0 }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DeadLetterQueue<in out A> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly capacity: number
  readonly whenFull: WhenFull
  /**
   * Adds an entry at the end. When the queue is full it fails with
   * `DeadLetterQueueFullError` or waits, per `whenFull`. Emits `DeadLettered`.
   * With an `id` the queue holds, stores nothing and returns the held entry.
   * Succeeds exactly when the entry is stored: an interrupted offer stores
   * nothing.
   */
  readonly offer: (input: DeadLetterInput<A>) => Effect.Effect<
    DeadLetterEntry<A>,
    DeadLetterQueueFullError | DeadLetterStoreError
  >
  /**
   * Removes and returns the oldest entry, waiting for one when the queue is
   * empty. Succeeds exactly when the entry left the queue: interrupted at any
   * point, it leaves the entry in place.
   */
  readonly take: Effect.Effect<DeadLetterEntry<A>, DeadLetterStoreError>
  /** A snapshot of the entries, oldest first. */
  readonly entries: Effect.Effect<ReadonlyArray<DeadLetterEntry<A>>, DeadLetterStoreError>
  /** How many entries the queue holds. */
  readonly size: Effect.Effect<number, DeadLetterStoreError>
  /**
   * Removes and returns every entry, oldest first. Interrupted at any point,
   * it leaves every entry in place.
   */
  readonly drain: Effect.Effect<ReadonlyArray<DeadLetterEntry<A>>, DeadLetterStoreError>
  /**
   * Runs every entry present when it starts through `handler` (wrapped in
   * `policy`), oldest first, one at a time. Successes are removed; failures
   * stay in place with `attempts` + 1, `lastFailedAt` and `error` updated.
   */
  readonly replay: <E, R, E2 = E, R2 = R>(
    handler: (item: A, entry: DeadLetterEntry<A>) => Effect.Effect<unknown, E, R>,
    options?: ReplayOptions<E, R, E2, R2>
  ) => Effect.Effect<ReplayResult, DeadLetterStoreError, R2>
}

/**
 * Checks whether a value is a {@link DeadLetterQueue}.
 *
 * @example
 * ```ts
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * DeadLetterQueue.isDeadLetterQueue({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isDeadLetterQueue = (u: unknown): u is DeadLetterQueue<unknown> => Predicate.hasProperty(u, TypeId)

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/**
 * Builds a dead-letter queue, validating its options.
 *
 * **Details**
 *
 * The entries are kept in the {@link DeadLetterStore} in context, or in a
 * private in-memory store when there is none. Entries already in the store
 * under this `name` (a durable store after a restart) are adopted: they count
 * against `capacity` and can be taken, drained or replayed.
 *
 * With an `item` schema, entries are stored encoded and decoded when read
 * (`A` is inferred from it); a stored entry that does not decode fails the
 * read with `DeadLetterStoreError` (`operation: "decode"`) and stays in the
 * store.
 *
 * Fails with `InvalidConfigError` for a `capacity` that is not an integer
 * >= 1, an empty `name`, a `whenFull` other than `"fail"` or
 * `"backpressure"`, or no `item` schema on a durable store.
 *
 * **Gotchas**
 *
 * `take`, `drain` and `replay` exclude each other: a `take` waits while a
 * `replay` runs. Offers never wait for them.
 *
 * An entry is handed over when `take` (or `drain`) returns it: an
 * interruption of the caller after that point is the caller's to handle.
 *
 * **Example** (A queue of failed orders, replayed once the API is back)
 *
 * ```ts
 * import { Cause, Effect } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * declare const submit: (order: string) => Effect.Effect<void, Error>
 *
 * const program = Effect.gen(function*() {
 *   const dlq = yield* DeadLetterQueue.make<string>({ name: "orders", capacity: 1000, whenFull: "fail" })
 *   // the producer's id makes a retried offer a no-op
 *   yield* dlq.offer({ id: "order-1", item: "order-1", stage: "submit", cause: Cause.fail(new Error("503")) })
 *   const { replayed, failedAgain } = yield* dlq.replay((order) => submit(order))
 * })
 * ```
 *
 * **Example** (Items with a schema, ready for a durable store)
 *
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * class Order extends Schema.Class<Order>("Order")({ id: Schema.String, placedAt: Schema.Date }) {}
 *
 * // a DeadLetterQueue<Order>: entries reach the store as JSON, and come back as Orders
 * const program = DeadLetterQueue.make({ name: "orders", item: Order })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <A>(
  input?: DeadLetterQueueOptions<A>
): Effect.Effect<DeadLetterQueue<A>, InvalidConfigError | DeadLetterStoreError> =>
  Effect.flatMap(Effect.serviceOption(DeadLetterStore), (service) => {
    const store = service._tag === "Some" ? service.value : memory.makeMemory()
    return Effect.flatMap(
      validate.attempt(() => {
        const source = "DeadLetterQueue.make"
        const options = validate.options(source, "options", input, false)
        const whenFull = options.whenFull ?? defaults.deadLetterQueue.whenFull
        if (whenFull !== "fail" && whenFull !== "backpressure") {
          throw validate.invalid(source, "whenFull", "\"fail\" or \"backpressure\"", whenFull)
        }
        if (store.durable && options.item === undefined) {
          throw validate.invalid(source, "item", "a Schema of the item (the DeadLetterStore is durable)", undefined)
        }
        return {
          name: validate.nonEmptyName(source, "name", options.name ?? defaults.deadLetterQueue.name),
          capacity: validate.positiveInt(source, "capacity", options.capacity ?? defaults.deadLetterQueue.capacity),
          whenFull,
          item: options.item
        }
      }),
      (config) => internal.make<A>(config, store, TypeId)
    )
  })

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * An offer found the queue full (`whenFull: "fail"`). The item was not
 * stored: the producer decides what to do with it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * declare const offer: Effect.Effect<void, DeadLetterQueue.DeadLetterQueueFullError>
 *
 * const program = offer.pipe(
 *   Effect.catchTag("DeadLetterQueueFullError", (e) => Effect.logError(e.message))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const DeadLetterQueueFullError: typeof errors.DeadLetterQueueFullError = errors.DeadLetterQueueFullError

/**
 * The type of {@link DeadLetterQueueFullError}: `{ policy, capacity }`.
 *
 * @category errors
 * @since 0.1.0
 */
export type DeadLetterQueueFullError = errors.DeadLetterQueueFullError

/**
 * Checks whether a value is a {@link DeadLetterQueueFullError}.
 *
 * @example
 * ```ts
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * DeadLetterQueue.isDeadLetterQueueFullError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isDeadLetterQueueFullError: (u: unknown) => u is DeadLetterQueueFullError = errors.isDeadLetterQueueFullError

/**
 * The {@link DeadLetterStore} failed (a durable store's I/O), or an entry
 * could not cross it: `operation` is the store operation (`"append"`,
 * `"list"`, ...), `"encode"` when the item schema rejected an offered item
 * (nothing was stored), or `"decode"` when a stored entry does not decode
 * (the entry stays in the store, unchanged; `cause` is the `SchemaError`).
 * The in-memory store never fails.
 *
 * @example
 * ```ts
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * const error = new DeadLetterQueue.DeadLetterStoreError({ policy: "orders", operation: "append", cause: "timeout" })
 * error.message // 'dead-letter store of "orders" failed to append: timeout'
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const DeadLetterStoreError: typeof errors.DeadLetterStoreError = errors.DeadLetterStoreError

/**
 * The type of {@link DeadLetterStoreError}: `{ policy, operation, cause }`.
 *
 * @category errors
 * @since 0.1.0
 */
export type DeadLetterStoreError = errors.DeadLetterStoreError

/**
 * Checks whether a value is a {@link DeadLetterStoreError}.
 *
 * @example
 * ```ts
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * DeadLetterQueue.isDeadLetterStoreError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isDeadLetterStoreError: (u: unknown) => u is DeadLetterStoreError = errors.isDeadLetterStoreError

// -----------------------------------------------------------------------------
// store
// -----------------------------------------------------------------------------

/**
 * What a store must do. Every operation is scoped by the queue `name`; `list`
 * returns entries in the order they were appended, and `update` keeps an
 * entry's position.
 *
 * **Details**
 *
 * Each operation must be atomic: it happens entirely or not at all, also for
 * a store shared by several processes (Redis: one `MULTI` or script per
 * operation). The queue builds its guarantees on three of them:
 *
 * - `append` is an idempotent append: an entry whose id is already stored is
 *   not stored again (Redis: `HSETNX` of the entry, then `RPUSH` of the id
 *   only when it was new). This makes offers with a producer's `id`
 *   idempotent.
 * - `remove` then, only when the fiber was interrupted before the entries
 *   could be handed over, `putBack` (Redis: `LPUSH` of the ids in reverse
 *   order, `HSETNX` of the entries). A `take` or `drain` interrupted at any
 *   point leaves every entry in the queue, in its place, or hands it over.
 * - `get` finds an entry by id, so that a repeated offer needs no room.
 *
 * The entries a store receives are already encoded
 * ({@link DeadLetterEntryEncoded}: plain JSON when the queue has an item
 * schema), so a store only keeps them: it may serialize them with
 * `JSON.stringify` and must return what `JSON.parse` gives back. A store
 * reports its I/O failures as {@link DeadLetterStoreError}; a failed
 * operation must have changed nothing.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * // A store that logs every append, around the memory store.
 * const logging = Layer.sync(DeadLetterQueue.DeadLetterStore, (): DeadLetterQueue.DeadLetterStoreShape => {
 *   const memory = DeadLetterQueue.makeStoreMemory()
 *   return { ...memory, append: (name, entry) => Effect.tap(memory.append(name, entry), () => Effect.logInfo(`${name}: ${entry.id}`)) }
 * })
 * ```
 *
 * @category store
 * @since 0.1.0
 */
export interface DeadLetterStoreShape {
  /**
   * Whether entries outlive the process (or leave it). A queue on a durable
   * store must have an item schema: {@link make} fails without one.
   */
  readonly durable: boolean
  /**
   * Stores `entry` after every other entry of queue `name`, unless an entry
   * with its id is there; returns `undefined` when it stored `entry`, and
   * the entry stored under that id otherwise.
   */
  readonly append: (
    name: string,
    entry: DeadLetterEntryEncoded
  ) => Effect.Effect<DeadLetterEntryEncoded | undefined, DeadLetterStoreError>
  /** Replaces the entry with the same id in place; `false` when there is none. */
  readonly update: (name: string, entry: DeadLetterEntryEncoded) => Effect.Effect<boolean, DeadLetterStoreError>
  /** The entry `id`, `undefined` when there is none. */
  readonly get: (name: string, id: string) => Effect.Effect<DeadLetterEntryEncoded | undefined, DeadLetterStoreError>
  /** The entries, oldest first; at most `limit` of them. */
  readonly list: (
    name: string,
    options?: { readonly limit?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<DeadLetterEntryEncoded>, DeadLetterStoreError>
  /** Removes the entry `id`; `false` when it was not there. */
  readonly remove: (name: string, id: string) => Effect.Effect<boolean, DeadLetterStoreError>
  /**
   * Puts removed entries back before every other entry of queue `name`, in
   * the order given (the queue passes them oldest first); skips ids that are
   * stored. Used when an interrupted `take` or `drain` could not hand them
   * over.
   */
  readonly putBack: (
    name: string,
    entries: ReadonlyArray<DeadLetterEntryEncoded>
  ) => Effect.Effect<void, DeadLetterStoreError>
  /** How many entries queue `name` holds. */
  readonly count: (name: string) => Effect.Effect<number, DeadLetterStoreError>
}

/**
 * The service that keeps dead letters. Without one in context, each queue
 * keeps its entries in a private in-memory store.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * // two queues (different names) sharing one store
 * const program = Effect.gen(function*() {
 *   const orders = yield* DeadLetterQueue.make<string>({ name: "orders" })
 *   const emails = yield* DeadLetterQueue.make<string>({ name: "emails" })
 *   const store = yield* DeadLetterQueue.DeadLetterStore
 *   return yield* store.count("orders")
 * }).pipe(Effect.provide(DeadLetterQueue.layerStoreMemory))
 * ```
 *
 * @category store
 * @since 0.1.0
 */
export class DeadLetterStore extends Context.Service<DeadLetterStore, DeadLetterStoreShape>()(
  "effect-resilience/DeadLetterQueue/Store"
) {}

/**
 * An in-memory {@link DeadLetterStore}, shared by every queue built under
 * it. Entries are lost when the process exits.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * const program = DeadLetterQueue.make<string>({ name: "orders" }).pipe(
 *   Effect.provide(DeadLetterQueue.layerStoreMemory)
 * )
 * ```
 *
 * @category store
 * @since 0.1.0
 */
export const layerStoreMemory: Layer.Layer<DeadLetterStore> = Layer.sync(DeadLetterStore, memory.makeMemory)

/**
 * An in-memory {@link DeadLetterStoreShape}, e.g. to wrap in a test double.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 *
 * const store = DeadLetterQueue.makeStoreMemory()
 * const program = DeadLetterQueue.make<string>({ name: "orders" }).pipe(
 *   Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
 * )
 * ```
 *
 * @category store
 * @since 0.1.0
 */
export const makeStoreMemory: () => DeadLetterStoreShape = memory.makeMemory

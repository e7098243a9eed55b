/**
 * The dead-letter queue's machinery. The store holds the entries; this
 * module coordinates the fibers around it:
 *
 * - `slots`, a semaphore of `capacity` permits: an offer takes one (or fails
 *   at once with `whenFull: "fail"`), removing an entry gives it back.
 * - `available`, an unbounded Effect `Queue` of tickets, one per entry that
 *   `take` may claim: a waiting `take` is a waiting `Queue.take`, so takers
 *   are served in arrival order. A ticket is only a hint: `take` then claims
 *   the oldest entry of the store, and an entry removed by `drain` or
 *   `replay` consumes a ticket if one is there. A spare ticket (its entry
 *   went while a taker held it) makes one taker look again and wait.
 * - `lock`, a one-permit semaphore that `take`'s claim, `drain` and `replay`
 *   hold, so an entry is never handed out while a replay is handling it.
 */
import { Cause, Clock, Effect, Exit, Predicate, Queue, Scope, Semaphore } from "effect"
import {
  type DeadLetterEntry,
  type DeadLetterError,
  type DeadLetterInput,
  type DeadLetterQueue,
  DeadLetterQueueFullError,
  type DeadLetterStoreError,
  type DeadLetterStoreShape,
  type ReplayOptions,
  type ReplayResult,
  type WhenFull
} from "../DeadLetterQueue.ts"
import { ResilienceEvent } from "../Events.ts"
import { emit } from "./events.ts"

export interface Config {
  readonly name: string
  readonly capacity: number
  readonly whenFull: WhenFull
}

/** The counter part of an id `"<name>#<n>"`, 0 for an id of another shape. */
export const sequenceOf = (id: string): number => {
  const n = Number(id.slice(id.lastIndexOf("#") + 1))
  return Number.isSafeInteger(n) && n > 0 ? n : 0
}

type Restore = <X, E, R>(effect: Effect.Effect<X, E, R>) => Effect.Effect<X, E, R>

/**
 * Takes one permit and keeps it, waiting interruptibly. `restore(semaphore.take(1))`
 * could be interrupted just after the permit was taken, losing it; here the permit
 * is tied to a scope the moment it is taken, and only an interruption closes that
 * scope (giving the permit back). On success the scope is left open: the permit
 * stays taken until released explicitly.
 */
const takeKept = (semaphore: Semaphore.Semaphore, restore: Restore): Effect.Effect<void> =>
  Effect.flatMap(Scope.make(), (scope) =>
    restore(semaphore.takeScoped(1)).pipe(
      Scope.provide(scope),
      Effect.onInterrupt(() => Scope.close(scope, Exit.void))
    ))

export const make = <A>(
  config: Config,
  store: DeadLetterStoreShape,
  typeId: "~effect-resilience/DeadLetterQueue"
) =>
  Effect.gen(function*() {
    const { capacity, name, whenFull } = config
    // adopt what a durable store already holds under this name
    const existing = yield* store.list(name)
    let sequence = 0
    for (const entry of existing) sequence = Math.max(sequence, sequenceOf(entry.id))
    // entries beyond capacity (capacity lowered between runs): their removal frees no slot
    let excess = Math.max(0, existing.length - capacity)
    const slots = yield* Semaphore.make(capacity - (existing.length - excess))
    const available = yield* Queue.unbounded<void>()
    for (let i = 0; i < existing.length; i++) Queue.offerUnsafe(available, undefined)
    const lock = yield* Semaphore.make(1)

    const freeSlot = Effect.suspend(() => {
      if (excess > 0) {
        excess--
        return Effect.void
      }
      return Effect.asVoid(slots.release(1))
    })
    const giveTicketBack = Effect.sync(() => void Queue.offerUnsafe(available, undefined))
    const dropTicket = Effect.sync(() => void Queue.takeUnsafe(available))

    /** Removes an entry that `take` did not claim; `true` if it was there. */
    const removeOther = (id: string) =>
      Effect.flatMap(store.remove(name, id), (removed) =>
        removed ? Effect.as(Effect.andThen(freeSlot, dropTicket), true) : Effect.succeed(false))

    const acquireSlot = (restore: <X, E, R>(effect: Effect.Effect<X, E, R>) => Effect.Effect<X, E, R>) =>
      whenFull === "fail"
        ? Effect.flatMap(
          slots.takeIfAvailable(1),
          (ok) => ok ? Effect.void : Effect.fail(new DeadLetterQueueFullError({ policy: name, capacity }))
        )
        : takeKept(slots, restore)

    const offer = (input: DeadLetterInput<A>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.andThen(
          acquireSlot(restore),
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const entry: DeadLetterEntry<A> = {
              id: `${name}#${++sequence}`,
              item: input.item,
              stage: input.stage,
              error: toError(input.cause),
              attempts: input.attempts ?? 1,
              firstFailedAt: input.firstFailedAt ?? now,
              lastFailedAt: now
            }
            return store.append(name, entry).pipe(
              Effect.onError(() => freeSlot),
              Effect.andThen(giveTicketBack),
              Effect.andThen(emit((timestamp) =>
                ResilienceEvent.DeadLettered({ name, timestamp, stage: entry.stage, id: entry.id })
              )),
              Effect.as(entry)
            )
          })
        )
      )

    /** Removes and returns the oldest entry, under the lock; `undefined` when there is none. */
    const claimOldest: Effect.Effect<DeadLetterEntry<A> | undefined, DeadLetterStoreError> =
      Effect.flatMap(store.list(name, { limit: 1 }), (oldest) => {
        const entry = oldest[0] as DeadLetterEntry<A> | undefined
        if (entry === undefined) return Effect.succeed(undefined)
        return Effect.flatMap(
          store.remove(name, entry.id),
          (removed) => removed ? Effect.as(freeSlot, entry) : claimOldest
        )
      })

    const take = Effect.uninterruptibleMask((restore) => {
      const loop: Effect.Effect<DeadLetterEntry<A>, DeadLetterStoreError> = Effect
        .suspend(() =>
          restore(Queue.take(available)).pipe(
            Effect.andThen(takeKept(lock, restore).pipe(Effect.onInterrupt(() => giveTicketBack))),
            Effect.andThen(claimOldest.pipe(
              Effect.onError(() => giveTicketBack),
              Effect.ensuring(lock.release(1))
            )),
            Effect.flatMap((entry) => entry === undefined ? loop : Effect.succeed(entry))
          )
        )
      return loop
    })

    const entries = store.list(name) as Effect.Effect<
      ReadonlyArray<DeadLetterEntry<A>>,
      DeadLetterStoreError
    >

    const drain = lock.withPermit(Effect.uninterruptible(Effect.gen(function*() {
      const all = yield* entries
      const drained: Array<DeadLetterEntry<A>> = []
      for (const entry of all) {
        if (yield* removeOther(entry.id)) drained.push(entry)
      }
      return drained
    })))

    const replay = <E, R, E2 = E, R2 = R>(
      handler: (item: A, entry: DeadLetterEntry<A>) => Effect.Effect<unknown, E, R>,
      options?: ReplayOptions<E, R, E2, R2>
    ) =>
      lock.withPermit(Effect.gen(function*() {
        const snapshot = yield* entries
        let replayed = 0
        let failedAgain = 0
        for (const entry of snapshot) {
          const call = Effect.suspend(() => handler(entry.item, entry))
          const guarded = options?.policy === undefined
            ? call as unknown as Effect.Effect<unknown, E2, R2>
            : options.policy(call)
          const exit: Exit.Exit<unknown, E2> = yield* Effect.exit(guarded)
          if (exit._tag === "Success") {
            yield* Effect.uninterruptible(removeOther(entry.id))
            replayed++
          } else if (Cause.hasInterruptsOnly(exit.cause)) {
            // an interrupted replay leaves the entry as it was
            return yield* Effect.interrupt
          } else {
            const now = yield* Clock.currentTimeMillis
            const again: DeadLetterEntry<A> = {
              ...entry,
              error: toError(exit.cause),
              attempts: entry.attempts + 1,
              lastFailedAt: now
            }
            yield* store.update(name, again)
            failedAgain++
          }
        }
        const result: ReplayResult = { replayed, failedAgain }
        return result
      }))

    const queue: DeadLetterQueue<A> = {
      [typeId]: typeId,
      name,
      capacity,
      whenFull,
      offer,
      take,
      entries,
      size: store.count(name),
      drain,
      replay
    }
    return queue
  })

export const toError = (cause: Cause.Cause<unknown>): DeadLetterError => ({ cause, message: describeCause(cause) })

/** One line per reason: the typed failure, the defect (`"defect: ..."`) or `"interrupted"`. */
export const describeCause = (cause: Cause.Cause<unknown>): string => {
  const parts: Array<string> = []
  for (const reason of cause.reasons) {
    if (Cause.isFailReason(reason)) parts.push(describe(reason.error))
    else if (Cause.isDieReason(reason)) parts.push(`defect: ${describe(reason.defect)}`)
    else parts.push("interrupted")
  }
  return parts.length === 0 ? "no error" : parts.join("; ")
}

/** A readable one-line description of any error value. */
export const describe = (error: unknown): string => {
  if (typeof error === "string") return error
  if (error instanceof Error) {
    const label = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : error.name
    if (error.message !== "") return `${label}: ${error.message}`
    const fields = ownFields(error)
    return fields === undefined ? label : `${label} ${fields}`
  }
  if (Predicate.isObject(error)) {
    const label = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : undefined
    const fields = ownFields(error)
    return [label, fields].filter((s) => s !== undefined).join(" ") || String(error)
  }
  return String(error)
}

const ownFields = (value: object): string | undefined => {
  const fields = Object.entries(value).filter(([key]) => key !== "_tag" && key !== "stack")
  if (fields.length === 0) return undefined
  try {
    return JSON.stringify(Object.fromEntries(fields))
  } catch {
    return undefined
  }
}

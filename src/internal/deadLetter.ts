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
 *
 * `offer`, `take` and `drain` change the store first and decide afterwards
 * (`handOver`): an interruption that arrived meanwhile undoes the change
 * (`remove` of the offered entry, `putBack` of the taken ones), so each of
 * them succeeds exactly when its change stands. Slots and tickets follow the
 * decision.
 */
import { Cause, Clock, Effect, Exit, Predicate, Queue, Scheduler, Scope, Semaphore } from "effect"
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
    const releaseLock = lock.release(1)

    const undoFailed = (cause: Cause.Cause<DeadLetterStoreError>) =>
      Effect.logError(`dead-letter queue "${name}": could not undo a change after an interruption or failure`, cause)

    /**
     * Runs `work`, which changed the store (stored or removed entries), then
     * decides: when the fiber was interrupted meanwhile, `back` undoes the
     * change and the interruption is reported; otherwise `commit` settles the
     * bookkeeping and the result is returned. The store's I/O runs
     * uninterruptibly, so an interruption that arrives during it waits for
     * this check; from the check to the return nothing yields (the scheduler
     * is told not to), so no interruption can slip in between. Hence the
     * effect succeeds if and only if the change stands: "handed over" means
     * "returned by this effect".
     */
    const handOver = <X, E>(
      work: (restore: Restore) => Effect.Effect<X, E>,
      back: (x: X) => Effect.Effect<void, DeadLetterStoreError>,
      commit: (x: X) => Effect.Effect<void>
    ): Effect.Effect<X, E> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(
          // the work waits and does I/O: it yields as usual
          Effect.provideService(work(restore), Scheduler.PreventSchedulerYield, false),
          (x) =>
            Effect.matchCauseEffect(restore(Effect.void), {
              onFailure: (interrupted) =>
                Effect.andThen(
                  back(x).pipe(
                    // the interruption is what the caller sees: a store that cannot undo is at least reported
                    Effect.catchCause(undoFailed)
                  ),
                  Effect.failCause(interrupted)
                ),
              onSuccess: () => Effect.as(commit(x), x)
            })
        )
      ).pipe(Effect.provideService(Scheduler.PreventSchedulerYield, true))

    /** Removes an entry that `take` did not claim; `true` if it was there. */
    const removeOther = (id: string) =>
      Effect.flatMap(store.remove(name, id), (removed) =>
        removed ? Effect.as(Effect.andThen(freeSlot, dropTicket), true) : Effect.succeed(false))

    const acquireSlot = (restore: Restore) =>
      whenFull === "fail"
        ? Effect.flatMap(
          slots.takeIfAvailable(1),
          (ok) => ok ? Effect.void : Effect.fail(new DeadLetterQueueFullError({ policy: name, capacity }))
        )
        : takeKept(slots, restore)

    /** Takes a slot and stores the entry; the existing entry (and the slot freed) when its id is stored. */
    const storeEntry = (input: DeadLetterInput<A>, restore: Restore) =>
      Effect.andThen(
        acquireSlot(restore),
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const append = (id: string): Effect.Effect<readonly [DeadLetterEntry<A>, boolean], DeadLetterStoreError> => {
            const entry: DeadLetterEntry<A> = {
              id,
              item: input.item,
              stage: input.stage,
              error: toError(input.cause),
              attempts: input.attempts ?? 1,
              firstFailedAt: input.firstFailedAt ?? now,
              lastFailedAt: now
            }
            return Effect.flatMap(store.append(name, entry), (stored) => {
              if (stored !== entry && input.id === undefined) {
                // a counter id that a producer had chosen: take the next one
                return append(`${name}#${++sequence}`)
              }
              return Effect.succeed([stored as DeadLetterEntry<A>, stored === entry] as const)
            })
          }
          return append(input.id ?? `${name}#${++sequence}`).pipe(
            Effect.onError(() => freeSlot),
            Effect.tap(([entry, isNew]) =>
              isNew
                // emitted before the hand-over check, which must not wait for a listener (so an offer
                // interrupted at that check may have emitted its event)
                ? emit((timestamp) => ResilienceEvent.DeadLettered({ name, timestamp, stage: entry.stage, id: entry.id }))
                : freeSlot
            )
          )
        })
      )

    const offer = (input: DeadLetterInput<A>): Effect.Effect<DeadLetterEntry<A>, DeadLetterQueueFullError | DeadLetterStoreError> =>
      Effect.flatMap(
        input.id === undefined ? Effect.succeed(undefined) : store.get(name, input.id),
        (known) =>
          known !== undefined
            ? Effect.succeed(known as DeadLetterEntry<A>)
            : Effect.map(
              handOver(
                (restore) => storeEntry(input, restore),
                // an interrupted offer stores nothing; if a drain or replay took the entry meanwhile, it
                // accounted for it as for a committed entry (slot freed, a ticket dropped): commit it
                ([entry, isNew]) =>
                  isNew
                    ? Effect.flatMap(store.remove(name, entry.id), (removed) => removed ? freeSlot : giveTicketBack)
                    : Effect.void,
                ([, isNew]) => isNew ? giveTicketBack : Effect.void
              ),
              ([entry]) => entry
            )
      )

    /** Removes the oldest entry (the caller holds the lock); `undefined` when there is none. */
    const removeOldest: Effect.Effect<DeadLetterEntry<A> | undefined, DeadLetterStoreError> = Effect.flatMap(
      store.list(name, { limit: 1 }),
      (oldest) => {
        const entry = oldest[0] as DeadLetterEntry<A> | undefined
        if (entry === undefined) return Effect.succeed(undefined)
        return Effect.flatMap(store.remove(name, entry.id), (removed) => removed ? Effect.succeed(entry) : removeOldest)
      }
    )

    /** Waits for a ticket and the lock, and removes the oldest entry; returns holding the lock. */
    const claim = (restore: Restore): Effect.Effect<DeadLetterEntry<A>, DeadLetterStoreError> =>
      restore(Queue.take(available)).pipe(
        Effect.andThen(takeKept(lock, restore).pipe(Effect.onInterrupt(() => giveTicketBack))),
        Effect.andThen(removeOldest.pipe(Effect.onError(() => Effect.andThen(giveTicketBack, releaseLock)))),
        // a spare ticket (its entry went while this taker held it): wait for the next one
        Effect.flatMap((entry) => entry === undefined ? Effect.andThen(releaseLock, claim(restore)) : Effect.succeed(entry))
      )

    const take = handOver(
      claim,
      (entry) => Effect.andThen(store.putBack(name, [entry]), giveTicketBack).pipe(Effect.ensuring(releaseLock)),
      () => Effect.andThen(freeSlot, releaseLock)
    )

    const entries = store.list(name) as Effect.Effect<
      ReadonlyArray<DeadLetterEntry<A>>,
      DeadLetterStoreError
    >

    /** Removes every entry (holding the lock); on a store failure, puts back those it removed. */
    const removeAll = (restore: Restore): Effect.Effect<ReadonlyArray<DeadLetterEntry<A>>, DeadLetterStoreError> =>
      Effect.andThen(
        takeKept(lock, restore),
        Effect.suspend(() => {
          const removed: Array<DeadLetterEntry<A>> = []
          return entries.pipe(
            Effect.flatMap((all) =>
              Effect.forEach(all, (entry) =>
                Effect.map(store.remove(name, entry.id), (ok) => {
                  if (ok) removed.push(entry)
                }), { discard: true })
            ),
            Effect.as(removed),
            Effect.onError(() =>
              store.putBack(name, removed).pipe(Effect.catchCause(undoFailed), Effect.ensuring(releaseLock))
            )
          )
        })
      )

    const drain = handOver(
      removeAll,
      (removed) => Effect.ensuring(store.putBack(name, removed), releaseLock),
      (removed) =>
        Effect.andThen(
          Effect.forEach(removed, () => Effect.andThen(freeSlot, dropTicket), { discard: true }),
          releaseLock
        )
    )
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

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
 *
 * The store only sees encoded entries (plain JSON with an item schema): the
 * queue encodes on `offer` and decodes what it reads, so a durable store
 * needs no knowledge of items or causes.
 */
import { Cause, Clock, Effect, Exit, Queue, Scheduler, Schema, Scope, Semaphore } from "effect"
import type {
  DeadLetterEntry,
  DeadLetterEntryEncoded,
  DeadLetterError,
  DeadLetterInput,
  DeadLetterQueue,
  DeadLetterStoreShape,
  ReplayOptions,
  ReplayResult,
  WhenFull
} from "../DeadLetterQueue.ts"
import { ResilienceEvent } from "../Events.ts"
import { DeadLetterQueueFullError, DeadLetterStoreError, describeCause } from "./deadLetterErrors.ts"
import { emit } from "./events.ts"

export { describe, describeCause } from "./deadLetterErrors.ts"

export interface Config {
  readonly name: string
  readonly capacity: number
  readonly whenFull: WhenFull
  readonly item: Schema.Codec<any, unknown> | undefined
}

/**
 * Causes cross the store as `Schema.Cause` encodes them to JSON; typed
 * failures are of any type here, so they are encoded like defects.
 */
const causeJson = Schema.toCodecJson(Schema.Cause(Schema.Defect(), Schema.Defect()))
const encodeCauseSync = Schema.encodeSync(causeJson)
const decodeCauseExit = Schema.decodeUnknownExit(causeJson)

/**
 * An encoded entry's `error`, whose `cause` is encoded when first read (an
 * enumerable getter, so `JSON.stringify`, spreads and `structuredClone` see
 * a plain value): a store that keeps the object as it is (the memory store)
 * never pays for an encoding it does not need, which is most of an offer's
 * cost. `Schema.Defect` encodes any value (as a formatted string at worst),
 * so the encoding cannot fail.
 */
const encodedError = (cause: Cause.Cause<unknown>, message: string): DeadLetterEntryEncoded["error"] => {
  let encoded: Schema.Json | undefined
  return {
    get cause() {
      return encoded ??= encodeCauseSync(cause)
    },
    message
  }
}

/**
 * Runs a decoder without capturing stack traces: the `Error`s it rebuilds
 * would only point into the decoder, and capturing them is most of a
 * decode's cost.
 */
const withoutStacks = <X>(f: () => X): X => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return f()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/**
 * Encodes and decodes the entries of one queue. An encoded entry this queue
 * built is remembered with the entry it encodes (weakly): a store that hands
 * back the very object it was given (the memory store) gets the entry as
 * offered, with its exact cause, and no decode is paid; what comes back
 * from elsewhere (a serializing store, another process) is decoded.
 */
const makeCodec = <A>(name: string, item: Schema.Codec<A, unknown> | undefined) => {
  const built = new WeakMap<DeadLetterEntryEncoded, DeadLetterEntry<A>>()
  const remember = (encoded: DeadLetterEntryEncoded, entry: DeadLetterEntry<A>): DeadLetterEntry<A> => {
    built.set(encoded, entry)
    return entry
  }
  const itemJson = item === undefined ? undefined : Schema.toCodecJson(item)
  const encodeItemExit = itemJson === undefined ? undefined : Schema.encodeExit(itemJson)
  const decodeItemExit = itemJson === undefined ? undefined : Schema.decodeUnknownExit(itemJson)
  const failure = (operation: "encode" | "decode", cause: Cause.Cause<unknown>) =>
    Effect.fail(new DeadLetterStoreError({ policy: name, operation, cause: Cause.squash(cause) }))

  /** The item of an offer, encoded. */
  const encode = (input: DeadLetterInput<A>): Effect.Effect<unknown, DeadLetterStoreError> => {
    if (encodeItemExit === undefined) return Effect.succeed(input.item)
    const exit = encodeItemExit(input.item)
    return Exit.isSuccess(exit) ? Effect.succeed(exit.value) : failure("encode", exit.cause)
  }

  /** The entry, or the `Cause` of its decoding failure. */
  const decodeUnsafe = (entry: DeadLetterEntryEncoded): DeadLetterEntry<A> | Cause.Cause<unknown> => {
    const known = built.get(entry)
    if (known !== undefined) return known
    return withoutStacks(() => {
      const itemExit = decodeItemExit === undefined ? Exit.succeed(entry.item as A) : decodeItemExit(entry.item)
      if (Exit.isFailure(itemExit)) return itemExit.cause
      const causeExit = decodeCauseExit(entry.error.cause)
      if (Exit.isFailure(causeExit)) return causeExit.cause
      return { ...entry, item: itemExit.value, error: { cause: causeExit.value, message: entry.error.message } }
    })
  }

  const decode = (entry: DeadLetterEntryEncoded): Effect.Effect<DeadLetterEntry<A>, DeadLetterStoreError> => {
    const decoded = decodeUnsafe(entry)
    return Cause.isCause(decoded) ? failure("decode", decoded) : Effect.succeed(decoded)
  }

  /** Every entry decoded (a plain loop: a drain decodes thousands), or the first failure. */
  const decodeAll = (
    entries: ReadonlyArray<DeadLetterEntryEncoded>
  ): Effect.Effect<Array<DeadLetterEntry<A>>, DeadLetterStoreError> => {
    const out: Array<DeadLetterEntry<A>> = []
    for (const entry of entries) {
      const decoded = decodeUnsafe(entry)
      if (Cause.isCause(decoded)) return failure("decode", decoded)
      out.push(decoded)
    }
    return Effect.succeed(out)
  }

  return { encode, decode, decodeAll, remember }
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

/**
 * `takeKept` of one semaphore, with a fast path: a free permit that nobody
 * waits for is taken at once (`takeIfAvailable`, atomic, not interruptible
 * as the callers run it), skipping the scope that only a wait needs. The
 * waits are counted here, before they queue and until they end, so the fast
 * path never overtakes a waiting fiber: when it took a permit while someone
 * waits, it gives it back and queues too.
 */
const keeper = (semaphore: Semaphore.Semaphore) => {
  let waiting = 0
  const done = Effect.sync(() => void waiting--)
  const wait = (restore: Restore) =>
    Effect.suspend(() => {
      waiting++
      return Effect.ensuring(takeKept(semaphore, restore), done)
    })
  return (restore: Restore): Effect.Effect<void> =>
    Effect.flatMap(semaphore.takeIfAvailable(1), (taken) =>
      !taken
        ? wait(restore)
        : waiting === 0
        ? Effect.void
        : Effect.andThen(semaphore.release(1), wait(restore)))
}

export const make = Effect.fnUntraced(
  function*<A>(config: Config, store: DeadLetterStoreShape, typeId: "~effect-resilience/DeadLetterQueue") {
    const { capacity, name, whenFull } = config
    const codec = makeCodec<A>(name, config.item)
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
    const takeLock = keeper(lock)
    const takeSlot = keeper(slots)

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
    const rejected = emit((timestamp) => ResilienceEvent.DeadLetterRejected({ name, timestamp, capacity }))

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
          (ok) =>
            ok ? Effect.void : Effect.andThen(rejected, Effect.fail(new DeadLetterQueueFullError({ policy: name, capacity })))
        )
        : takeSlot(restore)

    /**
     * Takes a slot and stores the entry (`item` encoded). Returns the entry and whether it is
     * new; the entry held (and the slot freed) when its id is stored.
     */
    const storeEntry = (input: DeadLetterInput<A>, item: unknown, restore: Restore) =>
      Effect.andThen(
        acquireSlot(restore),
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const error = toError(input.cause)
          const append = (
            id: string
          ): Effect.Effect<readonly [DeadLetterEntry<A>, boolean], DeadLetterStoreError> => {
            const encoded: DeadLetterEntryEncoded = {
              id,
              item,
              stage: input.stage,
              error: encodedError(input.cause, error.message),
              attempts: input.attempts ?? 1,
              firstFailedAt: input.firstFailedAt ?? now,
              lastFailedAt: now
            }
            return Effect.flatMap(store.append(name, encoded), (stored) => {
              if (stored === undefined) {
                return Effect.succeed([codec.remember(encoded, { ...encoded, item: input.item, error }), true] as const)
              }
              // a counter id that a producer had chosen: take the next one
              if (input.id === undefined) return append(`${name}#${++sequence}`)
              return Effect.map(codec.decode(stored), (held) => [held, false] as const)
            })
          }
          return append(input.id ?? `${name}#${++sequence}`).pipe(
            Effect.onError(() => freeSlot),
            Effect.tap(([, isNew]) => isNew ? Effect.void : freeSlot)
          )
        })
      )

    const offer = (input: DeadLetterInput<A>): Effect.Effect<DeadLetterEntry<A>, DeadLetterQueueFullError | DeadLetterStoreError> =>
      Effect.flatMap(
        input.id === undefined ? Effect.succeed(undefined) : store.get(name, input.id),
        (known) =>
          known !== undefined
            ? codec.decode(known)
            : Effect.flatMap(codec.encode(input), (encoded) =>
              Effect.map(
                handOver(
                  (restore) => storeEntry(input, encoded, restore),
                  // an interrupted offer stores nothing; if a drain or replay took the entry meanwhile, it
                  // accounted for it as for a committed entry (slot freed, a ticket dropped): commit it
                  ([entry, isNew]) =>
                    isNew
                      ? Effect.flatMap(store.remove(name, entry.id), (removed) => removed ? freeSlot : giveTicketBack)
                      : Effect.void,
                  // the event only for an offer that stands: emitted after the check, so a listener
                  // must not suspend (it runs where an interruption cannot be let in)
                  ([entry, isNew]) =>
                    isNew
                      ? Effect.andThen(
                        giveTicketBack,
                        emit((timestamp) => ResilienceEvent.DeadLettered({ name, timestamp, stage: entry.stage, id: entry.id }))
                      )
                      : Effect.void
                ),
                ([entry]) => entry
              ))
      )

    type Claimed = readonly [DeadLetterEntryEncoded, DeadLetterEntry<A>]

    /**
     * Removes the oldest entry (the caller holds the lock); `undefined` when there is none. The
     * entry is decoded before it is removed: one that does not decode stays in place.
     */
    const removeOldest: Effect.Effect<Claimed | undefined, DeadLetterStoreError> = Effect.flatMap(
      store.list(name, { limit: 1 }),
      (oldest) => {
        const encoded = oldest[0]
        if (encoded === undefined) return Effect.succeed(undefined)
        return Effect.flatMap(codec.decode(encoded), (entry) =>
          Effect.flatMap(
            store.remove(name, encoded.id),
            (removed) => removed ? Effect.succeed([encoded, entry] as const) : removeOldest
          ))
      }
    )

    /** Waits for a ticket and the lock, and removes the oldest entry; returns holding the lock. */
    const claim = (restore: Restore): Effect.Effect<Claimed, DeadLetterStoreError> =>
      restore(Queue.take(available)).pipe(
        Effect.andThen(takeLock(restore).pipe(Effect.onInterrupt(() => giveTicketBack))),
        Effect.andThen(removeOldest.pipe(Effect.onError(() => Effect.andThen(giveTicketBack, releaseLock)))),
        // a spare ticket (its entry went while this taker held it): wait for the next one
        Effect.flatMap((claimed) =>
          claimed === undefined ? Effect.andThen(releaseLock, claim(restore)) : Effect.succeed(claimed)
        )
      )

    const take = Effect.map(
      handOver(
        claim,
        ([encoded]) => Effect.andThen(store.putBack(name, [encoded]), giveTicketBack).pipe(Effect.ensuring(releaseLock)),
        () => Effect.andThen(freeSlot, releaseLock)
      ),
      ([, entry]) => entry
    )

    const entries = Effect.flatMap(store.list(name), codec.decodeAll)

    /**
     * Removes every entry (holding the lock), all decoded first: one that does not decode fails
     * the drain, which then removed nothing. On a store failure, puts back those it removed.
     */
    const removeAll = (restore: Restore): Effect.Effect<ReadonlyArray<Claimed>, DeadLetterStoreError> =>
      Effect.andThen(
        takeLock(restore),
        Effect.suspend(() => {
          const removed: Array<Claimed> = []
          return store.list(name).pipe(
            Effect.flatMap((all) =>
              Effect.flatMap(codec.decodeAll(all), (decoded) =>
                Effect.forEach(all, (encoded, i) =>
                  Effect.map(store.remove(name, encoded.id), (ok) => {
                    if (ok) removed.push([encoded, decoded[i]!])
                  }), { discard: true }))
            ),
            Effect.as(removed),
            Effect.onError(() =>
              store.putBack(name, removed.map(([encoded]) => encoded)).pipe(
                Effect.catchCause(undoFailed),
                Effect.ensuring(releaseLock)
              )
            )
          )
        })
      )

    const drain = Effect.map(
      handOver(
        removeAll,
        (removed) => Effect.ensuring(store.putBack(name, removed.map(([encoded]) => encoded)), releaseLock),
        (removed) =>
          Effect.andThen(
            Effect.forEach(removed, () => Effect.andThen(freeSlot, dropTicket), { discard: true }),
            releaseLock
          )
      ),
      (removed) => removed.map(([, entry]) => entry)
    )

    const replay = <E, R, E2 = E, R2 = R>(
      handler: (item: A, entry: DeadLetterEntry<A>) => Effect.Effect<unknown, E, R>,
      options?: ReplayOptions<E, R, E2, R2>
    ) =>
      lock.withPermit(Effect.gen(function*() {
        const snapshot = yield* store.list(name)
        // all decoded before any handler runs: an entry that does not decode fails the replay unchanged
        const decoded = yield* codec.decodeAll(snapshot)
        let replayed = 0
        let failedAgain = 0
        for (let i = 0; i < snapshot.length; i++) {
          const encoded = snapshot[i]!
          const entry = decoded[i]!
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
            const error = toError(exit.cause)
            const again: DeadLetterEntryEncoded = {
              ...encoded,
              error: encodedError(exit.cause, error.message),
              attempts: encoded.attempts + 1,
              lastFailedAt: now
            }
            codec.remember(again, { ...entry, error, attempts: again.attempts, lastFailedAt: now })
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
  }
)

export const toError = (cause: Cause.Cause<unknown>): DeadLetterError => ({ cause, message: describeCause(cause) })

/**
 * Fallback machinery: the `orElse` and `chain` loops, and the pure decision
 * of `lastKnownGood` (serve a cached value or not), kept apart from the
 * effectful shell so that tests can drive it directly.
 */
import { Effect } from "effect"
import { ResilienceEvent } from "../Events.ts"
import { emit } from "./events.ts"
import * as Lru from "./lru.ts"

// -----------------------------------------------------------------------------
// orElse and chain
// -----------------------------------------------------------------------------

export const orElse = <A, E, R, A2, E2, R2>(
  self: Effect.Effect<A, E, R>,
  name: string,
  fallback: (error: E) => Effect.Effect<A2, E2, R2>,
  when: ((error: E) => boolean) | undefined
): Effect.Effect<A | A2, E | E2, R | R2> =>
  Effect.catch(self, (error): Effect.Effect<A2, E | E2, R2> => {
    if (when !== undefined && !when(error)) return Effect.fail(error)
    return Effect.andThen(
      emit((timestamp) => ResilienceEvent.FallbackUsed({ name, timestamp, source: "fallback", error })),
      Effect.suspend(() => fallback(error))
    )
  })

/** The `source` reported when alternative `index` (0-based) of a chain answers. */
export const chainSource = (index: number): string => `chain:${index + 1}`

export const chain = <A, E, R, X>(
  effects: ReadonlyArray<Effect.Effect<A, E, R>>,
  name: string,
  exhausted: (failures: ReadonlyArray<E>) => X
): Effect.Effect<A, X, R> => {
  const step = (index: number, failures: ReadonlyArray<E>): Effect.Effect<A, X, R> =>
    Effect.catch(effects[index]!, (error) => {
      const all = [...failures, error]
      if (index + 1 >= effects.length) return Effect.fail(exhausted(all))
      return Effect.andThen(
        emit((timestamp) => ResilienceEvent.FallbackUsed({ name, timestamp, source: chainSource(index + 1), error })),
        step(index + 1, all)
      )
    })
  return step(0, [])
}

// -----------------------------------------------------------------------------
// lastKnownGood: the pure part
// -----------------------------------------------------------------------------

export interface Entry<A> {
  readonly value: A
  /** Clock time of the success that stored it, in milliseconds. */
  readonly storedAt: number
}

export interface LkgConfig {
  readonly name: string
  readonly ttlMillis: number
  readonly capacity: number
}

/** What to do with a cached entry after the live call failed. */
export type Decision<A> =
  | { readonly _tag: "Serve"; readonly value: A; readonly ageMillis: number }
  | { readonly _tag: "Miss" }
  | { readonly _tag: "Expired"; readonly ageMillis: number }

/**
 * An entry is served while its age is below `ttl`; from `ttl` on it is
 * expired. A clock that went backwards gives an age of 0, not a negative one.
 */
export const decide = <A>(entry: Entry<A> | undefined, now: number, ttlMillis: number): Decision<A> => {
  if (entry === undefined) return miss
  const ageMillis = Math.max(0, now - entry.storedAt)
  return ageMillis < ttlMillis ? { _tag: "Serve", value: entry.value, ageMillis } : { _tag: "Expired", ageMillis }
}

const miss: Decision<never> = { _tag: "Miss" }

/** Records a live success. Returns the evicted key, if the cache overflowed. */
export const store = <K, A>(cache: Lru.Lru<K, Entry<A>>, key: K, value: A, now: number): K | undefined => {
  const evicted = Lru.set(cache, key, { value, storedAt: now })
  return evicted === undefined ? undefined : evicted[0]
}

/**
 * Looks up `key` after a live failure: a fresh entry is marked as recently
 * used and served, an expired one is removed.
 */
export const lookup = <K, A>(
  cache: Lru.Lru<K, Entry<A>>,
  key: K,
  now: number,
  ttlMillis: number
): Decision<A> => {
  const decision = decide(Lru.peek(cache, key), now, ttlMillis)
  if (decision._tag === "Serve") Lru.get(cache, key)
  else if (decision._tag === "Expired") Lru.remove(cache, key)
  return decision
}

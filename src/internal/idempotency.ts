/**
 * Idempotency's decision logic, free of effects: given the state, a key and
 * the time, decide whether a call runs, joins the call already running for
 * its key, or reads a stored result; and settle a finished run.
 *
 * Running calls and stored results are kept apart: `inflight` holds one
 * waiter per running key (bounded by the number of running fibers, and never
 * evicted, so a duplicate can never start a second run); `results` is an LRU
 * of successes, bounded by `capacity`, each with its expiry time.
 *
 * The state is mutated in place, synchronously: a caller that runs one of
 * these functions inside `Effect.sync` changes it atomically with respect to
 * other fibers.
 */
import * as Lru from "./lru.ts"

export interface Stored {
  readonly value: unknown
  readonly expiresAt: number
}

export interface State<W> {
  readonly ttlMillis: number
  readonly inflight: Map<string, W>
  readonly results: Lru.Lru<string, Stored>
}

export type Decision<W> =
  | { readonly _tag: "Run"; readonly waiter: W }
  | { readonly _tag: "Join"; readonly waiter: W }
  | { readonly _tag: "Hit"; readonly value: unknown }

export const make = <W>(capacity: number, ttlMillis: number): State<W> => ({
  ttlMillis,
  inflight: new Map(),
  results: Lru.make(capacity)
})

/** Join a running call, read a live stored result, or register a new run (with a waiter from `makeWaiter`). */
export const decide = <W>(state: State<W>, key: string, now: number, makeWaiter: () => W): Decision<W> => {
  const running = state.inflight.get(key)
  if (running !== undefined) return { _tag: "Join", waiter: running }
  const stored = Lru.get(state.results, key)
  if (stored !== undefined) {
    if (stored.expiresAt > now) return { _tag: "Hit", value: stored.value }
    Lru.remove(state.results, key)
  }
  const waiter = makeWaiter()
  state.inflight.set(key, waiter)
  return { _tag: "Run", waiter }
}

/**
 * Ends the run registered with `waiter`: it is no longer running, and a
 * success (`success` set) is stored until `now + ttl`, evicting the least
 * recently used result when full. A failure stores nothing.
 */
export const settle = <W>(
  state: State<W>,
  key: string,
  waiter: W,
  success: { readonly value: unknown } | undefined,
  now: number
): void => {
  if (state.inflight.get(key) === waiter) state.inflight.delete(key)
  if (success !== undefined) {
    Lru.set(state.results, key, { value: success.value, expiresAt: now + state.ttlMillis })
  }
}

/** Forgets the stored result of `key`; `true` if there was one. */
export const invalidate = <W>(state: State<W>, key: string): boolean => Lru.remove(state.results, key)

/** Drops expired results and returns how many live ones remain. */
export const size = <W>(state: State<W>, now: number): number => {
  for (const key of Lru.keys(state.results)) {
    const stored = Lru.peek(state.results, key)
    if (stored !== undefined && stored.expiresAt <= now) Lru.remove(state.results, key)
  }
  return Lru.size(state.results)
}

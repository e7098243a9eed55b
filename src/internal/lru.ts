/**
 * A bounded map that evicts its least-recently-used entry: a plain data
 * structure with no effects, shared by the modules that keep keyed entries
 * (`Fallback.lastKnownGood`, and later `Idempotency`).
 *
 * It is built on a `Map`, whose iteration order is insertion order: a use
 * moves the key to the end (delete + set), so the first key is always the
 * least recently used one. Every operation is O(1) and synchronous, so a
 * caller that runs one inside `Effect.sync` changes it atomically with
 * respect to other fibers.
 */

export interface Lru<K, V> {
  readonly capacity: number
  /** @internal the entries, least recently used first */
  readonly map: Map<K, V>
}

/** An empty LRU holding at most `capacity` entries (an integer >= 1, validated by the caller). */
export const make = <K, V>(capacity: number): Lru<K, V> => ({ capacity, map: new Map() })

/** The value under `key`, marked as the most recently used; `undefined` when absent. */
export const get = <K, V>(self: Lru<K, V>, key: K): V | undefined => {
  const map = self.map
  if (!map.has(key)) return undefined
  const value = map.get(key) as V
  map.delete(key)
  map.set(key, value)
  return value
}

/** The value under `key` without changing its recency. */
export const peek = <K, V>(self: Lru<K, V>, key: K): V | undefined => self.map.get(key)

export const has = <K, V>(self: Lru<K, V>, key: K): boolean => self.map.has(key)

/**
 * Stores `value` under `key` as the most recently used entry. When that
 * makes the LRU overflow, the least recently used entry is removed and
 * returned.
 */
export const set = <K, V>(self: Lru<K, V>, key: K, value: V): readonly [K, V] | undefined => {
  const map = self.map
  if (map.has(key)) {
    map.delete(key)
    map.set(key, value)
    return undefined
  }
  map.set(key, value)
  if (map.size <= self.capacity) return undefined
  const oldest = map.keys().next().value as K
  const evicted = map.get(oldest) as V
  map.delete(oldest)
  return [oldest, evicted]
}

/** Removes `key`; `true` if it was present. */
export const remove = <K, V>(self: Lru<K, V>, key: K): boolean => self.map.delete(key)

export const clear = <K, V>(self: Lru<K, V>): void => self.map.clear()

export const size = <K, V>(self: Lru<K, V>): number => self.map.size

/** The keys, least recently used first. */
export const keys = <K, V>(self: Lru<K, V>): Array<K> => Array.from(self.map.keys())

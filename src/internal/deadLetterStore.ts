/**
 * The in-memory `DeadLetterStore`: one insertion-ordered `Map` of entries per
 * queue name. A `Map` keeps insertion order, and `set` on an existing key
 * keeps the key's position, so `update` leaves an entry where it was and
 * `list` is always oldest first. Every operation is synchronous, hence atomic
 * with respect to other fibers.
 */
import { Effect } from "effect"
import type { DeadLetterEntryEncoded, DeadLetterStoreShape } from "../DeadLetterQueue.ts"

export const makeMemory = (): DeadLetterStoreShape => {
  const queues = new Map<string, Map<string, DeadLetterEntryEncoded>>()
  const queue = (name: string) => {
    let entries = queues.get(name)
    if (entries === undefined) {
      entries = new Map()
      queues.set(name, entries)
    }
    return entries
  }
  return {
    durable: false,
    append: (name, entry) =>
      Effect.sync(() => {
        const entries = queue(name)
        const existing = entries.get(entry.id)
        if (existing !== undefined) return existing
        entries.set(entry.id, entry)
        return undefined
      }),
    get: (name, id) => Effect.sync(() => queue(name).get(id)),
    update: (name, entry) =>
      Effect.sync(() => {
        const entries = queue(name)
        if (!entries.has(entry.id)) return false
        entries.set(entry.id, entry)
        return true
      }),
    list: (name, options) =>
      Effect.sync(() => {
        const limit = options?.limit ?? Infinity
        const out: Array<DeadLetterEntryEncoded> = []
        if (limit <= 0) return out
        for (const entry of queue(name).values()) {
          out.push(entry)
          if (out.length >= limit) break
        }
        return out
      }),
    remove: (name, id) => Effect.sync(() => queue(name).delete(id)),
    // rare (an interrupted take or drain): rebuilding the Map is the simple way to insert in front
    putBack: (name, back) =>
      Effect.sync(() => {
        const entries = queue(name)
        const front = back.filter((entry) => !entries.has(entry.id)).map((entry) => [entry.id, entry] as const)
        if (front.length > 0) queues.set(name, new Map([...front, ...entries]))
      }),
    count: (name) => Effect.sync(() => queue(name).size)
  }
}

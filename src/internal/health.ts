/**
 * Reads the policy registry into the blocks of `/health` (and the gauges of
 * `Telemetry`): breaker states, bulkhead counters, dead-letter queue sizes.
 *
 * Registry entries are plain data (`Registry.Entry.snapshot`); this module
 * knows the shapes of the kinds the library registers.
 */
import { Effect, Predicate } from "effect"
import * as Registry from "../Registry.ts"
import { breakerStateLabel } from "./instrument.ts"

/** Kinds of registry entries read here. */
export const kinds = {
  policy: "policy",
  circuitBreaker: "circuit-breaker",
  bulkhead: "bulkhead",
  deadLetterQueue: "dead-letter-queue"
} as const

export interface BulkheadView {
  readonly active: number
  readonly queued: number
  readonly available: number
  readonly rejected: number
  readonly max_concurrent: number
  readonly max_queue: number
}

export interface DeadLetterQueueView {
  /** `null` when the store could not be read. */
  readonly size: number | null
  readonly capacity: number
}

export interface View {
  readonly breakers: Record<string, string>
  readonly bulkheads: Record<string, BulkheadView>
  readonly deadLetterQueues: Record<string, DeadLetterQueueView>
}

const breakerOf = (stats: unknown): string | undefined =>
  Predicate.hasProperty(stats, "state") && Predicate.hasProperty(stats.state, "_tag") && typeof stats.state._tag === "string"
    ? breakerStateLabel(stats.state._tag)
    : undefined

const num = (value: unknown): number => (typeof value === "number" ? value : 0)

const bulkheadOf = (stats: unknown): BulkheadView | undefined =>
  Predicate.hasProperty(stats, "active") && Predicate.hasProperty(stats, "maxConcurrent")
    ? {
      active: num(stats.active),
      queued: Predicate.hasProperty(stats, "queued") ? num(stats.queued) : 0,
      available: Predicate.hasProperty(stats, "available") ? num(stats.available) : 0,
      rejected: Predicate.hasProperty(stats, "rejected") ? num(stats.rejected) : 0,
      max_concurrent: num(stats.maxConcurrent),
      max_queue: Predicate.hasProperty(stats, "maxQueue") ? num(stats.maxQueue) : 0
    }
    : undefined

const deadLetterQueueOf = (state: unknown): DeadLetterQueueView | undefined =>
  Predicate.hasProperty(state, "capacity")
    ? {
      size: Predicate.hasProperty(state, "size") && typeof state.size === "number" ? state.size : null,
      capacity: num(state.capacity)
    }
    : undefined

/** The registry's live entries, sorted into blocks (by name; a later entry of the same name wins). */
export const view: Effect.Effect<View, never, Registry.PolicyRegistry> = Effect.map(Registry.snapshot, (entries) => {
  const breakers: Record<string, string> = {}
  const bulkheads: Record<string, BulkheadView> = {}
  const deadLetterQueues: Record<string, DeadLetterQueueView> = {}
  for (const { kind, name, state } of entries) {
    switch (kind) {
      case kinds.policy: {
        if (!Predicate.isObject(state)) break
        const breaker = Predicate.hasProperty(state, "circuitBreaker") ? breakerOf(state.circuitBreaker) : undefined
        if (breaker !== undefined) breakers[name] = breaker
        const bulkhead = Predicate.hasProperty(state, "bulkhead") ? bulkheadOf(state.bulkhead) : undefined
        if (bulkhead !== undefined) bulkheads[name] = bulkhead
        break
      }
      case kinds.circuitBreaker: {
        const breaker = breakerOf(state)
        if (breaker !== undefined) breakers[name] = breaker
        break
      }
      case kinds.bulkhead: {
        const bulkhead = bulkheadOf(state)
        if (bulkhead !== undefined) bulkheads[name] = bulkhead
        break
      }
      case kinds.deadLetterQueue: {
        const queue = deadLetterQueueOf(state)
        if (queue !== undefined) deadLetterQueues[name] = queue
        break
      }
    }
  }
  return { breakers, bulkheads, deadLetterQueues }
})

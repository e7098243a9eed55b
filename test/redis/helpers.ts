/**
 * The one home of the Redis test helpers: the shared server's port, a
 * `describe` that skips (loudly) without redis-server, the client layer, a
 * replica of a rate-limited service, a server to stop and restart, and
 * unique key prefixes so tests sharing one server never see each other's keys.
 */
import { randomUUID } from "node:crypto"
import { describe, inject } from "vitest"
import { installCommand } from "./server.ts"

export {
  type AccuracyRun,
  childReplica,
  layerRedis,
  measureAccuracy,
  replica,
  type ReplicaOptions,
  type ReplicaResult,
  type RunWindow
} from "./replica.ts"
export { type RedisServer, startRedisServer } from "./server.ts"
export {
  type BreakerReplica,
  type BreakerReplicaOptions,
  call,
  childBreakerReplica,
  layerBreakerStore,
  makeBreaker,
  waitOpen
} from "./breakerReplica.ts"

/** Port of the shared redis-server started by test/redis/globalSetup.ts, or null. */
export const redisPort: number | null = inject("redisPort")

/** `describe` for suites that need Redis: skipped, with the install command in its name, when there is none. */
export const describeRedis = (name: string, body: () => void): void => {
  if (redisPort === null) describe.skip(`${name} [SKIPPED: redis-server missing; ${installCommand}]`, body)
  else describe(name, body)
}

/** The shared server's port; only call it inside a {@link describeRedis} body's tests. */
export const port = (): number => {
  if (redisPort === null) throw new Error(`redis-server missing; ${installCommand}`)
  return redisPort
}

/** A key prefix no other test uses. */
export const uniquePrefix = (): string => `test:${randomUUID()}:`

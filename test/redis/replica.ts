/**
 * One replica of a service for the shared rate-limit tests: its own Redis
 * client, its own store and its own `Policy`, offering calls at a steady pace
 * through a `fixed-window` rate limit shared through Redis. Used in-process
 * (each replica its own layers, clients and policy) and as a child process:
 *
 *   node --import tsx test/redis/replica.ts <port> <prefix> <from> <until> <everyMillis> <limit>
 *
 * prints `{"admitted":n,"rejected":m}` (times are epoch ms, real clock).
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Clock, Effect, Exit } from "effect"
import { fileURLToPath } from "node:url"
import { Policy } from "../../src/index.ts"
import * as Redis from "../../src/Redis.ts"

/**
 * `Redis` (effect/persistence) and `NodeRedis` on 127.0.0.1:`port`. The
 * reconnect delay is capped at 100 ms so fault tests see the server return
 * quickly.
 */
export const layerRedis = (port: number) =>
  NodeRedis.layer({
    socket: {
      host: "127.0.0.1",
      port,
      connectTimeout: 1_000,
      reconnectStrategy: (retries: number) => Math.min(10 * 2 ** retries, 100)
    }
  })

export interface ReplicaOptions {
  readonly port: number
  readonly prefix: string
  /** Epoch ms of the first call and the end of the run (no call starts at or after `until`). */
  readonly from: number
  readonly until: number
  readonly everyMillis: number
  readonly limit: number
}

export interface ReplicaResult {
  readonly admitted: number
  readonly rejected: number
}

/** The shared policy: `limit` calls per 1 s fixed window, named "shared" (the key in Redis). */
export const replica = (options: ReplicaOptions): Effect.Effect<ReplicaResult, unknown> =>
  Effect.gen(function*() {
    const policy = yield* Policy.make({
      name: "shared",
      rateLimit: { limit: options.limit, window: "1 second", algorithm: "fixed-window" }
    })
    let admitted = 0
    let rejected = 0
    let next = options.from
    while (next < options.until) {
      const now = yield* Clock.currentTimeMillis
      if (next > now) yield* Effect.sleep(next - now)
      const exit = yield* Effect.exit(policy.execute(Effect.void))
      if (Exit.isSuccess(exit)) admitted++
      else rejected++
      next += options.everyMillis
    }
    return { admitted, rejected }
  }).pipe(
    Effect.scoped,
    Effect.provide(Redis.layerRateLimiterStore({ prefix: options.prefix })),
    Effect.provide(layerRedis(options.port))
  )

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [port, prefix, from, until, everyMillis, limit] = process.argv.slice(2)
  Effect.runPromise(replica({
    port: Number(port),
    prefix: prefix!,
    from: Number(from),
    until: Number(until),
    everyMillis: Number(everyMillis),
    limit: Number(limit)
  })).then(
    (result) => console.log(JSON.stringify(result)),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

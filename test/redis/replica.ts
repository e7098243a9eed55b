/**
 * One replica of a service for the shared rate-limit tests: its own Redis
 * client, its own store and its own `Policy`, offering calls at a steady pace
 * through a `fixed-window` rate limit shared through Redis. Used in-process
 * (each replica its own layers, clients and policy) and as a child process:
 *
 *   node --import tsx test/redis/replica.ts <port> <prefix> <everyMillis> <workers> <limit> <timeoutMillis>
 *
 * prints `ready` once connected, reads `<from> <until>` (epoch ms) from stdin,
 * runs, and prints `{"admitted":n,"rejected":m}`.
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
  /** Each worker offers one call every `everyMillis`. */
  readonly everyMillis: number
  /** Concurrent callers in the replica (a loaded machine slows each call; several callers keep the demand up). */
  readonly workers: number
  readonly limit: number
  /** The store's timeout (ms). */
  readonly timeoutMillis: number
}

/** The run: calls start at or after `from` and before `until` (epoch ms, real clock). */
export interface RunWindow {
  readonly from: number
  readonly until: number
}

export interface ReplicaResult {
  readonly admitted: number
  readonly rejected: number
}

/**
 * Builds the replica (connects, loads the script with a warm-up call on
 * another key), then runs `ready`, which announces it and answers the run's
 * window. The shared policy: `limit` calls per 1 s fixed window, named
 * "shared" (its key in Redis).
 */
export const replica = (options: ReplicaOptions, ready: Effect.Effect<RunWindow>): Effect.Effect<ReplicaResult, unknown> =>
  Effect.gen(function*() {
    const rateLimit = { limit: options.limit, window: "1 second", algorithm: "fixed-window" } as const
    const policy = yield* Policy.make({ name: "shared", rateLimit })
    const warmUp = yield* Policy.make({ name: "warm-up", rateLimit: { ...rateLimit, limit: 1_000_000 } })
    yield* warmUp.execute(Effect.void)
    const { from, until } = yield* ready
    let admitted = 0
    let rejected = 0
    const worker = (offset: number) =>
      Effect.gen(function*() {
        let next = from + offset
        while (true) {
          const now = yield* Clock.currentTimeMillis
          if (next > now) yield* Effect.sleep(next - now)
          // A late worker (a stalled event loop) skips the slots it missed instead of catching up after `until`.
          const at = yield* Clock.currentTimeMillis
          if (at >= until) return
          const exit = yield* Effect.exit(policy.execute(Effect.void))
          if (Exit.isSuccess(exit)) admitted++
          else rejected++
          next = Math.max(next + options.everyMillis, at)
        }
      })
    yield* Effect.forEach(
      Array.from({ length: options.workers }, (_, i) => Math.floor((i * options.everyMillis) / options.workers)),
      worker,
      { concurrency: "unbounded", discard: true }
    )
    return { admitted, rejected }
  }).pipe(
    Effect.scoped,
    Effect.provide(Redis.layerRateLimiterStore({ prefix: options.prefix, timeout: options.timeoutMillis })),
    Effect.provide(layerRedis(options.port))
  )

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [port, prefix, everyMillis, workers, limit, timeoutMillis] = process.argv.slice(2).map((arg, i) =>
    i === 1 ? arg : Number(arg)
  ) as [number, string, number, number, number, number]
  const ready = Effect.callback<RunWindow>((resume) => {
    process.stdin.once("data", (data) => {
      const [from, until] = data.toString().trim().split(" ").map(Number)
      resume(Effect.succeed({ from: from!, until: until! }))
    })
    console.log("ready")
  })
  Effect.runPromise(replica({ port, prefix, everyMillis, workers, limit, timeoutMillis }, ready)).then(
    (result) => {
      console.log(JSON.stringify(result))
      process.exit(0)
    },
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

/**
 * Issue 15: rate limits shared through Redis. The cost of a rate-limited call
 * on the Redis store (one loopback round trip) next to the memory store, and
 * the accuracy of 3 replicas sharing 100 calls/s over 5 s. Needs redis-server
 * (started here on a free port); without it, says so and skips.
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { Policy } from "../src/index.ts"
import * as Redis from "../src/Redis.ts"
import { layerRedis, measureAccuracy } from "../test/redis/replica.ts"
import { findRedisServer, installCommand, startRedisServer } from "../test/redis/server.ts"
import { loop, suite } from "./harness.ts"

const N = 100

export const run = async (): Promise<void> => {
  if (findRedisServer() === undefined) {
    console.log(`\n## Redis\n\nskipped: redis-server is not installed (${installCommand})`)
    return
  }
  const server = await startRedisServer()
  const scope = Effect.runSync(Scope.make())
  try {
    const redisLayer = layerRedis(server.port)
    const shared = await Effect.runPromise(
      Layer.buildWithScope(Redis.layerRateLimiterStore({ prefix: "bench:" }).pipe(Layer.provideMerge(redisLayer)), scope)
    )
    const rateLimit = { limit: 1_000_000_000, window: "1 second", algorithm: "fixed-window" } as const
    const memory = await Effect.runPromise(Scope.provide(scope)(Policy.make({ name: "memory", rateLimit })))
    const redis = await Effect.runPromise(
      Scope.provide(scope)(Policy.make({ name: "redis", rateLimit })).pipe(Effect.provide(shared))
    )
    const call = Effect.succeed(1)
    await suite("Rate limit: memory store vs Redis store (loopback, sequential calls)", [
      { name: "memory store", fn: () => Effect.runPromise(loop(memory.execute(call), N)), units: N },
      { name: "Redis store", fn: () => Effect.runPromise(loop(redis.execute(call), N)), units: N }
    ], { baseline: "memory store" })

    const accuracy = await Effect.runPromise(measureAccuracy({
      port: server.port,
      prefix: "bench-accuracy:",
      everyMillis: 12,
      workers: 4,
      limit: 100,
      timeoutMillis: 2_000,
      inProcess: 2,
      children: 1,
      seconds: 5
    }).pipe(Effect.provide(redisLayer)))
    const inRun = accuracy.counts.slice(0, 5)
    const total = inRun.reduce((a, b) => a + b, 0)
    console.log("\n## Rate limit: 3 replicas (2 in-process, 1 child process) sharing 100 calls/s for 5 s\n")
    console.log("| offered | admitted per 1 s window | admitted/s | most in one window |")
    console.log("|---:|---|---:|---:|")
    console.log(`| ${accuracy.offered} | ${inRun.join(", ")} | ${(total / 5).toFixed(1)} | ${Math.max(...accuracy.counts)} |`)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await server.dispose()
  }
}

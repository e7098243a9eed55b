/**
 * Issue 15: state shared through Redis.
 *
 * - Circuit breakers: the success path of a breaker on the shared Redis store
 *   next to the in-memory breaker (target <= 2x) and to Effect's
 *   `effect/persistence` breaker on its Redis store (target <= 0.1x: one
 *   round trip per call there, none here), all in the same run; then trip
 *   propagation across 3 replicas (each its own Redis client and store).
 * - Rate limits: the cost of a rate-limited call on the Redis store (one
 *   loopback round trip) next to the memory store, and the accuracy of 3
 *   replicas sharing 100 calls/s over 5 s.
 *
 * Needs redis-server (started here on a free port); without it, says so and skips.
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { CircuitBreaker as EffectCircuitBreaker } from "effect/persistence"
import { CircuitBreaker, Policy } from "../src/index.ts"
import * as Redis from "../src/Redis.ts"
import { layerRedis, measureAccuracy } from "../test/redis/replica.ts"
import { findRedisServer, installCommand, startRedisServer } from "../test/redis/server.ts"
import { byName, loop, ratio, suite, target } from "./harness.ts"

/** Trip propagation trials (one key each). */
const TRIALS = 60

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

/**
 * Three replicas of one keyed breaker, each with its own Redis client and
 * store: per trial, every replica uses a fresh key, replica 0 fails once on
 * it (`consecutive(1)`), and the others poll their local view of it until it
 * rejects. Answers each trial's slowest replica, in ms after the failure.
 */
const propagation = (port: number, scope: Scope.Scope) =>
  Effect.gen(function*() {
    const replicas = yield* Effect.forEach([0, 1, 2], () =>
      Layer.buildWithScope(
        CircuitBreaker.layerStoreRedis({ prefix: "bench-propagation:" }).pipe(Layer.provide(layerRedis(port))),
        scope
      ).pipe(
        Effect.flatMap((context) =>
          CircuitBreaker.keyed({ name: "shared", policy: CircuitBreaker.consecutive(1) }).pipe(Effect.provide(context))
        )
      ))
    const samples: Array<number> = []
    for (let trial = 0; trial < TRIALS; trial++) {
      const key = `k${trial}`
      yield* Effect.forEach(replicas, (breaker) => breaker.execute(Effect.void, key))
      // Every replica has read the shared (Closed) state once.
      yield* Effect.sleep(120)
      const failedAt = yield* Effect.flip(replicas[0]!.execute(Effect.fail("boom"), key)).pipe(
        Effect.map(() => performance.now())
      )
      const seen = yield* Effect.forEach(replicas.slice(1), (breaker) =>
        Effect.gen(function*() {
          while ((yield* breaker.state(key))._tag !== "Open") yield* Effect.yieldNow
          return performance.now() - failedAt
        }).pipe(Effect.timeout("5 seconds")), { concurrency: "unbounded" })
      samples.push(Math.max(...seen))
    }
    return samples.sort((a, b) => a - b)
  })

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

    // Circuit breakers: the Closed success path, sequential calls.
    const ourRedis = Context.get(
      await Effect.runPromise(Layer.buildWithScope(
        CircuitBreaker.layerStoreRedis({ prefix: "bench-breaker:" }).pipe(Layer.provide(redisLayer)),
        scope
      )),
      CircuitBreaker.CircuitBreakerStore
    )
    const memoryBreaker = await Effect.runPromise(CircuitBreaker.make({ name: "memory" }))
    const redisBreaker = await Effect.runPromise(
      CircuitBreaker.make({ name: "redis" }).pipe(Effect.provideService(CircuitBreaker.CircuitBreakerStore, ourRedis))
    )
    // Built in the bench's scope: a layer provided to `make` alone would close its Redis client when `make` ends.
    const effectStore = await Effect.runPromise(Layer.buildWithScope(
      EffectCircuitBreaker.layerStoreRedis({ prefix: "bench-effect-breaker:" }).pipe(Layer.provide(redisLayer)),
      scope
    ))
    const effectRedisBreaker = await Effect.runPromise(Scope.provide(scope)(
      EffectCircuitBreaker.make({ tripPolicy: EffectCircuitBreaker.consecutive(5), openDuration: "60 seconds" }).pipe(
        Effect.provide(effectStore)
      )
    ))
    const breakerRows = await suite("Circuit breaker success path: memory vs shared Redis store vs effect/persistence on Redis", [
      { name: "ours, memory store", fn: () => Effect.runPromise(loop(memoryBreaker.execute(call), N)), units: N },
      { name: "ours, Redis store (shared)", fn: () => Effect.runPromise(loop(redisBreaker.execute(call), N)), units: N },
      {
        name: "effect/persistence, Redis store",
        fn: () => Effect.runPromise(loop(call.pipe(effectRedisBreaker.execute({ key: "bench" })), N)),
        units: N
      }
    ], { baseline: "ours, memory store" })
    target("shared Redis breaker success path / in-memory breaker", ratio(breakerRows, "ours, Redis store (shared)", "ours, memory store"), 2)
    target(
      "shared Redis breaker success path / effect/persistence Redis breaker",
      byName(breakerRows, "ours, Redis store (shared)").nsPerUnit / byName(breakerRows, "effect/persistence, Redis store").nsPerUnit,
      0.1
    )

    const samples = await Effect.runPromise(propagation(server.port, scope))
    console.log(`\n## Circuit breaker: trip propagation across 3 replicas (${TRIALS} trials, flushInterval 50 ms)\n`)
    console.log("| p50 ms | p99 ms | max ms |")
    console.log("|---:|---:|---:|")
    console.log(
      `| ${percentile(samples, 0.5).toFixed(1)} | ${percentile(samples, 0.99).toFixed(1)} | ${samples.at(-1)!.toFixed(1)} |`
    )

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

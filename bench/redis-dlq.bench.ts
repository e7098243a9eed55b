/**
 * Issue 15: durable dead letters. Append (offer) and replay throughput of a
 * `DeadLetterQueue` on `Redis.layerDeadLetterStore` (one script per entry over
 * loopback) next to the memory store in the same run. Needs redis-server
 * (started here on a free port); without it, says so and skips.
 */
import { Cause, Effect, Exit, Layer, Schema, Scope } from "effect"
import { DeadLetterQueue } from "../src/index.ts"
import * as Redis from "../src/Redis.ts"
import { layerRedis } from "../test/redis/replica.ts"
import { findRedisServer, installCommand, startRedisServer } from "../test/redis/server.ts"
import { byName, suite } from "./harness.ts"

/** Entries per iteration. */
const N = 200

const Item = Schema.Struct({ id: Schema.String, amount: Schema.Number })
const cause = Cause.fail(new Error("503 Service Unavailable"))

export const run = async (): Promise<void> => {
  if (findRedisServer() === undefined) {
    console.log(`\n## Dead letters on Redis\n\nskipped: redis-server is not installed (${installCommand})`)
    return
  }
  const server = await startRedisServer()
  const scope = Effect.runSync(Scope.make())
  try {
    const redis = await Effect.runPromise(
      Layer.buildWithScope(Redis.layerDeadLetterStore({ prefix: "bench:dlq:" }).pipe(Layer.provide(layerRedis(server.port))), scope)
    )
    let queues = 0
    /** A fresh, empty queue per iteration (its own name), on the store `context` provides. */
    const fresh = (store: "memory" | "redis") => {
      const make = DeadLetterQueue.make({ name: `q${++queues}`, item: Item, capacity: 1_000_000 })
      return store === "redis"
        ? Effect.provide(make, redis)
        : Effect.provideService(make, DeadLetterQueue.DeadLetterStore, DeadLetterQueue.makeStoreMemory())
    }
    const offers = (dlq: DeadLetterQueue.DeadLetterQueue<typeof Item.Type>, concurrency: number) =>
      Effect.forEach(
        Array.from({ length: N }, (_, i) => i),
        (i) => dlq.offer({ item: { id: `order-${i}`, amount: i }, stage: "payment", cause }),
        { concurrency, discard: true }
      )
    const append = (store: "memory" | "redis", concurrency: number) => () =>
      Effect.runPromise(Effect.flatMap(fresh(store), (dlq) => offers(dlq, concurrency)))
    const appendAndReplay = (store: "memory" | "redis") => () =>
      Effect.runPromise(Effect.flatMap(fresh(store), (dlq) =>
        Effect.andThen(offers(dlq, 1), dlq.replay(() => Effect.void))))

    const rows = await suite(`Dead letters: memory store vs Redis store (loopback), per entry (${N} per run)`, [
      { name: "memory: offer", fn: append("memory", 1), units: N },
      { name: "memory: offer + replay", fn: appendAndReplay("memory"), units: N },
      { name: "Redis: offer", fn: append("redis", 1), units: N },
      { name: "Redis: offer, 16 concurrent", fn: append("redis", 16), units: N },
      { name: "Redis: offer + replay", fn: appendAndReplay("redis"), units: N }
    ], { baseline: "memory: offer" })
    const perSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString("en-US")
    const ns = (name: string) => byName(rows, name).nsPerUnit
    console.log(`\nRedis append: ${perSecond(ns("Redis: offer"))} entries/s sequential, ` +
      `${perSecond(ns("Redis: offer, 16 concurrent"))} entries/s with 16 producers; ` +
      `replay: ${perSecond(ns("Redis: offer + replay") - ns("Redis: offer"))} entries/s ` +
      `(memory: ${perSecond(ns("memory: offer + replay") - ns("memory: offer"))} entries/s)`)
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await server.dispose()
  }
}

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
import { median } from "./harness.ts"

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
    /** ns per entry of `effect`, which handles N entries. */
    const timed = (effect: Effect.Effect<unknown, unknown>) =>
      Effect.gen(function*() {
        const start = process.hrtime.bigint()
        yield* effect
        return Number(process.hrtime.bigint() - start) / N
      })
    /** One round on `store`: N offers (`concurrency` at once) into a fresh queue, then a replay of them. */
    const round = (store: "memory" | "redis", concurrency: number) =>
      Effect.gen(function*() {
        const dlq = yield* fresh(store)
        const append = yield* timed(offers(dlq, concurrency))
        const replay = yield* timed(dlq.replay(() => Effect.void))
        return { append, replay }
      })

    // Interleaved rounds (memory, Redis, Redis concurrent, ...) so that load changes hit every case alike;
    // the setup of a replay (its offers) is not in its time. Medians over the rounds.
    const rounds = process.env.BENCH_QUICK === "1" ? 5 : 25
    const cases = [["memory", 1], ["redis", 1], ["redis", 16]] as const
    const results = cases.map(() => ({ append: [] as Array<number>, replay: [] as Array<number> }))
    // replay is sequential whatever the producers were: shown once per store
    await Effect.runPromise(Effect.gen(function*() {
      yield* round("redis", 16) // warm-up: connection, scripts loaded
      for (let r = 0; r < rounds; r++) {
        for (const [i, [store, concurrency]] of cases.entries()) {
          const { append, replay } = yield* round(store, concurrency)
          results[i]!.append.push(append)
          results[i]!.replay.push(replay)
        }
      }
    }))
    const base = median(results[0]!.append)
    const perSecond = (ns: number) => Math.round(1e9 / ns).toLocaleString("en-US")
    console.log(`\n## Dead letters: memory store vs Redis store (loopback), per entry (${N} per round, median of ${rounds} rounds)\n`)
    console.log("| case | append ns/entry | append entries/s | × memory append | replay ns/entry | replay entries/s |")
    console.log("|---|---:|---:|---:|---:|---:|")
    for (const [i, [store, concurrency]] of cases.entries()) {
      const append = median(results[i]!.append)
      const replay = median(results[i]!.replay)
      const name = `${store === "memory" ? "memory" : "Redis"}${concurrency > 1 ? `, ${concurrency} producers` : ""}`
      const replayCells = concurrency > 1 ? "— | —" : `${replay.toFixed(0)} | ${perSecond(replay)}`
      console.log(`| ${name} | ${append.toFixed(0)} | ${perSecond(append)} | ${(append / base).toFixed(2)} | ${replayCells} |`)
    }
  } finally {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    await server.dispose()
  }
}

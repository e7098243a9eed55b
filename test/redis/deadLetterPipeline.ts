/**
 * A pipeline whose dead letters go to Redis, run as a child process by the
 * crash test (test/RedisDeadLetterStore.test.ts):
 *
 *   node --import tsx test/redis/deadLetterPipeline.ts <port> <prefix> <items>
 *
 * Items `o0` .. `o<items-1>` flow through one stage, one every 2 ms; every
 * third one fails and is dead-lettered under its key. Prints `dead <id>` once
 * an entry stands in Redis (the `DeadLettered` event comes after the store
 * answered), and `done` at the end.
 */
import { Data, Effect, Schema, Stream } from "effect"
import { fileURLToPath } from "node:url"
import { DeadLetterQueue, Events, Pipeline } from "../../src/index.ts"
import * as Redis from "../../src/Redis.ts"
import { layerRedis } from "./replica.ts"

class Rejected extends Data.TaggedError("Rejected")<{ readonly key: string }> {}

export const Order = Schema.Struct({ key: Schema.String, index: Schema.Number })
export type Order = typeof Order.Type

/** The queue both runs of the crash test use. */
export const deadLetters = DeadLetterQueue.make({ name: "orders", item: Order, capacity: 100_000 })

/** Whether an order fails (and is dead-lettered). */
export const fails = (order: Order): boolean => order.index % 3 === 0

export const runPipeline = (items: number) =>
  Effect.gen(function*() {
    const dlq = yield* deadLetters
    const submit = Pipeline.stage(
      "submit",
      (order: Order) => fails(order) ? Effect.fail(new Rejected({ key: order.key })) : Effect.succeed(order),
      { concurrency: 4 }
    )
    const source = Stream.fromIterable(Array.from({ length: items }, (_, index) => ({ key: `o${index}`, index }))).pipe(
      Stream.tap(() => Effect.sleep("2 millis"))
    )
    return yield* Pipeline.runDrain(source, [submit], { deadLetters: dlq, deadLetterId: (order) => order.key })
  })

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [port, prefix, items] = process.argv.slice(2)
  runPipeline(Number(items)).pipe(
    Events.withListener((event) => event._tag === "DeadLettered" ? Effect.sync(() => console.log(`dead ${event.id}`)) : Effect.void),
    Effect.provide(Redis.layerDeadLetterStore({ prefix: prefix! })),
    Effect.provide(layerRedis(Number(port))),
    Effect.runPromise
  ).then(
    () => {
      console.log("done")
      process.exit(0)
    },
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

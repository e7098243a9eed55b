/**
 * Issue 6: pipeline throughput through 3 stages with no faults, against the
 * same stages as a bare `Stream.mapEffect` chain; dead-letter queue offer and
 * take throughput against a bare Effect `Queue`.
 */
import { Cause, Effect, Queue, Schema, Stream } from "effect"
import { Backoff, DeadLetterQueue, Idempotency, Pipeline, Retry } from "../src/index.ts"
import { byName, CALLS_PER_ITERATION as N, ratio, suite, target } from "./harness.ts"

const items = Array.from({ length: N }, (_, i) => i)
const f1 = (n: number) => Effect.succeed(n + 1)
const f2 = (n: number) => Effect.succeed(n * 2)
const f3 = (n: number) => Effect.succeed(n - 1)

const perSecond = (nsPerUnit: number) => `${Math.round(1e9 / nsPerUnit).toLocaleString("en-US")}/s`

export const run = async (): Promise<void> => {
  const deadLetters = Effect.runSync(DeadLetterQueue.make<number>({ capacity: 10_000 }))
  const plain = [Pipeline.stage("a", f1), Pipeline.stage("b", f2), Pipeline.stage("c", f3)]
  const retry = Retry.make({ maxAttempts: 3, backoff: Backoff.constant(0) })
  const retried = [
    Pipeline.stage("a", f1, { policy: Retry.retry(retry) }),
    Pipeline.stage("b", f2, { policy: Retry.retry(retry) }),
    Pipeline.stage("c", f3, { policy: Retry.retry(retry) })
  ]
  const concurrent = [
    Pipeline.stage("a", f1, { concurrency: 16 }),
    Pipeline.stage("b", f2, { concurrency: 16 }),
    Pipeline.stage("c", f3, { concurrency: 16 })
  ]
  const idempotent = [
    Pipeline.stage("a", f1),
    Pipeline.stage("b", f2, { idempotencyKey: (n) => String(n) }),
    Pipeline.stage("c", f3)
  ]
  const source = Stream.fromIterable(items)

  const sequential = await suite("Pipeline: 3 stages, no faults, per event (1,000 events per run)", [
    {
      name: "bare Stream.mapEffect ×3",
      units: N,
      fn: () => Effect.runSync(source.pipe(Stream.mapEffect(f1), Stream.mapEffect(f2), Stream.mapEffect(f3), Stream.runDrain))
    },
    { name: "Pipeline.runDrain (3 stages)", units: N, fn: () => Effect.runSync(Pipeline.runDrain(source, plain, { deadLetters })) },
    {
      name: "Pipeline.runDrain (3 stages, Retry policy each)",
      units: N,
      fn: () => Effect.runSync(Pipeline.runDrain(source, retried, { deadLetters }))
    },
    {
      name: "Pipeline.runDrain (3 stages, one idempotent)",
      units: N,
      fn: () => Effect.runSync(Pipeline.runDrain(source, idempotent, { deadLetters }))
    }
  ], { baseline: "bare Stream.mapEffect ×3" })

  const parallel = await suite("Pipeline: 3 stages, concurrency 16, per event (1,000 events per run)", [
    {
      name: "bare Stream.mapEffect ×3 (concurrency 16)",
      units: N,
      fn: () =>
        Effect.runPromise(source.pipe(
          Stream.mapEffect(f1, { concurrency: 16 }),
          Stream.mapEffect(f2, { concurrency: 16 }),
          Stream.mapEffect(f3, { concurrency: 16 }),
          Stream.runDrain
        ))
    },
    {
      name: "Pipeline.runDrain (concurrency 16)",
      units: N,
      fn: () => Effect.runPromise(Pipeline.runDrain(source, concurrent, { deadLetters }))
    }
  ], { baseline: "bare Stream.mapEffect ×3 (concurrency 16)" })

  // dead-letter queue: offer then take, N times; a bare Queue doing the same as the baseline
  const cause = Cause.fail("down")
  const dlq = Effect.runSync(DeadLetterQueue.make<number>({ capacity: N }))
  const queue = Effect.runSync(Queue.bounded<number>(N))
  // the same on a store that keeps JSON copies, as a durable one would: encoding and decoding paid
  const memory = DeadLetterQueue.makeStoreMemory()
  const jsonStore: DeadLetterQueue.DeadLetterStoreShape = {
    ...memory,
    durable: true,
    append: (name, entry) => memory.append(name, JSON.parse(JSON.stringify(entry)))
  }
  const dlqJson = Effect.runSync(
    DeadLetterQueue.make({ capacity: N, item: Schema.Number }).pipe(
      Effect.provideService(DeadLetterQueue.DeadLetterStore, jsonStore)
    )
  )
  const offerTake = (offer: (i: number) => Effect.Effect<unknown, unknown>, take: Effect.Effect<unknown, unknown>) =>
    Effect.gen(function*() {
      for (let i = 0; i < N; i++) yield* offer(i)
      for (let i = 0; i < N; i++) yield* take
    })
  const guard = Effect.runSync(Idempotency.make({ capacity: 100 }))
  const dlqRows = await suite("DeadLetterQueue: offer + take, per entry (1,000 per run)", [
    { name: "bare Queue.offer + Queue.take", units: N, fn: () => Effect.runSync(offerTake((i) => Queue.offer(queue, i), Queue.take(queue))) },
    {
      name: "DeadLetterQueue offer + take",
      units: N,
      fn: () => Effect.runSync(offerTake((item) => dlq.offer({ item, stage: "s", cause }), dlq.take))
    },
    {
      name: "DeadLetterQueue offer + take, JSON store (item Schema)",
      units: N,
      fn: () => Effect.runSync(offerTake((item) => dlqJson.offer({ item, stage: "s", cause }), dlqJson.take))
    },
    {
      name: "DeadLetterQueue offer + drain",
      units: N,
      fn: () =>
        Effect.runSync(Effect.gen(function*() {
          for (let i = 0; i < N; i++) yield* dlq.offer({ item: i, stage: "s", cause })
          yield* dlq.drain
        }))
    },
    {
      name: "Idempotency.execute, stored hit",
      units: N,
      fn: () =>
        Effect.runSync(Effect.gen(function*() {
          for (let i = 0; i < N; i++) yield* guard.execute(Effect.succeed(1), "k")
        }))
    }
  ], { baseline: "bare Queue.offer + Queue.take" })

  console.log(
    `\nthroughput: bare ${perSecond(byName(sequential, "bare Stream.mapEffect ×3").nsPerUnit)}, ` +
      `pipeline ${perSecond(byName(sequential, "Pipeline.runDrain (3 stages)").nsPerUnit)} events; ` +
      `DLQ offer+take ${perSecond(byName(dlqRows, "DeadLetterQueue offer + take").nsPerUnit)} entries`
  )
  target(
    "Pipeline (3 stages) / bare Stream.mapEffect chain",
    ratio(sequential, "Pipeline.runDrain (3 stages)", "bare Stream.mapEffect ×3"),
    1.5
  )
  target(
    "Pipeline (concurrency 16) / bare Stream.mapEffect chain (concurrency 16)",
    ratio(parallel, "Pipeline.runDrain (concurrency 16)", "bare Stream.mapEffect ×3 (concurrency 16)"),
    1.5
  )
}

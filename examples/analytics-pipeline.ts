/**
 * The seeds' analytics backend as a resilient pipeline: 2,000 events (5% of
 * them redelivered) go through an external scoring service, a payment API
 * and a recommendation server, each flaky (seeded). Scoring is retried;
 * payments are retried, guarded by a circuit breaker and idempotent per
 * event id; recommendations are best effort and skipped while the payment
 * breaker is open. The payment API is down for a while mid-run: those events
 * go to the dead-letter queue and are replayed once it is back.
 *
 * Runs under TestClock (simulated time: 10 seconds per 100 events), so it is
 * instant and prints the same figures on every run. Exits 1 if an event is
 * lost or charged twice.
 */
import { Data, Effect, Random, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, DeadLetterQueue, Events, Idempotency, Pipeline, Retry } from "../src/index.ts"

class ServiceError extends Data.TaggedError("ServiceError")<{ readonly service: string; readonly status: number }> {}

interface AnalyticsEvent {
  readonly id: string
  readonly index: number
  readonly score?: number
  readonly receipt?: string
  readonly recommendations?: ReadonlyArray<string>
}

const EVENTS = 2_000
const SEED = 2026
const OUTAGE = { from: 1_200, to: 1_500 } // payment API down while these events arrive

/** Fails with `status` with probability `rate`, drawn from the seeded Random service. */
const flaky = (service: string, rate: number, status = 503) =>
  Effect.flatMap(Random.next, (r) => r < rate ? Effect.fail(new ServiceError({ service, status })) : Effect.void)

const program = Effect.gen(function*() {
  // the source: 5% redeliveries of a recent event (at-least-once delivery)
  const input: Array<AnalyticsEvent> = []
  for (let i = 0; i < EVENTS; i++) {
    const redeliver = i > 0 && (yield* Random.next) < 0.05
    input.push(redeliver ? input[i - 1 - (yield* Random.nextIntBetween(0, Math.min(i - 1, 5)))]! : { id: `evt-${i}`, index: i })
  }
  let paymentApiUp = true
  const charged = new Map<string, number>()

  // the three services
  const scoringService = (e: AnalyticsEvent): Effect.Effect<AnalyticsEvent, ServiceError> =>
    Effect.andThen(
      Effect.andThen(flaky("scoring", 0.2), flaky("scoring", 0.005, 422)), // 0.5% malformed: never succeeds
      Effect.succeed({ ...e, score: (e.index * 7919) % 100 })
    )
  const paymentApi = (e: AnalyticsEvent): Effect.Effect<AnalyticsEvent, ServiceError> =>
    Effect.andThen(
      paymentApiUp ? flaky("payment", 0.05) : Effect.fail(new ServiceError({ service: "payment", status: 503 })),
      Effect.sync(() => {
        charged.set(e.id, (charged.get(e.id) ?? 0) + 1)
        return { ...e, receipt: `rcpt-${e.id}` }
      })
    )
  const recommendationServer = (e: AnalyticsEvent): Effect.Effect<AnalyticsEvent> =>
    Effect.as(flaky("recommendations", 0.3), { ...e, recommendations: ["a", "b"] }).pipe(
      Effect.orElseSucceed(() => e) // best effort: an event without recommendations is fine
    )

  // the policies
  const transient = (error: unknown) => error instanceof ServiceError && Retry.isRetryableStatus(error.status)
  const retry = Retry.make({ maxAttempts: 4, backoff: Backoff.constant(0), retryOn: transient })
  const breaker = yield* CircuitBreaker.make({
    name: "payment-api",
    policy: CircuitBreaker.consecutive(5),
    resetTimeout: "30 seconds"
  })
  const paymentsFailing = Effect.map(breaker.state, (s) => s._tag !== "Closed")
  // one guard for the pipeline and the replays: an event is charged once, whichever way it comes
  const chargeOnce = yield* Idempotency.make({ name: "payments", ttl: "1 day", capacity: 10_000 })

  const stages = [
    Pipeline.stage("scoring", scoringService, { policy: Retry.retry(retry), concurrency: 16 }),
    Pipeline.stage("payment", paymentApi, {
      // retry → breaker → call; a rejected call (CircuitOpenError) is not retried
      policy: (call) => breaker.execute(call).pipe(Retry.retry(retry)),
      idempotencyKey: (e) => e.id,
      idempotency: chargeOnce,
      concurrency: 16
    }),
    Pipeline.stage("recommendations", recommendationServer, { critical: false, concurrency: 16 })
  ]
  const deadLetters = yield* DeadLetterQueue.make<AnalyticsEvent>({ name: "analytics-dlq", capacity: 5_000 })

  // simulated time: 10 seconds pass per 100 events; the payment API is down during OUTAGE
  const source = Stream.fromIterable(input, { chunkSize: 1 }).pipe(
    Stream.mapEffect((e, position) =>
      Effect.gen(function*() {
        if (position === OUTAGE.from) paymentApiUp = false
        if (position === OUTAGE.to) paymentApiUp = true
        if (position % 100 === 99) yield* TestClock.adjust("10 seconds")
        return e
      })
    )
  )

  const [summary, events] = yield* Events.collect(
    Effect.gen(function*() {
      const run = yield* Pipeline.run(source, stages, { name: "analytics", deadLetters, overloaded: paymentsFailing })
      yield* Stream.runDrain(run.stream)
      return yield* run.summary
    })
  )
  const count = (tag: Events.ResilienceEventTag) => events.filter((e) => e._tag === tag).length

  console.log(`analytics pipeline: ${EVENTS} events (seed ${SEED}), payment API down for events ${OUTAGE.from}-${OUTAGE.to}\n`)
  console.log(`input ${summary.input}, processed ${summary.processed}, dead-lettered ${summary.deadLettered}, ` +
    `stage skips ${summary.skippedStages}, duplicates ${summary.duplicates}`)
  for (const [name, s] of Object.entries(summary.stages)) {
    console.log(`  ${name.padEnd(16)} succeeded ${String(s.succeeded).padStart(4)}  dead-lettered ${String(s.deadLettered).padStart(4)}` +
      `  skipped ${String(s.skipped).padStart(4)}  duplicates ${String(s.duplicates).padStart(3)}`)
  }
  console.log(`events: ${count("RetryScheduled")} retries, ${count("BreakerTransition")} breaker transitions, ` +
    `${count("DeadLettered")} dead letters, ${count("StageSkipped")} stages skipped, ${count("IdempotentHit")} idempotent hits`)

  const byCause = new Map<string, number>()
  for (const entry of yield* deadLetters.entries) {
    const key = `${entry.stage}: ${entry.error.message.replace(/"service":"\w+",?/, "")}`
    byCause.set(key, (byCause.get(key) ?? 0) + 1)
  }
  console.log("\ndead-letter queue:")
  for (const [key, n] of byCause) console.log(`  ${String(n).padStart(4)} × ${key}`)

  // the payment API is back: replay the payment dead letters through the payment stage
  yield* TestClock.adjust("30 seconds")
  const payment = stages[1]!
  const replay = yield* deadLetters.replay((item, entry) =>
    entry.stage === "payment"
      ? chargeOnce.execute(payment.run(item), item.id)
      : Effect.fail("not replayable: fix the payload first")
  )
  console.log(`\nreplay after recovery: ${replay.replayed} replayed, ${replay.failedAgain} failed again ` +
    `(the malformed events stay, attempts ${(yield* deadLetters.entries)[0]?.attempts ?? 0})`)

  // the checks: nothing lost, nothing charged twice
  const twice = [...charged.values()].filter((n) => n > 1).length
  console.log(`\ninvariant: processed + dead-lettered = ${summary.processed + summary.deadLettered} of ${summary.input}; ` +
    `events charged twice: ${twice}`)
  if (summary.processed + summary.deadLettered !== EVENTS || twice !== 0) {
    return yield* Effect.die("an event was lost or charged twice")
  }
})

Effect.runPromise(program.pipe(Random.withSeed(SEED), Effect.provide(TestClock.layer()))).catch((error) => {
  console.error(error)
  process.exit(1)
})

/**
 * Scenario 6 — the analytics pipeline of seed 000: events go through scoring
 * (20 % transient and 1 % permanent faults), an idempotent payment stage and
 * a non-critical analytics stage, with 10 % redeliveries (at-least-once
 * delivery). With resilience (`Pipeline`): retries, a dead-letter queue,
 * idempotency per event id, and the analytics stage skipped while the
 * backlog grows. Without: the same services in a plain stream, where a failed
 * event is dropped. Claims: processed + dead-lettered = input, no event
 * charged twice, and a pipeline that stays stable under the faults.
 */
import { Clock, Effect, Random, Stream } from "effect"
import { Backoff, Chaos, DeadLetterQueue, Pipeline, Retry } from "../src/index.ts"
import { percent, scenario, threshold, type CallRecord, type Variant } from "./common.ts"

export interface PipelineScenarioOptions {
  readonly events?: number | undefined
  /** Events per second. */
  readonly rate?: number | undefined
  readonly seed?: number | undefined
}

interface AnalyticsEvent {
  readonly id: string
  /** Position in the input (redeliveries have their own). */
  readonly position: number
}

export const analyticsPipeline = (options: PipelineScenarioOptions = {}) => {
  const count = options.events ?? 10_000
  const rate = options.rate ?? 400
  const backlogLimit = 100

  const variant = (resilient: boolean) =>
    Effect.gen(function*() {
      const scoring = yield* Chaos.dependency({
        name: "scoring",
        failureRate: 0.2,
        permanentRate: 0.01,
        latency: Chaos.uniform({ min: "5 millis", max: "30 millis" })
      })
      const payments = yield* Chaos.dependency({ name: "payments", failureRate: 0.02, latency: "10 millis" })
      const analytics = yield* Chaos.dependency({ name: "analytics", latency: "20 millis" })
      const charged = new Map<string, number>()
      const charge = (e: AnalyticsEvent) =>
        Effect.as(Effect.tap(payments.call, () => Effect.sync(() => void charged.set(e.id, (charged.get(e.id) ?? 0) + 1))), e)

      // the input: 10 % redeliveries of a recent event, drawn from the seeded Random
      const input: Array<AnalyticsEvent> = []
      for (let i = 0; i < count; i++) {
        const redeliver = i > 0 && (yield* Random.next) < 0.1
        const back = redeliver ? yield* Random.nextIntBetween(1, Math.min(i, 20)) : 0
        input.push({ id: redeliver ? input[i - back]!.id : `evt-${i}`, position: i })
      }
      const arrivals: Array<number> = []
      const origin = yield* Clock.currentTimeMillis
      const source = Stream.fromIterable(input).pipe(
        Stream.mapEffect((e) =>
          Effect.gen(function*() {
            yield* Effect.sleep(1000 / rate)
            arrivals[e.position] = (yield* Clock.currentTimeMillis) - origin
            return e
          })
        )
      )
      let finished = 0
      const ends: Array<{ end: number; ok: boolean; label: string }> = []
      // an idempotent stage hands a redelivery the first delivery's output, so
      // an output is matched to the earliest open delivery of its id
      const open = new Map<string, Array<number>>()
      for (const e of input) {
        const list = open.get(e.id)
        if (list === undefined) open.set(e.id, [e.position])
        else list.push(e.position)
      }
      const finish = (e: AnalyticsEvent, ok: boolean, label: string, at?: number) =>
        Effect.map(Clock.currentTimeMillis, (t) => {
          const position = open.get(e.id)?.shift() ?? e.position
          finished++
          ends[position] = { end: (at ?? t) - origin, ok, label }
        })

      const transient = (error: unknown) => Retry.retryOnHttpStatus(error)
      const retry = Retry.make({
        maxAttempts: 4,
        backoff: Backoff.exponential({ base: "50 millis", max: "1 second", jitter: "full" }),
        retryOn: transient
      })
      let deadLettered = 0
      let skipped = 0
      if (resilient) {
        const deadLetters = yield* DeadLetterQueue.make<AnalyticsEvent>({ name: "analytics-dlq", capacity: count })
        const stages = [
          Pipeline.stage("scoring", (e: AnalyticsEvent) => Effect.as(scoring.call, e), { policy: Retry.retry(retry), concurrency: 16 }),
          Pipeline.stage("payment", charge, { policy: Retry.retry(retry), idempotencyKey: (e) => e.id, concurrency: 16 }),
          Pipeline.stage("analytics", (e: AnalyticsEvent) => Effect.as(analytics.call, e), { critical: false, concurrency: 16 })
        ]
        const run = yield* Pipeline.run(source, stages, {
          name: "analytics",
          deadLetters,
          ordered: false,
          // graceful degradation (seed 000): skip analytics while the backlog grows
          overloaded: Effect.sync(() => arrivals.length - finished > backlogLimit)
        })
        yield* Stream.runForEach(run.stream, (p) => finish(p.item, true, p.skipped.length > 0 ? "ok (analytics skipped)" : "ok"))
        for (const entry of yield* deadLetters.entries) {
          yield* finish(entry.item, false, `dead-lettered at ${entry.stage}`, entry.lastFailedAt)
        }
        const summary = yield* run.summary
        deadLettered = summary.deadLettered
        skipped = summary.stages.analytics?.skipped ?? 0
      } else {
        // a failed event is dropped: lost
        yield* source.pipe(
          Stream.mapEffect((e) =>
            Effect.andThen(scoring.call, charge(e)).pipe(
              Effect.andThen(analytics.call),
              Effect.matchEffect({ onFailure: (error) => finish(e, false, `lost (${error._tag})`), onSuccess: () => finish(e, true, "ok") })
            ), { concurrency: 16 }),
          Stream.runDrain
        )
      }
      const records: Array<CallRecord> = input.map((e) => {
        const end = ends[e.position]
        return end === undefined
          ? { start: arrivals[e.position] ?? 0, end: arrivals[e.position] ?? 0, ok: false, label: "lost" }
          : { start: arrivals[e.position] ?? 0, ...end }
      })
      const distinct = new Set(input.map((e) => e.id)).size
      return {
        label: resilient ? "with resilience" : "without resilience",
        records,
        dependencyCalls: (yield* scoring.stats).calls + (yield* payments.stats).calls + (yield* analytics.stats).calls,
        breaker: [],
        deadLettered,
        recoveryMs: undefined,
        facts: {
          input: input.length,
          processed: records.filter((r) => r.ok).length,
          lost: records.filter((r) => r.label.startsWith("lost")).length,
          chargedTwice: [...charged.values()].filter((n) => n > 1).length,
          distinctEvents: distinct,
          analyticsSkipped: skipped
        }
      } satisfies Variant
    })

  return scenario({
    id: "analytics-pipeline",
    title: "Analytics pipeline: 20 % transient, 1 % permanent faults, 10 % redeliveries",
    source: "seed 000",
    claim: "no event lost or charged twice; permanent failures isolated in the DLQ; analytics skipped under overload",
    seed: options.seed ?? 0,
    without: variant(false),
    with: variant(true),
    thresholds: (without, resilient) => [
      threshold("processed + dead-lettered − input", resilient.facts.processed! + resilient.deadLettered - resilient.facts.input!, "=", 0),
      threshold("events lost, with", resilient.facts.lost!, "=", 0),
      threshold("events charged twice, with", resilient.facts.chargedTwice!, "=", 0),
      threshold("events dead-lettered (permanent faults, ~1 %)", percent(resilient.deadLettered, resilient.facts.input!), "<", 2, "%"),
      threshold("events lost, without", percent(without.facts.lost!, without.facts.input!), ">", 15, "%"),
      threshold("events charged twice, without", without.facts.chargedTwice!, ">", 0),
      threshold("analytics stage skipped under overload", resilient.facts.analyticsSkipped!, ">", 0)
    ]
  })
}

import { readdirSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Data, Duration, Effect, Fiber, Layer, Logger, Metric, References } from "effect"
import { PrometheusMetrics } from "effect/observability"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Events, Policy, Registry, Telemetry } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import { breakerStateValue, read } from "../src/internal/telemetry.ts"
import { thrownInvalid } from "./helpers.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

/** Telemetry with a fresh metric registry and a policy registry, gauges sampled only on demand. */
const Observed = Layer.mergeAll(
  Telemetry.layer({ sampleInterval: "off", logs: false }),
  Layer.sync(Metric.MetricRegistry, () => new Map())
).pipe(Layer.provideMerge(Registry.layer))

const count = (metric: Metric.Metric<number, Metric.CounterState<number>>, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, attributes)), (state) => state.count)

const gaugeValue = (metric: Metric.Metric<number, Metric.GaugeState<number>>, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, attributes)), (state) => state.value)

/** A call that fails `failures` times (with status 503), then answers "ok". */
const flaky = (failures: number) => {
  let calls = 0
  return Effect.suspend(() => ++calls <= failures ? Effect.fail(new Unavailable({ status: 503 })) : Effect.succeed("ok"))
}

/** Runs `effect` in a fiber while the TestClock advances by `by`. */
const advancing = <A, E>(effect: Effect.Effect<A, E>, by: Duration.Input) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Effect.exit(effect))
    yield* TestClock.adjust(by)
    return yield* Fiber.join(fiber)
  })

describe("Telemetry metrics", () => {
  it.effect("retries: retry_attempts_total{operation}, calls by outcome and the duration histogram", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "kafka_publish",
        retry: { maxAttempts: 3, backoff: Backoff.constant("100 millis") }
      })
      const exit = yield* advancing(flaky(2).pipe(policy.execute), "1 second")
      assert.isTrue(exit._tag === "Success")
      assert.strictEqual(yield* count(Telemetry.metrics.retryAttempts, { operation: "kafka_publish" }), 2)
      assert.strictEqual(yield* count(Telemetry.metrics.calls, { policy: "kafka_publish", outcome: "success" }), 1)
      const duration = yield* Metric.value(Metric.withAttributes(Telemetry.metrics.callDuration, { policy: "kafka_publish" }))
      assert.strictEqual(duration.count, 1)
      assert.strictEqual(duration.sum, 0.2) // two backoffs of 100 ms, under the TestClock

      const exhausted = yield* advancing(flaky(5).pipe(policy.execute), "1 second")
      assert.isTrue(exhausted._tag === "Failure")
      assert.strictEqual(yield* count(Telemetry.metrics.retryAttempts, { operation: "kafka_publish" }), 4)
      assert.strictEqual(yield* count(Telemetry.metrics.retriesExhausted, { policy: "kafka_publish" }), 1)
      assert.strictEqual(yield* count(Telemetry.metrics.calls, { policy: "kafka_publish", outcome: "failure" }), 1)
    }).pipe(Effect.scoped, Effect.provide(Observed)))

  it.effect("a breaker: circuit_breaker_state{service} follows it, transitions and rejections are counted", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({
        name: "database",
        circuitBreaker: { policy: CircuitBreaker.consecutive(2), resetTimeout: "10 seconds" }
      })
      const state = gaugeValue(Telemetry.metrics.circuitBreakerState, { service: "database" })
      yield* Telemetry.sample
      assert.strictEqual(yield* state, 0)
      const failing = Effect.fail(new Unavailable({ status: 500 })).pipe(policy.execute, Effect.exit)
      yield* failing
      yield* failing
      assert.strictEqual(yield* state, 2)
      assert.strictEqual(yield* count(Telemetry.metrics.breakerTransitions, { policy: "database", to: "open" }), 1)
      const rejected = yield* Effect.flip(Effect.succeed(1).pipe(policy.execute))
      assert.strictEqual(rejected._tag, "CircuitOpenError")
      assert.strictEqual(yield* count(Telemetry.metrics.breakerRejections, { policy: "database" }), 1)
      assert.strictEqual(yield* count(Telemetry.metrics.calls, { policy: "database", outcome: "rejected" }), 1)
      yield* TestClock.adjust("10 seconds")
      yield* Effect.succeed(1).pipe(policy.execute)
      assert.strictEqual(yield* state, 0)
      assert.strictEqual(yield* count(Telemetry.metrics.breakerTransitions, { policy: "database", to: "half_open" }), 1)
      assert.strictEqual(yield* count(Telemetry.metrics.breakerTransitions, { policy: "database", to: "closed" }), 1)
    }).pipe(Effect.scoped, Effect.provide(Observed)))

  it.effect("timeouts and fallbacks: timeout_errors_total and fallback_invocations_total{operation}", () =>
    Effect.gen(function*() {
      const query = yield* Policy.make({ name: "database_query", timeout: "1 second" })
      const timedOut = yield* advancing(Effect.never.pipe(query.execute), "2 seconds")
      assert.isTrue(timedOut._tag === "Failure")
      assert.strictEqual(yield* count(Telemetry.metrics.timeoutErrors, { operation: "database_query" }), 1)
      assert.strictEqual(yield* count(Telemetry.metrics.calls, { policy: "database_query", outcome: "timeout" }), 1)

      const cache = yield* Policy.make({
        name: "cache_read",
        fallback: { fallback: () => Effect.succeed("stale") }
      })
      assert.strictEqual(yield* Effect.fail(new Unavailable({ status: 503 })).pipe(cache.execute), "stale")
      assert.strictEqual(yield* count(Telemetry.metrics.fallbackInvocations, { operation: "cache_read" }), 1)
      assert.strictEqual(yield* count(Telemetry.metrics.calls, { policy: "cache_read", outcome: "fallback" }), 1)
    }).pipe(Effect.scoped, Effect.provide(Observed)))

  it.effect("bulkheads: rejections by reason, active and queued gauges sampled from the registry", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "payments", bulkhead: { maxConcurrent: 1, maxQueue: 1 } })
      const running = yield* Effect.forkChild(Effect.never.pipe(policy.execute))
      const waiting = yield* Effect.forkChild(Effect.never.pipe(policy.execute))
      yield* Effect.yieldNow
      const rejected = yield* Effect.flip(Effect.succeed(1).pipe(policy.execute))
      assert.strictEqual(rejected._tag, "BulkheadRejectedError")
      assert.strictEqual(yield* count(Telemetry.metrics.bulkheadRejections, { policy: "payments", reason: "full" }), 1)
      yield* Telemetry.sample
      assert.strictEqual(yield* gaugeValue(Telemetry.metrics.bulkheadActive, { policy: "payments" }), 1)
      assert.strictEqual(yield* gaugeValue(Telemetry.metrics.bulkheadQueued, { policy: "payments" }), 1)
      yield* Fiber.interruptAll([running, waiting])
    }).pipe(Effect.scoped, Effect.provide(Observed)))

  it.effect("the seed's four Prometheus series, with exactly its names and labels", () =>
    Effect.gen(function*() {
      const producer = yield* Policy.make({
        name: "kafka_producer",
        circuitBreaker: { policy: CircuitBreaker.consecutive(5) }
      })
      const publish = yield* Policy.make({ name: "kafka_publish", retry: { maxAttempts: 2, backoff: Backoff.constant(0) } })
      const query = yield* Policy.make({ name: "database_query", timeout: "1 second" })
      const cache = yield* Policy.make({ name: "cache_read", fallback: { fallback: () => Effect.succeed(0) } })
      yield* Effect.succeed(1).pipe(producer.execute)
      yield* flaky(1).pipe(publish.execute)
      yield* advancing(Effect.never.pipe(query.execute), "1 second")
      yield* Effect.fail("miss").pipe(cache.execute)
      yield* Telemetry.sample
      const text = yield* PrometheusMetrics.format()
      for (
        const line of [
          "circuit_breaker_state{service=\"kafka_producer\"} 0",
          "retry_attempts_total{operation=\"kafka_publish\"} 1",
          "timeout_errors_total{operation=\"database_query\"} 1",
          "fallback_invocations_total{operation=\"cache_read\"} 1"
        ]
      ) {
        assert.include(text.split("\n"), line, `missing ${line} in\n${text}`)
      }
    }).pipe(Effect.scoped, Effect.provide(Observed)))

  it.effect("without Telemetry.layer, nothing is recorded", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "quiet", retry: { maxAttempts: 2, backoff: Backoff.constant(0) } })
      yield* flaky(1).pipe(policy.execute)
      const series = (yield* Metric.snapshot).filter((m) => m.id.startsWith("resilience_") || m.id.startsWith("retry_"))
      assert.deepStrictEqual(series, [])
    }).pipe(Effect.scoped, Effect.provide(Layer.succeed(Metric.MetricRegistry, new Map()))))
})

describe("Telemetry logs", () => {
  it.effect("transitions, exhausted retries and rejections are logged with the policy as an annotation", () =>
    Effect.gen(function*() {
      const lines: Array<{ level: string; message: unknown; policy: unknown }> = []
      const capture = Logger.make<unknown, void>(({ fiber, logLevel, message }) => {
        const annotations = fiber.getRef(References.CurrentLogAnnotations)
        lines.push({ level: logLevel, message: Array.isArray(message) ? message[0] : message, policy: annotations["resilience.policy"] })
      })
      const program = Effect.gen(function*() {
        const policy = yield* Policy.make({
          name: "inventory",
          retry: { maxAttempts: 2, backoff: Backoff.constant(0) },
          circuitBreaker: { policy: CircuitBreaker.consecutive(2), resetTimeout: "1 minute" }
        })
        yield* Effect.exit(Effect.fail(new Unavailable({ status: 503 })).pipe(policy.execute))
        // straight to the open breaker (the retry would wait for its retryAfter)
        yield* Effect.exit(Effect.succeed(1).pipe(policy.circuitBreaker!.execute))
      })
      yield* program.pipe(
        Effect.scoped,
        Effect.provide(Layer.mergeAll(Telemetry.layer({ sampleInterval: "off" }), Logger.layer([capture]))),
        Effect.provideService(References.MinimumLogLevel, "Debug")
      )
      const byLevel = (level: string) => lines.filter((l) => l.level === level).map((l) => l.message)
      assert.deepStrictEqual(byLevel("Warn"), [
        "circuit \"inventory\" closed -> open",
        "\"inventory\" gave up after 2 attempts: Unavailable"
      ])
      assert.include(byLevel("Info"), "circuit \"inventory\" rejected a call (open)")
      assert.isTrue(lines.every((l) => l.policy === "inventory"))
    }))
})

describe("Telemetry configuration", () => {
  it("defaults are pinned", () => {
    assert.deepStrictEqual(defaults.telemetry, { sampleIntervalMillis: 10_000, logs: true })
    assert.deepStrictEqual(defaults.health, { host: "127.0.0.1", port: 9464 })
  })

  it("a bad sampleInterval fails at construction, naming the field", () => {
    const error = thrownInvalid(() => Telemetry.layer({ sampleInterval: "-1 seconds" as Duration.Input }))
    assert.strictEqual(error.field, "sampleInterval")
    assert.include(error.message, "Telemetry.layer")
  })

  it("the breaker state gauge reads 0 closed, 1 half_open, 2 open", () => {
    assert.deepStrictEqual(
      ["closed", "half_open", "open", "forced_open", "disabled"].map(breakerStateValue),
      [0, 1, 2, 2, 0]
    )
  })

  it("every event member has a span event name, a log level and a message", () => {
    const events: ReadonlyArray<Events.ResilienceEvent> = [
      Events.ResilienceEvent.RetryScheduled({ name: "p", timestamp: 0, attempt: 1, delay: Duration.millis(5), error: "e" }),
      Events.ResilienceEvent.RetryExhausted({ name: "p", timestamp: 0, attempts: 3, error: "e" }),
      Events.ResilienceEvent.RetryBudgetDenied({ name: "p", timestamp: 0, attempt: 1, error: "e" }),
      Events.ResilienceEvent.TimeoutFired({ name: "p", timestamp: 0, duration: Duration.seconds(1) }),
      Events.ResilienceEvent.BreakerTransition({ name: "p", timestamp: 0, from: "Closed", to: "Open" }),
      Events.ResilienceEvent.BreakerRejected({ name: "p", timestamp: 0, state: "Open", retryAfter: undefined }),
      Events.ResilienceEvent.BulkheadRejected({ name: "p", timestamp: 0, reason: "full" }),
      Events.ResilienceEvent.FallbackUsed({ name: "p", timestamp: 0, source: "cache", error: "e" }),
      Events.ResilienceEvent.HedgeLaunched({ name: "p", timestamp: 0, attempt: 2 }),
      Events.ResilienceEvent.HedgeWon({ name: "p", timestamp: 0, attempt: 2 }),
      Events.ResilienceEvent.HedgeBudgetDenied({ name: "p", timestamp: 0, attempt: 2 }),
      Events.ResilienceEvent.Shed({ name: "p", timestamp: 0, priority: "sheddable" }),
      Events.ResilienceEvent.Degraded({ name: "p", timestamp: 0 }),
      Events.ResilienceEvent.DeadLettered({ name: "p", timestamp: 0, stage: "s", id: "1" }),
      Events.ResilienceEvent.StageSkipped({ name: "p", timestamp: 0, stage: "s" }),
      Events.ResilienceEvent.IdempotentHit({ name: "p", timestamp: 0, key: "k", kind: "cached" }),
      Events.ResilienceEvent.Abandoned({ name: "p", timestamp: 0, reason: "no-signal", duration: Duration.seconds(1), grace: Duration.seconds(1) }),
      Events.ResilienceEvent.Reconfigured({ name: "p", timestamp: 0, stages: ["bulkhead"] }),
      Events.ResilienceEvent.ReconfigureRefused({ name: "p", timestamp: 0, error: "e" })
    ]
    const names = events.map((event) => read(event).span)
    assert.strictEqual(new Set(names).size, events.length)
    assert.isTrue(names.every((name) => name.startsWith("resilience.")))
  })
})

describe("Telemetry and interruption", () => {
  it.effect("an interrupted execution is counted, with outcome interrupted", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "slow", retry: { maxAttempts: 2, backoff: Backoff.constant(0) } })
      const fiber = yield* Effect.forkChild(Effect.never.pipe(policy.execute))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* count(Telemetry.metrics.calls, { policy: "slow", outcome: "interrupted" }), 1)
      const duration = yield* Metric.value(Metric.withAttributes(Telemetry.metrics.callDuration, { policy: "slow" }))
      assert.strictEqual(duration.count, 1)
    }).pipe(Effect.scoped, Effect.provide(Observed)))
})

describe("Telemetry packaging", () => {
  it("only src/TelemetryOtel.ts imports OpenTelemetry; nothing imports @effect/platform-node statically (Redis.ts takes it as a service)", () => {
    const dir = new URL("../src/", import.meta.url)
    const files = [
      ...readdirSync(dir).filter((f) => f.endsWith(".ts")),
      ...readdirSync(new URL("internal/", dir)).map((f) => `internal/${f}`)
    ]
    const offenders = files.filter((file) => {
      const text = readFileSync(new URL(file, dir), "utf8")
      // import statements only: JSDoc examples may show a user's own imports
      const otel = /^import .* from "@(effect\/)?opentelemetry/m.test(text)
      const node = /^import .* from "@effect\/platform-node/m.test(text)
      return node || (otel && file !== "TelemetryOtel.ts")
    })
    assert.deepStrictEqual(offenders, [])
    assert.notInclude(readFileSync(new URL("index.ts", dir), "utf8"), "TelemetryOtel")
  })
})

describe("Telemetry gauges", () => {
  it.effect("every sampleInterval the gauges are read from the registry provided to the layer", () =>
    Effect.gen(function*() {
      // bulkhead occupancy reaches the gauges only through sampling (no event reports it)
      const policy = yield* Policy.make({ name: "payments", bulkhead: { maxConcurrent: 2 } })
      yield* Effect.forkScoped(Effect.never.pipe(policy.execute))
      yield* Effect.yieldNow
      const active = gaugeValue(Telemetry.metrics.bulkheadActive, { policy: "payments" })
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* active, 0)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* active, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Telemetry.layer({ sampleInterval: "5 seconds", logs: false }).pipe(
          Layer.provideMerge(Registry.layer),
          Layer.provideMerge(Layer.sync(Metric.MetricRegistry, () => new Map()))
        )
      )
    ))
})

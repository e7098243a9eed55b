import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { assert, describe, it } from "@effect/vitest"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Data, Effect, Fiber, Layer, Metric } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Hedge, Policy, Retry } from "../src/index.ts"
import * as TelemetryOtel from "../src/TelemetryOtel.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

/**
 * Runs `body` with the OTel SDK exporting to an in-memory exporter and hands
 * it the finished spans. They are read inside the layer's scope: the
 * exporter is cleared when the SDK shuts down.
 */
const withSpans = <E>(
  body: Effect.Effect<void, E>,
  check: (spans: ReadonlyArray<ReadableSpan>) => void
) => {
  const exporter = new InMemorySpanExporter()
  return Effect.andThen(body, Effect.sync(() => check(exporter.getFinishedSpans()))).pipe(
    Effect.provide(Layer.mergeAll(
      TelemetryOtel.layerOtel({
        serviceName: "test",
        spanProcessor: new SimpleSpanProcessor(exporter),
        sampleInterval: "off",
        logs: false
      }),
      Layer.sync(Metric.MetricRegistry, () => new Map())
    ))
  )
}

const named = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((span) => span.name === name)

describe("Telemetry spans (OpenTelemetry SDK)", () => {
  it.effect("a policy execution, its retry attempts and its breaker calls, with their attributes and events", () => {
    let calls = 0
    const flaky = Effect.suspend(() => ++calls <= 2 ? Effect.fail(new Unavailable({ status: 503 })) : Effect.succeed("ok"))
    return withSpans(
      Effect.gen(function*() {
        const policy = yield* Policy.make({
          name: "payments",
          retry: { maxAttempts: 3, backoff: Backoff.constant("10 millis") },
          circuitBreaker: { policy: CircuitBreaker.consecutive(5) }
        })
        const fiber = yield* Effect.forkChild(flaky.pipe(policy.execute))
        yield* TestClock.adjust("1 second")
        assert.strictEqual(yield* Fiber.join(fiber), "ok")
      }).pipe(Effect.scoped),
      (spans) => {
        const [policySpan] = named(spans, "resilience.policy")
        assert.isDefined(policySpan)
        assert.strictEqual(policySpan!.attributes["resilience.policy"], "payments")
        assert.strictEqual(policySpan!.attributes["resilience.outcome"], "success")
        assert.deepStrictEqual(
          policySpan!.events.map((e) => [e.name, e.attributes?.["resilience.attempt"]]),
          [["resilience.retry.scheduled", 1], ["resilience.retry.scheduled", 2]]
        )

        const attempts = named(spans, "resilience.retry.attempt")
        assert.deepStrictEqual(attempts.map((s) => s.attributes["resilience.attempt"]), [1, 2, 3])
        assert.deepStrictEqual(attempts.map((s) => s.attributes["resilience.outcome"]), ["failure", "failure", "success"])
        // a resend after an HTTP-shaped failure carries OTel's stable attribute
        assert.deepStrictEqual(attempts.map((s) => s.attributes["http.request.resend_count"]), [undefined, 1, 2])
        for (const attempt of attempts) assert.strictEqual(attempt.parentSpanContext?.spanId, policySpan!.spanContext().spanId)

        const breakerSpans = named(spans, "resilience.circuit_breaker")
        assert.strictEqual(breakerSpans.length, 3)
        for (const [i, span] of breakerSpans.entries()) {
          assert.strictEqual(span.attributes["resilience.circuit_breaker.state"], "closed")
          assert.strictEqual(span.parentSpanContext?.spanId, attempts[i]!.spanContext().spanId)
        }
      }
    )
  })

  it.effect("a rejection, a transition and a fallback: outcome attributes and span events", () =>
    withSpans(
      Effect.gen(function*() {
        const policy = yield* Policy.make({
          name: "inventory",
          circuitBreaker: { policy: CircuitBreaker.consecutive(1), resetTimeout: "30 seconds" },
          fallback: { fallback: () => Effect.succeed("cached") }
        })
        assert.strictEqual(yield* Effect.fail(new Unavailable({ status: 500 })).pipe(policy.execute), "cached")
        const breaker = policy.circuitBreaker!
        yield* Effect.exit(Effect.succeed(1).pipe(breaker.execute))
      }).pipe(Effect.scoped),
      (spans) => {
        const [policySpan] = named(spans, "resilience.policy")
        assert.strictEqual(policySpan!.attributes["resilience.outcome"], "fallback")
        assert.strictEqual(policySpan!.attributes["resilience.fallback.source"], "fallback")
        assert.include(policySpan!.events.map((e) => e.name), "resilience.fallback.used")

        const [tripping, rejected] = named(spans, "resilience.circuit_breaker")
        assert.strictEqual(tripping!.attributes["resilience.outcome"], "failure")
        const transition = tripping!.events.find((e) => e.name === "resilience.circuit_breaker.transition")
        assert.deepStrictEqual(transition?.attributes, {
          "resilience.policy": "inventory",
          "resilience.circuit_breaker.from": "closed",
          "resilience.circuit_breaker.to": "open"
        })
        assert.strictEqual(rejected!.attributes["resilience.circuit_breaker.state"], "open")
        assert.strictEqual(rejected!.attributes["resilience.outcome"], "rejected")
        assert.include(rejected!.events.map((e) => e.name), "resilience.circuit_breaker.rejected")
      }
    ))

  it.effect("a policy's hedged attempts each run in a span; the winner is an attribute of the policy span", () =>
    withSpans(
      Effect.gen(function*() {
        let calls = 0
        const slowThenFast = Effect.suspend(() => ++calls === 1 ? Effect.as(Effect.sleep("1 second"), "slow") : Effect.succeed("fast"))
        const policy = yield* Policy.make({ name: "search", hedge: { delay: "50 millis", maxAttempts: 2 } })
        const fiber = yield* Effect.forkChild(slowThenFast.pipe(policy.execute))
        yield* TestClock.adjust("100 millis")
        assert.strictEqual(yield* Fiber.join(fiber), "fast")
      }).pipe(Effect.scoped),
      (spans) => {
        const attempts = named(spans, "resilience.hedge.attempt")
        assert.deepStrictEqual(
          attempts.map((s) => [s.attributes["resilience.attempt"], s.attributes["resilience.outcome"]]).sort(),
          [[1, "interrupted"], [2, "success"]]
        )
        const [policySpan] = named(spans, "resilience.policy")
        assert.strictEqual(policySpan!.attributes["resilience.hedge.winner"], 2)
        assert.deepStrictEqual(policySpan!.events.map((e) => e.name), ["resilience.hedge.launched", "resilience.hedge.won"])
        for (const attempt of attempts) assert.strictEqual(attempt.parentSpanContext?.spanId, policySpan!.spanContext().spanId)
      }
    ))

  it.effect("standalone Retry.retry and Hedge.hedge: attempts from the first retry or hedge on get spans", () =>
    withSpans(
      Effect.gen(function*() {
        let calls = 0
        const failOnce = Effect.suspend(() => ++calls === 1 ? Effect.fail("boom") : Effect.succeed("ok"))
        yield* failOnce.pipe(Retry.retry({ name: "lookup", maxAttempts: 3, backoff: Backoff.constant(0) }), Effect.withSpan("caller"))
        let hedged = 0
        const slowThenFast = Effect.suspend(() => ++hedged === 1 ? Effect.as(Effect.sleep("1 second"), "slow") : Effect.succeed("fast"))
        const fiber = yield* Effect.forkChild(slowThenFast.pipe(Hedge.hedge({ name: "search", delay: "50 millis", maxAttempts: 2 })))
        yield* TestClock.adjust("100 millis")
        assert.strictEqual(yield* Fiber.join(fiber), "fast")
      }),
      (spans) => {
        const retries = named(spans, "resilience.retry.attempt")
        assert.deepStrictEqual(retries.map((s) => [s.attributes["resilience.policy"], s.attributes["resilience.attempt"]]), [["lookup", 2]])
        const hedges = named(spans, "resilience.hedge.attempt")
        assert.deepStrictEqual(hedges.map((s) => [s.attributes["resilience.policy"], s.attributes["resilience.attempt"]]), [["search", 2]])
      }
    ))

  it.effect("without Telemetry, no resilience span is created", () => {
    const exporter = new InMemorySpanExporter()
    return Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "quiet", retry: { maxAttempts: 2, backoff: Backoff.constant(0) } })
      yield* Effect.succeed(1).pipe(policy.execute, Effect.withSpan("outer"))
      assert.deepStrictEqual(exporter.getFinishedSpans().map((s) => s.name), ["outer"])
    }).pipe(
      Effect.scoped,
      Effect.provide(TelemetryOtelSdkOnly(exporter))
    )
  })
})

/** The SDK alone (no `Telemetry.layer`): the spans a user's own code makes. */
const TelemetryOtelSdkOnly = (exporter: InMemorySpanExporter) =>
  NodeSdk.layer(() => ({ resource: { serviceName: "test" }, spanProcessor: new SimpleSpanProcessor(exporter) }))

/**
 * Issue 13: the success path of every policy with Telemetry off (what every
 * user pays for the span hook: one reference read per execution), and on —
 * spans to Effect's own tracer, and spans plus metrics to the OpenTelemetry
 * SDK with an exporter that drops everything.
 *
 * "Off" against the code before the hook cannot run in the same process: its
 * figures come from this file run on the parent commit (docs/performance.md).
 */
import type { ExportResult } from "@opentelemetry/core"
import { type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base"
import { Context, Effect, Layer, Scope } from "effect"
import { Backoff, Bulkhead, CircuitBreaker, Hedge, Policy, Retry, Telemetry, Timeout } from "../src/index.ts"
import * as TelemetryOtel from "../src/TelemetryOtel.ts"
import { CALLS_PER_ITERATION as N, loop, suite } from "./harness.ts"

/** Accepts every span and does nothing with it. */
class NoopExporter implements SpanExporter {
  export(_spans: Array<ReadableSpan>, done: (result: ExportResult) => void): void {
    done({ code: 0 })
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

export const run = async (): Promise<void> => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): A => Effect.runSync(Scope.provide(scope)(effect))
  const contextOf = <A>(layer: Layer.Layer<A>): Context.Context<never> =>
    inScope(Layer.build(layer)) as Context.Context<never>

  const call = Effect.succeed(1)
  const policy = inScope(Policy.make({
    name: "bench",
    timeout: "1 second",
    retry: { maxAttempts: 3, backoff: Backoff.exponential({ base: "100 millis" }) },
    circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "10 seconds" },
    bulkhead: { maxConcurrent: 64 }
  }))
  const breaker = inScope(CircuitBreaker.make({ name: "bench", policy: CircuitBreaker.consecutive(5) }))
  const bulkhead = inScope(Bulkhead.make({ name: "bench", maxConcurrent: 64 }))
  const subjects: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]> = [
    ["Retry.retry (3 attempts)", call.pipe(Retry.retry({ name: "bench", maxAttempts: 3 }))],
    ["Timeout.timeout", call.pipe(Timeout.timeout({ name: "bench", duration: "1 second" }))],
    ["CircuitBreaker consecutive(5)", call.pipe(breaker.execute)],
    ["Bulkhead", call.pipe(bulkhead.execute)],
    ["Hedge (answer before the delay)", call.pipe(Hedge.hedge({ name: "bench", delay: "50 millis", maxAttempts: 2 }))],
    ["Policy (timeout + retry + breaker + bulkhead)", call.pipe(policy.execute)]
  ]

  const native = contextOf(Telemetry.layer({ sampleInterval: "off", logs: false }))
  const otel = contextOf(TelemetryOtel.layerOtel({
    serviceName: "bench",
    spanProcessor: new SimpleSpanProcessor(new NoopExporter()),
    sampleInterval: "off",
    logs: false
  }))

  // What one span costs by itself, in each tracer: the yardstick for "on".
  const oneSpan = loop(Effect.withSpan(call, "span", { captureStackTrace: false }), N)
  await suite(
    "One Effect.withSpan around Effect.succeed, per call",
    [
      { name: "bare Effect.succeed", units: N, fn: () => Effect.runSync(loop(call, N)) },
      { name: "Effect.withSpan (Effect tracer)", units: N, fn: () => Effect.runSync(Effect.provideContext(oneSpan, native)) },
      { name: "Effect.withSpan (OTel SDK, no-op exporter)", units: N, fn: () => Effect.runSync(Effect.provideContext(oneSpan, otel)) }
    ],
    { baseline: "bare Effect.succeed" }
  )

  for (const [name, effect] of subjects) {
    const looped = loop(effect, N)
    await suite(
      `${name}: success path, Telemetry off and on, per call`,
      [
        { name: "Telemetry off", units: N, fn: () => Effect.runSync(looped) },
        { name: "Telemetry.layer (Effect tracer)", units: N, fn: () => Effect.runSync(Effect.provideContext(looped, native)) },
        { name: "TelemetryOtel.layerOtel (no-op exporter)", units: N, fn: () => Effect.runSync(Effect.provideContext(looped, otel)) }
      ],
      { baseline: "Telemetry off" }
    )
  }
}

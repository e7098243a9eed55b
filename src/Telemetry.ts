/**
 * Observability for every policy: spans, metrics and logs, through Effect's
 * own tracer, `Metric` and logger.
 *
 * `Telemetry.layer` subscribes to the event channel (`Events`) and turns each
 * decision (retry scheduled, breaker transition, rejection, fallback, dead
 * letter, ...) into metrics, an event on the current span and a log line. It
 * also installs the span hook the policies look up once per execution:
 * `resilience.policy` around each `Policy.execute`, `resilience.retry.attempt`
 * and `resilience.hedge.attempt` around each attempt and
 * `resilience.circuit_breaker` around each breaker call. Without the layer the
 * policies create no span, record no metric and build no event.
 *
 * Export is the application's choice: `effect/observability` (`Otlp`,
 * `PrometheusMetrics`) needs nothing more; the OpenTelemetry SDK is wired by
 * `effect-resilience/TelemetryOtel` (optional peer dependencies). See
 * docs/observability.md.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Layer, Schedule } from "effect"
import * as Events from "./Events.ts"
import * as defaults from "./internal/defaults.ts"
import { CurrentInstrumentation } from "./internal/instrument.ts"
import * as internal from "./internal/telemetry.ts"
import * as validate from "./internal/validate.ts"

/**
 * Options of {@link layer}.
 *
 * @example
 * ```ts
 * import { Telemetry } from "effect-resilience"
 *
 * const options: Telemetry.TelemetryOptions = { logs: false, sampleInterval: "30 seconds" }
 * const TelemetryLive = Telemetry.layer(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface TelemetryOptions {
  /** Log transitions, exhausted retries, rejections and dead letters. Default `true`. */
  readonly logs?: boolean | undefined
  /**
   * How often the state gauges (breaker state, bulkhead active/queued,
   * dead-letter queue size) are read from the `Registry.PolicyRegistry`, for
   * push exporters. Default 10 seconds; `"off"` reads them only when
   * `sample` runs (as `Health`'s `/metrics` does before each scrape).
   */
  readonly sampleInterval?: Duration.Input | "off" | undefined
}

/**
 * The value of the `resilience.outcome` span attribute and of the `outcome`
 * label of `resilience_calls_total`.
 *
 * @example
 * ```ts
 * import type { Telemetry } from "effect-resilience"
 *
 * const alerting: ReadonlyArray<Telemetry.Outcome> = ["failure", "timeout", "rejected"]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Outcome = internal.Outcome

/**
 * Span names: `resilience.<kind>`.
 *
 * @example
 * ```ts
 * import { Telemetry } from "effect-resilience"
 *
 * Telemetry.spanNames.retryAttempt // "resilience.retry.attempt"
 * ```
 *
 * @category constants
 * @since 0.1.0
 */
export const spanNames = {
  policy: "resilience.policy",
  retryAttempt: "resilience.retry.attempt",
  hedgeAttempt: "resilience.hedge.attempt",
  circuitBreaker: "resilience.circuit_breaker"
} as const

/**
 * Every metric `Telemetry.layer` records, as Effect `Metric`s (read them with
 * `Metric.value`, export them with `PrometheusMetrics` or OpenTelemetry).
 * The seed's four series keep their exact names and labels:
 * `circuit_breaker_state{service}`, `retry_attempts_total{operation}`,
 * `timeout_errors_total{operation}`, `fallback_invocations_total{operation}`.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { Telemetry } from "effect-resilience"
 *
 * const retries = Metric.value(Metric.withAttributes(Telemetry.metrics.retryAttempts, { operation: "kafka_publish" }))
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const metrics = internal.metrics

/**
 * Copies the live state of every policy in the `Registry.PolicyRegistry` (if
 * one is provided) into the gauges: `circuit_breaker_state`,
 * `resilience_bulkhead_active`, `resilience_bulkhead_queued`,
 * `resilience_dead_letter_queue_size`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { PrometheusMetrics } from "effect/observability"
 * import { Telemetry } from "effect-resilience"
 *
 * const scrape = Effect.andThen(Telemetry.sample, PrometheusMetrics.format())
 * ```
 *
 * @category metrics
 * @since 0.1.0
 */
export const sample: Effect.Effect<void> = internal.sample

/**
 * Turns the event channel into metrics, span events and logs, and puts a span
 * around each policy execution, retry attempt, hedge attempt and breaker call.
 *
 * **Details**
 *
 * - Spans go to whatever `Tracer` is installed (Effect's own by default,
 *   OpenTelemetry with `TelemetryOtel.layerOtel`, OTLP with
 *   `effect/observability`'s `Otlp`).
 * - Logs go to Effect's logger, annotated with `resilience.policy` and
 *   `resilience.event`: open transitions, exhausted retries and denied budgets
 *   at Warning, dead letters at Error, rejections, timeouts and fallbacks at
 *   Info, scheduled retries and hedges at Debug.
 * - Gauges are read from the `Registry.PolicyRegistry` every
 *   `sampleInterval`; provide the registry to this layer
 *   (`Layer.provide(Registry.layer)`) for them.
 *
 * **Gotchas**
 *
 * The listener goes into the `Events` reference like `Events.layer`'s: to add
 * your own listener beside it, stack the layers with `Layer.provide`.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Policy, Registry, Telemetry } from "effect-resilience"
 *
 * const Observed = Telemetry.layer({ sampleInterval: "15 seconds" }).pipe(Layer.provideMerge(Registry.layer))
 *
 * const program = Effect.gen(function*() {
 *   const policy = yield* Policy.make({ name: "scoring", retry: { maxAttempts: 3 } })
 *   return yield* Effect.succeed(1).pipe(policy.execute)
 * }).pipe(Effect.scoped, Effect.provide(Observed))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: TelemetryOptions = {}): Layer.Layer<never> => {
  const interval = options.sampleInterval === "off"
    ? undefined
    : validate.positiveDurationOrInfinityMillis(
      "Telemetry.layer",
      "sampleInterval",
      options.sampleInterval ?? Duration.millis(defaults.telemetry.sampleIntervalMillis)
    )
  const listener = internal.listener({
    metrics: true,
    spanEvents: true,
    logs: options.logs ?? defaults.telemetry.logs
  })
  const base = Layer.mergeAll(
    Events.layer(listener),
    Layer.succeed(CurrentInstrumentation, internal.instrumentation)
  )
  if (interval === undefined || interval === Infinity) return base
  return Layer.merge(
    base,
    Layer.effectDiscard(Effect.forkScoped(Effect.repeat(internal.sample, Schedule.spaced(Duration.millis(interval)))))
  )
}

/**
 * `Telemetry` wired to the OpenTelemetry SDK through `@effect/opentelemetry`'s
 * `NodeSdk`: spans to a `SpanProcessor`, metrics to a `MetricReader`, logs to
 * a `LogRecordProcessor`.
 *
 * A subpath of its own (`effect-resilience/TelemetryOtel`), so that only an
 * application that imports it needs the OpenTelemetry packages (optional
 * peer dependencies: `@effect/opentelemetry`, `@opentelemetry/api`,
 * `api-logs`, `resources`, `sdk-logs`, `sdk-metrics`, `sdk-trace-base`,
 * `sdk-trace-node`, `semantic-conventions`, on their 2.x line). Without the
 * SDK, `effect/observability`'s `Otlp` layers export the same spans and
 * metrics over OTLP/HTTP (see docs/observability.md).
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type * as Resource from "@effect/opentelemetry/Resource"
import { Layer } from "effect"
import * as Telemetry from "./Telemetry.ts"

/**
 * Options of {@link layerOtel}: the service's resource, the SDK's processors
 * and readers (any of them may be left out), and the `Telemetry.layer`
 * options.
 *
 * @example
 * ```ts
 * import type { OtelOptions } from "effect-resilience/TelemetryOtel"
 *
 * const options: OtelOptions = { serviceName: "checkout", serviceVersion: "1.4.2", attributes: { "deployment.environment": "prod" } }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface OtelOptions extends Telemetry.TelemetryOptions {
  readonly serviceName: string
  readonly serviceVersion?: string | undefined
  /** Extra resource attributes, e.g. `{ "deployment.environment": "prod" }`. */
  readonly attributes?: Record<string, string> | undefined
  readonly spanProcessor?: NodeSdk.Configuration["spanProcessor"]
  readonly metricReader?: NodeSdk.Configuration["metricReader"]
  readonly logRecordProcessor?: NodeSdk.Configuration["logRecordProcessor"]
  readonly shutdownTimeout?: NodeSdk.Configuration["shutdownTimeout"]
}

/**
 * `Telemetry.layer` plus the OpenTelemetry Node SDK: every `resilience.*`
 * span goes to `spanProcessor`, every metric of `Telemetry.metrics` to
 * `metricReader`. The SDK is flushed and shut down with the layer.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { BatchSpanProcessor, ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base"
 * import { Policy } from "effect-resilience"
 * import * as TelemetryOtel from "effect-resilience/TelemetryOtel"
 *
 * const Observed = TelemetryOtel.layerOtel({
 *   serviceName: "checkout",
 *   spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter())
 * })
 *
 * const program = Effect.gen(function*() {
 *   const policy = yield* Policy.make({ name: "payments", retry: { maxAttempts: 3 } })
 *   return yield* Effect.succeed("paid").pipe(policy.execute)
 * }).pipe(Effect.scoped, Effect.provide(Observed))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerOtel = (options: OtelOptions): Layer.Layer<Resource.Resource> =>
  Layer.merge(
    NodeSdk.layer(() => ({
      resource: {
        serviceName: options.serviceName,
        ...(options.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion }),
        ...(options.attributes === undefined ? {} : { attributes: options.attributes })
      },
      spanProcessor: options.spanProcessor,
      metricReader: options.metricReader,
      logRecordProcessor: options.logRecordProcessor,
      shutdownTimeout: options.shutdownTimeout
    })),
    Telemetry.layer(options)
  )

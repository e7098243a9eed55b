/**
 * The health of every live policy, as the seed's `/health` JSON, plus the
 * HTTP endpoints `/health` and `/metrics` (Prometheus).
 *
 * The data comes from the `Registry.PolicyRegistry`: every `Policy.make`
 * registers itself while a registry is provided; standalone breakers,
 * bulkheads and dead-letter queues join with {@link register}.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Metric } from "effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import type { ServeError } from "effect/http/HttpServerError"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import { PrometheusMetrics } from "effect/observability"
import type { Scope } from "effect/Scope"
import * as Bulkhead from "./Bulkhead.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import * as DeadLetterQueue from "./DeadLetterQueue.ts"
import * as defaults from "./internal/defaults.ts"
import * as internal from "./internal/health.ts"
import * as validate from "./internal/validate.ts"
import * as telemetry from "./internal/telemetry.ts"
import * as Registry from "./Registry.ts"

/**
 * The overall status: `healthy` and `degraded` answer 200 on `/health`,
 * `unhealthy` answers 503.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health } from "effect-resilience"
 *
 * const ready = Health.snapshot.pipe(Effect.map(({ status }): boolean => status !== ("unhealthy" satisfies Health.Status)))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Status = "healthy" | "degraded" | "unhealthy"

/**
 * A bulkhead's counters in `/health`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health } from "effect-resilience"
 *
 * const bulkheads = Health.snapshot.pipe(
 *   Effect.map((snapshot): ReadonlyArray<Health.BulkheadHealth> => Object.values(snapshot.bulkheads))
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type BulkheadHealth = internal.BulkheadView

/**
 * A dead-letter queue in `/health`; `size` is `null` when its store could not
 * be read.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health } from "effect-resilience"
 *
 * const unreadable = Health.snapshot.pipe(
 *   Effect.map((snapshot) =>
 *     Object.entries(snapshot.dead_letter_queues)
 *       .filter(([, queue]: [string, Health.DeadLetterQueueHealth]) => queue.size === null)
 *       .map(([name]) => name)
 *   )
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type DeadLetterQueueHealth = internal.DeadLetterQueueView

/**
 * The `/health` document: the seed's format (`status`, `circuit_breakers`
 * mapping each breaker to `closed`, `half_open`, `open`, `forced_open` or
 * `disabled`) plus `bulkheads` and `dead_letter_queues`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health } from "effect-resilience"
 *
 * const openBreakers = Health.snapshot.pipe(
 *   Effect.map((snapshot: Health.HealthSnapshot) =>
 *     Object.entries(snapshot.circuit_breakers).filter(([, state]) => state === "open").map(([name]) => name)
 *   )
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface HealthSnapshot {
  readonly status: Status
  readonly circuit_breakers: Readonly<Record<string, string>>
  readonly bulkheads: Readonly<Record<string, BulkheadHealth>>
  readonly dead_letter_queues: Readonly<Record<string, DeadLetterQueueHealth>>
}

/**
 * Options of {@link snapshotWith} and {@link layerHttp}.
 *
 * @example
 * ```ts
 * import { Health } from "effect-resilience"
 *
 * const options: Health.HealthOptions = { critical: ["database"] }
 * const snapshot = Health.snapshotWith(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface HealthOptions {
  /** Breakers without which the service cannot answer: one of them open makes the service `unhealthy`. */
  readonly critical?: ReadonlyArray<string> | undefined
}

/**
 * The overall status of a snapshot's blocks.
 *
 * **Details**
 *
 * - `unhealthy`: a breaker named in `critical` is open (or forced open), or a
 *   dead-letter queue is full or unreadable (failed items can no longer be
 *   kept, or their producers are blocked);
 * - `degraded`: any other breaker is open (or forced open), a bulkhead is full
 *   (every permit taken and its queue full: it is rejecting calls now), or a
 *   dead-letter queue holds entries;
 * - `healthy`: otherwise. A half-open breaker is probing a recovering
 *   dependency and a disabled one lets every call through: both count as
 *   healthy (the seed's own example reports `healthy` with a `half_open`
 *   breaker).
 *
 * @example
 * ```ts
 * import { Health } from "effect-resilience"
 *
 * Health.status({ circuit_breakers: { redis: "half_open" }, bulkheads: {}, dead_letter_queues: {} }) // "healthy"
 * ```
 *
 * @category status
 * @since 0.1.0
 */
export const status = (
  blocks: Omit<HealthSnapshot, "status">,
  options: HealthOptions = {}
): Status => {
  const critical = new Set(options.critical ?? [])
  let degraded = false
  for (const [name, state] of Object.entries(blocks.circuit_breakers)) {
    if (state === "open" || state === "forced_open") {
      if (critical.has(name)) return "unhealthy"
      degraded = true
    }
  }
  for (const queue of Object.values(blocks.dead_letter_queues)) {
    if (queue.size === null || queue.size >= queue.capacity) return "unhealthy"
    if (queue.size > 0) degraded = true
  }
  for (const bulkhead of Object.values(blocks.bulkheads)) {
    if (bulkhead.active >= bulkhead.max_concurrent && bulkhead.queued >= bulkhead.max_queue) degraded = true
  }
  return degraded ? "degraded" : "healthy"
}

/**
 * The health of every policy in the registry, with the rules of
 * {@link status} and the given `critical` breakers.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health } from "effect-resilience"
 *
 * const report = Health.snapshotWith({ critical: ["database"] }).pipe(Effect.map((h) => h.status))
 * ```
 *
 * @category snapshots
 * @since 0.1.0
 */
export const snapshotWith = (options: HealthOptions = {}): Effect.Effect<HealthSnapshot, never, Registry.PolicyRegistry> =>
  Effect.map(internal.view, (view) => {
    const blocks = {
      circuit_breakers: view.breakers,
      bulkheads: view.bulkheads,
      dead_letter_queues: view.deadLetterQueues
    }
    return { status: status(blocks, options), ...blocks }
  })

/**
 * The health of every policy in the registry (no breaker is critical):
 *
 * ```json
 * { "status": "healthy", "circuit_breakers": { "kafka_producer": "closed", "redis": "half_open" },
 *   "bulkheads": { "payments": { "active": 3, "queued": 0, "available": 29, "rejected": 0, "max_concurrent": 32, "max_queue": 256 } },
 *   "dead_letter_queues": { "orders": { "size": 0, "capacity": 1000 } } }
 * ```
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health, Registry } from "effect-resilience"
 *
 * const json = Health.snapshot.pipe(Effect.map((h) => JSON.stringify(h)), Effect.provide(Registry.layer))
 * ```
 *
 * @category snapshots
 * @since 0.1.0
 */
export const snapshot: Effect.Effect<HealthSnapshot, never, Registry.PolicyRegistry> = snapshotWith()

/**
 * Adds a standalone breaker, bulkhead or dead-letter queue to the registry
 * for the life of the scope (policies built by `Policy.make` register
 * themselves). Does nothing without a registry.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { DeadLetterQueue, Health } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const dlq = yield* DeadLetterQueue.make<string>({ name: "orders", capacity: 1000 })
 *   yield* Health.register(dlq)
 * })
 * ```
 *
 * @category registration
 * @since 0.1.0
 */
export const register = (
  component: CircuitBreaker.CircuitBreaker | Bulkhead.Bulkhead | DeadLetterQueue.DeadLetterQueue<any>
): Effect.Effect<void, never, Scope> => {
  if (CircuitBreaker.isCircuitBreaker(component)) {
    return Registry.register({ name: component.name, kind: internal.kinds.circuitBreaker, snapshot: component.stats })
  }
  if (Bulkhead.isBulkhead(component)) {
    return Registry.register({ name: component.name, kind: internal.kinds.bulkhead, snapshot: component.stats })
  }
  const queue = component
  return Registry.register({
    name: queue.name,
    kind: internal.kinds.deadLetterQueue,
    snapshot: Effect.match(queue.size, {
      onSuccess: (size) => ({ size, capacity: queue.capacity }),
      onFailure: () => ({ size: null, capacity: queue.capacity })
    })
  })
}

/**
 * `/health` as a response: the {@link snapshotWith} JSON, status 200 when
 * healthy or degraded, 503 when unhealthy.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { HttpRouter } from "effect/http"
 * import { Health } from "effect-resilience"
 *
 * const HealthRoute = HttpRouter.add("GET", "/healthz", Health.healthResponse())
 * ```
 *
 * @category http
 * @since 0.1.0
 */
export const healthResponse = (
  options: HealthOptions = {}
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Registry.PolicyRegistry> =>
  Effect.map(snapshotWith(options), (health) =>
    HttpServerResponse.jsonUnsafe(health, { status: health.status === "unhealthy" ? 503 : 200 }))

/**
 * `/metrics` as a response: every Effect metric in Prometheus text format,
 * after the state gauges were read from the registry.
 *
 * @example
 * ```ts
 * import { HttpRouter } from "effect/http"
 * import { Health } from "effect-resilience"
 *
 * const MetricsRoute = HttpRouter.add("GET", "/metrics", Health.metricsResponse)
 * ```
 *
 * @category http
 * @since 0.1.0
 */
export const metricsResponse: Effect.Effect<HttpServerResponse.HttpServerResponse> = Effect.andThen(
  telemetry.sample,
  Effect.map(PrometheusMetrics.format(), (body) =>
    HttpServerResponse.text(body, { contentType: "text/plain; version=0.0.4; charset=utf-8" }))
)

/**
 * The routes `GET /health` and `GET /metrics`, to add to an application's own
 * `HttpRouter`.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { HttpRouter } from "effect/http"
 * import { Health, Registry } from "effect-resilience"
 *
 * declare const AppRoutes: Layer.Layer<never, never, HttpRouter.HttpRouter>
 *
 * const Routes = Layer.mergeAll(AppRoutes, Health.routes()).pipe(Layer.provide(Registry.layer))
 * ```
 *
 * @category http
 * @since 0.1.0
 */
export const routes = (
  options: HealthOptions = {}
): Layer.Layer<never, never, HttpRouter.HttpRouter | Registry.PolicyRegistry> =>
  Layer.unwrap(Effect.gen(function*() {
    // Handlers run in the request's fiber: give them the registry and the
    // metrics of the context that built the routes (the application's).
    const registry = yield* Registry.PolicyRegistry
    const metricRegistry = yield* Metric.MetricRegistry
    const inApp = <A, E>(effect: Effect.Effect<A, E, Registry.PolicyRegistry>) =>
      effect.pipe(
        Effect.provideService(Registry.PolicyRegistry, registry),
        Effect.provideService(Metric.MetricRegistry, metricRegistry)
      )
    return Layer.mergeAll(
      HttpRouter.add("GET", "/health", inApp(healthResponse(options))),
      HttpRouter.add("GET", "/metrics", inApp(metricsResponse))
    )
  }))

/**
 * Options of {@link layerHttp}.
 *
 * @example
 * ```ts
 * import { Health } from "effect-resilience"
 *
 * // Port 0 picks a free port: for tests.
 * const options: Health.HttpOptions = { port: 0, host: "127.0.0.1", critical: ["database"] }
 * const Endpoints = Health.layerHttp(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface HttpOptions extends HealthOptions {
  /** Default 9464 (Prometheus exporters' port); 0 picks a free port (read it from `HttpServer.address`). */
  readonly port?: number | undefined
  /** Default `127.0.0.1`: loopback only. */
  readonly host?: string | undefined
}

/**
 * A Node HTTP server (`@effect/platform-node`, an optional peer dependency
 * loaded when this layer is built) serving {@link routes}: `GET /health`
 * (200 healthy or degraded, 503 unhealthy) and `GET /metrics` (Prometheus
 * text). Provides the `HttpServer`, so the bound address can be read.
 * Throws `InvalidConfigError` for a `port` that is not an integer from 0 to
 * 65535.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Health, Registry } from "effect-resilience"
 *
 * const Endpoints = Health.layerHttp({ port: 9464, host: "0.0.0.0", critical: ["database"] }).pipe(
 *   Layer.provide(Registry.layer)
 * )
 * ```
 *
 * @category http
 * @since 0.1.0
 */
export const layerHttp = (
  options: HttpOptions = {}
): Layer.Layer<HttpServer.HttpServer, ServeError, Registry.PolicyRegistry> => {
  const port = options.port ?? defaults.health.port
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw validate.invalid("Health.layerHttp", "port", "an integer from 0 to 65535", port)
  }
  return Layer.unwrap(Effect.promise(async (): Promise<Layer.Layer<HttpServer.HttpServer, ServeError, Registry.PolicyRegistry>> => {
    const [{ createServer }, NodeHttpServer] = await Promise.all([
      import("node:http"),
      import("@effect/platform-node/NodeHttpServer").catch((cause: unknown) => {
        throw new Error("Health.layerHttp needs the optional peer dependency @effect/platform-node", { cause })
      })
    ])
    const server = NodeHttpServer.layer(() => createServer(), {
      port,
      host: options.host ?? defaults.health.host
    })
    const exposed = Layer.effect(HttpServer.HttpServer, Effect.service(HttpServer.HttpServer))
    return Layer.mergeAll(
      HttpRouter.serve(routes(options), { disableListenLog: true, disableLogger: true }),
      exposed
    ).pipe(Layer.provide(server))
  }))
}

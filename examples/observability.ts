/**
 * Observability in one program: spans of every policy printed to the console
 * (OpenTelemetry SDK, ConsoleSpanExporter), the seed's Prometheus series and
 * the /health JSON served over HTTP for a few seconds, then exit 0.
 *
 *   node --import tsx examples/observability.ts
 */
import { ConsoleSpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Data, Effect, Layer } from "effect"
import * as HttpServer from "effect/http/HttpServer"
import { Backoff, CircuitBreaker, Health, Policy, Registry } from "../src/index.ts"
import * as TelemetryOtel from "../src/TelemetryOtel.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

const fetchText = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) })
    return `${response.status} ${await response.text()}`
  })

const program = Effect.gen(function*() {
  const server = yield* HttpServer.HttpServer
  const base = "port" in server.address ? `http://127.0.0.1:${server.address.port}` : ""
  console.log(`serving ${base}/health and ${base}/metrics`)

  // kafka_publish: two failures, then an answer (two retries)
  let sent = 0
  const publish = yield* Policy.make({
    name: "kafka_publish",
    retry: { maxAttempts: 3, backoff: Backoff.constant("20 millis") }
  })
  yield* Effect.suspend(() => ++sent <= 2 ? Effect.fail(new Unavailable({ status: 503 })) : Effect.succeed("ack")).pipe(
    publish.execute
  )

  // database: a breaker that opens after two failures
  const database = yield* Policy.make({
    name: "database",
    circuitBreaker: { policy: CircuitBreaker.consecutive(2), resetTimeout: "30 seconds" }
  })
  for (let i = 0; i < 3; i++) {
    yield* Effect.exit(Effect.fail(new Unavailable({ status: 500 })).pipe(database.execute))
  }

  // cache_read: answers from its fallback
  const cache = yield* Policy.make({ name: "cache_read", fallback: { fallback: () => Effect.succeed("stale") } })
  yield* Effect.fail("miss").pipe(cache.execute)

  console.log(`GET /health -> ${yield* fetchText(`${base}/health`)}`)
  const metrics = yield* fetchText(`${base}/metrics`)
  const seedSeries = metrics.split("\n").filter((line) =>
    /^(circuit_breaker_state|retry_attempts_total|timeout_errors_total|fallback_invocations_total)\{/.test(line)
  )
  console.log(`GET /metrics (the seed's series):\n${seedSeries.join("\n")}`)
  yield* Effect.sleep("2 seconds") // the endpoints stay up a little, for a curl
}).pipe(Effect.scoped)

const Observability = Health.layerHttp({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provideMerge(
    Layer.mergeAll(
      TelemetryOtel.layerOtel({
        serviceName: "observability-example",
        spanProcessor: new SimpleSpanProcessor(new ConsoleSpanExporter()),
        sampleInterval: "off"
      }),
      Registry.layer
    )
  )
)

Effect.runPromise(program.pipe(Effect.provide(Observability))).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)

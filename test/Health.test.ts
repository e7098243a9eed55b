import { assert, describe, it } from "@effect/vitest"
import { Cause, Data, Effect, Exit, Layer, Metric, Scope } from "effect"
import * as HttpServer from "effect/http/HttpServer"
import { TestClock } from "effect/testing"
import { Bulkhead, CircuitBreaker, DeadLetterQueue, Health, Policy, Registry, Telemetry } from "../src/index.ts"
import { thrownInvalid } from "./helpers.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

const breakerPolicy = (name: string) =>
  Policy.make({ name, circuitBreaker: { policy: CircuitBreaker.consecutive(1), resetTimeout: "10 seconds" } })

const trip = (policy: Policy.Policy) => Effect.exit(Effect.fail(new Unavailable({ status: 500 })).pipe(policy.execute))

const empty = { circuit_breakers: {}, bulkheads: {}, dead_letter_queues: {} }

describe("Health.snapshot", () => {
  it.effect("the seed's format: status and circuit_breakers, plus bulkheads and dead_letter_queues", () =>
    Effect.gen(function*() {
      yield* breakerPolicy("kafka_producer")
      yield* breakerPolicy("database")
      const redis = yield* breakerPolicy("redis")
      yield* trip(redis)
      yield* TestClock.adjust("10 seconds")
      yield* Effect.forkScoped(Effect.never.pipe(redis.execute)) // a probe in flight: half_open
      yield* Effect.yieldNow
      yield* Policy.make({ name: "payments", bulkhead: { maxConcurrent: 32, maxQueue: 256 } })
      const orders = yield* DeadLetterQueue.make<string>({ name: "orders", capacity: 1000 })
      yield* Health.register(orders)

      const health = yield* Health.snapshot
      assert.deepStrictEqual(health, {
        status: "healthy",
        circuit_breakers: { kafka_producer: "closed", database: "closed", redis: "half_open" },
        bulkheads: {
          payments: { active: 0, queued: 0, available: 32, rejected: 0, max_concurrent: 32, max_queue: 256 }
        },
        dead_letter_queues: { orders: { size: 0, capacity: 1000 } }
      })
      assert.deepStrictEqual(
        JSON.parse(JSON.stringify(health)).circuit_breakers,
        { kafka_producer: "closed", database: "closed", redis: "half_open" }
      )
    }).pipe(Effect.scoped, Effect.provide(Registry.layer)))

  it.effect("an open breaker degrades; an open critical breaker makes the service unhealthy", () =>
    Effect.gen(function*() {
      const database = yield* breakerPolicy("database")
      yield* breakerPolicy("redis")
      yield* trip(database)
      assert.strictEqual((yield* Health.snapshot).status, "degraded")
      assert.strictEqual((yield* Health.snapshotWith({ critical: ["redis"] })).status, "degraded")
      assert.strictEqual((yield* Health.snapshotWith({ critical: ["database"] })).status, "unhealthy")
      yield* database.circuitBreaker!.reset
      assert.strictEqual((yield* Health.snapshotWith({ critical: ["database"] })).status, "healthy")
    }).pipe(Effect.scoped, Effect.provide(Registry.layer)))

  it.effect("dead-letter queues: entries degrade, a full queue is unhealthy", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make<string>({ name: "orders", capacity: 2 })
      yield* Health.register(dlq)
      const offer = dlq.offer({ item: "o", stage: "submit", cause: Cause.fail("503") })
      yield* offer
      assert.deepStrictEqual(yield* Health.snapshot, {
        status: "degraded",
        ...empty,
        dead_letter_queues: { orders: { size: 1, capacity: 2 } }
      })
      yield* offer
      assert.strictEqual((yield* Health.snapshot).status, "unhealthy")
    }).pipe(Effect.scoped, Effect.provide(Registry.layer)))

  it.effect("a full bulkhead degrades; standalone components leave the registry with their scope", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const bulkhead = yield* Bulkhead.make({ name: "search", maxConcurrent: 1 })
      const breaker = yield* CircuitBreaker.make({ name: "search" })
      yield* Health.register(bulkhead).pipe(Scope.provide(scope))
      yield* Health.register(breaker).pipe(Scope.provide(scope))
      yield* Effect.forkChild(Effect.never.pipe(bulkhead.execute))
      yield* Effect.yieldNow
      const health = yield* Health.snapshot
      assert.strictEqual(health.status, "degraded")
      assert.deepStrictEqual(health.circuit_breakers, { search: "closed" })
      assert.strictEqual(health.bulkheads["search"]?.active, 1)
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(yield* Health.snapshot, { status: "healthy", ...empty })
    }).pipe(Effect.scoped, Effect.provide(Registry.layer)))

  it("a bad port fails at construction, naming the field", () => {
    const error = thrownInvalid(() => Health.layerHttp({ port: 70_000 }))
    assert.strictEqual(error.field, "port")
    assert.include(error.message, "Health.layerHttp")
  })

  it("status rules on plain blocks", () => {
    assert.strictEqual(Health.status(empty), "healthy")
    assert.strictEqual(Health.status({ ...empty, circuit_breakers: { a: "disabled", b: "half_open" } }), "healthy")
    assert.strictEqual(Health.status({ ...empty, circuit_breakers: { a: "forced_open" } }), "degraded")
    assert.strictEqual(Health.status({ ...empty, circuit_breakers: { a: "forced_open" } }, { critical: ["a"] }), "unhealthy")
    assert.strictEqual(Health.status({ ...empty, dead_letter_queues: { q: { size: null, capacity: 5 } } }), "unhealthy")
  })
})

describe("Health.layerHttp (real HTTP on a loopback port)", () => {
  it.live("GET /health and GET /metrics while a critical breaker is open", () =>
    Effect.gen(function*() {
      const server = yield* HttpServer.HttpServer
      assert.isTrue("port" in server.address)
      const port = "port" in server.address ? server.address.port : 0
      const get = (path: string) =>
        Effect.promise(async () => {
          const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) })
          return { status: response.status, type: response.headers.get("content-type"), body: await response.text() }
        })

      const database = yield* breakerPolicy("database")
      yield* Policy.make({ name: "kafka_publish", retry: { maxAttempts: 2 } })
      const healthy = yield* get("/health")
      assert.strictEqual(healthy.status, 200)
      assert.deepStrictEqual(JSON.parse(healthy.body), {
        status: "healthy",
        circuit_breakers: { database: "closed" },
        bulkheads: {},
        dead_letter_queues: {}
      })

      yield* trip(database)
      const unhealthy = yield* get("/health")
      assert.strictEqual(unhealthy.status, 503)
      assert.deepStrictEqual(JSON.parse(unhealthy.body).circuit_breakers, { database: "open" })
      assert.strictEqual(JSON.parse(unhealthy.body).status, "unhealthy")

      const metrics = yield* get("/metrics")
      assert.strictEqual(metrics.status, 200)
      assert.include(metrics.type ?? "", "text/plain")
      const lines = metrics.body.split("\n")
      assert.include(lines, "circuit_breaker_state{service=\"database\"} 2")
      assert.include(lines, "resilience_circuit_breaker_transitions_total{policy=\"database\",to=\"open\"} 1")
      assert.include(lines, "# TYPE circuit_breaker_state gauge")

      const missing = yield* get("/nope")
      assert.strictEqual(missing.status, 404)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Health.layerHttp({ port: 0, host: "127.0.0.1", critical: ["database"] }).pipe(
          Layer.provideMerge(Layer.mergeAll(Telemetry.layer({ sampleInterval: "off", logs: false }), Registry.layer)),
          Layer.provideMerge(Layer.sync(Metric.MetricRegistry, () => new Map()))
        )
      ),
      Effect.timeout("10 seconds")
    ))
})

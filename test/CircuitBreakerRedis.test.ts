/**
 * Issue 15: circuit breakers shared through Redis (`CircuitBreaker.layerStoreRedis`),
 * against a real redis-server: the store suite, then replicas in separate
 * processes (test/redis/breakerReplica.ts), then Redis stopped and restarted
 * under a replica. Real time is the subject here (propagation, leases, an
 * outage), so these tests are `it.live`, each bounded.
 */
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric } from "effect"
import { CircuitBreaker } from "../src/index.ts"
import * as redisStore from "../src/internal/circuitBreakerStoreRedis.ts"
import { suite } from "./CircuitBreakerStoreSuite.ts"
import { captureLogs } from "./helpers.ts"
import {
  type BreakerReplicaOptions,
  call,
  childBreakerReplica,
  describeRedis,
  layerBreakerStore,
  layerRedis,
  makeBreaker,
  port,
  startRedisServer,
  uniquePrefix,
  waitOpen
} from "./redis/helpers.ts"

/**
 * The bound on how late a replica sees a shared trip: one flush interval (the
 * outcome that trips is sent) plus one pub/sub hop, documented in
 * docs/scale-out.md as "about flushInterval + 5 ms"; a loaded 2-core machine
 * stalls event loops, so the tests allow 1 s.
 */
const propagationBoundMillis = 1_000

describeRedis("Redis circuit breaker store", () => {
  // Built per test: its own client and key prefix.
  suite(
    "redis",
    Layer.unwrap(Effect.sync(() =>
      CircuitBreaker.layerStoreRedis({ prefix: uniquePrefix() }).pipe(Layer.provide(layerRedis(port())))
    )).pipe(Layer.orDie)
  )

  it.effect("bad options fail at construction naming the option", () =>
    Effect.gen(function*() {
      const failure = (options: CircuitBreaker.RedisStoreOptions) =>
        Effect.flip(Layer.build(CircuitBreaker.layerStoreRedis(options))).pipe(Effect.map((e) => e.message))
      assert.include(yield* failure({ mode: { quorum: 0 } }), "mode.quorum")
      assert.include(yield* failure({ mode: "all" as never }), "mode")
      assert.include(yield* failure({ timeout: 0 }), "timeout")
      assert.include(yield* failure({ flushInterval: -1 }), "flushInterval")
      assert.include(yield* failure({ leaseTimeout: "nope" as never }), "leaseTimeout")
    }).pipe(Effect.scoped, Effect.provide(layerRedis(port()))))
})

const options = (extra: Partial<BreakerReplicaOptions> = {}): BreakerReplicaOptions => ({
  port: port(),
  prefix: uniquePrefix(),
  failures: 5,
  resetTimeoutMillis: 60_000,
  ...extra
})

describeRedis("Redis circuit breaker store: replicas in separate processes", () => {
  it.live("shared: failures spread over 3 replicas trip the one circuit, and every replica rejects within the bound", () =>
    Effect.gen(function*() {
      const o = options()
      const replicas = yield* Effect.all([childBreakerReplica(o), childBreakerReplica(o), childBreakerReplica(o)], {
        concurrency: "unbounded"
      })
      const [a, b, c] = replicas as [typeof replicas[0], typeof replicas[0], typeof replicas[0]]
      // 4 failures, none trips a replica on its own (each sees at most 2 of its 5): the shared streak is 4.
      for (const replica of [a, b, c, a]) assert.strictEqual(yield* replica.call("fail"), "failed")
      yield* Effect.sleep("300 millis")
      assert.deepStrictEqual(yield* Effect.forEach(replicas, (r) => r.state), ["Closed", "Closed", "Closed"])
      // The 5th, on b, trips the shared circuit.
      const waits = yield* Effect.forkChild(
        Effect.forEach([a, c], (r) => r.waitOpen(5_000), { concurrency: "unbounded" })
      )
      const failedAt = Date.now()
      assert.strictEqual(yield* b.call("fail"), "failed")
      const seen = yield* Fiber.join(waits)
      for (const at of seen) {
        assert.isNotNull(at, "every replica opened")
        assert.isBelow(at! - failedAt, propagationBoundMillis, `propagation ${at! - failedAt} ms`)
      }
      assert.deepStrictEqual(yield* Effect.forEach(replicas, (r) => r.call("ok")), ["rejected", "rejected", "rejected"])
    }).pipe(Effect.scoped), 60_000)

  it.live("shared half-open: at most halfOpenMaxCalls probes over every replica; a lease dies with its holder", () =>
    Effect.gen(function*() {
      const o = options({ failures: 1, resetTimeoutMillis: 500, halfOpenMaxCalls: 1, leaseTimeoutMillis: 1_500 })
      const replicas = yield* Effect.all([childBreakerReplica(o), childBreakerReplica(o), childBreakerReplica(o)], {
        concurrency: "unbounded"
      })
      assert.strictEqual(yield* replicas[0]!.call("fail"), "failed")
      for (const r of replicas.slice(1)) assert.isNotNull(yield* r.waitOpen(5_000))
      // Each replica tries probes that hold for 10 s, for 2 s from the opening's end: one lease, one probe.
      yield* Effect.sleep("500 millis")
      const probes = yield* Effect.forEach(replicas, (r) => Effect.forkChild(r.probe(10_000, 2_000)))
      yield* Effect.sleep("3 seconds")
      const answers = yield* Effect.forEach(probes, (probe) =>
        Effect.map(Effect.exit(Effect.timeout(Fiber.join(probe), "10 millis")), (exit) =>
          exit._tag === "Success" ? exit.value : "probing"))
      assert.strictEqual(answers.filter((a) => a === "probing").length, 1, `answers ${answers}`)
      assert.strictEqual(answers.filter((a) => a === "rejected").length, 2, `answers ${answers}`)
      // Its holder dies: the lease expires (1.5 s after the opening's end), and another replica probes.
      const holder = answers.indexOf("probing")
      yield* replicas[holder]!.kill
      const others = replicas.filter((_, i) => i !== holder)
      const started = Date.now()
      let recovered: string | undefined
      while (recovered === undefined && Date.now() - started < 8_000) {
        const results = yield* Effect.forEach(others, (r) => r.call("ok"))
        if (results.includes("ok")) recovered = results.join(",")
        else yield* Effect.sleep("100 millis")
      }
      assert.isDefined(recovered, "another replica probed once the dead holder's lease expired")
      // The probe closed the shared circuit: every live replica lets calls through again.
      yield* Effect.sleep("300 millis")
      assert.deepStrictEqual(yield* Effect.forEach(others, (r) => r.call("ok")), ["ok", "ok"])
    }).pipe(Effect.scoped), 60_000)

  it.live("quorum 2: one replica's trip opens only its own circuit; the second replica's trip opens every replica", () =>
    Effect.gen(function*() {
      const o = options({ failures: 2, mode: { quorum: 2 } })
      const replicas = yield* Effect.all([childBreakerReplica(o), childBreakerReplica(o), childBreakerReplica(o)], {
        concurrency: "unbounded"
      })
      const [a, b, c] = replicas as [typeof replicas[0], typeof replicas[0], typeof replicas[0]]
      yield* a.call("fail")
      yield* a.call("fail")
      assert.strictEqual(yield* a.call("ok"), "rejected")
      yield* Effect.sleep("300 millis")
      assert.deepStrictEqual([yield* b.call("ok"), yield* c.call("ok")], ["ok", "ok"], "one bad replica opens no one else")
      const waiting = yield* Effect.forkChild(c.waitOpen(5_000))
      const trippedAt = Date.now()
      yield* b.call("fail")
      yield* b.call("fail")
      const at = yield* Fiber.join(waiting)
      assert.isNotNull(at)
      assert.isBelow(at! - trippedAt, propagationBoundMillis)
      assert.strictEqual(yield* c.call("ok"), "rejected")
      // A replica started now learns of the opening from its first read of the circuit.
      const late = yield* Effect.flatMap(Layer.build(layerBreakerStore(o)), (context) => makeBreaker(o).pipe(Effect.provide(context)))
      yield* call(late, "ok")
      assert.isNotNull(yield* waitOpen(late, propagationBoundMillis), "a late replica opens too")
    }).pipe(Effect.scoped), 60_000)
})

describeRedis("Redis circuit breaker store: Redis stopped and restarted mid-run", () => {
  it.live("falls back to local state at once (warning, metric), never hangs, and shares again after the restart", () => {
    const { lines: logs, layer: captured } = captureLogs()
    return Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() => startRedisServer()),
        (server) => Effect.promise(() => server.dispose())
      )
      const o: BreakerReplicaOptions = {
        port: server.port,
        prefix: uniquePrefix(),
        failures: 2,
        resetTimeoutMillis: 60_000,
        // A call that waited for Redis would take this long: far above the bound below, whatever the load.
        timeoutMillis: 1_000,
        retryIntervalMillis: 300
      }
      const other = yield* childBreakerReplica(o)
      const context = yield* Layer.build(layerBreakerStore(o))
      const breaker = yield* makeBreaker(o).pipe(Effect.provide(context))
      const timed = (kind: "ok" | "fail") =>
        Effect.gen(function*() {
          const start = performance.now()
          const result = yield* call(breaker, kind)
          return { result, millis: performance.now() - start }
        })
      assert.strictEqual((yield* timed("ok")).result, "ok")
      const before = (yield* Metric.value(redisStore.unavailableTotal)).count

      yield* Effect.promise(() => server.stop("SIGKILL"))
      // Calls never wait for Redis: they run on the local view, and the local circuit still trips.
      const down: Array<{ result: string; millis: number }> = []
      const stopped = Date.now()
      // Until the store has found Redis gone (its first command timed out) and a little after.
      const warned = () => logs.some((line) => line.startsWith("Warn") && line.includes("Redis circuit breaker store"))
      while (Date.now() - stopped < 5_000 && !warned()) {
        down.push(yield* timed("ok"))
        yield* Effect.sleep("20 millis")
      }
      for (let i = 0; i < 10; i++) down.push(yield* timed("ok"))
      down.push(yield* timed("fail"), yield* timed("fail"), yield* timed("ok"))
      assert.deepStrictEqual(down.slice(-3).map((c) => c.result), ["failed", "failed", "rejected"], "the local circuit trips")
      assert.isTrue(down.slice(0, -3).every((c) => c.result === "ok"))
      const slowest = Math.max(...down.map((c) => c.millis))
      assert.isBelow(slowest, 500, `a call took ${slowest} ms while Redis was down`)
      assert.isTrue(warned(), logs.join("\n"))
      assert.strictEqual((yield* Metric.value(redisStore.unavailableTotal)).count, before + 1, "counted once per outage")

      yield* Effect.promise(() => server.start())
      const restarted = Date.now()
      while (!logs.some((line) => line.includes("Redis answers again")) && Date.now() - restarted < 10_000) {
        yield* Effect.sleep("50 millis")
      }
      assert.isTrue(logs.some((line) => line.includes("Redis answers again")), logs.join("\n"))
      // The restarted Redis is empty: the shared circuit is Closed, and the local opening gives way to it.
      yield* Effect.sleep("200 millis")
      assert.strictEqual((yield* timed("ok")).result, "ok")
      // Shared again: the other process's failures open this replica's circuit.
      const waiting = yield* Effect.forkChild(waitOpen(breaker, 5_000))
      yield* other.call("fail")
      yield* other.call("fail")
      assert.isNotNull(yield* Fiber.join(waiting), "a trip in another process reaches this one")
    }).pipe(Effect.scoped, Effect.provide(captured))
  }, 60_000)
})

describeRedis("Redis circuit breaker store: two replicas in this process (two runtimes, each its own client)", () => {
  /**
   * Two replicas of one breaker (`consecutive(1)`, one probe, leases that outlive the test unless handed back),
   * the shared circuit opened by a failure on the first (which takes the one lease ahead) and seen by the second.
   */
  const openReplicas = Effect.gen(function*() {
    const o = options({ failures: 1, resetTimeoutMillis: 300, leaseTimeoutMillis: 60_000 })
    const [a, b] = yield* Effect.forEach([0, 1], () =>
      Effect.flatMap(Layer.build(layerBreakerStore(o)), (context) => makeBreaker(o).pipe(Effect.provide(context))))
    yield* call(a!, "fail")
    assert.isNotNull(yield* waitOpen(b!, 5_000))
    return [a!, b!] as const
  })

  /** Calls `breaker` every 20 ms until a call is admitted (not rejected); the real ms it took, or null after `withinMillis`. */
  const admittedWithin = (breaker: CircuitBreaker.CircuitBreaker, withinMillis: number) =>
    Effect.gen(function*() {
      const start = Date.now()
      while (Date.now() - start < withinMillis) {
        if ((yield* call(breaker, "ok")) !== "rejected") return Date.now() - start
        yield* Effect.sleep("20 millis")
      }
      return null
    })

  it.live("an interrupted probe hands its lease back at once: another replica probes long before the lease would expire", () =>
    Effect.gen(function*() {
      const replicas = yield* openReplicas
      // Each replica tries, every 20 ms, a probe that would hold for 10 s, and notes when one starts.
      const started = [false, false]
      const prober = (i: number) =>
        Effect.gen(function*() {
          while (true) {
            const body = Effect.andThen(Effect.sync(() => (started[i] = true)), Effect.sleep("10 seconds"))
            if ((yield* Effect.exit(replicas[i]!.execute(body)))._tag === "Success") return
            yield* Effect.sleep("20 millis")
          }
        })
      const probers = yield* Effect.forEach([0, 1], (i) => Effect.forkChild(prober(i)))
      yield* Effect.sleep("1500 millis")
      assert.strictEqual(started.filter(Boolean).length, 1, "one probe over both replicas")
      const holder = started.indexOf(true)
      yield* Fiber.interrupt(probers[holder]!)
      const handedBack = Date.now()
      while (!started[1 - holder] && Date.now() - handedBack < 5_000) yield* Effect.sleep("20 millis")
      assert.isTrue(started[1 - holder], "the other replica probed within 5 s (the lease lasts 60 s)")
      yield* Fiber.interrupt(probers[1 - holder]!)
    }).pipe(Effect.scoped), 30_000)

  it.live("admin decisions reach every replica: forceOpen on one rejects on the other, reset closes both", () =>
    Effect.gen(function*() {
      const o = options()
      const [a, b] = yield* Effect.forEach([0, 1], () =>
        Effect.flatMap(Layer.build(layerBreakerStore(o)), (context) => makeBreaker(o).pipe(Effect.provide(context))))
      yield* call(b!, "ok")
      yield* a!.forceOpen
      assert.isNotNull(yield* waitOpen(b!, propagationBoundMillis), "b is forced open too")
      assert.strictEqual((yield* b!.state)._tag, "ForcedOpen")
      yield* b!.reset
      const reset = Date.now()
      while ((yield* a!.state)._tag !== "Closed" && Date.now() - reset < propagationBoundMillis) yield* Effect.sleep("5 millis")
      assert.deepStrictEqual([yield* call(a!, "ok"), yield* call(b!, "ok")], ["ok", "ok"])
    }).pipe(Effect.scoped), 30_000)

  it.live("a lease taken ahead by a replica without calls is handed back after the opening's end", () =>
    Effect.gen(function*() {
      const [, b] = yield* openReplicas
      // a holds the one lease; only b has calls after the opening.
      yield* Effect.sleep("300 millis")
      const took = yield* admittedWithin(b, 5_000)
      assert.isNotNull(took, "b probed within 5 s (the lease lasts 60 s)")
    }).pipe(Effect.scoped), 30_000)
})

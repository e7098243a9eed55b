import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Data, Duration, Effect, Exit, Fiber, Layer, Random, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Chaos, Timeout } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import { throwsInvalid } from "./helpers.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

/** Runs `effect` n times and counts the failures. */
const failures = <A, E>(effect: Effect.Effect<A, E>, n: number) =>
  Effect.gen(function*() {
    let failed = 0
    for (let i = 0; i < n; i++) if (Exit.isFailure(yield* Effect.exit(effect))) failed++
    return failed
  })

describe("Chaos: injections", () => {
  it("defaults are pinned", () => {
    assert.deepStrictEqual(defaults.chaos, { name: "chaos", rate: 1, dependencyName: "dependency" })
  })

  it.effect("fault fails about rate of the calls, reproducibly under a seed, without running them", () =>
    Effect.gen(function*() {
      let ran = 0
      const call = Effect.sync(() => ran++).pipe(
        Chaos.inject([Chaos.fault({ rate: 0.1, error: () => new Unavailable({ status: 503 }) })])
      )
      const first = yield* failures(call, 10_000).pipe(Random.withSeed(7))
      const again = yield* failures(call, 10_000).pipe(Random.withSeed(7))
      assert.strictEqual(first, again)
      assert.isAbove(first, 900)
      assert.isBelow(first, 1100)
      assert.strictEqual(ran, 20_000 - 2 * first)
      const error = yield* Effect.flip(Effect.void.pipe(Chaos.inject([Chaos.fault({ error: new Unavailable({ status: 503 }) })])))
      assert.strictEqual(error._tag, "Unavailable")
    }))

  it.effect("a fault without an error fails with a ChaosError naming the injection", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.void.pipe(Chaos.inject([Chaos.fault({ name: "payments-chaos" })])))
      assert.strictEqual(error._tag, "ChaosError")
      assert.strictEqual(error.policy, "payments-chaos")
      assert.strictEqual(error.message, `chaos "payments-chaos" injected a fault`)
    }))

  it.effect("enabled: false injects nothing and draws nothing; an Effect<boolean> is read per call", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* failures(Effect.void.pipe(Chaos.inject([Chaos.fault({ enabled: false })])), 100), 0)
      const on = yield* Ref.make(false)
      const call = Effect.void.pipe(Chaos.inject([Chaos.fault({ enabled: Ref.get(on) })]))
      assert.strictEqual(yield* failures(call, 10), 0)
      yield* Ref.set(on, true)
      assert.strictEqual(yield* failures(call, 10), 10)
      // a disabled injection leaves the seeded sequence untouched
      const plain = yield* Random.next.pipe(Random.withSeed(3))
      const after = yield* Effect.void.pipe(
        Chaos.inject([Chaos.fault({ rate: 0.5, enabled: false })]),
        Effect.andThen(Random.next),
        Random.withSeed(3)
      )
      assert.strictEqual(after, plain)
    }))

  it.effect("latency delays the call on the Clock (TestClock drives it), fixed or drawn", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(
        Clock.currentTimeMillis.pipe(Chaos.inject([Chaos.latency({ delay: "2 seconds" })]))
      )
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), 2000)

      const drawn = yield* Effect.forkChild(
        Effect.forEach(
          Array.from({ length: 200 }, () => 0),
          () => Chaos.uniform({ min: 10, max: 50 }).pipe(Effect.map(Duration.toMillis))
        ).pipe(Random.withSeed(1))
      )
      const samples = yield* Fiber.join(drawn)
      assert.deepStrictEqual(samples.filter((ms) => ms < 10 || ms > 50), [])
    }))

  it.effect("logNormal has the median and p99 it is given; exponential its mean", () =>
    Effect.gen(function*() {
      const n = 20_000
      const draw = (d: Chaos.Distribution) =>
        Effect.forEach(Array.from({ length: n }, () => 0), () => Effect.map(d, Duration.toMillis)).pipe(
          Effect.map((xs) => [...xs].sort((a, b) => a - b)),
          Random.withSeed(11)
        )
      const ln = yield* draw(Chaos.logNormal({ median: 40, p99: 250 }))
      assert.approximately(ln[n / 2]!, 40, 2)
      assert.approximately(ln[Math.floor(n * 0.99)]!, 250, 25)
      const ex = yield* draw(Chaos.exponential({ mean: 100 }))
      assert.approximately(ex.reduce((a, b) => a + b, 0) / n, 100, 4)
    }))

  it.effect("outcome replaces the value without running the call", () =>
    Effect.gen(function*() {
      let ran = 0
      const value = yield* Effect.sync(() => ++ran).pipe(Chaos.inject([Chaos.outcome({ value: -1 })]))
      assert.strictEqual(value, -1)
      assert.strictEqual(ran, 0)
    }))

  it.effect("outage fails every call inside [from, until) and none outside", () =>
    Effect.gen(function*() {
      const call = Effect.succeed("ok").pipe(Chaos.inject([Chaos.outage({ from: "10 seconds", until: "20 seconds" })]))
      const at = (t: number) => Effect.andThen(TestClock.setTime(t), Effect.exit(call))
      assert.isTrue(Exit.isSuccess(yield* at(9_999)))
      const down = yield* at(10_000)
      assert.isTrue(Exit.isFailure(down))
      assert.isTrue(Exit.isFailure(yield* at(19_999)))
      assert.isTrue(Exit.isSuccess(yield* at(20_000)))
    }))

  it.effect("behavior runs its side effect before a share of calls", () =>
    Effect.gen(function*() {
      const restarts = yield* Ref.make(0)
      const call = Effect.void.pipe(Chaos.inject([Chaos.behavior({ rate: 0.25, behavior: Ref.update(restarts, (n) => n + 1) })]))
      yield* Effect.forEach(Array.from({ length: 4000 }, () => call), (c) => c, { discard: true }).pipe(Random.withSeed(5))
      const n = yield* Ref.get(restarts)
      assert.isAbove(n, 900)
      assert.isBelow(n, 1100)
    }))

  it.effect("injections apply in order, the first outermost", () =>
    Effect.gen(function*() {
      // outage first: fails at once; latency first: waits, then fails
      const outageFirst = yield* Effect.forkChild(
        Effect.exit(Effect.void.pipe(Chaos.inject([Chaos.outage({}), Chaos.latency({ delay: 1000 })])))
      )
      const latencyFirst = yield* Effect.forkChild(
        Effect.exit(Effect.void.pipe(Chaos.inject([Chaos.latency({ delay: 1000 }), Chaos.outage({})])))
      )
      yield* TestClock.adjust(1)
      assert.isDefined(outageFirst.pollUnsafe())
      assert.isUndefined(latencyFirst.pollUnsafe())
      yield* TestClock.adjust(1000)
      assert.isTrue(Exit.isFailure(yield* Fiber.join(latencyFirst)))
    }))

  it.effect("an injected latency is seen by a timeout around the call, and interrupts cleanly", () =>
    Effect.gen(function*() {
      let ran = false
      let finalized = false
      const call = Effect.sync(() => {
        ran = true
      }).pipe(
        Chaos.inject([Chaos.latency({ delay: "5 seconds" })]),
        Effect.ensuring(Effect.sync(() => {
          finalized = true
        }))
      )
      const fiber = yield* Effect.forkChild(Effect.flip(Timeout.timeout(call, { duration: "1 second", name: "quote" })))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "TimeoutError")
      assert.isFalse(ran, "the call did not run: it was still in its injected delay")
      assert.isTrue(finalized)

      const interrupted = yield* Effect.forkChild(call)
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(interrupted)
      yield* TestClock.adjust("10 seconds")
      assert.isFalse(ran)
    }))

  it("bad options throw InvalidConfigError naming the field", () => {
    throwsInvalid(() => Chaos.fault({ rate: 2 }), "Chaos.fault: rate must be a number in [0, 1], got 2")
    throwsInvalid(() => Chaos.fault({ rate: Number.NaN }), "rate")
    throwsInvalid(() => Chaos.latency({ delay: -5 }), "Chaos.latency: delay must be a finite duration >= 0")
    throwsInvalid(() => Chaos.outage({ from: "20 seconds", until: "10 seconds" }), "Chaos.outage: until")
    throwsInvalid(() => Chaos.fault({ name: "" }), "Chaos.fault: name")
    throwsInvalid(() => Chaos.fault({ enabled: "yes" as any }), "Chaos.fault: enabled")
    throwsInvalid(() => Chaos.logNormal({ median: 100, p99: 50 }), "Chaos.logNormal: p99")
    throwsInvalid(() => Chaos.uniform({ min: 100, max: 50 }), "Chaos.uniform: max")
    throwsInvalid(() => Chaos.behavior({ behavior: 1 as any }), "Chaos.behavior: behavior")
  })
})

class Inventory extends Context.Service<Inventory, {
  readonly stock: (sku: string) => Effect.Effect<number, Unavailable>
  readonly reserve: (sku: string, n: number) => Effect.Effect<string, Unavailable>
  readonly health: Effect.Effect<"up", Unavailable>
  readonly region: string
}>()("test/Inventory") {}

const InventoryLive = Layer.succeed(Inventory, {
  stock: (sku) => Effect.succeed(sku.length),
  reserve: (sku, n) => Effect.succeed(`${sku}x${n}`),
  health: Effect.succeed("up" as const),
  region: "eu"
})

const stockOf = Effect.gen(function*() {
  const inventory = yield* Inventory
  return yield* inventory.stock("abc")
})

describe("Chaos: a layer over a service", () => {
  it.effect("wraps every method and Effect member; business code is unchanged", () =>
    Effect.gen(function*() {
      const chaotic = InventoryLive.pipe(Chaos.layer(Inventory, [Chaos.fault({ error: () => new Unavailable({ status: 503 }) })]))
      const error = yield* Effect.flip(stockOf.pipe(Effect.provide(chaotic)))
      assert.strictEqual(error.status, 503)
      const inventory = yield* Effect.service(Inventory).pipe(Effect.provide(chaotic))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(inventory.reserve("a", 1))))
      assert.isTrue(Exit.isFailure(yield* Effect.exit(inventory.health)))
      assert.strictEqual(inventory.region, "eu")
      assert.strictEqual(yield* stockOf.pipe(Effect.provide(InventoryLive)), 3)
    }))

  it.effect("per-method injections touch only the methods they name, typed by each method", () =>
    Effect.gen(function*() {
      const chaotic = InventoryLive.pipe(
        Chaos.layer(Inventory, { stock: [Chaos.outcome({ value: 0 })], reserve: [Chaos.latency({ delay: "1 second" })] })
      )
      const inventory = yield* Effect.service(Inventory).pipe(Effect.provide(chaotic))
      assert.strictEqual(yield* inventory.stock("abc"), 0)
      assert.strictEqual(yield* inventory.health, "up")
      const fiber = yield* Effect.forkChild(inventory.reserve("a", 2))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "ax2")
    }))

  it.effect("an injection draws per call, when the returned effect runs", () =>
    Effect.gen(function*() {
      const chaotic = InventoryLive.pipe(Chaos.layer(Inventory, [Chaos.fault({ rate: 0.5, error: () => new Unavailable({ status: 503 }) })]))
      const inventory = yield* Effect.service(Inventory).pipe(Effect.provide(chaotic))
      const stock = inventory.stock("abc") // built once, run many times
      const failed = yield* failures(stock, 1000).pipe(Random.withSeed(9))
      assert.isAbove(failed, 420)
      assert.isBelow(failed, 580)
    }))

  it.effect("a method name the service lacks fails the layer with InvalidConfigError", () =>
    Effect.gen(function*() {
      const chaotic = InventoryLive.pipe(Chaos.layer(Inventory, { nope: [Chaos.fault()] } as any))
      const error = yield* Effect.flip(Effect.service(Inventory).pipe(Effect.provide(chaotic), Effect.catchDefect(Effect.fail)))
      assert.include(String(error), "Chaos.layer: injections.nope")
      throwsInvalid(() => Chaos.layer(Inventory, [1] as any), "Chaos.layer: injections must be an array of Chaos injections")
    }))
})

describe("Chaos.dependency", () => {
  it.effect("fails at failureRate after its latency, counts every call that reaches it", () =>
    Effect.gen(function*() {
      const dep = yield* Chaos.dependency({ failureRate: 0.2, latency: 30 })
      const fiber = yield* Effect.forkChild(failures(dep.call, 1000).pipe(Random.withSeed(4)))
      yield* TestClock.adjust(30 * 1000)
      const failed = yield* Fiber.join(fiber)
      assert.isAbove(failed, 160)
      assert.isBelow(failed, 240)
      const stats = yield* dep.stats
      assert.deepStrictEqual(stats, {
        calls: 1000,
        succeeded: 1000 - failed,
        failed,
        inFlight: 0,
        maxInFlight: 1,
        queued: 0,
        maxQueued: 0
      })
    }))

  it.effect("outage windows fail every call (503, reason outage) and recoverAt ends all failures", () =>
    Effect.gen(function*() {
      const dep = yield* Chaos.dependency({ failureRate: 1, outages: [{ from: 1000, until: 2000 }], recoverAt: 3000 })
      const at = (t: number) => Effect.andThen(TestClock.setTime(t), Effect.flip(dep.call))
      assert.strictEqual((yield* at(0)).reason, "failure")
      const down = yield* at(1500)
      assert.deepStrictEqual([down.reason, down.status, down.policy], ["outage", 503, "dependency"])
      assert.strictEqual((yield* at(2500)).reason, "failure")
      yield* TestClock.setTime(3000)
      assert.strictEqual(yield* dep.call, 4)
    }))

  it.effect("with a capacity, the excess waits in line: latency grows and the line is counted", () =>
    Effect.gen(function*() {
      const dep = yield* Chaos.dependency({ latency: 100, capacity: 2 })
      const fibers = yield* Effect.forEach(Array.from({ length: 6 }, () => 0), () => Effect.forkChild(Effect.timed(dep.call)))
      yield* TestClock.adjust(300)
      const times = yield* Effect.forEach(fibers, (f) => Effect.map(Fiber.join(f), ([d]) => Duration.toMillis(d)))
      assert.deepStrictEqual(times, [100, 100, 200, 200, 300, 300])
      const stats = yield* dep.stats
      assert.strictEqual(stats.maxQueued, 4)
      assert.strictEqual(stats.queued, 0)
    }))

  it.effect("an interrupted call leaves the line and frees its slot", () =>
    Effect.gen(function*() {
      const dep = yield* Chaos.dependency({ latency: 100, capacity: 1 })
      const running = yield* Effect.forkChild(dep.call)
      const waiting = yield* Effect.forkChild(dep.call)
      yield* TestClock.adjust(10)
      assert.strictEqual((yield* dep.stats).queued, 1)
      yield* Fiber.interrupt(waiting)
      yield* Fiber.interrupt(running)
      const stats = yield* dep.stats
      assert.deepStrictEqual([stats.inFlight, stats.queued], [0, 0])
      const fiber = yield* Effect.forkChild(dep.call)
      yield* TestClock.adjust(100)
      assert.strictEqual(yield* Fiber.join(fiber), 3)
    }))

  it.effect("bad options fail with InvalidConfigError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Chaos.dependency({ failureRate: 0.8, permanentRate: 0.5 }))
      assert.include(error.message, "Chaos.dependency: permanentRate must be a number in [0, 1 - failureRate")
      const bad = yield* Effect.flip(Chaos.dependency({ outages: [{ from: 10, until: 5 }] }))
      assert.include(bad.message, "Chaos.dependency: outages[0].until")
    }))
})

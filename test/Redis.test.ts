/**
 * Rate limits shared through a real redis-server (test/redis/globalSetup.ts).
 * Skipped, loudly, without redis-server unless REQUIRE_REDIS=1.
 */
import { assert, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer } from "effect"
import { RateLimiter, Redis as EffectRedis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { Errors, Events, Policy } from "../src/index.ts"
import * as Redis from "../src/Redis.ts"
import { describeRedis, layerRedis, port, uniquePrefix } from "./redis/helpers.ts"

const ok = Effect.succeed("ok")

/** Runs one call through `policy` at each time (ms, ascending, TestClock); per call, its retryAfter in ms, or undefined when admitted. */
const schedule = (policy: Policy.Policy, times: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const results: Array<[number, number | undefined]> = []
    let now = 0
    for (const at of times) {
      yield* TestClock.adjust(at - now)
      now = at
      const exit = yield* Effect.exit(policy.execute(ok))
      results.push([at, Exit.isSuccess(exit) ? undefined : retryAfterMillis(exit)])
    }
    return results
  })

const retryAfterMillis = (exit: Exit.Exit<string, Policy.PolicyError>): number => {
  const reason = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
  if (reason?._tag !== "Fail" || reason.error._tag !== "RateLimitedError") throw new Error(`not rate limited: ${exit}`)
  return Duration.toMillis(reason.error.retryAfter)
}

/** A replica: its own Redis client and shared store, under which `Policy`s are built. */
const layerReplica = (prefix: string, options?: Redis.RedisRateLimiterStoreOptions) =>
  Redis.layerRateLimiterStore({ ...options, prefix }).pipe(Layer.provideMerge(layerRedis(port())))

const fixedWindow = { limit: 2, window: "1 second", algorithm: "fixed-window" } as const

describeRedis("Redis rate-limit store", () => {
  it.live("Effect's layerStoreRedis moves its fixed window (calls at 0, 600, 600 ms: 3 admitted); ours admits 2", () =>
    Effect.gen(function*() {
      const effectStore = yield* RateLimiter.makeStoreRedis({ prefix: uniquePrefix() })
      const ourStore = yield* Redis.makeRateLimiterStore({ prefix: uniquePrefix() })
      const limiters = yield* Effect.forEach([effectStore, ourStore], (store) =>
        RateLimiter.make.pipe(Effect.provideService(RateLimiter.RateLimiterStore, store)))
      const admitted = [0, 0]
      const call = (i: number) =>
        limiters[i]!.consume({ key: "k", ...fixedWindow }).pipe(
          Effect.andThen(Effect.sync(() => admitted[i]!++)),
          Effect.catchReason("RateLimiterError", "RateLimitExceeded", () => Effect.void)
        )
      // Both windows start together; a 1 s window starting at a second boundary holds all three calls.
      yield* Effect.sleep(1000 - (Date.now() % 1000) + 5)
      yield* Effect.forEach([0, 1], call)
      yield* Effect.sleep(600)
      yield* Effect.forEach([0, 1, 0, 1], (i) => call(i))
      assert.deepStrictEqual(admitted, [3, 2])
    }).pipe(Effect.provide(layerRedis(port()))))

  it.effect("fixed-window through Policy on Redis: the same answers as the memory store, retryAfter to the window's end", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "api", rateLimit: fixedWindow })
      const [results, events] = yield* Events.collect(schedule(policy, [0, 600, 600, 999, 1000, 1000, 1000]))
      assert.deepStrictEqual(results, [
        [0, undefined],
        [600, undefined],
        [600, 400],
        [999, 1],
        [1000, undefined],
        [1000, undefined],
        [1000, 1000]
      ])
      assert.deepStrictEqual(events.map((e) => e._tag), ["RateLimited", "RateLimited", "RateLimited"])
    }).pipe(Effect.scoped, Effect.provide(layerReplica(uniquePrefix()))))

  it.effect("token-bucket through Policy on Redis (Effect's script): a burst of limit, then one call per window/limit", () =>
    Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "api", rateLimit: { limit: 4, window: "1 second" } })
      const results = yield* schedule(policy, [0, 0, 0, 0, 0, 100, 250, 250, 500])
      assert.deepStrictEqual(results.map(([at, retryAfter]) => [at, retryAfter === undefined]), [
        [0, true],
        [0, true],
        [0, true],
        [0, true],
        [0, false],
        [100, false],
        [250, true],
        [250, false],
        [500, true]
      ])
    }).pipe(Effect.scoped, Effect.provide(layerReplica(uniquePrefix()))))

  it.effect("two replicas (each its own client, store and policy) share one limit; other keys and prefixes do not", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      // Each replica's client lives as long as the test (Layer.build in the test's scope).
      const replicaPolicy = (name: string, replicaPrefix = prefix) =>
        Effect.flatMap(Layer.build(layerReplica(replicaPrefix)), (replica) =>
          Policy.make({ name, rateLimit: { ...fixedWindow, limit: 3 } }).pipe(Effect.provide(replica)))
      const a = yield* replicaPolicy("orders")
      const b = yield* replicaPolicy("orders")
      const other = yield* replicaPolicy("users")
      const elsewhere = yield* replicaPolicy("orders", uniquePrefix())
      const outcomes = yield* Effect.forEach([a, b, a, b, a, b], (policy) => Effect.exit(policy.execute(ok)))
      assert.deepStrictEqual(outcomes.map(Exit.isSuccess), [true, true, true, false, false, false])
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(other.execute(ok))))
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(elsewhere.execute(ok))))
      // the next window admits again
      yield* TestClock.adjust(1000)
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(b.execute(ok))))
    }).pipe(Effect.scoped))

  it.effect("the counts live in Redis, one key per clock-aligned window, expiring one window after it ends", () => {
    const prefix = uniquePrefix()
    return Effect.gen(function*() {
      const policy = yield* Policy.make({ name: "api", rateLimit: fixedWindow })
      yield* TestClock.adjust(2_300)
      yield* policy.execute(ok)
      const redis = yield* EffectRedis.Redis
      assert.strictEqual(yield* redis.send<string>("GET", `${prefix}api:fixed:2000`), "1")
      const ttl = Number(yield* redis.send<number>("PTTL", `${prefix}api:fixed:2000`))
      assert.isTrue(ttl > 1_500 && ttl <= 1_700, `PTTL ${ttl}`)
    }).pipe(Effect.scoped, Effect.provide(layerReplica(prefix)))
  })

  it.effect("bad options fail at construction naming the option", () =>
    Effect.gen(function*() {
      const failure = (options: Redis.RedisRateLimiterStoreOptions) =>
        Effect.flip(Redis.makeRateLimiterStore(options)).pipe(Effect.map((e) => e.message))
      assert.include(yield* failure({ timeout: 0 }), "timeout")
      assert.include(yield* failure({ retryInterval: -1 }), "retryInterval")
      assert.include(yield* failure({ onUnavailable: "allow" as never }), "onUnavailable")
      const error = yield* Effect.flip(Redis.makeRateLimiterStore({ timeout: "nope" as never }))
      assert.isTrue(Errors.isInvalidConfigError(error))
    }).pipe(Effect.provide(layerRedis(port()))))
})

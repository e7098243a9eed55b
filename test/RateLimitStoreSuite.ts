/**
 * The contract of the rate-limit stage's store, run against every store:
 * `suite(name, storeLayer)` (as test/CircuitBreakerStoreSuite.ts does for
 * breaker stores). The default memory store runs it in `RateLimit.test.ts`,
 * the shared Redis store in `Redis.test.ts`: the same answers from both.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, type Layer, Random } from "effect"
import { TestClock } from "effect/testing"
import { Events, Policy } from "../src/index.ts"

const ok = Effect.succeed("ok")

/** Runs `calls` at the given times (ms, ascending) through `policy`; returns, per call, its time and exit. */
const schedule = (policy: Policy.Policy, times: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const results: Array<{ at: number; exit: Exit.Exit<string, Policy.PolicyError> }> = []
    let now = 0
    for (const at of times) {
      yield* TestClock.adjust(at - now)
      now = at
      results.push({ at, exit: yield* Effect.exit(policy.execute(ok)) })
    }
    return results
  })

/** A seeded random schedule: `count` calls with gaps of 0 to `maxGap` ms (many equal times: bursts). */
const randomTimes = (count: number, maxGap: number) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    let at = 0
    for (let i = 0; i < count; i++) {
      if (yield* Random.nextBoolean) at += yield* Random.nextIntBetween(0, maxGap)
      times.push(at)
    }
    return times
  })

const retryAfterMillis = (exit: Exit.Exit<string, Policy.PolicyError>): number | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const error = exit.cause.reasons[0]
  assert.deepStrictEqual([error?._tag, error?._tag === "Fail" ? error.error._tag : undefined], ["Fail", "RateLimitedError"])
  return Duration.toMillis((error as { error: Policy.RateLimitedError }).error.retryAfter)
}

export interface SuiteOptions {
  /**
   * The store answers over a socket, on a clock of its own in part: two
   * tests are not run. The seeded token-bucket schedules (Effect's Redis
   * bucket expires its keys on Redis's clock, which a TestClock does not
   * move; Redis.test.ts checks that bucket on a schedule of its own), and the
   * delay test (it moves the TestClock once while its callers' replies are
   * still on their way, so callers that sleep after it are never woken).
   */
  readonly remote?: boolean
}

export const suite = (name: string, layer: Layer.Layer<never, unknown>, options: SuiteOptions = {}): void => {
  describe(`rate limit: ${name} store`, () => {
    it.effect("fixed-window: one call at 0 ms and two at 600 ms, the third is rejected until the window ends", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.make({ name: "api", rateLimit: { limit: 2, window: "1 second", algorithm: "fixed-window" } })
        const [results, events] = yield* Events.collect(schedule(policy, [0, 600, 600, 999, 1000, 1000, 1000]))
        assert.deepStrictEqual(results.map((r) => [r.at, retryAfterMillis(r.exit)]), [
          [0, undefined],
          [600, undefined],
          [600, 400],
          [999, 1],
          [1000, undefined],
          [1000, undefined],
          [1000, 1000]
        ])
        assert.deepStrictEqual(
          events.map((e) => e._tag === "RateLimited" ? [e.name, e.timestamp, Duration.toMillis(e.retryAfter)] : e._tag),
          [["api", 600, 400], ["api", 999, 1], ["api", 1000, 1000]]
        )
      }).pipe(Effect.scoped, Effect.provide(layer)))

    it.effect("fixed-window: over seeded random schedules no clock window admits more than limit, and only a full window rejects", () =>
      Effect.gen(function*() {
        for (let seed = 1; seed <= 25; seed++) {
          yield* Effect.gen(function*() {
            const limit = yield* Random.nextIntBetween(1, 5)
            const window = yield* Random.nextIntBetween(50, 2000)
            // A name per seed: a shared store keeps each key's windows.
            const policy = yield* Policy.make({ name: `p${seed}`, rateLimit: { limit, window, algorithm: "fixed-window" } })
            const start = yield* Clock.currentTimeMillis
            const times = yield* randomTimes(60, window)
            const results = yield* schedule(policy, times)
            const admitted = new Map<number, number>()
            for (const { at, exit } of results) {
              const bucket = Math.floor((start + at) / window)
              const count = admitted.get(bucket) ?? 0
              const retryAfter = retryAfterMillis(exit)
              if (retryAfter === undefined) {
                admitted.set(bucket, count + 1)
                assert.isAtMost(count + 1, limit, `seed ${seed}: window ${bucket} admitted more than ${limit}`)
              } else {
                assert.strictEqual(count, limit, `seed ${seed}: rejected at ${at} with ${count} of ${limit} admitted`)
                assert.strictEqual(retryAfter, (bucket + 1) * window - (start + at), `seed ${seed}: retryAfter`)
              }
            }
          }).pipe(Random.withSeed(seed), Effect.scoped)
        }
      }).pipe(Effect.provide(layer)))

    it.effect.skipIf(options.remote === true)("token-bucket: a burst of limit, then one call per window/limit, over seeded random schedules", () =>
      Effect.gen(function*() {
        for (let seed = 1; seed <= 25; seed++) {
          yield* Effect.gen(function*() {
            const limit = yield* Random.nextIntBetween(1, 5)
            const window = limit * (yield* Random.nextIntBetween(20, 400)) // whole-millisecond refills
            const policy = yield* Policy.make({ name: `p${seed}`, rateLimit: { limit, window, algorithm: "token-bucket" } })
            const results = yield* schedule(policy, yield* randomTimes(60, window))
            const admitted = results.filter((r) => Exit.isSuccess(r.exit)).map((r) => r.at)
            // Over any interval [t_i, t_j]: at most limit + floor((t_j - t_i) · limit / window) calls.
            const violations: Array<string> = []
            for (let i = 0; i < admitted.length; i++) {
              for (let j = i; j < admitted.length; j++) {
                const bound = limit + Math.floor((admitted[j]! - admitted[i]!) * limit / window)
                if (j - i + 1 > bound) violations.push(`calls ${i}..${j} at ${admitted[i]}..${admitted[j]} ms`)
              }
            }
            assert.deepStrictEqual(violations, [], `seed ${seed}`)
            assert.isAbove(admitted.length, 0)
          }).pipe(Random.withSeed(seed), Effect.scoped)
        }
      }).pipe(Effect.provide(layer)))

    it.effect.skipIf(options.remote === true)("onExceeded delay: callers wait for the window that admits them, never more than limit per window", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.make({
          name: "api",
          rateLimit: { limit: 2, window: "1 second", algorithm: "fixed-window", onExceeded: "delay" }
        })
        yield* TestClock.adjust(600)
        const ranAt: Array<number> = []
        const call = Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => void ranAt.push(now)))
        const [fibers, events] = yield* Events.collect(Effect.gen(function*() {
          const fibers = yield* Effect.forEach([1, 2, 3, 4, 5], () => Effect.forkChild(policy.execute(call)))
          yield* TestClock.adjust("3 seconds")
          return fibers
        }))
        yield* Fiber.joinAll(fibers)
        assert.deepStrictEqual(ranAt, [600, 600, 1000, 1000, 2000])
        assert.deepStrictEqual(events, []) // waiting is not a rejection
      }).pipe(Effect.scoped, Effect.provide(layer)))
  })
}

/**
 * The default in-memory store behind the rate-limit stage.
 *
 * Effect 4.1's `RateLimiter.layerStoreMemory` (and its Redis script) count a
 * "fixed window" whose end moves forward by `window / limit` per admitted
 * token and restarts at the first call after it expires: with `limit: 2` over
 * 1 s, calls at 0, 600 and 600 ms are all admitted, three in one second. This
 * store keeps true fixed windows aligned on the clock (`[k·window,
 * (k+1)·window)`), so no window admits more than `limit` tokens. The token
 * bucket is Effect's own (checked against its contract in
 * test/RateLimit.test.ts).
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import { RateLimiter } from "effect/persistence"

interface Window {
  start: number
  count: number
}

/**
 * The store is told `refillRate = window / limit`, rounded by RateLimiter to
 * whole nanoseconds: `refillRate · limit` is off by up to `limit / 2` ns.
 * Windows are whole milliseconds (RateLimiter refuses less than 1 ms), so
 * rounding to the millisecond recovers the window exactly for any
 * `limit` below a million.
 */
export const windowMillis = (refillRate: Duration.Duration, limit: number): number =>
  Math.max(1, Math.round(Duration.toMillis(refillRate) * limit))

export const layerStoreMemory: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.effect(
  RateLimiter.RateLimiterStore,
  Effect.gen(function*() {
    const effectStore = yield* RateLimiter.RateLimiterStore.pipe(Effect.provide(RateLimiter.layerStoreMemory))
    const windows = new Map<string, Window>()
    return RateLimiter.RateLimiterStore.of({
      ...effectStore,
      fixedWindow: (options) =>
        // Without a limit (RateLimiter's "delay" mode) the window length is unknown; the rate-limit stage
        // never calls it that way (it waits by retrying in "fail" mode), other callers get Effect's counting.
        options.limit === undefined ? effectStore.fixedWindow(options) : Effect.map(Clock.currentTimeMillis, (now) => {
          const limit = options.limit!
          const length = windowMillis(options.refillRate, limit)
          const start = Math.floor(now / length) * length
          let window = windows.get(options.key)
          if (window === undefined || window.start !== start) {
            window = { start, count: 0 }
            windows.set(options.key, window)
          }
          const ttl = start + length - now
          if (window.count + options.tokens > limit) return [window.count + options.tokens, ttl] as const
          window.count += options.tokens
          return [window.count, ttl] as const
        })
    })
  })
)

/**
 * The store every rate-limit stage built in this context uses; `undefined`
 * (the default) gives each stage a private {@link layerStoreMemory}. A shared
 * store (`Redis.layerRateLimiterStore`) sets it, so `Policy.layer` and
 * `Policy.layerFromConfig` pick it up without a `limiter` option.
 */
export const CurrentStore = Context.Reference<RateLimiter.RateLimiterStore["Service"] | undefined>(
  "effect-resilience/RateLimit/Store",
  { defaultValue: () => undefined }
)

/**
 * The shared rate-limit store on Redis, behind `Redis.layerRateLimiterStore`.
 *
 * - Fixed windows: our own Lua script. Effect 4.1's `RateLimiter.layerStoreRedis`
 *   has the same moving-window defect as its memory store (a key whose TTL
 *   grows by `window / limit` per token and restarts at the first call after it
 *   expires: `limit: 2` per 1 s admits calls at 0, 600 and 600 ms), so this
 *   store counts in one key per clock-aligned window,
 *   `<prefix><key>:fixed:<windowStart>`, like rateLimitStore.ts in memory.
 *   The window is read from the caller's `Clock` (so the store works under
 *   `TestClock`); replicas need clocks in step (NTP), see docs/scale-out.md.
 * - Token buckets, fixed windows without a limit (RateLimiter's own "delay"
 *   mode) and the adaptive state: Effect's Redis scripts.
 * - Every call is bounded by `timeout`. Redis not answering (down, or
 *   node-redis queueing commands while it reconnects) switches the store to
 *   its fallback for `retryInterval`, then one call probes Redis again: no call
 *   waits longer than `timeout`, and an outage costs one waiting call per
 *   interval, not one per call.
 */
import { Clock, Duration, Effect } from "effect"
import { RateLimiter, Redis } from "effect/persistence"
import * as defaults from "./defaults.ts"
import * as rateLimitStore from "./rateLimitStore.ts"
import * as realTime from "./realTime.ts"
import * as validate from "./validate.ts"

type Store = RateLimiter.RateLimiterStore["Service"]

export interface RedisRateLimiterStoreOptions {
  /** Prefix of every key the store writes. Default `"effect-resilience:ratelimit:"`. */
  readonly prefix?: string | undefined
  /** The longest a call waits for Redis. Default 500 ms. */
  readonly timeout?: Duration.Input | undefined
  /** How long calls use the fallback after Redis failed to answer, before one call asks it again. Default 1 s. */
  readonly retryInterval?: Duration.Input | undefined
  /**
   * What answers while Redis does not. Default `"local"`.
   *
   * - `"local"`: a limiter private to this process with the same limits (the
   *   fixed-window-correct memory store): each replica admits up to `limit`
   *   per window, so N replicas admit up to N × `limit` during the outage.
   * - `"reject"`: every call is rate limited (`RateLimitedError`, `retryAfter`
   *   = the time until Redis is asked again).
   */
  readonly onUnavailable?: "local" | "reject" | undefined
}

/**
 * Adds `tokens` to the window's count unless that would pass `limit`; answers
 * the count the call would reach (above `limit`: rejected, nothing written).
 * Counts are written back with 17 significant digits, as Effect's scripts do,
 * because RateLimiter accepts fractional tokens. Lua numbers returned to Redis
 * are truncated to integers, so the answer is a string.
 */
const fixedWindowScript = Redis.script(
  (key: string, tokens: number, limit: number, ttlMillis: number) => [key, tokens, limit, ttlMillis],
  {
    numberOfKeys: 1,
    lua: `
local next = tonumber(redis.call("GET", KEYS[1]) or "0") + tonumber(ARGV[1])
if next > tonumber(ARGV[2]) then
  return string.format("%.17g", next)
end
redis.call("SET", KEYS[1], string.format("%.17g", next), "PX", ARGV[3])
return string.format("%.17g", next)
`
  }
).withReturnType<string>()

const storeError = (message: string, cause?: unknown) =>
  new RateLimiter.RateLimiterError({ reason: new RateLimiter.RateLimitStoreError({ message, cause }) })

const decode = (source: string, options: RedisRateLimiterStoreOptions) =>
  validate.attempt(() => {
    const prefix = options.prefix ?? defaults.redisRateLimiterStore.prefix
    if (typeof prefix !== "string") throw validate.invalid(source, "prefix", "a string", prefix)
    const timeoutMillis = validate.positiveDurationMillisOr(
      source,
      "timeout",
      options.timeout,
      defaults.redisRateLimiterStore.timeoutMillis
    )
    const retryIntervalMillis = validate.positiveDurationMillisOr(
      source,
      "retryInterval",
      options.retryInterval,
      defaults.redisRateLimiterStore.retryIntervalMillis
    )
    const onUnavailable = options.onUnavailable ?? defaults.redisRateLimiterStore.onUnavailable
    if (onUnavailable !== "local" && onUnavailable !== "reject") {
      throw validate.invalid(source, "onUnavailable", `"local" or "reject"`, onUnavailable)
    }
    return { prefix, timeoutMillis, retryIntervalMillis, onUnavailable }
  })

export const make = Effect.fnUntraced(function*(options: RedisRateLimiterStoreOptions = {}) {
  const config = yield* decode("Redis.layerRateLimiterStore", options)
  const redis = yield* Redis.Redis
  const effectStore = yield* RateLimiter.makeStoreRedis({ prefix: config.prefix })
  const local: Store = yield* RateLimiter.RateLimiterStore.pipe(Effect.provide(rateLimitStore.layerStoreMemory))
  const fixedWindow = redis.eval(fixedWindowScript)

  const remote: Store = {
    ...effectStore,
    fixedWindow: (options) =>
      options.limit === undefined ? effectStore.fixedWindow(options) : Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const limit = options.limit!
        const length = rateLimitStore.windowMillis(options.refillRate, limit)
        const start = Math.floor(now / length) * length
        const ttl = start + length - now
        // The key outlives its window by one window: a late or replayed write lands in a dead window, never a live one.
        return fixedWindow(`${config.prefix}${options.key}:fixed:${start}`, options.tokens, limit, ttl + length).pipe(
          Effect.map((count) => [Number(count), ttl] as const),
          Effect.mapError((error) => storeError("Failed to execute the fixedWindow rate limiting script", error.cause))
        )
      })
  }

  // Availability, read and written synchronously by the calls (no await between read and write).
  let unavailableUntil = -Infinity
  let probing = false
  /** How long until one call asks Redis again: the `retryAfter` of a "reject" answer. */
  const waitMillis = (now: number) => Math.max(1, unavailableUntil - now)

  const reject: Store = {
    ...local,
    fixedWindow: (options) =>
      Effect.map(Clock.currentTimeMillis, (now) => [(options.limit ?? 0) + options.tokens + 1, waitMillis(now)] as const),
    tokenBucket: (options) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        // RateLimiter's delay is ceil(-remaining) · refillRate − elapsed: make it the time until the next probe.
        const refill = Duration.toMillis(options.refillRate)
        const remaining = -Math.max(1, Math.ceil(options.tokens))
        return [remaining, -remaining * refill - waitMillis(now)] as const
      })
  }
  const fallback = config.onUnavailable === "local" ? local : reject

  const guard = <Args, A>(
    op: string,
    remoteCall: (args: Args) => Effect.Effect<A, RateLimiter.RateLimiterError>,
    fallbackCall: (args: Args) => Effect.Effect<A, RateLimiter.RateLimiterError>
  ) =>
  (args: Args): Effect.Effect<A, RateLimiter.RateLimiterError> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const down = unavailableUntil !== -Infinity
      if (down && (now < unavailableUntil || probing)) return fallbackCall(args)
      if (down) probing = true
      return remoteCall(args).pipe(
        // On real time: a reply on its way is not late because a TestClock moved (realTime.ts).
        (call) => realTime.timeout(call, config.timeoutMillis, () => storeError(`Redis did not answer ${op} within ${config.timeoutMillis} ms`)),
        // Typed failures only (Redis errors, the timeout): an interrupted caller is not evidence about Redis.
        Effect.matchEffect({
          onSuccess: (a) => {
            if (!down) return Effect.succeed(a)
            unavailableUntil = -Infinity
            return Effect.as(Effect.logInfo("Redis rate-limit store: Redis answers again, limits are shared again"), a)
          },
          onFailure: (error) =>
            Effect.flatMap(Clock.currentTimeMillis, (failedAt) => {
              const wasUp = unavailableUntil === -Infinity
              unavailableUntil = failedAt + config.retryIntervalMillis
              const warn = wasUp
                ? Effect.logWarning(
                  `Redis rate-limit store: Redis unavailable, answering with the "${config.onUnavailable}" fallback; ` +
                    `asking Redis again every ${config.retryIntervalMillis} ms`,
                  error
                )
                : Effect.void
              return Effect.andThen(warn, fallbackCall(args))
            })
        }),
        Effect.ensuring(Effect.sync(() => {
          if (down) probing = false
        }))
      )
    })

  return RateLimiter.RateLimiterStore.of({
    fixedWindow: guard("fixedWindow", remote.fixedWindow, fallback.fixedWindow),
    tokenBucket: guard("tokenBucket", remote.tokenBucket, fallback.tokenBucket),
    adaptiveConsume: guard("adaptiveConsume", remote.adaptiveConsume, local.adaptiveConsume),
    adaptiveFeedback: guard("adaptiveFeedback", remote.adaptiveFeedback, local.adaptiveFeedback)
  })
})

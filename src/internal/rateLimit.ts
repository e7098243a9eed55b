/**
 * The rate-limit stage of `Policy`, on Effect's own `effect/persistence`
 * `RateLimiter` (our fixed-window-correct memory store unless the caller
 * brings a limiter).
 */
import { Duration, Effect } from "effect"
import { RateLimiter } from "effect/persistence"
import type { InvalidConfigError } from "../Errors.ts"
import { ResilienceEvent } from "../Events.ts"
import { guard, TaggedError } from "./errors.ts"
import { emit } from "./events.ts"
import type { Wrap } from "./policy.ts"
import * as rateLimitStore from "./rateLimitStore.ts"
import * as validate from "./validate.ts"

export interface RateLimitOptions {
  /** Calls allowed per `window`: an integer >= 1. What exactly is guaranteed depends on `algorithm`. */
  readonly limit: number
  readonly window: Duration.Input
  /**
   * Default `"token-bucket"`.
   *
   * - `"fixed-window"`: at most `limit` calls in each window aligned on the
   *   clock, `[k·window, (k+1)·window)`. Two adjacent windows may together
   *   admit `2·limit` calls within less than one `window`.
   * - `"token-bucket"`: a burst of up to `limit` calls, then one call per
   *   `window / limit`: over any interval of length `T`, at most
   *   `limit + floor(T · limit / window)` calls (so up to `2·limit − 1` within
   *   one `window`; `limit` per `window` on average).
   *
   * These hold for the default store; a `limiter` brings its own store's semantics.
   */
  readonly algorithm?: "token-bucket" | "fixed-window" | undefined
  /** `"fail"` (default): reject with `RateLimitedError`; `"delay"`: wait until the limiter admits the call. */
  readonly onExceeded?: "fail" | "delay" | undefined
  /** Limiter key. Default: the policy name. */
  readonly key?: string | undefined
  /**
   * A limiter to use instead of the store of the context (a shared one such as
   * `Redis.layerRateLimiterStore`, else a private memory-backed one).
   */
  readonly limiter?: RateLimiter.RateLimiter | undefined
}

export class RateLimitedError extends TaggedError("RateLimitedError")<{
  readonly policy: string
  readonly retryAfter: Duration.Duration
  readonly limit: number
}> {
  override get message(): string {
    return `rate limit of ${this.limit} calls of "${this.policy}" exceeded, retry after ${Duration.format(this.retryAfter)}`
  }
}

export const isRateLimitedError = guard<RateLimitedError>("RateLimitedError")

export const make: (name: string, options: RateLimitOptions) => Effect.Effect<Wrap, InvalidConfigError> =
  Effect.fnUntraced(function*(name: string, options: RateLimitOptions) {
    const source = "Policy.make"
    const config = yield* validate.attempt(() => {
      validate.options(source, "rateLimit", options, true, "an object", "rateLimit.")
      const limit = validate.positiveInt(source, "rateLimit.limit", options.limit)
      const windowMillis = validate.positiveDurationMillis(source, "rateLimit.window", options.window)
      const algorithm = options.algorithm ?? "token-bucket"
      if (algorithm !== "token-bucket" && algorithm !== "fixed-window") {
        throw validate.invalid(source, "rateLimit.algorithm", `"token-bucket" or "fixed-window"`, algorithm)
      }
      const onExceeded = options.onExceeded ?? "fail"
      if (onExceeded !== "fail" && onExceeded !== "delay") {
        throw validate.invalid(source, "rateLimit.onExceeded", `"fail" or "delay"`, onExceeded)
      }
      const key = validate.nonEmptyName(source, "rateLimit.key", options.key ?? name)
      if (options.limiter !== undefined && typeof (options.limiter as Partial<RateLimiter.RateLimiter> | null)?.consume !== "function") {
        throw validate.invalid(source, "rateLimit.limiter", "a RateLimiter (see effect/persistence RateLimiter.make)", options.limiter)
      }
      return { limit, window: Duration.millis(windowMillis), algorithm, onExceeded, key }
    })
    const shared = yield* rateLimitStore.CurrentStore
    const limiter = options.limiter ?? (yield* RateLimiter.make.pipe(
      shared === undefined
        ? Effect.provide(rateLimitStore.layerStoreMemory)
        : Effect.provideService(RateLimiter.RateLimiterStore, shared)
    ))
    // Always asked in "fail" mode: "delay" waits the answer's retryAfter and asks again. RateLimiter's own
    // "delay" mode books a slot ahead with arithmetic that assumes Effect's store (whose fixed window is wrong,
    // see rateLimitStore.ts), and an interrupted waiter would keep its booked slot.
    const request = limiter.consume({ ...config, onExceeded: "fail" })
    const consume: Effect.Effect<void, RateLimitedError> = request.pipe(
      Effect.asVoid,
      Effect.catchReason("RateLimiterError", "RateLimitExceeded", (reason) =>
        config.onExceeded === "delay"
          // at least 1 ms, so a store answering 0 cannot make us spin
          ? Effect.andThen(Effect.sleep(Duration.max(reason.retryAfter, Duration.millis(1))), consume)
          : Effect.andThen(
            emit((timestamp) => ResilienceEvent.RateLimited({ name, timestamp, retryAfter: reason.retryAfter })),
            Effect.fail(new RateLimitedError({ policy: name, retryAfter: reason.retryAfter, limit: reason.limit }))
          )),
      // A store failure (only possible with a remote store) is not a decision about the call: surface it as a defect.
      Effect.catchTag("RateLimiterError", Effect.die)
    )
    return (self) => Effect.andThen(consume, self)
  })

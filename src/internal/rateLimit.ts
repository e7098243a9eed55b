/**
 * The rate-limit stage of `Policy`, on Effect's own `effect/persistence`
 * `RateLimiter` (memory store unless the caller brings a limiter).
 */
import { Duration, Effect } from "effect"
import { RateLimiter } from "effect/persistence"
import type { InvalidConfigError } from "../Errors.ts"
import type { Wrap } from "./policy.ts"
import * as validate from "./validate.ts"
import { TaggedError } from "./errors.ts"

export interface RateLimitOptions {
  /** Calls allowed per `window`: an integer >= 1. */
  readonly limit: number
  readonly window: Duration.Input
  /** Default `"token-bucket"`. */
  readonly algorithm?: "token-bucket" | "fixed-window" | undefined
  /** `"fail"` (default): reject with `RateLimitedError`; `"delay"`: wait for a token. */
  readonly onExceeded?: "fail" | "delay" | undefined
  /** Limiter key. Default: the policy name. */
  readonly key?: string | undefined
  /** A limiter to use instead of a private memory-backed one (e.g. Redis-backed, shared across processes). */
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

export const make = (name: string, options: RateLimitOptions): Effect.Effect<Wrap, InvalidConfigError> =>
  Effect.gen(function*() {
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
    const limiter = options.limiter ?? (yield* RateLimiter.make.pipe(Effect.provide(RateLimiter.layerStoreMemory)))
    const consume = limiter.consume(config).pipe(
      Effect.flatMap((result) => Duration.isZero(result.delay) ? Effect.void : Effect.sleep(result.delay)),
      Effect.catchReason("RateLimiterError", "RateLimitExceeded", (reason) =>
        Effect.fail(new RateLimitedError({ policy: name, retryAfter: reason.retryAfter, limit: reason.limit }))),
      // A store failure (only possible with a remote store) is not a decision about the call: surface it as a defect.
      Effect.catchTag("RateLimiterError", Effect.die)
    )
    return (self) => Effect.andThen(consume, self)
  })

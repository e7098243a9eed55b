/**
 * State shared by replicas through Redis (imported as `effect-resilience/Redis`,
 * never from the main entry point, so a user without Redis installs nothing
 * more). The client is Effect's `effect/persistence` `Redis` service; on Node
 * it comes from `@effect/platform-node`'s `NodeRedis.layer` with the `redis`
 * (node-redis 5.x) client — both optional peer dependencies of this package.
 *
 * Today: rate limits shared by every replica (`layerRateLimiterStore`) and
 * durable dead letters (`layerDeadLetterStore`). Shared circuit breakers are
 * `CircuitBreaker.layerStoreRedis` (it needs only effect's `Redis` service, so
 * it lives with the breaker; docs/scale-out.md).
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { RateLimiter, type Redis } from "effect/persistence"
import type { InvalidConfigError } from "./Errors.ts"
import { DeadLetterStore, type DeadLetterStoreShape } from "./DeadLetterQueue.ts"
import * as deadLetterStore from "./internal/deadLetterStoreRedis.ts"
import * as rateLimitStore from "./internal/rateLimitStore.ts"
import * as internal from "./internal/rateLimitStoreRedis.ts"

/**
 * Options of {@link layerRateLimiterStore}: the key prefix, how long a call
 * waits for Redis (`timeout`, default 500 ms), how often Redis is asked again
 * after it failed (`retryInterval`, default 1 s), and what answers meanwhile
 * (`onUnavailable`: `"local"`, the default, or `"reject"`).
 *
 * @example
 * ```ts
 * import type { RedisRateLimiterStoreOptions } from "effect-resilience/Redis"
 *
 * const options: RedisRateLimiterStoreOptions = { prefix: "orders:", timeout: "100 millis", onUnavailable: "reject" }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type RedisRateLimiterStoreOptions = internal.RedisRateLimiterStoreOptions

/**
 * A `RateLimiterStore` (`effect/persistence`) on Redis whose fixed windows
 * are true clock-aligned windows (at most `limit` per window, over all
 * replicas), every call bounded by `timeout`, with a documented fallback while
 * Redis does not answer. For a `RateLimiter` of your own; `Policy` stages use
 * {@link layerRateLimiterStore}.
 *
 * **Gotchas**: a bad option fails with `InvalidConfigError` naming it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimiter } from "effect/persistence"
 * import * as Redis from "effect-resilience/Redis"
 *
 * const limiter = Effect.gen(function*() {
 *   const store = yield* Redis.makeRateLimiterStore({ prefix: "api:" })
 *   return yield* RateLimiter.make.pipe(Effect.provideService(RateLimiter.RateLimiterStore, store))
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeRateLimiterStore: (
  options?: RedisRateLimiterStoreOptions
) => Effect.Effect<RateLimiter.RateLimiterStore["Service"], InvalidConfigError, Redis.Redis> = internal.make

/**
 * Shares the rate limits of every `Policy` built under this layer through
 * Redis: the policies' `rateLimit` stages (built in code or from config)
 * count in Redis under `prefix` + their key (the policy name unless `key` is
 * set), so N replicas together admit `limit` calls per window. Also provides
 * `RateLimiter.RateLimiterStore`, for Effect's own `RateLimiter.layer`.
 *
 * **Details**: the stage's `algorithm` keeps its meaning; `"fixed-window"`
 * gives at most `limit` calls per clock-aligned window over all replicas.
 * While Redis does not answer within `timeout`, calls are answered by the
 * `onUnavailable` fallback (see {@link RedisRateLimiterStoreOptions}) and a
 * warning is logged; every `retryInterval` one call asks Redis again.
 *
 * @example
 * ```ts
 * import { NodeRedis } from "@effect/platform-node"
 * import { Context, Layer } from "effect"
 * import { Policy } from "effect-resilience"
 * import * as Redis from "effect-resilience/Redis"
 *
 * class Payments extends Context.Service<Payments, Policy.Policy>()("app/Payments") {}
 *
 * const PaymentsLive = Policy.layer(Payments, {
 *   name: "payments",
 *   rateLimit: { limit: 100, window: "1 second", algorithm: "fixed-window" }
 * }).pipe(
 *   Layer.provide(Redis.layerRateLimiterStore({ prefix: "app:ratelimit:" })),
 *   Layer.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true }))
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerRateLimiterStore = (
  options?: RedisRateLimiterStoreOptions
): Layer.Layer<RateLimiter.RateLimiterStore, InvalidConfigError, Redis.Redis> =>
  Layer.effectContext(Effect.map(internal.make(options), (store) =>
    Context.make(RateLimiter.RateLimiterStore, store).pipe(Context.add(rateLimitStore.CurrentStore, store))))

// -----------------------------------------------------------------------------
// durable dead letters
// -----------------------------------------------------------------------------

/**
 * Options of {@link layerDeadLetterStore}: the key `prefix` (default
 * `"effect-resilience:dlq:"`), how long a call waits for Redis before it
 * fails with `DeadLetterStoreError` (`timeout`, default 2 s), and how long a
 * removed entry is kept so that a failed remove can be undone
 * (`recoveryWindow`, default 10 minutes).
 *
 * @example
 * ```ts
 * import type { RedisDeadLetterStoreOptions } from "effect-resilience/Redis"
 *
 * const options: RedisDeadLetterStoreOptions = { prefix: "orders:dlq:", timeout: "1 second" }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type RedisDeadLetterStoreOptions = deadLetterStore.RedisDeadLetterStoreOptions

/**
 * A durable `DeadLetterStoreShape` on Redis, e.g. to wrap in a test double;
 * queues use {@link layerDeadLetterStore}. Background undos of failed removes
 * run in the scope it is built in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Redis from "effect-resilience/Redis"
 *
 * const program = Effect.gen(function*() {
 *   const store = yield* Redis.makeDeadLetterStore({ prefix: "orders:dlq:" })
 *   return yield* store.count("orders")
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeDeadLetterStore: (
  options?: RedisDeadLetterStoreOptions
) => Effect.Effect<DeadLetterStoreShape, InvalidConfigError, Redis.Redis | Scope.Scope> = deadLetterStore.make

/**
 * Keeps the entries of every `DeadLetterQueue` built under this layer in
 * Redis, under `prefix` + the queue's name: they outlive the process (a
 * crash, a deploy) and a new process adopts them, ready to `replay`.
 *
 * **Details**
 *
 * Delivery is at-least-once through `replay`: an entry leaves Redis only
 * after the handler succeeded with it, so a crash can repeat a handler
 * (handlers must be idempotent) but never loses an entry. (`take` and `drain`
 * hand entries to the calling process, which may crash with them.) Offers
 * with the producer's `id` are idempotent, also across processes. Every call is bounded by `timeout`: while Redis does not
 * answer, offers and reads fail with `DeadLetterStoreError`, never hang.
 * The queue's `capacity` counts in each process (docs/dead-letter-queue.md).
 *
 * **Gotchas**: a queue on this (durable) store needs an `item` schema; a bad
 * option fails with `InvalidConfigError` naming it.
 *
 * @example
 * ```ts
 * import { NodeRedis } from "@effect/platform-node"
 * import { Effect, Schema } from "effect"
 * import { DeadLetterQueue } from "effect-resilience"
 * import * as Redis from "effect-resilience/Redis"
 *
 * const program = Effect.gen(function*() {
 *   const dlq = yield* DeadLetterQueue.make({ name: "orders", item: Schema.String })
 *   // after a restart: the entries of the previous process are here
 *   return yield* dlq.replay((order) => Effect.log(`resubmitting ${order}`))
 * }).pipe(
 *   Effect.provide(Redis.layerDeadLetterStore({ prefix: "app:dlq:" })),
 *   Effect.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerDeadLetterStore = (
  options?: RedisDeadLetterStoreOptions
): Layer.Layer<DeadLetterStore, InvalidConfigError, Redis.Redis> => Layer.effect(DeadLetterStore, deadLetterStore.make(options))

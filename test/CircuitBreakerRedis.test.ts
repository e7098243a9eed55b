/**
 * Issue 15: circuit breakers shared through Redis (`CircuitBreaker.layerStoreRedis`),
 * against a real redis-server: the store suite, then replicas in separate processes.
 */
import { Effect, Layer } from "effect"
import { CircuitBreaker } from "../src/index.ts"
import { suite } from "./CircuitBreakerStoreSuite.ts"
import { describeRedis, layerRedis, port, uniquePrefix } from "./redis/helpers.ts"

describeRedis("Redis circuit breaker store", () => {
  // Built per test: its own client and key prefix.
  suite(
    "redis",
    Layer.unwrap(Effect.sync(() =>
      CircuitBreaker.layerStoreRedis({ prefix: uniquePrefix() }).pipe(Layer.provide(layerRedis(port())))
    )).pipe(Layer.orDie)
  )
})

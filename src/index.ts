/**
 * effect-resilience: resilience policies for Effect.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AdaptiveLimit from "./AdaptiveLimit.ts"

/** @since 0.1.0 */
export * as Backoff from "./Backoff.ts"

/** @since 0.1.0 */
export * as Bulkhead from "./Bulkhead.ts"

/** @since 0.1.0 */
export * as Chaos from "./Chaos.ts"

/** @since 0.1.0 */
export * as CircuitBreaker from "./CircuitBreaker.ts"

/** @since 0.1.0 */
export * as DeadLetterQueue from "./DeadLetterQueue.ts"

/** @since 0.1.0 */
export * as Errors from "./Errors.ts"

/** @since 0.1.0 */
export * as Events from "./Events.ts"

/** @since 0.1.0 */
export * as Fallback from "./Fallback.ts"

/** @since 0.1.0 */
export * as Hedge from "./Hedge.ts"

/** @since 0.1.0 */
export * as HttpResilience from "./HttpResilience.ts"

/** @since 0.1.0 */
export * as Idempotency from "./Idempotency.ts"

/** @since 0.1.0 */
export * as LiveConfig from "./LiveConfig.ts"

/** @since 0.1.0 */
export * as LoadShedder from "./LoadShedder.ts"

/** @since 0.1.0 */
export * as Pipeline from "./Pipeline.ts"

/** @since 0.1.0 */
export * as Policy from "./Policy.ts"

/** @since 0.1.0 */
export * as Registry from "./Registry.ts"

/** @since 0.1.0 */
export * as ResilienceConfig from "./ResilienceConfig.ts"

/** @since 0.1.0 */
export * as Retry from "./Retry.ts"

/** @since 0.1.0 */
export * as Throttle from "./Throttle.ts"

/** @since 0.1.0 */
export * as Timeout from "./Timeout.ts"

/** @since 0.1.0 */
export * as Telemetry from "./Telemetry.ts"

/** @since 0.1.0 */
export * as Health from "./Health.ts"

/**
 * One named policy per dependency: timeouts, retry, rate limit, circuit
 * breaker, bulkhead, hedging and fallback composed in a fixed, documented
 * order, built from code or from a config file, and provided as a Layer that
 * can be swapped per environment.
 *
 * `Policy.execute` wraps a call, outermost first:
 *
 * `fallback → totalTimeout → retry → throttle → rateLimit → circuitBreaker → bulkhead → hedge → timeout → call`
 *
 * (see docs/composition.md for why).
 *
 * @since 0.1.0
 */
import { Clock, Context, Duration, Effect, Layer, Predicate } from "effect"
import { dual } from "effect/Function"
import type { Scope } from "effect/Scope"
import * as Bulkhead from "./Bulkhead.ts"
import * as CircuitBreaker from "./CircuitBreaker.ts"
import type { InvalidConfigError } from "./Errors.ts"
import * as Fallback from "./Fallback.ts"
import * as Hedge from "./Hedge.ts"
import * as classifyInternal from "./internal/classify.ts"
import * as defaults from "./internal/defaults.ts"
import * as hedgeInternal from "./internal/hedge.ts"
import * as instrument from "./internal/instrument.ts"
import * as internal from "./internal/policy.ts"
import * as reconfigureInternal from "./internal/reconfigure.ts"
import * as retryInternal from "./internal/retry.ts"
import * as rateLimit from "./internal/rateLimit.ts"
import * as validate from "./internal/validate.ts"
import * as Registry from "./Registry.ts"
import * as Retry from "./Retry.ts"
import * as Throttle from "./Throttle.ts"
import * as Timeout from "./Timeout.ts"

const TypeId = "~effect-resilience/Policy"

/**
 * Options of {@link rateLimit}: Effect's own `effect/persistence`
 * `RateLimiter` does the counting (memory store by default).
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 *
 * const rateLimit: Policy.RateLimitOptions = { limit: 100, window: "1 second" }
 * const policy = Policy.make({ name: "geocoder", rateLimit })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type RateLimitOptions = rateLimit.RateLimitOptions

/**
 * A call was refused by the policy's rate limit; try again after `retryAfter`
 * (a `Retry` outside it waits that long).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, Policy.RateLimitedError>
 * const handled = call.pipe(Effect.catchTag("RateLimitedError", (e) => Effect.succeed(`wait ${e.retryAfter}`)))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const RateLimitedError = rateLimit.RateLimitedError

/**
 * @category errors
 * @since 0.1.0
 */
export type RateLimitedError = rateLimit.RateLimitedError

/**
 * Checks whether a value is a {@link RateLimitedError}.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * Policy.isRateLimitedError(new Policy.RateLimitedError({ policy: "api", retryAfter: Duration.seconds(1), limit: 10 })) // true
 * Policy.isRateLimitedError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isRateLimitedError: (u: unknown) => u is RateLimitedError = rateLimit.isRateLimitedError

/**
 * Options of {@link make}. Every block is optional; a policy with none of
 * them is a passthrough.
 *
 * @example
 * ```ts
 * import { Backoff, CircuitBreaker, Policy } from "effect-resilience"
 *
 * const options: Policy.PolicyOptions = {
 *   name: "inventory",
 *   timeout: "1 second",
 *   totalTimeout: "5 seconds",
 *   retry: { maxAttempts: 3, backoff: Backoff.exponential({ base: "100 millis", jitter: "full" }) },
 *   circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "30 seconds" },
 *   bulkhead: { maxConcurrent: 20, maxQueue: 100 }
 * }
 * const policy = Policy.make(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface PolicyOptions<F = never> {
  /** Names the policy and every component in errors, events and the registry. Default `"policy"`. */
  readonly name?: string | undefined
  /** Bounds each attempt (inside retry and hedging). */
  readonly timeout?: Duration.Input | undefined
  /**
   * Bounds the whole call, retries and waits included. The retry never waits
   * for a `retryAfter` hint that would end past it: it gives up at once.
   */
  readonly totalTimeout?: Duration.Input | undefined
  /**
   * One classification for the whole policy: the retry retries
   * `transient` failures, the breaker counts them as failures and `permanent`
   * ones as successes, the hedge stops on a non-transient failure, and the
   * fallback serves only a transient final failure (a 404 is an answer, not
   * an outage). A function, or status lists and error tags (see
   * `Retry.classifier`). Default `Retry.defaultClassifier`. A block's own
   * `classify` (or `retryOn`, `isFailure`, `when`) overrides it for that block.
   */
  readonly classify?: Retry.Classifier | Retry.ClassifierOptions | undefined
  readonly retry?: Omit<Retry.RetryOptions<unknown>, "name"> | Retry.RetryPolicy<unknown> | undefined
  /**
   * One retry budget for the retry and the hedge: every retry and every
   * hedged attempt draws on it (a storm of hedges is a storm of retries).
   * Options of a ratio budget (`Retry.budget`: `ratio`, `minPerSecond`,
   * `window`) or of a token budget (`Retry.tokenBudget`: `maxTokens`,
   * `tokenRatio`), or a built budget to share with other policies. A
   * `retry.budget` or `hedge.budget` of their own wins; without this block,
   * a budget given to one of them is shared with the other.
   */
  readonly budget?: Retry.AnyBudgetOptions | Retry.RetryBudget<unknown> | undefined
  /**
   * Google SRE client-side adaptive throttling (see `Throttle`), inside the
   * retry: each attempt is a request, and a backend that refuses most of
   * them sees the client's retries rejected locally. Options for a new
   * throttle (its `isRejected` defaults to the policy's `classify`:
   * a transient failure is a refusal), or a throttle to share.
   */
  readonly throttle?: Omit<Throttle.ThrottleOptions, "name"> | Throttle.Throttle | undefined
  readonly rateLimit?: RateLimitOptions | undefined
  /** Options for a new breaker, or a breaker to share. */
  readonly circuitBreaker?: Omit<CircuitBreaker.CircuitBreakerOptions, "name"> | CircuitBreaker.CircuitBreaker | undefined
  /** Options for a new bulkhead, or a bulkhead to share. */
  readonly bulkhead?: Omit<Bulkhead.BulkheadOptions, "name"> | Bulkhead.Bulkhead | undefined
  /** Options for a new hedge, or a built one (`Hedge.make`). */
  readonly hedge?: Omit<Hedge.HedgeOptions, "name"> | Hedge.HedgePolicy | undefined
  /**
   * Runs on a final failure that `when` accepts (by default: a transient
   * one, per `classify`; a policy's own rejections and timeouts are
   * transient by default).
   */
  readonly fallback?: {
    readonly fallback: (error: unknown) => Effect.Effect<F>
    readonly when?: ((error: unknown) => boolean) | undefined
  } | undefined
}

/**
 * Every error a policy itself can produce (the call's own errors pass
 * through beside them).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Policy } from "effect-resilience"
 *
 * declare const call: Effect.Effect<string, Policy.PolicyError>
 *
 * // Every rejection carries the policy that made it.
 * const handled = call.pipe(Effect.catch((e: Policy.PolicyError) => Effect.succeed(`${e._tag} from ${e.policy}`)))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export type PolicyError =
  | Timeout.TimeoutError
  | CircuitBreaker.CircuitOpenError
  | Bulkhead.BulkheadRejectedError
  | RateLimitedError
  | Throttle.ThrottledError

/**
 * A composed policy.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const policy: Policy.Policy = yield* Policy.make({ name: "search", timeout: "1 second", retry: { maxAttempts: 3 } })
 *   return Policy.describe(policy)
 * })
 * console.log(await Effect.runPromise(Effect.scoped(program))) // => ["retry", "timeout"]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Policy<F = never> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  /** Runs a call under every stage of the policy. Pipeable: `call.pipe(policy.execute)`. */
  readonly execute: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | F, E | PolicyError, R>
  /** The stages, outermost first, e.g. `["retry", "circuitBreaker", "timeout"]`. */
  readonly stages: ReadonlyArray<internal.StageKind>
  /** The breaker, if the policy has one (for `state`, `stats` and admin). */
  readonly circuitBreaker: CircuitBreaker.CircuitBreaker | undefined
  /** The bulkhead, if the policy has one (for `stats`). */
  readonly bulkhead: Bulkhead.Bulkhead | undefined
}

/**
 * Builds a policy: validates every block, builds the stateful parts (breaker,
 * bulkhead, rate limiter) and registers the policy in the
 * `Registry.PolicyRegistry` if one is provided, for the life of the scope.
 * Bad options fail with `InvalidConfigError` naming the block's path
 * (`retry.maxAttempts`, `hedge.delay`); a `null` block is refused.
 *
 * **Example** (The scoring service's policy)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Backoff, CircuitBreaker, Policy } from "effect-resilience"
 *
 * declare const callScoring: Effect.Effect<number, Error>
 *
 * const program = Effect.gen(function*() {
 *   const policy = yield* Policy.make({
 *     name: "scoring",
 *     timeout: "2 seconds",
 *     retry: { maxAttempts: 4, backoff: Backoff.exponential({ base: "100 millis", max: "5 seconds", jitter: "full" }) },
 *     circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "30 seconds", successThreshold: 2 },
 *     bulkhead: { maxConcurrent: 32, maxQueue: 256 }
 *   })
 *   return yield* callScoring.pipe(policy.execute)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: <F = never>(options: PolicyOptions<F>) => Effect.Effect<Policy<F>, InvalidConfigError, Scope> =
  Effect.fnUntraced(function*<F>(options: PolicyOptions<F>) {
    const rebuild = yield* reconfigureInternal.rebuilder(build)
    const built = yield* rebuild(options)
    const live = yield* reconfigureInternal.makeLive(built, options, rebuild, (ordered) => instrumented(built.name, ordered))
    const policy: Policy<F> = {
      [TypeId]: TypeId,
      name: built.name,
      execute: reconfigureInternal.execute(live) as Policy<F>["execute"],
      // a getter: `reconfigure` may add or drop stateless stages
      get stages() {
        return reconfigureInternal.stagesOf(live)
      },
      circuitBreaker: built.breaker,
      bulkhead: built.bulkhead
    }
    reconfigureInternal.lives.attach(policy, live)
    yield* Registry.register({ name: built.name, kind: "policy", snapshot: snapshotOf(policy) })
    return policy
  })

/** Validates the options and builds the stages (and the breaker, bulkhead and rate limiter unless passed in built). */
const build: (options: PolicyOptions<any>) => Effect.Effect<reconfigureInternal.Built, InvalidConfigError, Scope> = Effect
  .fnUntraced(function*(options: PolicyOptions<any>) {
    const name = yield* validate.attempt(() => checkOptions(options))
    const classify = yield* validate.attempt(() => classifyInternal.make("Policy.make", "classify", options.classify))
    const stages: Array<internal.Stage> = []
    if (options.fallback !== undefined) {
      const fallback = options.fallback
      const orElse = yield* validate.attempt(() =>
        validate.nested(source, "fallback", () =>
          Fallback.orElse({ name, fallback: fallback.fallback, when: fallback.when ?? ((error) => classify(error) === "transient") }))
      )
      stages.push({ kind: "fallback", wrap: orElse })
    }
    let totalMillis: number | undefined
    if (options.totalTimeout !== undefined) {
      const totalTimeout = yield* validate.attempt(() =>
        validate.nested(source, "totalTimeout", () => Timeout.timeout({ duration: options.totalTimeout!, name }), "duration")
      )
      totalMillis = yield* validate.attempt(() => checkTotal(options.totalTimeout!, options.timeout))
      stages.push({ kind: "totalTimeout", wrap: totalTimeout })
    }
    const budget = options.budget === undefined
      ? options.retry?.budget ?? options.hedge?.budget
      : yield* validate.nestedEffect(source, "budget", Retry.makeBudget(options.budget))
    if (options.retry !== undefined) {
      const r = options.retry
      const policy = yield* component(
        "retry",
        budget,
        () => Retry.isRetryPolicy(r) ? r : Retry.make({ ...r, classify: r.classify ?? classify, name })
      )
      stages.push({
        kind: "retry",
        wrap: retryStage(policy, totalMillis, undefined),
        traced: (instrumentation) => retryStage(policy, totalMillis, instrumentation)
      })
    }
    let throttle: Throttle.Throttle | undefined
    if (options.throttle !== undefined) {
      const t = options.throttle
      throttle = Throttle.isThrottle(t)
        ? t
        : yield* validate.nestedEffect(
          source,
          "throttle",
          Throttle.make({ ...t, isRejected: t.isRejected ?? ((error) => classify(error) === "transient"), name })
        )
      stages.push({ kind: "throttle", wrap: throttle.execute })
    }
    if (options.rateLimit !== undefined) {
      stages.push({ kind: "rateLimit", wrap: yield* rateLimit.make(name, options.rateLimit) })
    }
    let breaker: CircuitBreaker.CircuitBreaker | undefined
    if (options.circuitBreaker !== undefined) {
      const cb = options.circuitBreaker
      breaker = CircuitBreaker.isCircuitBreaker(cb)
        ? cb
        : yield* validate.nestedEffect(source, "circuitBreaker", CircuitBreaker.make({ ...cb, classify: cb.classify ?? classify, name }))
      stages.push({ kind: "circuitBreaker", wrap: breaker.execute })
    }
    let bulkhead: Bulkhead.Bulkhead | undefined
    if (options.bulkhead !== undefined) {
      const b = options.bulkhead
      bulkhead = Bulkhead.isBulkhead(b) ? b : yield* validate.nestedEffect(source, "bulkhead", Bulkhead.make({ ...b, name }))
      stages.push({ kind: "bulkhead", wrap: bulkhead.execute })
    }
    if (options.hedge !== undefined) {
      const h = options.hedge
      const hedge = yield* component(
        "hedge",
        budget,
        () => Hedge.isHedgePolicy(h) ? h : Hedge.make({ ...h, classify: h.classify ?? classify, name })
      )
      const config = hedgeInternal.makeConfig(name, hedge.maxAttempts, Duration.toMillis(hedge.delay), hedge.classify, hedge.budget)
      stages.push({
        kind: "hedge",
        wrap: Hedge.hedge(hedge),
        traced: hedge.maxAttempts === 1
          ? undefined
          : (instrumentation) => (self) => hedgeInternal.run(() => self, config, hedgeInternal.valueOnly, instrumentation)
      })
    }
    if (options.timeout !== undefined) {
      const timeout = yield* validate.attempt(() =>
        validate.nested(source, "timeout", () => Timeout.timeout({ duration: options.timeout!, name }), "duration")
      )
      stages.push({ kind: "timeout", wrap: timeout })
    }
    // the budget of the `budget` block (not one of retry's or hedge's own) and the throttle, kept by `reconfigure`
    const policyBudget = options.budget === undefined ? undefined : budget
    return { name, ordered: internal.ordered(stages), breaker, bulkhead, budget: policyBudget, throttle }
  })

/**
 * The retry stage. Under a total timeout it reads the clock once per call,
 * so that no `retryAfter` wait may end past the total timeout.
 */
const retryStage = (
  policy: Retry.RetryPolicy<unknown>,
  totalMillis: number | undefined,
  instrumentation: instrument.Instrumentation | undefined
): internal.Wrap =>
  totalMillis === undefined
    ? (self) => retryInternal.retry(self, policy, undefined, instrumentation)
    : (self) =>
      Effect.flatMap(Clock.currentTimeMillis, (start) => retryInternal.retry(self, policy, start + totalMillis, instrumentation))

const source = "Policy.make"

/**
 * A retry or hedge policy, given or built from its block (its errors named
 * by the block's path), drawing on the policy's budget unless it has its own.
 */
const component = <P extends { readonly budget: Retry.RetryBudget<unknown> | undefined }>(
  block: "retry" | "hedge",
  budget: Retry.RetryBudget<unknown> | undefined,
  build: () => P
): Effect.Effect<P, InvalidConfigError> =>
  Effect.map(
    validate.attempt(() => validate.nested(source, block, build)),
    (built) => built.budget === undefined && budget !== undefined ? { ...built, budget } : built
  )

/** The whole call's bound in millis, never shorter than one attempt's (which could then never run in full). */
const checkTotal = (total: Duration.Input, attempt: Duration.Input | undefined): number => {
  const totalMillis = validate.durationMillis(source, "totalTimeout", total)
  const attemptMillis = validate.durationMillisOr(source, "timeout", attempt, 0)
  if (totalMillis < attemptMillis) throw validate.invalid(source, "totalTimeout", `a duration >= timeout (${attemptMillis} ms)`, total)
  return totalMillis
}

/** The blocks that take an options object (or a ready-made component). */
const blocks = ["retry", "budget", "throttle", "rateLimit", "circuitBreaker", "bulkhead", "hedge", "fallback"] as const

/** Refuses a missing options object and `null` blocks (which would read as "no options"); returns the name. */
const checkOptions = (options: PolicyOptions<any>): string => {
  if (options === null || typeof options !== "object") throw validate.invalid(source, "options", "an object", options)
  for (const block of blocks) {
    const value = options[block]
    if (value !== undefined) validate.options(source, block, value, true, "an object, or undefined for no " + block, `${block}.`)
  }
  validate.options(source, "options", options, true)
  return validate.nonEmptyName(source, "name", options.name ?? defaults.policy.name)
}

/**
 * `execute`: the stages as they are, or, when telemetry is installed (one
 * reference read per call), inside a `resilience.policy` span with a span per
 * retry and hedge attempt. The traced composition is built once, on first use.
 */
const instrumented = (name: string, ordered: ReadonlyArray<internal.Stage>): internal.Wrap => {
  const composed = internal.compose(ordered)
  let traced: { readonly by: instrument.Instrumentation; readonly wrap: internal.Wrap } | undefined
  return (self) => {
    // built once per `execute(self)`, like the effect it replaces, not once per run
    const plain = composed(self)
    return Effect.withFiber((fiber) => {
      const instrumentation = instrument.of(fiber)
      if (instrumentation === undefined) return plain
      if (traced === undefined || traced.by !== instrumentation) {
        traced = { by: instrumentation, wrap: internal.composeTraced(ordered, instrumentation) }
      }
      return instrumentation.span(traced.wrap(self), "policy", name, undefined)
    })
  }
}

const snapshotOf = (policy: Policy<any>): Effect.Effect<unknown> =>
  Effect.all({
    stages: Effect.succeed(policy.stages),
    circuitBreaker: policy.circuitBreaker === undefined ? Effect.undefined : policy.circuitBreaker.stats,
    bulkhead: policy.bulkhead === undefined ? Effect.undefined : policy.bulkhead.stats
  })

/**
 * Updates a policy in place: new thresholds, timeouts and limits apply to the
 * next call admitted, while the breaker keeps its state (an open circuit
 * stays open for the rest of its reset time) and the bulkhead its running
 * calls and waiters. `options` are complete options, as for {@link make}.
 *
 * **Details**
 *
 * All or nothing: the new options are checked and built first, and a bad one
 * fails with `InvalidConfigError` (source `Policy.reconfigure`, naming the
 * field) leaving the old settings in force. A breaker or bulkhead cannot be
 * added or removed in place, nor the name changed (refused the same way);
 * the other blocks can come and go. A raised bulkhead limit admits waiters at
 * once; a lowered one lets running calls finish and admits no one until
 * fewer than the new limit run; a smaller `maxQueue` applies to new arrivals.
 * Emits `Reconfigured`, or `ReconfigureRefused` with the error. See
 * docs/composition.md, "Live reconfiguration".
 *
 * **Example** (Raising a bulkhead limit under load)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const policy = yield* Policy.make({ name: "scoring", timeout: "2 seconds", bulkhead: { maxConcurrent: 8 } })
 *   yield* Policy.reconfigure(policy, { name: "scoring", timeout: "1 second", bulkhead: { maxConcurrent: 16 } })
 *   return policy.bulkhead?.maxConcurrent // 16
 * }).pipe(Effect.scoped)
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const reconfigure: {
  <F>(options: PolicyOptions<NoInfer<F>>): (policy: Policy<F>) => Effect.Effect<void, InvalidConfigError>
  <F>(policy: Policy<F>, options: PolicyOptions<NoInfer<F>>): Effect.Effect<void, InvalidConfigError>
} = dual(2, (policy: Policy<any>, options: PolicyOptions<any>) => reconfigureInternal.reconfigure(policy, options))

/**
 * Checks whether a value is a {@link Policy}.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 *
 * Policy.isPolicy(Policy.passthrough) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isPolicy = (u: unknown): u is Policy<unknown> => Predicate.hasProperty(u, TypeId)

/**
 * A policy that runs every call as it is: for unit tests of business code.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * class ScoringPolicy extends Context.Service<ScoringPolicy, Policy.Policy>()("app/ScoringPolicy") {}
 *
 * const ScoringTest = Layer.succeed(ScoringPolicy, Policy.passthrough)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const passthrough: Policy = {
  [TypeId]: TypeId,
  name: "passthrough",
  execute: (self) => self,
  stages: [],
  circuitBreaker: undefined,
  bulkhead: undefined
}

/**
 * Runs an effect under a policy (data-first or data-last).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * const value = Effect.succeed(1).pipe(Policy.execute(Policy.passthrough))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const execute: {
  <F>(policy: Policy<F>): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A | F, E | PolicyError, R>
  <A, E, R, F>(self: Effect.Effect<A, E, R>, policy: Policy<F>): Effect.Effect<A | F, E | PolicyError, R>
} = dual(2, <A, E, R, F>(self: Effect.Effect<A, E, R>, policy: Policy<F>) => policy.execute(self))

/**
 * Provides a policy as a service; it lives (and stays registered) as long as
 * the layer.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { Policy } from "effect-resilience"
 *
 * class ScoringPolicy extends Context.Service<ScoringPolicy, Policy.Policy>()("app/ScoringPolicy") {}
 *
 * const ScoringLive = Policy.layer(ScoringPolicy, { name: "scoring", timeout: "2 seconds", retry: { maxAttempts: 3 } })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <I, F = never>(
  tag: Context.Key<I, Policy<F>>,
  // F comes from the tag alone: a fallback value the tag's type does not admit is a compile error.
  options: PolicyOptions<NoInfer<F>>
): Layer.Layer<I, InvalidConfigError> => Layer.effect(tag, make(options))

/**
 * The stages of a policy, outermost first: what it will do to a call.
 *
 * @example
 * ```ts
 * import { Policy } from "effect-resilience"
 *
 * Policy.describe(Policy.passthrough) // []
 * ```
 *
 * @category destructors
 * @since 0.1.0
 */
export const describe = (policy: Policy<any>): ReadonlyArray<string> => policy.stages

/**
 * Live policies: what `Policy.reconfigure` changes in place.
 *
 * A policy's composition (its stages, built from options) sits in a `Ref`
 * read on every run of `execute`; reconfiguring builds a whole new
 * composition from the new options and swaps it in one step, so a call sees
 * either the old settings or the new ones, never a mix, and a bad option
 * changes nothing (all or nothing). The stateless stages (timeouts, retry,
 * hedge, fallback) are simply rebuilt. The stateful ones are kept and told
 * their new settings, so nothing they hold is lost:
 *
 * - the circuit breaker keeps its circuit (state, an opening's end, probes,
 *   counts) and takes new thresholds (`circuitBreaker.ts` `reconfigure`);
 * - the bulkhead keeps its permits and its line and takes new limits
 *   (`bulkhead.ts` `Line.reconfigure`);
 * - the rate limit is rebuilt over the store the first build used (a shared
 *   one, or one private memory store kept for the policy's life), so its
 *   counts carry over;
 * - the retry budget (`budget` block) and the throttle are kept while their
 *   options are unchanged, and built afresh from new ones.
 *
 * A breaker or bulkhead cannot be added or removed in place (its state would
 * appear or vanish under calls in flight): that is refused, as is a change of
 * name (the identity of the policy's events, registry entry and store keys).
 */
import { Effect, Equal, Ref, Scope, Semaphore } from "effect"
import { RateLimiter } from "effect/persistence"
import * as Bulkhead from "../Bulkhead.ts"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import type { InvalidConfigError } from "../Errors.ts"
import { ResilienceEvent } from "../Events.ts"
import type { PolicyOptions } from "../Policy.ts"
import type * as Retry from "../Retry.ts"
import type * as Throttle from "../Throttle.ts"
import { attached } from "./attached.ts"
import * as bulkheadInternal from "./bulkhead.ts"
import * as breakerInternal from "./circuitBreaker.ts"
import * as classify from "./classify.ts"
import { emit } from "./events.ts"
import type { Stage, StageKind, Wrap } from "./policy.ts"
import * as rateLimitStore from "./rateLimitStore.ts"
import * as validate from "./validate.ts"

const source = "Policy.reconfigure"

/** What one build of a policy's options yields. */
export interface Built {
  readonly name: string
  readonly ordered: ReadonlyArray<Stage>
  readonly breaker: CircuitBreaker.CircuitBreaker | undefined
  readonly bulkhead: Bulkhead.Bulkhead | undefined
  readonly budget: Retry.RetryBudget<unknown> | undefined
  readonly throttle: Throttle.Throttle | undefined
}

export type Rebuild = (options: PolicyOptions<any>) => Effect.Effect<Built, InvalidConfigError>

/** The settings in force: swapped whole. */
interface Current {
  readonly options: PolicyOptions<any>
  readonly stages: ReadonlyArray<StageKind>
  readonly wrap: Wrap
  readonly budget: Retry.RetryBudget<unknown> | undefined
  readonly throttle: Throttle.Throttle | undefined
}

export interface Live {
  readonly name: string
  readonly breaker: CircuitBreaker.CircuitBreaker | undefined
  readonly bulkhead: Bulkhead.Bulkhead | undefined
  readonly current: Ref.Ref<Current>
  readonly rebuild: Rebuild
  readonly compose: (ordered: ReadonlyArray<Stage>) => Wrap
  /** One reconfiguration at a time: the last one asked for is the one in force. */
  readonly lock: Semaphore.Semaphore
}

/** The live record behind each policy `Policy.make` built. */
export const lives = attached<Live>("effect-resilience/Policy/live")

/**
 * `build`, run in the policy's scope and over the rate-limit store of its
 * first build: the context's shared store, or a private memory store made
 * once (when a rate limit first appears) and kept.
 */
export const rebuilder = (
  build: (options: PolicyOptions<any>) => Effect.Effect<Built, InvalidConfigError, Scope.Scope>
): Effect.Effect<Rebuild, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Scope.Scope
    const shared = yield* rateLimitStore.CurrentStore
    const memory = yield* Effect.cached(Effect.provide(Effect.service(RateLimiter.RateLimiterStore), rateLimitStore.layerStoreMemory))
    return (options: PolicyOptions<any>): Effect.Effect<Built, InvalidConfigError> => {
      // (`build` reports options that are not an object)
      const rateLimited = typeof options === "object" && options !== null && options.rateLimit != null
      const built = shared !== undefined || !rateLimited
        ? build(options)
        : Effect.flatMap(memory, (store) => Effect.provideService(build(options), rateLimitStore.CurrentStore, store))
      return Scope.provide(built, scope)
    }
  })

export const makeLive = (
  built: Built,
  options: PolicyOptions<any>,
  rebuild: Rebuild,
  compose: (ordered: ReadonlyArray<Stage>) => Wrap
): Effect.Effect<Live> =>
  Effect.map(Ref.make<Current>(currentOf(built, options, compose)), (current) => ({
    name: built.name,
    breaker: built.breaker,
    bulkhead: built.bulkhead,
    current,
    rebuild,
    compose,
    lock: Semaphore.makeUnsafe(1)
  }))

const currentOf = (built: Built, options: PolicyOptions<any>, compose: (ordered: ReadonlyArray<Stage>) => Wrap): Current => ({
  options,
  stages: built.ordered.map((s) => s.kind),
  wrap: compose(built.ordered),
  budget: built.budget,
  throttle: built.throttle
})

/**
 * The budget and the throttle count recent calls: the built one is kept
 * while its options are unchanged (compared by value), so that a reload of
 * other settings does not empty its window; new options build it afresh.
 */
const kept = <A>(previous: unknown, next: A, built: A | undefined): A =>
  built !== undefined && Equal.equals(previous, next) ? built : next

/**
 * `execute`: the composition in force when the effect runs, not when it was
 * built, so an effect built once and run often takes new settings too. The
 * wrapped effect is rebuilt only after a reconfiguration.
 */
export const execute = (live: Live): Wrap => (self) => {
  let at = Ref.getUnsafe(live.current)
  let wrapped = at.wrap(self)
  return Effect.suspend(() => {
    const now = Ref.getUnsafe(live.current)
    if (now !== at) {
      at = now
      wrapped = now.wrap(self)
    }
    return wrapped
  })
}

export const stagesOf = (live: Live): ReadonlyArray<StageKind> => Ref.getUnsafe(live.current).stages

// -----------------------------------------------------------------------------
// reconfiguring
// -----------------------------------------------------------------------------

/** Errors of the shared checks name `Policy.make`; these are `Policy.reconfigure`'s. */
const resourced = (error: InvalidConfigError): InvalidConfigError =>
  error.source === source ? error : validate.invalid(source, error.field, error.expected, error.value)

const stateful = ["circuitBreaker", "bulkhead"] as const

/** A breaker or bulkhead can neither appear nor vanish, nor change from built-in to passed-in. */
const checkShape = (previous: PolicyOptions<any>, next: PolicyOptions<any>, live: Live): void => {
  if (next === null || typeof next !== "object") throw validate.invalid(source, "options", "an object with a name", next)
  if (next.name !== live.name) {
    throw validate.invalid(source, "name", `"${live.name}" (a policy keeps its name; build a new policy for another)`, next.name)
  }
  for (const block of stateful) {
    const before = previous[block]
    const after = next[block]
    if ((before === undefined) !== (after === undefined)) {
      throw validate.invalid(
        source,
        block,
        before === undefined
          ? `absent, as when the policy was built (a ${block} cannot be added in place: build a new policy)`
          : `an object, as when the policy was built (a ${block} cannot be removed in place: build a new policy)`,
        after
      )
    }
    const passedIn = CircuitBreaker.isCircuitBreaker(before) || Bulkhead.isBulkhead(before)
    if (before !== undefined && passedIn && after !== before) {
      throw validate.invalid(source, block, `the same ${block} the policy was built with (one passed in built is reconfigured where it was made)`, after)
    }
  }
}

/** The breaker's new settings, checked as `CircuitBreaker.make` checks them; `undefined` when there is nothing to change. */
const breakerSettings = (live: Live, options: PolicyOptions<any>): Effect.Effect<(() => void) | undefined, InvalidConfigError> => {
  const cb = options.circuitBreaker
  const breaker = live.breaker === undefined ? undefined : breakerInternal.breakers.of(live.breaker)
  if (cb === undefined || breaker === undefined || cb === live.breaker) return Effect.succeed(undefined)
  return Effect.flatMap(
    validate.attempt(() => {
      const cbOptions = cb as Exclude<typeof cb, CircuitBreaker.CircuitBreaker>
      const policyClassify = classify.make(source, "classify", options.classify)
      return validate.nested(source, "circuitBreaker", () =>
        breakerInternal.resolve(source, { ...cbOptions, classify: cbOptions.classify ?? policyClassify, name: live.name }))
    }),
    (resolved) => {
      if (breaker.table.reconfigure === undefined) {
        return Effect.fail(validate.invalid(source, "circuitBreaker", "a breaker whose store can change its settings in place (the memory store can)", live.name))
      }
      return Effect.map(
        validate.nestedEffect(source, "circuitBreaker", breakerInternal.checkSchedule(resolved)),
        (checked) => () => breakerInternal.reconfigure(breaker, checked)
      )
    }
  )
}

/** The bulkhead's new limits, checked as `Bulkhead.make` checks them. */
const bulkheadSettings = (live: Live, options: PolicyOptions<any>): Effect.Effect<(() => void) | undefined, InvalidConfigError> => {
  const b = options.bulkhead
  const executor = live.bulkhead === undefined ? undefined : bulkheadInternal.executors.of(live.bulkhead)
  if (b === undefined || executor === undefined || b === live.bulkhead) return Effect.succeed(undefined)
  const next = { ...b as Bulkhead.BulkheadOptions, name: live.name }
  return Effect.map(
    validate.attempt(() => validate.nested(source, "bulkhead", () => bulkheadInternal.configOf(next))),
    (config) => () => executor.reconfigure(config)
  )
}

/** Checks and builds everything first; only then, in one synchronous step, puts it all in force. */
const plan = (live: Live, options: PolicyOptions<any>): Effect.Effect<() => Current, InvalidConfigError> =>
  Effect.gen(function*() {
    const current = yield* Ref.get(live.current)
    const previous = current.options
    yield* validate.attempt(() => checkShape(previous, options, live))
    const built = yield* live.rebuild({
      ...options,
      circuitBreaker: live.breaker,
      bulkhead: live.bulkhead,
      budget: kept(previous.budget, options.budget, current.budget),
      throttle: kept(previous.throttle, options.throttle, current.throttle)
    })
    const breaker = yield* breakerSettings(live, options)
    const bulkhead = yield* bulkheadSettings(live, options)
    return () => {
      breaker?.()
      bulkhead?.()
      return currentOf(built, options, live.compose)
    }
  })

export const reconfigure = (policy: { readonly name: string }, options: PolicyOptions<any>): Effect.Effect<void, InvalidConfigError> =>
  Effect.suspend(() => {
    const live = lives.of(policy)
    if (live === undefined) {
      return Effect.fail(validate.invalid(source, "policy", "a policy built by Policy.make (or from config)", policy.name))
    }
    const name = live.name
    return live.lock.withPermit(Effect.uninterruptible(Effect.matchEffect(Effect.mapError(plan(live, options), resourced), {
      onFailure: (error) =>
        Effect.andThen(emit((timestamp) => ResilienceEvent.ReconfigureRefused({ name, timestamp, error })), Effect.fail(error)),
      onSuccess: (commit) =>
        Effect.flatMap(Ref.set(live.current, commit()), () =>
          emit((timestamp) => ResilienceEvent.Reconfigured({ name, timestamp, stages: stagesOf(live) })))
    })))
  })

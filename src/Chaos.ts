/**
 * Chaos injection: faults, latency, wrong-but-valid outcomes, outage windows
 * and side effects, injected at a rate into any effect or into every method
 * of a service — and a simulated dependency to test policies against.
 *
 * Every draw comes from Effect's `Random` service and every time from `Clock`,
 * so `Random.withSeed` and `TestClock` make a chaotic run reproducible and
 * instant. Each injection has an `enabled` switch (a boolean, or an
 * `Effect<boolean>` read per call, e.g. from config), as Polly's Simmy does.
 *
 * See docs/chaos.md and, for the scenarios built on it, docs/scenarios.md.
 *
 * @since 0.1.0
 */
import type { Context, Duration, Effect, Layer } from "effect"
import type { Scope } from "effect/Scope"
import { dual } from "effect/Function"
import type { InvalidConfigError } from "./Errors.ts"
import * as internal from "./internal/chaos.ts"
import * as dependencyInternal from "./internal/chaosDependency.ts"
import * as proxyInternal from "./internal/chaosProxy.ts"

/**
 * One chaos injection: a wrapper that, when its gate fires, fails the call
 * with `E`, delays it, replaces its value with a `B`, or runs a side effect
 * first. Build one with {@link fault}, {@link latency}, {@link outcome},
 * {@link outage} or {@link behavior}; apply it with {@link inject}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * declare const quote: Effect.Effect<number>
 *
 * const staging: ReadonlyArray<Chaos.Injection<Chaos.ChaosError>> = [
 *   Chaos.fault({ rate: 0.05 }),
 *   Chaos.latency({ rate: 0.1, delay: "1 second" })
 * ]
 * const chaotic = quote.pipe(Chaos.inject(staging))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Injection<out E = never, out B = never> extends internal.Injection<E, B> {}

/**
 * A duration drawn for each call, from the `Random` service: {@link uniform},
 * {@link exponential}, {@link logNormal}, or any `Effect<Duration>`.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * // Any Effect<Duration> is a distribution: here, two modes.
 * const bimodal: Chaos.Distribution = Effect.map(
 *   Chaos.uniform({ min: 0, max: 1 }),
 *   (d) => Duration.millis(Duration.toMillis(d) < 0.9 ? 20 : 900)
 * )
 * const injection = Chaos.latency({ delay: bimodal })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Distribution = internal.Distribution

/**
 * A switch: a constant, or an `Effect<boolean>` read on every call (a
 * feature flag, a config value, a `Ref`).
 *
 * @example
 * ```ts
 * import { Effect, Ref } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const on = yield* Ref.make(false)
 *   const enabled: Chaos.Enabled = Ref.get(on) // read on every call: flip it at run time
 *   return Chaos.fault({ rate: 1, enabled })
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Enabled = internal.Enabled

/**
 * A point in time: a `Date`, or a duration since the `Clock`'s epoch — under
 * `TestClock`, since the start of the test (`"30 seconds"` is 30 s in).
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const from: Chaos.Instant = "30 seconds" // 30 s after the Clock's epoch (the test's start under TestClock)
 * const until: Chaos.Instant = new Date("2026-12-24T10:00:00Z")
 * const window = Chaos.outage({ from, until })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Instant = internal.Instant

/**
 * The error injected by {@link fault} and {@link outage} when no `error` is
 * given. `policy` is the injection's name.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const call = Effect.succeed(1).pipe(Chaos.inject([Chaos.fault({ rate: 0.1 })]))
 * const handled = call.pipe(Effect.catchTag("ChaosError", () => Effect.succeed(0)))
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const ChaosError = internal.ChaosError

/**
 * @category errors
 * @since 0.1.0
 */
export type ChaosError = internal.ChaosError

/**
 * Checks whether a value is a {@link ChaosError}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * Chaos.isChaosError(new Chaos.ChaosError({ policy: "chaos", kind: "fault" })) // true
 * Chaos.isChaosError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isChaosError: (u: unknown) => u is ChaosError = internal.isChaosError

/**
 * Checks whether a value is an {@link Injection}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * Chaos.isInjection(Chaos.fault({ rate: 0.1 })) // true
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isInjection: (u: unknown) => u is Injection<unknown, unknown> = internal.isInjection

/**
 * Options of {@link fault}.
 *
 * @example
 * ```ts
 * import { Data } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}
 *
 * const options: Chaos.FaultOptions<Unavailable> = {
 *   name: "inventory-503",
 *   rate: 0.02,
 *   error: () => new Unavailable({ status: 503 })
 * }
 * const injection = Chaos.fault(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface FaultOptions<E> extends internal.FaultOptions<E> {}

/**
 * Fails a share of calls with an error, without running them.
 *
 * **Details**
 *
 * Each call draws once from `Random`; with `rate: 0` or `rate: 1` nothing is
 * drawn. Bad options throw `InvalidConfigError` (`Chaos.fault: rate must be a
 * number in [0, 1], got 2`).
 *
 * **Example** (5% of calls fail with the service's own error)
 *
 * ```ts
 * import { Data, Effect, Random } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}
 * declare const search: (q: string) => Effect.Effect<Array<string>, Unavailable>
 *
 * const flaky = search("effect").pipe(
 *   Chaos.inject([Chaos.fault({ rate: 0.05, error: () => new Unavailable({ status: 503 }) })]),
 *   Random.withSeed(42)
 * )
 * ```
 *
 * @category injections
 * @since 0.1.0
 */
export const fault: <E = ChaosError>(options?: FaultOptions<E>) => Injection<E> = internal.fault

/**
 * Options of {@link latency}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const options: Chaos.LatencyOptions = { rate: 0.1, delay: Chaos.exponential({ mean: "300 millis" }) }
 * const injection = Chaos.latency(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface LatencyOptions extends internal.LatencyOptions {}

/**
 * Delays a share of calls before they run (`Effect.sleep`, so `TestClock`
 * drives it and a timeout around the call sees it).
 *
 * **Example** (One call in ten takes 2 s more)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * declare const quote: Effect.Effect<number>
 *
 * const slow = quote.pipe(Chaos.inject([Chaos.latency({ rate: 0.1, delay: "2 seconds" })]))
 * const jittery = quote.pipe(Chaos.inject([Chaos.latency({ delay: Chaos.uniform({ min: 10, max: 200 }) })]))
 * ```
 *
 * @category injections
 * @since 0.1.0
 */
export const latency: (options: LatencyOptions) => Injection = internal.latency

/**
 * Options of {@link outcome}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const options: Chaos.OutcomeOptions<number> = { name: "zero-score", rate: 0.01, value: 0 }
 * const injection = Chaos.outcome(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface OutcomeOptions<B> extends internal.OutcomeOptions<B> {}

/**
 * Answers a share of calls with a wrong but valid value instead of running
 * them: an empty list, a stale price, a zero score — the failures that no
 * error handler sees.
 *
 * **Example** (One recommendation list in fifty comes back empty)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * declare const recommend: Effect.Effect<ReadonlyArray<string>>
 *
 * const sometimesEmpty = recommend.pipe(Chaos.inject([Chaos.outcome({ rate: 0.02, value: [] as ReadonlyArray<string> })]))
 * ```
 *
 * @category injections
 * @since 0.1.0
 */
export const outcome: <B>(options: OutcomeOptions<B>) => Injection<never, B> = internal.outcome

/**
 * Options of {@link outage}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const options: Chaos.OutageOptions<Chaos.ChaosError> = { from: "10 seconds", until: "40 seconds" }
 * const injection = Chaos.outage(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface OutageOptions<E> extends internal.OutageOptions<E> {}

/**
 * Fails every call during a window of time, as a network partition or a
 * crashed dependency would; calls before and after run as usual.
 *
 * **Example** (Down from 10 s to 70 s into the test)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * declare const charge: Effect.Effect<string>
 *
 * const partitioned = charge.pipe(Chaos.inject([Chaos.outage({ from: "10 seconds", until: "70 seconds" })]))
 * ```
 *
 * @category injections
 * @since 0.1.0
 */
export const outage: <E = ChaosError>(options: OutageOptions<E>) => Injection<E> = internal.outage

/**
 * Options of {@link behavior}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const options: Chaos.BehaviorOptions = { rate: 0.5, behavior: Effect.logWarning("chaos: before the call") }
 * const injection = Chaos.behavior(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface BehaviorOptions extends internal.BehaviorOptions {}

/**
 * Runs a side effect before a share of calls: restart a connection pool,
 * clear a cache, flip a flag — chaos that changes state rather than results.
 *
 * **Example** (Clear the cache before one call in a hundred)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * declare const clearCache: Effect.Effect<void>
 * declare const read: Effect.Effect<string>
 *
 * const withRestarts = read.pipe(Chaos.inject([Chaos.behavior({ rate: 0.01, behavior: clearCache })]))
 * ```
 *
 * @category injections
 * @since 0.1.0
 */
export const behavior: (options: BehaviorOptions) => Injection = internal.behavior

/**
 * Applies injections to an effect, the first one outermost (it decides
 * first: an outage listed before a latency fails at once; after it, the call
 * is delayed and then fails).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const faults = [Chaos.latency({ rate: 0.2, delay: "300 millis" }), Chaos.fault({ rate: 0.05 })]
 * const a = Chaos.inject(Effect.succeed(1), faults)
 * const b = Effect.succeed(1).pipe(Chaos.inject(faults))
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const inject: {
  <const I extends ReadonlyArray<Injection<any, any>>>(
    injections: I
  ): <A, E0, R>(self: Effect.Effect<A, E0, R>) => Effect.Effect<A | InjectedValue<I[number]>, E0 | InjectedError<I[number]>, R>
  <A, E0, R, const I extends ReadonlyArray<Injection<any, any>>>(
    self: Effect.Effect<A, E0, R>,
    injections: I
  ): Effect.Effect<A | InjectedValue<I[number]>, E0 | InjectedError<I[number]>, R>
} = dual(
  2,
  <A, E0, R>(self: Effect.Effect<A, E0, R>, injections: ReadonlyArray<Injection<any, any>>) =>
    internal.inject(self, injections)
)

/** The errors a list of injections may fail with (distributes over the list's members). */
type InjectedError<X> = X extends Injection<infer E, any> ? E : never

/** The values a list of injections may answer with instead of the call. */
type InjectedValue<X> = X extends Injection<any, infer B> ? B : never

/**
 * The error type of a service's methods (of each method returning an
 * `Effect`, and of each `Effect` member).
 *
 * @example
 * ```ts
 * import { Data, Effect } from "effect"
 * import type { Chaos } from "effect-resilience"
 *
 * class NotFound extends Data.TaggedError("NotFound") {}
 * declare const find: (id: string) => Effect.Effect<string, NotFound>
 *
 * type FindError = Chaos.ErrorOf<typeof find> // NotFound
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ErrorOf<M> = M extends (...args: ReadonlyArray<any>) => Effect.Effect<any, infer E, any> ? E
  : M extends Effect.Effect<any, infer E, any> ? E
  : never

/**
 * The success type of a method (or `Effect` member).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Chaos } from "effect-resilience"
 *
 * declare const count: (sku: string) => Effect.Effect<number>
 *
 * type Count = Chaos.ValueOf<typeof count> // number
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ValueOf<M> = M extends (...args: ReadonlyArray<any>) => Effect.Effect<infer A, any, any> ? A
  : M extends Effect.Effect<infer A, any, any> ? A
  : never

/**
 * What to inject into a service: one list for every method — its errors
 * must be ones *every* method declares, and it may not replace values — or a
 * list per method, typed by that method's own error and value types.
 *
 * @example
 * ```ts
 * import { Data, Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable") {}
 * const inventory = {
 *   stock: (sku: string) => Effect.succeed(sku.length) as Effect.Effect<number, Unavailable>,
 *   names: Effect.succeed(["a", "b"]) as Effect.Effect<ReadonlyArray<string>>
 * }
 * // Per method: each list typed by its method's own errors and values.
 * const injections: Chaos.ServiceInjections<typeof inventory> = {
 *   stock: [Chaos.fault({ rate: 0.1, error: () => new Unavailable() })],
 *   names: [Chaos.outcome({ rate: 0.05, value: [] as ReadonlyArray<string> })]
 * }
 * const chaotic = Chaos.wrap(inventory, injections)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ServiceInjections<S> =
  | ReadonlyArray<Injection<{ [K in keyof S]: ErrorOf<S[K]> }[keyof S], never>>
  | { readonly [K in keyof S]?: ReadonlyArray<Injection<ErrorOf<S[K]>, ValueOf<S[K]>>> | undefined }

/**
 * Wraps every method of a service implementation (each method returning an
 * `Effect`, and each `Effect` member) with injections; other members are
 * kept as they are.
 *
 * @example
 * ```ts
 * import { Data, Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable") {}
 * const inventory = {
 *   stock: (sku: string) => Effect.succeed(sku.length) as Effect.Effect<number, Unavailable>
 * }
 * const chaotic = Chaos.wrap(inventory, [Chaos.fault({ rate: 0.1, error: () => new Unavailable() })])
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const wrap = <S extends object>(service: S, injections: ServiceInjections<S>): S =>
  internal.wrapService("Chaos.wrap", service, injections as internal.Plan)

/**
 * Chaos as a layer over any service: `MyServiceLive.pipe(Chaos.layer(MyService,
 * faults))` provides the same service with every method wrapped, so business
 * code and its tests stay untouched — swap the layer per environment.
 *
 * **Details**
 *
 * The injections' shape is checked when `Chaos.layer` is called (throws
 * `InvalidConfigError`); per-method injections naming a member the service
 * does not have fail when the layer is built.
 *
 * **Example** (A staging inventory service that fails 5% of calls and is slow 10% of the time)
 *
 * ```ts
 * import { Context, Data, Effect, Layer } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * class Unavailable extends Data.TaggedError("Unavailable") {}
 * class Inventory extends Context.Service<Inventory, {
 *   readonly stock: (sku: string) => Effect.Effect<number, Unavailable>
 * }>()("app/Inventory") {}
 *
 * const InventoryLive = Layer.succeed(Inventory, { stock: (sku) => Effect.succeed(sku.length) })
 *
 * const InventoryStaging = InventoryLive.pipe(
 *   Chaos.layer(Inventory, [
 *     Chaos.fault({ rate: 0.05, error: () => new Unavailable() }),
 *     Chaos.latency({ rate: 0.1, delay: "800 millis" })
 *   ])
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: <I, S extends object>(
  tag: Context.Key<I, S>,
  injections: ServiceInjections<S>
) => <E, R>(self: Layer.Layer<I, E, R>) => Layer.Layer<I, E, R> = (tag, injections) =>
  internal.layer(tag, injections as internal.Plan)

/**
 * A uniform distribution in [min, max].
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const jitter = Chaos.latency({ delay: Chaos.uniform({ min: "10 millis", max: "50 millis" }) })
 * ```
 *
 * @category distributions
 * @since 0.1.0
 */
export const uniform: (options: { readonly min: Duration.Input; readonly max: Duration.Input }) => Distribution =
  internal.uniform

/**
 * An exponential distribution of the given mean (memoryless waits).
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const delay = Chaos.exponential({ mean: "40 millis" })
 * ```
 *
 * @category distributions
 * @since 0.1.0
 */
export const exponential: (options: { readonly mean: Duration.Input }) => Distribution = internal.exponential

/**
 * A log-normal distribution set by its median and 99th percentile: the
 * long-tailed shape of real service latencies.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const latency = Chaos.logNormal({ median: "40 millis", p99: "250 millis" })
 * ```
 *
 * @category distributions
 * @since 0.1.0
 */
export const logNormal: (options: { readonly median: Duration.Input; readonly p99: Duration.Input }) => Distribution =
  internal.logNormal

/**
 * Options of {@link dependency}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * const options: Chaos.DependencyOptions<string> = {
 *   name: "search",
 *   failureRate: 0.05,
 *   permanentRate: 0.01,
 *   latency: "40 millis",
 *   capacity: 16,
 *   value: (n) => `result ${n}`
 * }
 * const search = Chaos.dependency(options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DependencyOptions<A> extends dependencyInternal.DependencyOptions<A> {}

/**
 * A window in which a simulated dependency fails all calls (or
 * `failureRate` of them), optionally with another latency.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * // Half the calls fail and each takes 2 s, from 1 min to 2 min in.
 * const brownout: Chaos.OutageWindow = { from: "1 minute", until: "2 minutes", failureRate: 0.5, latency: "2 seconds" }
 * const search = Chaos.dependency({ outages: [brownout] })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface OutageWindow extends dependencyInternal.OutageWindow {}

/**
 * Counters of a simulated dependency.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Chaos } from "effect-resilience"
 *
 * declare const search: Chaos.Dependency<number>
 *
 * const errorRate = search.stats.pipe(Effect.map((s: Chaos.DependencyStats) => s.calls === 0 ? 0 : s.failed / s.calls))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface DependencyStats extends dependencyInternal.DependencyStats {}

/**
 * A simulated dependency: `call` and its counters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos, Retry } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const search: Chaos.Dependency<number> = yield* Chaos.dependency({ failureRate: 0.2 })
 *   const policy = Retry.make({ maxAttempts: 3 })
 *   yield* search.call.pipe(Retry.retry(policy), Effect.ignore)
 *   return (yield* search.stats).calls // 1 to 3: what the retries cost the dependency
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Dependency<A> extends dependencyInternal.Dependency<A> {}

/**
 * How a simulated dependency fails: `status` 503 (`reason` `"failure"` or
 * `"outage"`, transient) or 400 (`"permanent"`, not worth a retry).
 *
 * @example
 * ```ts
 * import { Chaos, Retry } from "effect-resilience"
 *
 * const error = new Chaos.DependencyError({ policy: "search", status: 503, reason: "outage" })
 * Retry.retryOnHttpStatus(error) // true
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const DependencyError = dependencyInternal.DependencyError

/**
 * @category errors
 * @since 0.1.0
 */
export type DependencyError = dependencyInternal.DependencyError

/**
 * Checks whether a value is a {@link DependencyError}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * Chaos.isDependencyError(new Chaos.DependencyError({ policy: "search", status: 503, reason: "outage" })) // true
 * Chaos.isDependencyError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isDependencyError: (u: unknown) => u is DependencyError = dependencyInternal.isDependencyError

/**
 * A simulated dependency for tests, examples and the demo.
 *
 * **Details**
 *
 * Each call reaches the dependency (counted in `stats.calls`), waits its
 * latency (fixed or drawn), then fails with a transient 503 at
 * `failureRate`, a permanent 400 at `permanentRate`, or returns
 * `value(n)`. During an outage window the window's `failureRate` (1 by
 * default) and latency apply. From `recoverAt` on it never fails. With a
 * `capacity`, at most that many calls are served at once and the others
 * wait in an unbounded line (`stats.queued`), as a saturated server's do.
 *
 * **Example** (A search backend down from 10 s to 40 s)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const search = yield* Chaos.dependency({
 *     failureRate: 0.03,
 *     latency: Chaos.logNormal({ median: "40 millis", p99: "200 millis" }),
 *     outages: [{ from: "10 seconds", until: "40 seconds" }]
 *   })
 *   const result = yield* Effect.result(search.call)
 *   return yield* search.stats
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const dependency: <A = number>(options?: DependencyOptions<A>) => Effect.Effect<Dependency<A>, InvalidConfigError> =
  dependencyInternal.make

// -----------------------------------------------------------------------------
// network faults
// -----------------------------------------------------------------------------

/**
 * Network faults of a {@link proxy}; any of them can be changed while it runs.
 *
 * @example
 * ```ts
 * import type { Chaos } from "effect-resilience"
 *
 * const flakyLink: Chaos.Toxics = { latency: "50 millis", bandwidth: 32_000, reset: 0.1 }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Toxics extends proxyInternal.Toxics {}

/**
 * Options of {@link proxy}: the target and the faults to start with.
 *
 * @example
 * ```ts
 * import type { Chaos } from "effect-resilience"
 *
 * const options: Chaos.ProxyOptions = { target: { host: "127.0.0.1", port: 8080 }, blackhole: true }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ProxyOptions extends proxyInternal.ProxyOptions {}

/**
 * A running fault proxy: its address, its faults and its counters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Chaos } from "effect-resilience"
 *
 * const cutOff = (proxy: Chaos.Proxy) => Effect.andThen(proxy.update({ blackhole: true }), proxy.stats)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Proxy extends proxyInternal.Proxy {}

/**
 * Counters of a {@link proxy}.
 *
 * @example
 * ```ts
 * import type { Chaos } from "effect-resilience"
 *
 * const allReset = (stats: Chaos.ProxyStats) => stats.resets === stats.connections
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface ProxyStats extends proxyInternal.ProxyStats {}

/**
 * The proxy could not listen (its port is taken, say).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const started = Chaos.proxy({ target: "http://127.0.0.1:8080", port: 9000 }).pipe(
 *   Effect.catchTag("ProxyError", (e) => Effect.die(e))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const ProxyError = proxyInternal.ProxyError

/**
 * @category errors
 * @since 0.1.0
 */
export type ProxyError = proxyInternal.ProxyError

/**
 * Checks whether a value is a {@link ProxyError}.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience"
 *
 * Chaos.isProxyError(new Chaos.ProxyError({ policy: "proxy", cause: new Error("EADDRINUSE") })) // true
 * Chaos.isProxyError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isProxyError: (u: unknown) => u is ProxyError = proxyInternal.isProxyError

/**
 * Starts a TCP proxy on 127.0.0.1 in front of `target` that injects network
 * faults: what Toxiproxy does, in Node, without a Go binary. It is a scoped
 * resource: listening once acquired, closed (its connections cut) with its
 * scope. Point the client under test at `proxy.url`.
 *
 * **Details**
 *
 * - `latency`: every chunk the target sends reaches the client that much later (order kept);
 * - `bandwidth`: bytes per second from the target to the client;
 * - `reset`: the connection is reset (TCP RST) when the client's first bytes arrive — the request was
 *   sent and never answered (`true`, or the share of connections, drawn from the `Random` service);
 * - `blackhole`: the proxy accepts, swallows the request and never answers (a dead host behind a live
 *   load balancer); only a client timeout ends the wait.
 *
 * `update` changes faults while the proxy runs (a reset or black hole is
 * decided when a connection opens; latency and bandwidth apply to the next
 * chunk). The proxy runs on real time: sockets are real, and `TestClock`
 * cannot speed them up. `node:net` is imported only when a proxy starts.
 *
 * **Example** (A server that turns slow, then drops connections)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const proxy = yield* Chaos.proxy({ target: "http://127.0.0.1:8080", latency: "200 millis" })
 *   // ... requests to proxy.url are 200 ms slower
 *   yield* proxy.update({ latency: 0, reset: true })
 *   // ... now every connection is reset
 *   return yield* proxy.stats
 * }).pipe(Effect.scoped)
 * ```
 *
 * @category network
 * @since 0.1.0
 */
export const proxy: (options: ProxyOptions) => Effect.Effect<Proxy, InvalidConfigError | ProxyError, Scope> =
  proxyInternal.make

/**
 * One typed channel for every decision a policy makes.
 *
 * Policies report what they decide (a retry scheduled, a breaker tripped, a
 * call rejected, a fallback used, ...) as `ResilienceEvent`s to the listener
 * held in the {@link ResilienceEvents} reference. Its default is "nobody
 * listens", and a policy then builds no event at all, so an unobserved policy
 * pays nothing. Success paths emit nothing: events describe decisions.
 *
 * Telemetry, health, the demo report and tests all read this one channel.
 *
 * @since 0.1.0
 */
import { Context, Data, Effect, Layer, PubSub, Stream } from "effect"
import type * as Duration from "effect/Duration"
import { dual } from "effect/Function"
import type { Scope } from "effect/Scope"
import type { InvalidConfigError } from "./Errors.ts"
import * as validate from "./internal/validate.ts"

/**
 * Fields every event carries: the policy `name` and the `timestamp`
 * (milliseconds since the epoch, read from `Clock`, so `TestClock` controls it).
 *
 * @example
 * ```ts
 * import type { Events } from "effect-resilience"
 *
 * const describe = (event: Events.EventBase) => `${new Date(event.timestamp).toISOString()} ${event.name}`
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface EventBase {
  readonly name: string
  readonly timestamp: number
}

/**
 * The priority classes of `LoadShedder`.
 *
 * @example
 * ```ts
 * import type { Events } from "effect-resilience"
 *
 * const priority: Events.Priority = "sheddable"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Priority = "critical" | "normal" | "sheddable"

/**
 * Every decision a policy reports.
 *
 * **Details**
 *
 * - `RetryScheduled`: attempt `attempt` failed with `error`; the next attempt starts after `delay`.
 * - `RetryExhausted`: the policy gave up after `attempts` attempts; `error` is returned to the caller.
 * - `RetryBudgetDenied`: the retry budget refused a retry after attempt `attempt`.
 * - `TimeoutFired`: a call ran past `duration` and was interrupted.
 * - `BreakerTransition`: the circuit moved `from` → `to`.
 * - `BreakerRejected`: a call was rejected in `state`; it may be tried again after `retryAfter`.
 * - `BulkheadRejected`: a call was rejected because the bulkhead was `full` or waited past its `queue-timeout`.
 * - `FallbackUsed`: the primary failed with `error`; the answer came from `source`.
 * - `HedgeLaunched`: hedged attempt `attempt` (2, 3, ...) started.
 * - `HedgeWon`: attempt `attempt` produced the result; the others were interrupted.
 * - `HedgeBudgetDenied`: the retry budget refused hedged attempt `attempt`; no further hedge starts.
 * - `Shed`: a call of `priority` was rejected by a load shedder.
 * - `Degraded`: the degraded variant ran instead of the full one.
 * - `DeadLettered`: item `id` failed at `stage` and was stored in a dead-letter queue.
 * - `DeadLetterRejected`: a full dead-letter queue (`whenFull: "fail"`, holding `capacity` entries) rejected an offer.
 * - `StageSkipped`: a non-critical pipeline `stage` was skipped under overload.
 * - `RateLimited`: a call was rejected by a rate limit; the limiter admits calls again after `retryAfter`.
 * - `IdempotentHit`: a call for `key` did not run: it joined a running call (`coalesced`) or read a stored result (`cached`).
 * - `LimitChanged`: an adaptive limiter moved its concurrency limit `from` → `to`.
 * - `LimitRejected`: an adaptive limiter rejected a call: `inFlight` calls already ran against its `limit`.
 * - `Throttled`: client-side adaptive throttling rejected a call locally; it rejects calls with this `probability` now.
 * - `Abandoned`: timed-out work did not stop when told to and runs on without its caller (`reason`: its Promise takes
 *   no `AbortSignal`, ignored the one it got for `grace`, or the effect was still in an uninterruptible region
 *   `grace` after the deadline); the caller got its `TimeoutError`.
 * - `Reconfigured`: `Policy.reconfigure` put new settings in force; the policy now runs `stages`.
 * - `ReconfigureRefused`: new settings were refused (`error`: the `InvalidConfigError`, or the config file's error); the old ones stay in force.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const line = (event: Events.ResilienceEvent): string => {
 *   switch (event._tag) {
 *     case "BreakerTransition":
 *       return `${event.name}: ${event.from} -> ${event.to}`
 *     case "RetryScheduled":
 *       return `${event.name}: retry ${event.attempt} in ${Duration.format(event.delay)}`
 *     default:
 *       return `${event.name}: ${event._tag}`
 *   }
 * }
 * const text = line(Events.ResilienceEvent.BreakerTransition({ name: "payments", timestamp: 0, from: "Closed", to: "Open" }))
 * console.log(text) // => "payments: Closed -> Open"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ResilienceEvent = Data.TaggedEnum<{
  RetryScheduled: EventBase & { readonly attempt: number; readonly delay: Duration.Duration; readonly error: unknown }
  RetryExhausted: EventBase & { readonly attempts: number; readonly error: unknown }
  RetryBudgetDenied: EventBase & { readonly attempt: number; readonly error: unknown }
  TimeoutFired: EventBase & { readonly duration: Duration.Duration }
  BreakerTransition: EventBase & { readonly from: string; readonly to: string }
  BreakerRejected: EventBase & { readonly state: string; readonly retryAfter: Duration.Duration | undefined }
  BulkheadRejected: EventBase & { readonly reason: "full" | "queue-timeout" }
  FallbackUsed: EventBase & { readonly source: string; readonly error: unknown }
  HedgeLaunched: EventBase & { readonly attempt: number }
  HedgeWon: EventBase & { readonly attempt: number }
  HedgeBudgetDenied: EventBase & { readonly attempt: number }
  Shed: EventBase & { readonly priority: Priority }
  Degraded: EventBase & {}
  DeadLettered: EventBase & { readonly stage: string; readonly id: string }
  DeadLetterRejected: EventBase & { readonly capacity: number }
  StageSkipped: EventBase & { readonly stage: string }
  IdempotentHit: EventBase & { readonly key: string; readonly kind: "coalesced" | "cached" }
  RateLimited: EventBase & { readonly retryAfter: Duration.Duration }
  LimitChanged: EventBase & { readonly from: number; readonly to: number }
  LimitRejected: EventBase & { readonly limit: number; readonly inFlight: number }
  Throttled: EventBase & { readonly probability: number }
  Abandoned: EventBase & {
    readonly reason: "no-signal" | "signal-ignored" | "uninterruptible"
    readonly duration: Duration.Duration
    readonly grace: Duration.Duration
  }
  Reconfigured: EventBase & { readonly stages: ReadonlyArray<string> }
  ReconfigureRefused: EventBase & { readonly error: unknown }
}>

/**
 * Constructors, guards (`$is`) and matchers (`$match`) for {@link ResilienceEvent}.
 *
 * @example
 * ```ts
 * import { Events } from "effect-resilience"
 *
 * const isRetry = Events.ResilienceEvent.$is("RetryScheduled")
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const ResilienceEvent = Data.taggedEnum<ResilienceEvent>()

/**
 * The tag of every event kind.
 *
 * @example
 * ```ts
 * import type { Events } from "effect-resilience"
 *
 * const tag: Events.ResilienceEventTag = "RetryScheduled"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ResilienceEventTag = ResilienceEvent["_tag"]

/**
 * Receives events. It runs on the fiber of the policy that decided, so it
 * should be quick; hand slow work to a queue (see {@link layerHub}).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const logTrips: Events.Listener = (event) =>
 *   event._tag === "BreakerTransition" && event.to === "Open" ? Effect.logWarning(`${event.name} opened`) : Effect.void
 * const Logging = Events.layer(logTrips)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Listener = (event: ResilienceEvent) => Effect.Effect<void>

/**
 * The current listener; `undefined` (the default) means nobody listens.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const program = Effect.void.pipe(
 *   Effect.provideService(Events.ResilienceEvents, (event) => Effect.log(event._tag))
 * )
 * ```
 *
 * @category references
 * @since 0.1.0
 */
export const ResilienceEvents = Context.Reference<Listener | undefined>("effect-resilience/Events", {
  defaultValue: () => undefined
})

/**
 * Listeners installed by layers live under keys of their own (one per
 * `Events.layer` / `Events.layerHub`), because a merge of layers keeps one
 * value per key: two layers writing `ResilienceEvents` would overwrite each
 * other. `ResilienceEvents` then holds `fromContext`, which at emission time
 * runs every listener key present in the emitting fiber's context, so
 * listeners add up however their layers were combined.
 */
const listenerKeyPrefix = "effect-resilience/Events/listener/"
let nextListenerKey = 0

/** Listeners found in a context, cached per context (contexts are immutable). */
const contextListeners = new WeakMap<ReadonlyMap<string, unknown>, ReadonlyArray<Listener>>()
const listenersIn = (context: Context.Context<never>): ReadonlyArray<Listener> => {
  const map = context.mapUnsafe
  let found = contextListeners.get(map)
  if (found === undefined) {
    const listeners: Array<Listener> = []
    for (const [key, value] of map) {
      if (value !== undefined && key.startsWith(listenerKeyPrefix)) listeners.push(value as Listener)
    }
    found = listeners
    contextListeners.set(map, found)
  }
  return found
}

const fromContext: Listener = (event) =>
  Effect.contextWith((context: Context.Context<never>) =>
    Effect.forEach(listenersIn(context), (listener) => listener(event), { discard: true })
  )

/** Listeners that already include `fromContext` (adding it twice would deliver every event twice). */
const readsContext = new WeakSet<Listener>([fromContext])

const combine = (first: Listener | undefined, second: Listener): Listener => {
  if (first === undefined) return second
  const both: Listener = (event) => Effect.andThen(first(event), second(event))
  if (readsContext.has(first) || readsContext.has(second)) readsContext.add(both)
  return both
}

/**
 * A layer output that installs `listener` under a key of its own, keeps the
 * listener keys of its input (a `Layer.provide` exposes only the outer
 * layer's output) and makes sure `ResilienceEvents` reads them all.
 */
const installListener = <I>(
  input: Context.Context<never>,
  listener: Listener,
  output: Context.Context<I>
): Context.Context<I> => {
  const current = Context.get(input, ResilienceEvents)
  const inputKeysActive = current !== undefined && readsContext.has(current)
  let result = output as Context.Context<I>
  for (const [key, value] of input.mapUnsafe) {
    // Keys the current listener does not read were silenced or replaced (`provideService(ResilienceEvents, ...)`):
    // shadow them, or the new dispatcher would bring them back.
    if (key.startsWith(listenerKeyPrefix)) result = Context.addUnsafe(result, key, inputKeysActive ? value : undefined)
  }
  result = Context.addUnsafe(result, `${listenerKeyPrefix}${nextListenerKey++}`, listener)
  return Context.add(result, ResilienceEvents, inputKeysActive ? current : combine(current, fromContext))
}

/**
 * Runs an effect with `listener` added to whatever listens already.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const program = Effect.void.pipe(Events.withListener((event) => Effect.log(event)))
 * ```
 *
 * @category listening
 * @since 0.1.0
 */
export const withListener: {
  (listener: Listener): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, listener: Listener): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, listener: Listener): Effect.Effect<A, E, R> =>
    Effect.updateService(self, ResilienceEvents, (current) => combine(current, listener))
)

/**
 * A layer that adds listeners to those already in place.
 *
 * **Details**
 *
 * Listeners add up however layers are combined: `Layer.mergeAll(app, logs,
 * metrics)`, `Layer.provideMerge`, `Layer.provide` and nested
 * `Effect.provide` all deliver every event once to every listener (the order
 * among listeners is unspecified). With no listener at all, policies build no
 * event.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const LogEvents = Events.layer((event) => Effect.logInfo(event._tag, event.name))
 * const CountEvents = Events.layer((event) => Effect.logDebug(event))
 * const Both = Layer.mergeAll(LogEvents, CountEvents) // each event reaches both
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (...listeners: ReadonlyArray<Listener>): Layer.Layer<never> =>
  listeners.length === 0 ? Layer.empty : Layer.effectContext(
    Effect.map(
      Effect.context<never>(),
      (input) => installListener(input, listeners.reduce<Listener | undefined>(combine, undefined)!, Context.empty())
    )
  )

/**
 * Runs an effect and returns what it produced together with every event
 * emitted while it ran, in order. Meant for tests.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Events, Retry } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const [exit, events] = yield* Events.collect(Effect.exit(Effect.fail("boom").pipe(Retry.retry(Retry.make({ maxAttempts: 2 })))))
 *   return events.map((e) => e._tag) // ["RetryScheduled", "RetryExhausted"]
 * })
 * ```
 *
 * @category listening
 * @since 0.1.0
 */
export const collect = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<[A, ReadonlyArray<ResilienceEvent>], E, R> =>
  Effect.suspend(() => {
    const events: Array<ResilienceEvent> = []
    return self.pipe(
      withListener((event) => Effect.sync(() => void events.push(event))),
      Effect.map((a): [A, ReadonlyArray<ResilienceEvent>] => [a, events])
    )
  })

/**
 * A broadcast of every event, to be read as a `Stream` by any number of
 * subscribers (telemetry exporters, a health view, a live report).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const dropped = Effect.flatMap(Effect.service(Events.EventHub), (hub) => hub.dropped)
 * ```
 *
 * @category hub
 * @since 0.1.0
 */
export class EventHub extends Context.Service<EventHub, {
  readonly pubsub: PubSub.PubSub<ResilienceEvent>
  /** How many events pushed the oldest event out of a slow subscriber's full buffer (counted once per event, however many subscribers were full). */
  readonly dropped: Effect.Effect<number>
}>()("effect-resilience/Events/EventHub") {}

/**
 * Provides an {@link EventHub} and a listener that publishes every event to
 * it. Slow subscribers never slow a policy down: each subscriber has a
 * `capacity`-sized buffer that drops the oldest events when full, and the
 * drops are counted in `EventHub.dropped`.
 *
 * `capacity` (default 1024) must be an integer in [1, 1000000]; any other
 * value fails the layer with `InvalidConfigError`.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const events = yield* Events.subscribe
 *   // ... run policies, then read `events` as a Stream
 * }).pipe(Effect.scoped, Effect.provide(Events.layerHub()))
 * ```
 *
 * @category hub
 * @since 0.1.0
 */
export const layerHub = (options?: { readonly capacity?: number | undefined }): Layer.Layer<EventHub, InvalidConfigError> =>
  Layer.effectContext(Effect.gen(function*() {
    const capacity = yield* validate.attempt(() => {
      const source = "Events.layerHub"
      const { capacity = 1024 } = validate.options(source, "options", options, false)
      return validate.positiveInt(source, "capacity", capacity, validate.limits.eventHubCapacity)
    })
    const pubsub = yield* Effect.acquireRelease(
      PubSub.sliding<ResilienceEvent>(capacity),
      PubSub.shutdown
    )
    let dropped = 0
    // The fast path fails only when some subscriber's buffer is full (or the hub
    // is shut down): the sliding publish then drops that subscriber's oldest event.
    const publish: Listener = (event) =>
      Effect.suspend(() => {
        if (PubSub.publishUnsafe(pubsub, event) || PubSub.isShutdownUnsafe(pubsub)) return Effect.void
        dropped++
        return Effect.asVoid(PubSub.publish(pubsub, event))
      })
    const input = yield* Effect.context<never>()
    return installListener(input, publish, Context.make(EventHub, { pubsub, dropped: Effect.sync(() => dropped) }))
  }))

/**
 * A `Stream` of the events published to the {@link EventHub} from the moment
 * of subscription. The subscription lives as long as the enclosing scope.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { Events } from "effect-resilience"
 *
 * const logTrips = Effect.gen(function*() {
 *   const events = yield* Events.subscribe
 *   yield* events.pipe(
 *     Stream.filter(Events.ResilienceEvent.$is("BreakerTransition")),
 *     Stream.runForEach((e) => Effect.log(`${e.name}: ${e.from} -> ${e.to}`))
 *   )
 * })
 * ```
 *
 * @category hub
 * @since 0.1.0
 */
export const subscribe: Effect.Effect<Stream.Stream<ResilienceEvent>, never, EventHub | Scope> = Effect.gen(
  function*() {
    const hub = yield* EventHub
    const subscription = yield* PubSub.subscribe(hub.pubsub)
    return Stream.fromSubscription(subscription)
  }
)

/**
 * A resilient stream pipeline: items flow through named stages that call
 * unreliable services. Each stage has its own policy (retry, breaker, ...);
 * an item whose stage still fails goes to a dead-letter queue with the stage
 * name and its cause, and the stream goes on; a stage keyed by an
 * idempotency key runs once per key; a non-critical stage is skipped while
 * the system says it is overloaded. No item is lost: every input item is
 * either emitted (processed) or in the dead-letter queue.
 *
 * **Order**: the output keeps the input order (minus the dead letters), also
 * with concurrent stages. Pass `ordered: false` to {@link run} to emit items
 * as they finish instead (more throughput when durations vary).
 *
 * @since 0.1.0
 */
import { Effect, Predicate, Stream } from "effect"
import { dual } from "effect/Function"
import type { DeadLetterQueue, DeadLetterQueueFullError, DeadLetterStoreError } from "./DeadLetterQueue.ts"
import type { InvalidConfigError } from "./Errors.ts"
import * as Idempotency from "./Idempotency.ts"
import * as defaults from "./internal/defaults.ts"
import * as internal from "./internal/pipeline.ts"
import * as validate from "./internal/validate.ts"

const TypeId = "~effect-resilience/Pipeline/Stage"

// -----------------------------------------------------------------------------
// stages
// -----------------------------------------------------------------------------

/**
 * Options of {@link stage}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, Pipeline } from "effect-resilience"
 *
 * interface Order { readonly id: string }
 * declare const breaker: CircuitBreaker.CircuitBreaker
 * declare const charge: (order: Order) => Effect.Effect<Order, Error>
 *
 * const options: Pipeline.StageOptions<Order, Error, never, Error | CircuitBreaker.CircuitOpenError, never> = {
 *   policy: breaker.execute,
 *   idempotencyKey: (order) => order.id,
 *   concurrency: 8
 * }
 * const charging = Pipeline.stage("charge", charge, options)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface StageOptions<A, E, R, E2, R2> {
  /**
   * Wraps each call of the handler: any `(effect) => effect`, such as
   * `Retry.retry(policy)` or a circuit breaker's `execute`. The item goes to
   * the dead-letter queue when the wrapped call fails.
   */
  readonly policy?: ((effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E2, R2>) | undefined
  /** A non-critical stage is skipped while the pipeline is overloaded. Default `true`. */
  readonly critical?: boolean | undefined
  /**
   * Makes the stage idempotent: items with the same key run the stage once
   * (concurrent duplicates wait for that run; later ones get its stored
   * output).
   */
  readonly idempotencyKey?: ((item: A) => string) | undefined
  /**
   * The guard behind `idempotencyKey`, to share it between runs or choose
   * its `ttl` and `capacity`. Default: a new guard per run, with
   * `Idempotency.make`'s defaults.
   */
  readonly idempotency?: Idempotency.Idempotency | undefined
  /** Items the stage handles at once: an integer >= 1, or `Infinity`. Default 1. */
  readonly concurrency?: number | undefined
}

/**
 * A pipeline stage over items of type `A`, needing services `R`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Pipeline } from "effect-resilience"
 *
 * interface Event { readonly id: string; readonly text: string }
 *
 * const trim: Pipeline.Stage<Event> = Pipeline.stage("trim", (e: Event) => Effect.succeed({ ...e, text: e.text.trim() }))
 * const enrich: Pipeline.Stage<Event> = Pipeline.stage("enrich", (e: Event) => Effect.succeed(e), { critical: false })
 * const stages = [trim, enrich]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Stage<in out A, out R = never> {
  readonly [TypeId]: typeof TypeId
  readonly name: string
  readonly critical: boolean
  readonly concurrency: number
  readonly idempotencyKey: ((item: A) => string) | undefined
  readonly idempotency: Idempotency.Idempotency | undefined
  /** The handler wrapped in the stage's policy. */
  readonly run: (item: A) => Effect.Effect<A, unknown, R>
}

/**
 * Checks whether a value is a pipeline {@link Stage}.
 *
 * @example
 * ```ts
 * import { Pipeline } from "effect-resilience"
 *
 * Pipeline.isStage({}) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isStage = (u: unknown): u is Stage<unknown, unknown> => Predicate.hasProperty(u, TypeId)

/**
 * Defines a stage: a name, a handler that returns the item (changed or not),
 * and options.
 *
 * **Details**
 *
 * A handler that throws or dies is a failure like any other: the item goes
 * to the dead-letter queue with the defect in its cause. Throws
 * `InvalidConfigError` for an empty `name`, a handler, `policy` or
 * `idempotencyKey` that is not a function, an `idempotency` that is not a
 * guard, or a `concurrency` that is not an integer >= 1 (or `Infinity`).
 *
 * **Example** (A retried scoring stage and a skippable recommendation stage)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { Backoff, Pipeline, Retry } from "effect-resilience"
 *
 * interface Event { readonly id: string; readonly score?: number }
 * declare const score: (e: Event) => Effect.Effect<number, Error>
 * declare const recommend: (e: Event) => Effect.Effect<void, Error>
 *
 * const scoring = Pipeline.stage("scoring", (e: Event) => Effect.map(score(e), (score) => ({ ...e, score })), {
 *   policy: Retry.retry(Retry.make({ maxAttempts: 4, backoff: Backoff.exponential({ base: "50 millis" }) })),
 *   idempotencyKey: (e) => e.id,
 *   concurrency: 16
 * })
 * const recommendations = Pipeline.stage("recommendations", (e: Event) => Effect.as(recommend(e), e), {
 *   critical: false
 * })
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const stage = <A, E = never, R = never, E2 = E, R2 = R>(
  name: string,
  handler: (item: A) => Effect.Effect<A, E, R>,
  input?: StageOptions<A, E, R, E2, R2>
): Stage<A, R2> => {
  const source = "Pipeline.stage"
  const options = validate.options(source, "options", input, false)
  validate.nonEmptyName(source, "name", name)
  validate.predicate(source, "handler", handler)
  const policy = options.policy === undefined ? undefined : validate.predicate(source, "policy", options.policy)
  const idempotencyKey = options.idempotencyKey === undefined
    ? undefined
    : validate.predicate(source, "idempotencyKey", options.idempotencyKey)
  if (options.idempotency !== undefined && !Idempotency.isIdempotency(options.idempotency)) {
    throw validate.invalid(source, "idempotency", "an Idempotency guard (see Idempotency.make)", options.idempotency)
  }
  if (options.idempotency !== undefined && idempotencyKey === undefined) {
    throw validate.invalid(source, "idempotencyKey", "a function when idempotency is set", undefined)
  }
  const critical = options.critical ?? defaults.pipeline.critical
  if (typeof critical !== "boolean") throw validate.invalid(source, "critical", "a boolean", critical)
  const concurrency = validate.positiveIntOrInfinity(
    source,
    "concurrency",
    options.concurrency ?? defaults.pipeline.concurrency
  )
  // called lazily (inside the pipeline's own effects), so a throw becomes a defect without an Effect.suspend
  const call = (item: A): Effect.Effect<A, E, R> => {
    try {
      return handler(item)
    } catch (defect) {
      return Effect.die(defect)
    }
  }
  return {
    [TypeId]: TypeId,
    name,
    critical,
    concurrency,
    idempotencyKey,
    idempotency: options.idempotency,
    run: policy === undefined ? (call as unknown as (item: A) => Effect.Effect<A, unknown, R2>) : (item) => policy(call(item))
  }
}

// -----------------------------------------------------------------------------
// running
// -----------------------------------------------------------------------------

/**
 * Something that can say the system is overloaded, such as a
 * `LoadShedder`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Pipeline } from "effect-resilience"
 *
 * declare const queueDepth: Effect.Effect<number>
 *
 * const signal: Pipeline.OverloadSignal = { overloaded: Effect.map(queueDepth, (depth) => depth > 1_000) }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface OverloadSignal {
  readonly overloaded: Effect.Effect<boolean>
}

/**
 * Options of {@link run}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, DeadLetterQueue, Pipeline } from "effect-resilience"
 *
 * interface Event { readonly id: string }
 * declare const breaker: CircuitBreaker.CircuitBreaker
 *
 * const options = Effect.gen(function*() {
 *   const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "events-dlq" })
 *   const options: Pipeline.RunOptions<Event> = {
 *     deadLetters,
 *     name: "events",
 *     // skip non-critical stages while the breaker is open
 *     overloaded: Effect.map(breaker.state, (state) => state._tag === "Open"),
 *     ordered: false
 *   }
 *   return options
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface RunOptions<A> {
  /** Where items whose stage failed go. Its `whenFull` decides what a full queue does to the stream. */
  readonly deadLetters: DeadLetterQueue<A>
  /** Reported in events. Default `"pipeline"`. */
  readonly name?: string | undefined
  /** Non-critical stages are skipped while `shedder.overloaded` is `true`. */
  readonly shedder?: OverloadSignal | undefined
  /** Another overload signal (e.g. "the breaker is open"); either signal skips. */
  readonly overloaded?: Effect.Effect<boolean> | undefined
  /** Keep the input order in the output. Default `true`. */
  readonly ordered?: boolean | undefined
  /**
   * The id of an item's dead letter (e.g. the message id): an item that fails
   * again (a redelivery, a rerun after a crash) finds its entry there and
   * stores nothing. Default: a counter id per entry.
   */
  readonly deadLetterId?: ((item: A) => string) | undefined
}

/**
 * An item that made it through every stage, with the names of the stages it
 * skipped (in order; empty when none was skipped).
 *
 * @example
 * ```ts
 * import { Stream } from "effect"
 * import type { Pipeline } from "effect-resilience"
 *
 * interface Event { readonly id: string }
 * declare const processed: Stream.Stream<Pipeline.Processed<Event>>
 *
 * const degraded = processed.pipe(Stream.filter(({ skipped }) => skipped.length > 0), Stream.map(({ item }) => item.id))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Processed<A> {
  readonly item: A
  readonly skipped: ReadonlyArray<string>
}

/**
 * Counts of one stage.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Pipeline } from "effect-resilience"
 *
 * declare const summary: Effect.Effect<Pipeline.PipelineSummary>
 *
 * const failingStages = summary.pipe(
 *   Effect.map((s) =>
 *     Object.entries(s.stages)
 *       .filter(([, stage]: [string, Pipeline.StageSummary]) => stage.deadLettered > 0)
 *       .map(([name]) => name)
 *   )
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface StageSummary {
  /** Items the stage handled successfully (duplicates included). */
  readonly succeeded: number
  /** Items that failed here and went to the dead-letter queue. */
  readonly deadLettered: number
  /** Items that skipped this (non-critical) stage under overload. */
  readonly skipped: number
  /** Items of an idempotent stage that did not run because their key had run. */
  readonly duplicates: number
}

/**
 * What a run did so far. Once the stream has ended,
 * `processed + deadLettered = input` (`inFlight` = 0).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Pipeline } from "effect-resilience"
 *
 * declare const summary: Effect.Effect<Pipeline.PipelineSummary>
 *
 * // Once the stream has ended nothing is unaccounted for.
 * const balanced = summary.pipe(Effect.map((s) => s.processed + s.deadLettered + s.inFlight === s.input))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface PipelineSummary {
  /** Items that entered the first stage. */
  readonly input: number
  /**
   * Items the stream emitted: pulled by its consumer. An item done with its
   * stages but never pulled (held back to keep the order, the run
   * interrupted, the consumer stopped early) is not processed: it stays
   * `inFlight`.
   */
  readonly processed: number
  readonly deadLettered: number
  /** Stage skips in all (an item that skipped two stages counts 2). */
  readonly skippedStages: number
  /** Idempotent-stage calls that did not run, in all. */
  readonly duplicates: number
  /** Items that entered the first stage and were neither emitted nor dead-lettered. */
  readonly inFlight: number
  readonly stages: Readonly<Record<string, StageSummary>>
}

/**
 * A pipeline ready to run: the `stream` of processed items, and its
 * `summary`, to read at any time.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import type { Pipeline } from "effect-resilience"
 *
 * interface Event { readonly id: string }
 * declare const run: Pipeline.PipelineRun<Event, never, never>
 *
 * const report = Effect.gen(function*() {
 *   yield* Stream.runDrain(run.stream)
 *   return yield* run.summary
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface PipelineRun<A, E, R> {
  readonly stream: Stream.Stream<Processed<A>, E, R>
  readonly summary: Effect.Effect<PipelineSummary>
}

/**
 * Runs `source` through `stages`, in order.
 *
 * **Details**
 *
 * For each item and stage:
 * - a non-critical stage is skipped while the `shedder` or the `overloaded`
 *   signal says overload: the item goes on unchanged, its `skipped` lists the
 *   stage, `StageSkipped` is emitted;
 * - an idempotent stage whose key already ran returns that run's output
 *   (counted in `duplicates`);
 * - otherwise the handler runs under the stage's policy. If it fails (typed
 *   failure or defect), the item goes to `deadLetters` with the stage name
 *   and cause (`DeadLettered` is emitted) and leaves the stream; the stream
 *   goes on.
 *
 * The stream fails only if the source fails or the dead-letter queue cannot
 * take an item (`DeadLetterQueueFullError` with `whenFull: "fail"`): an item
 * is never dropped silently. Interrupting the stream interrupts the items in
 * flight; they are not dead-lettered, and the summary counts them `inFlight`
 * (`processed` counts only the items the consumer pulled).
 *
 * Fails with `InvalidConfigError` for two stages with the same name or an
 * empty `name`. Consecutive stages with equal `concurrency` run as one
 * stream step, in order for each item.
 *
 * **Example** (Three stages, failures isolated in a dead-letter queue)
 *
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { DeadLetterQueue, Pipeline } from "effect-resilience"
 *
 * interface Event { readonly id: string }
 * declare const events: Stream.Stream<Event>
 * declare const stages: ReadonlyArray<Pipeline.Stage<Event>>
 *
 * const program = Effect.gen(function*() {
 *   const deadLetters = yield* DeadLetterQueue.make<Event>({ name: "events-dlq", capacity: 10_000 })
 *   const run = yield* Pipeline.run(events, stages, { deadLetters })
 *   yield* Stream.runDrain(run.stream)
 *   const summary = yield* run.summary // { input, processed, deadLettered, ... }
 * })
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const run: {
  <A, RS = never>(
    stages: ReadonlyArray<Stage<A, RS>>,
    options: RunOptions<A>
  ): <E, R>(
    source: Stream.Stream<A, E, R>
  ) => Effect.Effect<
    PipelineRun<A, E | DeadLetterQueueFullError | DeadLetterStoreError, R | RS>,
    InvalidConfigError
  >
  <A, E, R, RS = never>(
    source: Stream.Stream<A, E, R>,
    stages: ReadonlyArray<Stage<A, RS>>,
    options: RunOptions<A>
  ): Effect.Effect<
    PipelineRun<A, E | DeadLetterQueueFullError | DeadLetterStoreError, R | RS>,
    InvalidConfigError
  >
} = dual(3, Effect.fnUntraced(
  function*<A, E, R, RS>(source: Stream.Stream<A, E, R>, stages: ReadonlyArray<Stage<A, RS>>, options: RunOptions<A>) {
    const source_ = "Pipeline.run"
    const config = yield* validate.attempt(() => {
      validate.options(source_, "options", options, true, "an object with deadLetters")
      if (!Array.isArray(stages)) throw validate.invalid(source_, "stages", "an array of Pipeline.stage values", stages)
      const name = validate.nonEmptyName(source_, "name", options.name ?? defaults.pipeline.name)
      const seen = new Set<string>()
      for (const s of stages) {
        if (!isStage(s)) throw validate.invalid(source_, "stages", "Pipeline.stage values", s)
        if (seen.has(s.name)) throw validate.invalid(source_, "stages", "stages with distinct names", s.name)
        seen.add(s.name)
      }
      if (options.deadLetters === undefined) {
        throw validate.invalid(source_, "deadLetters", "a DeadLetterQueue", options.deadLetters)
      }
      const signals = [options.shedder?.overloaded, options.overloaded].filter(Effect.isEffect)
      const overloaded = signals.length === 0
        ? undefined
        : signals.length === 1
        ? signals[0]!
        : Effect.flatMap(signals[0]!, (over) => over ? Effect.succeed(true) : signals[1]!)
      const deadLetterId = options.deadLetterId === undefined
        ? undefined
        : validate.predicate(source_, "deadLetterId", options.deadLetterId)
      return { name, deadLetters: options.deadLetters, overloaded, ordered: options.ordered ?? true, deadLetterId }
    })
    const compiled: Array<internal.CompiledStage<A, RS>> = []
    for (const s of stages) {
      const guard = s.idempotencyKey === undefined
        ? undefined
        : s.idempotency ?? (yield* Idempotency.make({ name: `${config.name}/${s.name}` }))
      compiled.push({
        name: s.name,
        critical: s.critical,
        concurrency: s.concurrency,
        run: s.run,
        idempotencyKey: s.idempotencyKey,
        guard
      })
    }
    const counts = internal.makeCounts(compiled.map((s) => s.name))
    const pipelineRun: PipelineRun<A, E | DeadLetterQueueFullError | DeadLetterStoreError, R | RS> = {
      stream: internal.build(source, compiled, config, counts),
      summary: Effect.sync(() => summarize(counts))
    }
    return pipelineRun
  }
))

/**
 * Runs the pipeline to the end, discarding the processed items, and returns
 * the summary.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { DeadLetterQueue, Pipeline } from "effect-resilience"
 *
 * declare const stages: ReadonlyArray<Pipeline.Stage<number>>
 *
 * const program = Effect.gen(function*() {
 *   const deadLetters = yield* DeadLetterQueue.make<number>({ capacity: 100 })
 *   const summary = yield* Pipeline.runDrain(Stream.range(1, 1000), stages, { deadLetters })
 *   // summary.processed + summary.deadLettered === 1000
 * })
 * ```
 *
 * @category running
 * @since 0.1.0
 */
export const runDrain: {
  <A, RS = never>(
    stages: ReadonlyArray<Stage<A, RS>>,
    options: RunOptions<A>
  ): <E, R>(
    source: Stream.Stream<A, E, R>
  ) => Effect.Effect<PipelineSummary, E | DeadLetterQueueFullError | DeadLetterStoreError | InvalidConfigError, R | RS>
  <A, E, R, RS = never>(
    source: Stream.Stream<A, E, R>,
    stages: ReadonlyArray<Stage<A, RS>>,
    options: RunOptions<A>
  ): Effect.Effect<PipelineSummary, E | DeadLetterQueueFullError | DeadLetterStoreError | InvalidConfigError, R | RS>
} = dual(3, <A, E, R, RS>(
  source: Stream.Stream<A, E, R>,
  stages: ReadonlyArray<Stage<A, RS>>,
  options: RunOptions<A>
) =>
  Effect.flatMap(
    run(source, stages, options),
    (pipeline) => Effect.andThen(Stream.runDrain(pipeline.stream), pipeline.summary)
  ))

const summarize = (counts: internal.Counts): PipelineSummary => {
  const stages: Record<string, StageSummary> = {}
  for (const [name, c] of counts.stages) stages[name] = { ...c }
  return {
    input: counts.input,
    processed: counts.processed,
    deadLettered: counts.deadLettered,
    skippedStages: counts.skippedStages,
    duplicates: counts.duplicates,
    inFlight: counts.input - counts.processed - counts.deadLettered,
    stages
  }
}

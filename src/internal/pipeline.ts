/**
 * The pipeline's machinery: each item becomes a mutable `Flow` record that
 * goes through the stages; consecutive stages with the same concurrency are
 * fused into one `Stream.mapEffect` (an item runs them one after another), so
 * a three-stage pipeline with default options is one stream operator, not
 * three. Within it, the stages are chained with one `flatMap` each (the last
 * one a `map` that also builds the output), under a single `catchCause`: the
 * first failure ends the chain, and `flow.at` tells which stage failed. A
 * dead letter marks the flow `dead`, which later steps let through untouched
 * and the end filters out.
 *
 * Counters are plain numbers in a closure: every update is synchronous, so
 * they are consistent with respect to other fibers.
 */
import { Cause, Effect, Stream } from "effect"
import type { DeadLetterQueue, DeadLetterQueueFullError, DeadLetterStoreError } from "../DeadLetterQueue.ts"
import { ResilienceEvent } from "../Events.ts"
import type { Idempotency } from "../Idempotency.ts"
import { emit } from "./events.ts"

export interface CompiledStage<A, R> {
  readonly name: string
  readonly critical: boolean
  readonly concurrency: number
  readonly run: (item: A) => Effect.Effect<A, unknown, R>
  readonly idempotencyKey: ((item: A) => string) | undefined
  readonly guard: Idempotency | undefined
}

export interface StageCounts {
  succeeded: number
  deadLettered: number
  skipped: number
  duplicates: number
}

export interface Counts {
  input: number
  processed: number
  deadLettered: number
  skippedStages: number
  duplicates: number
  readonly stages: Map<string, StageCounts>
}

export interface Output<A> {
  readonly item: A
  readonly skipped: ReadonlyArray<string>
}

interface Flow<A> {
  item: A
  skipped: Array<string> | undefined
  dead: boolean
  /** The index of the stage running (or that failed). */
  at: number
  /** The running stage was skipped (its "output" is the item unchanged). */
  skipping: boolean
  /** The running (idempotent) stage did not run: its key had run. */
  duplicate: boolean
}

export interface Config<A> {
  readonly name: string
  readonly deadLetters: DeadLetterQueue<A>
  readonly overloaded: Effect.Effect<boolean> | undefined
  readonly ordered: boolean
  readonly deadLetterId: ((item: A) => string) | undefined
}

type DlqError = DeadLetterQueueFullError | DeadLetterStoreError

const noneSkipped: ReadonlyArray<string> = Object.freeze([])

export const makeCounts = (names: ReadonlyArray<string>): Counts => ({
  input: 0,
  processed: 0,
  deadLettered: 0,
  skippedStages: 0,
  duplicates: 0,
  stages: new Map(names.map((name) => [name, { succeeded: 0, deadLettered: 0, skipped: 0, duplicates: 0 }]))
})

/** Splits the stages into runs of equal concurrency, in order. */
export const groups = <S extends { readonly concurrency: number }>(stages: ReadonlyArray<S>): Array<Array<S>> => {
  const out: Array<Array<S>> = []
  for (const stage of stages) {
    const last = out[out.length - 1]
    if (last !== undefined && last[0]!.concurrency === stage.concurrency) last.push(stage)
    else out.push([stage])
  }
  return out
}

export const build = <A, E, R, RS>(
  source: Stream.Stream<A, E, R>,
  stages: ReadonlyArray<CompiledStage<A, RS>>,
  config: Config<A>,
  counts: Counts
): Stream.Stream<Output<A>, E | DlqError, R | RS> => {
  const { deadLetters, name, overloaded } = config
  const stageCounts = stages.map((stage) => counts.stages.get(stage.name)!)

  /** Starts stage `index` on the flow; the effect yields the stage's output item, or fails with the handler's error. */
  type Call = (flow: Flow<A>) => Effect.Effect<A, unknown, RS>

  const compile = (stage: CompiledStage<A, RS>, index: number): Call => {
    const own = stageCounts[index]!
    const guard = stage.guard
    const key = stage.idempotencyKey!
    const call: Call = guard === undefined
      ? (flow) => {
        flow.at = index
        return stage.run(flow.item)
      }
      : (flow) => {
        flow.at = index
        const item = flow.item
        flow.duplicate = true
        const run = Effect.suspend(() => {
          flow.duplicate = false
          return stage.run(item)
        })
        return Effect.suspend(() => guard.execute(run, key(item)))
      }
    if (stage.critical || overloaded === undefined) return call
    const skip = (flow: Flow<A>) => {
      flow.at = index
      flow.skipping = true
      if (flow.skipped === undefined) flow.skipped = [stage.name]
      else flow.skipped.push(stage.name)
      counts.skippedStages++
      own.skipped++
      return Effect.as(emit((timestamp) => ResilienceEvent.StageSkipped({ name, timestamp, stage: stage.name })), flow.item)
    }
    return (flow) => Effect.flatMap(overloaded, (over) => over ? skip(flow) : call(flow))
  }
  const calls = stages.map(compile)

  /** Records the output of stage `flow.at`. */
  const record = (flow: Flow<A>, out: A): void => {
    flow.item = out
    if (flow.skipping) {
      flow.skipping = false
      return
    }
    const own = stageCounts[flow.at]!
    own.succeeded++
    if (flow.duplicate) {
      flow.duplicate = false
      own.duplicates++
      counts.duplicates++
    }
  }

  /** The item failed at stage `flow.at`: to the dead-letter queue, unless the failure is an interruption. */
  const failed = (flow: Flow<A>, cause: Cause.Cause<unknown>): Effect.Effect<Flow<A>, DlqError> => {
    // an interruption is not a failed item: let it through (the pipeline is being stopped)
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    const stage = stages[flow.at]!
    return Effect.map(deadLetters.offer({ id: config.deadLetterId?.(flow.item), item: flow.item, stage: stage.name, cause }), () => {
      flow.dead = true
      counts.deadLettered++
      stageCounts[flow.at]!.deadLettered++
      return flow
    })
  }

  /** Runs a flow through the stages `from` to `to` (inclusive) and ends with `finish`. */
  const through = <X>(from: number, to: number, finish: (flow: Flow<A>) => X) => {
    const go = (flow: Flow<A>, i: number): Effect.Effect<X, unknown, RS> =>
      i === to
        ? Effect.map(calls[i]!(flow), (out) => {
          record(flow, out)
          return finish(flow)
        })
        : Effect.flatMap(calls[i]!(flow), (out) => {
          record(flow, out)
          return go(flow, i + 1)
        })
    const onFailure = (flow: Flow<A>) => (cause: Cause.Cause<unknown>) => Effect.map(failed(flow, cause), finish)
    return (flow: Flow<A>): Effect.Effect<X, DlqError, RS> =>
      flow.dead ? Effect.succeed(finish(flow)) : Effect.catchCause(go(flow, from), onFailure(flow))
  }

  /**
   * Counts an item as processed when the consumer pulls it: an item that
   * finished its stages but was never pulled (held back for order, the run
   * interrupted, the consumer stopped early) stays in flight. `Stream.map`
   * runs per chunk pulled; the chunks here hold one item each (those of
   * `Stream.mapEffect`), so that is per item.
   */
  const emitted = (outputs: Stream.Stream<Output<A>, E | DlqError, R | RS>) =>
    Stream.map(outputs, (output) => {
      counts.processed++
      return output
    })

  const stageGroups = groups(stages.map((stage, index) => ({ concurrency: stage.concurrency, index })))
  if (stageGroups.length === 0) {
    // one item per chunk, as `Stream.mapEffect` emits them, so that `emitted` counts items, not chunks
    return emitted(Stream.map(Stream.rechunk(source, 1), (item): Output<A> => {
      counts.input++
      return { item, skipped: noneSkipped }
    }))
  }
  const identity = (flow: Flow<A>) => flow
  const toOutput = (flow: Flow<A>): Output<A> | undefined =>
    flow.dead ? undefined : { item: flow.item, skipped: flow.skipped ?? noneSkipped }
  // an item counts as input when it enters the first stage, not when the source is read ahead
  const start = (item: A): Flow<A> => {
    counts.input++
    return { item, skipped: undefined, dead: false, at: 0, skipping: false, duplicate: false }
  }
  let flows: Stream.Stream<Flow<A>, E | DlqError, R | RS> | undefined
  let outputs: Stream.Stream<Output<A> | undefined, E | DlqError, R | RS> | undefined
  for (let g = 0; g < stageGroups.length; g++) {
    const group = stageGroups[g]!
    const concurrency = group[0]!.concurrency
    const options = { concurrency: concurrency === Infinity ? "unbounded" as const : concurrency, unordered: !config.ordered }
    const from = group[0]!.index
    const to = group[group.length - 1]!.index
    const isFirst = g === 0
    if (g === stageGroups.length - 1) {
      const run = through(from, to, toOutput)
      outputs = isFirst
        ? Stream.mapEffect(source, (item: A) => run(start(item)), options)
        : Stream.mapEffect(flows!, run, options)
    } else {
      const run = through(from, to, identity)
      flows = isFirst
        ? Stream.mapEffect(source, (item: A) => run(start(item)), options)
        : Stream.mapEffect(flows!, run, options)
    }
  }
  return emitted(Stream.filter(outputs!, (output): output is Output<A> => output !== undefined))
}

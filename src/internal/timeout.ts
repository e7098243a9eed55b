/**
 * Timeouts that do not wait forever for work that will not stop.
 *
 * `Timeout.promise`: a timeout for Promise work. Interrupting a fiber cannot
 * stop a Promise; only the work itself can, through the `AbortSignal` it was
 * given. So the timeout (or the caller's interruption) aborts the signal and
 * returns at once, and then watches the Promise: one that takes no signal, or
 * has not settled `grace` after the abort, is reported `Abandoned` — it runs
 * on, and someone should know.
 *
 * `Timeout.timeout` with a `grace`: the work runs on a fiber of its own; at
 * the deadline it is interrupted and awaited for `grace` at most. Work still
 * in an uninterruptible region then is left to finish (it stops as it leaves
 * the region) and reported `Abandoned`.
 */
import { Cause, Duration, Effect, Exit, Fiber } from "effect"
import { ResilienceEvent } from "../Events.ts"
import type { TimeoutError } from "../Timeout.ts"
import { emit } from "./events.ts"

export interface PromiseConfig<E> {
  readonly name: string
  readonly duration: Duration.Duration
  readonly grace: Duration.Duration
  readonly onError: (error: unknown) => E
}

export const unknownError = (error: unknown): Cause.UnknownError =>
  new Cause.UnknownError(error, "A Promise under Timeout.promise rejected")

export const promise = <A, E, TE>(
  evaluate: (signal: AbortSignal) => PromiseLike<A>,
  config: PromiseConfig<E>,
  /** `Timeout.timeout` with the same name and duration. */
  bound: (self: Effect.Effect<A, E>) => Effect.Effect<A, E | TE>
): Effect.Effect<A, E | TE> => {
  // A function that declares no parameter cannot be listening to the signal.
  const takesSignal = evaluate.length > 0
  return Effect.suspend(() => {
    let settled = false
    let settling: Promise<unknown> | undefined
    const work = Effect.callback<A, E>((resume, signal) => {
      const done = (effect: Effect.Effect<A, E>) => {
        settled = true
        resume(effect)
      }
      try {
        settling = Promise.resolve(evaluate(signal)).then(
          (a) => done(Effect.succeed(a)),
          (error) => done(Effect.fail(config.onError(error)))
        )
      } catch (error) {
        done(Effect.fail(config.onError(error)))
      }
    })
    return Effect.onExit(bound(work), (exit) =>
      settled || Exit.isSuccess(exit)
        ? Effect.void
        : takesSignal
        ? Effect.asVoid(Effect.forkDetach(watch(config, () => settled, settling)))
        : report(config, "no-signal"))
  })
}

type Reason = Extract<ResilienceEvent, { _tag: "Abandoned" }>["reason"]

const report = (config: { readonly name: string; readonly duration: Duration.Duration; readonly grace: Duration.Duration }, reason: Reason) =>
  emit((timestamp) =>
    ResilienceEvent.Abandoned({ name: config.name, timestamp, reason, duration: config.duration, grace: config.grace })
  )

/** Waits up to `grace` for the aborted Promise to settle; reports it if it has not. */
const watch = (config: PromiseConfig<unknown>, isSettled: () => boolean, settling: Promise<unknown> | undefined) =>
  Effect.raceFirst(
    settling === undefined ? Effect.void : Effect.promise(() => settling),
    Effect.sleep(config.grace)
  ).pipe(Effect.andThen(Effect.suspend(() => isSettled() ? Effect.void : report(config, "signal-ignored"))))

export interface AbandonConfig {
  readonly name: string
  readonly duration: Duration.Duration
  readonly grace: Duration.Duration
  /** Emits `TimeoutFired`, at the deadline. */
  readonly fired: Effect.Effect<void>
  readonly timedOut: Effect.Effect<never, TimeoutError>
}

/** Interrupts `fiber`, waiting `grace` at most; a fiber that has not stopped by then is reported. */
const stop = (fiber: Fiber.Fiber<unknown, unknown>, config: AbandonConfig) =>
  Effect.flatMap(
    Effect.raceFirst(Effect.as(Fiber.interrupt(fiber), true), Effect.as(Effect.sleep(config.grace), false)),
    (stopped) => stopped ? Effect.void : report(config, "uninterruptible")
  )

export const abandoning = (config: AbandonConfig) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | TimeoutError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      // detached: its lifetime is ours to end, and a stuck one must be able to outlive this call
      const fiber = yield* Effect.forkDetach(restore(self))
      const exit = yield* restore(
        Effect.raceFirst(Fiber.await(fiber), Effect.as(Effect.sleep(config.duration), undefined))
      ).pipe(Effect.onInterrupt(() => stop(fiber, config)))
      if (exit !== undefined) return yield* exit
      yield* config.fired
      yield* stop(fiber, config)
      return yield* config.timedOut
    })
  )

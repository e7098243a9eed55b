/**
 * `Timeout.promise`: a timeout for Promise work. Interrupting a fiber cannot
 * stop a Promise; only the work itself can, through the `AbortSignal` it was
 * given. So the timeout (or the caller's interruption) aborts the signal and
 * returns at once, and then watches the Promise: one that takes no signal, or
 * has not settled `grace` after the abort, is reported `Abandoned` — it runs
 * on, and someone should know.
 */
import { Cause, Duration, Effect, Exit } from "effect"
import { ResilienceEvent } from "../Events.ts"
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

const report = (config: PromiseConfig<unknown>, reason: "no-signal" | "signal-ignored") =>
  emit((timestamp) =>
    ResilienceEvent.Abandoned({ name: config.name, timestamp, reason, duration: config.duration, grace: config.grace })
  )

/** Waits up to `grace` for the aborted Promise to settle; reports it if it has not. */
const watch = (config: PromiseConfig<unknown>, isSettled: () => boolean, settling: Promise<unknown> | undefined) =>
  Effect.raceFirst(
    settling === undefined ? Effect.void : Effect.promise(() => settling),
    Effect.sleep(config.grace)
  ).pipe(Effect.andThen(Effect.suspend(() => isSettled() ? Effect.void : report(config, "signal-ignored"))))

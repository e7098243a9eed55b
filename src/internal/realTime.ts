/**
 * Real time for the Redis stores' own I/O: a command's timeout and the
 * pacing of background work measure how long a real socket takes, whatever
 * `Clock` the caller runs under. Under a `TestClock` a timeout on the
 * caller's clock fires whenever a test moves time past it while a reply is
 * on its way, and sends a healthy store to its fallback.
 */
import { Effect } from "effect"

export const sleep = (millis: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

/** `self`, or the failure `onTimeout` if it has not finished within `millis` of real time (it is interrupted). */
export const timeout = <A, E, R, E2>(self: Effect.Effect<A, E, R>, millis: number, onTimeout: () => E2): Effect.Effect<A, E | E2, R> =>
  Effect.raceFirst(self, Effect.andThen(sleep(millis), Effect.suspend(() => Effect.fail(onTimeout()))))

/**
 * What a call's exit says about the dependency, for the limiters that learn
 * from answers (AdaptiveLimit, Throttle). Interruption and defects say
 * nothing (the call was cancelled, or the program is broken), nor does a
 * rejection by a policy inside the limiter (the call never left); a typed
 * failure is a refusal when `isRefused` says so, else the dependency answered.
 */
import type { Cause, Exit } from "effect"
import { isRejection } from "./circuitBreaker.ts"

export const IGNORED = 0
export const ANSWERED = 1
export const REFUSED = 2
export type Answer = typeof IGNORED | typeof ANSWERED | typeof REFUSED

export const answerOf = (isRefused: (error: unknown) => boolean, exit: Exit.Exit<unknown, unknown>): Answer => {
  if (exit._tag === "Success") return ANSWERED
  const reasons = exit.cause.reasons
  let fail: Cause.Fail<unknown> | undefined
  for (let i = 0; i < reasons.length; i++) {
    const reason = reasons[i]!
    if (reason._tag === "Die") return IGNORED
    if (reason._tag === "Fail" && fail === undefined) fail = reason
  }
  if (fail === undefined || isRejection(fail.error)) return IGNORED
  return isRefused(fail.error) ? REFUSED : ANSWERED
}

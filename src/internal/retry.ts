/**
 * The retry loop. The success path is one `Effect.catch`; the schedule step,
 * the clock and the listener are only touched after the first failure.
 */
import { Clock, Duration, Effect, Predicate, Schedule } from "effect"
import * as Pull from "effect/Pull"
import { ResilienceEvent } from "../Events.ts"
import type { RetryBudget, RetryPolicy } from "../Retry.ts"
import * as budgets from "./budget.ts"
import { isLibraryError, statusOf } from "./classify.ts"
import { emit } from "./events.ts"
import * as instrument from "./instrument.ts"

export const withNow = <A, E, R>(f: (now: number) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Clock.currentTimeMillis, f)

/** A structural `retryAfter` (a Duration or milliseconds) on an error, in milliseconds. */
export const retryAfterMillis = (error: unknown): number => {
  if (!Predicate.hasProperty(error, "retryAfter")) return 0
  const hint = error.retryAfter
  if (Duration.isDuration(hint)) return Math.max(0, Duration.toMillis(hint))
  if (typeof hint === "number" && Number.isFinite(hint)) return Math.max(0, hint)
  return 0
}


type Step<E> = (now: number, input: E) => Pull.Pull<[unknown, Duration.Duration], never, unknown>

/**
 * Applies `policy` to `self`. `deadline` (epoch millis), set by a `Policy`
 * with a total timeout, bounds how long a `retryAfter` hint may be waited for.
 * `instrumentation` is passed by an instrumented `Policy.execute`, which has
 * looked it up already, so that attempt 1 runs in its own span too. A
 * standalone `Retry.retry` looks it up only once a retry starts: its success
 * path stays one `Effect.catch`, and attempts 2, 3, ... get their spans.
 */
export const retry = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  policy: RetryPolicy<E>,
  deadline?: number,
  instrumentation?: instrument.Instrumentation
): Effect.Effect<A, E, R> => {
  const first = instrumentation === undefined ? self : attemptSpan(instrumentation, self, policy.name, 1, undefined)
  const budget = policy.budget
  if (budget === undefined) return Effect.catch(first, (error) => afterFailure(self, policy, error, deadline, instrumentation, undefined))
  return budgets.holding(budget, (counting) => {
    // Only the stage that counts the call reports outcomes, and only to a budget that learns from them.
    const outcomes = counting ? budget.recordOutcome : undefined
    return Effect.catch(
      outcomes === undefined ? first : Effect.tap(first, () => outcomes(true)),
      (error) => afterFailure(self, policy, error, deadline, instrumentation, outcomes)
    )
  })
}

/**
 * Attempt `attempt` in a `resilience.retry.attempt` span. A resend after an
 * HTTP-shaped failure (a numeric `status`) also carries OTel's stable
 * `http.request.resend_count`.
 */
const attemptSpan = <A, E, R>(
  instrumentation: instrument.Instrumentation,
  self: Effect.Effect<A, E, R>,
  name: string,
  attempt: number,
  previous: unknown
): Effect.Effect<A, E, R> => {
  const attributes: Record<string, unknown> = { "resilience.attempt": attempt }
  if (attempt > 1 && statusOf(previous) !== undefined) attributes["http.request.resend_count"] = attempt - 1
  return instrumentation.span(self, "retry.attempt", name, attributes)
}

const exhausted = <E>(policy: RetryPolicy<E>, attempts: number, error: E) =>
  Effect.andThen(
    emit((timestamp) => ResilienceEvent.RetryExhausted({ name: policy.name, timestamp, attempts, error })),
    Effect.fail(error)
  )

/**
 * The call's own errors go to `retryOn` (typed for them); the library's own
 * rejections, which a policy typed for the call's errors may also see, go to
 * the classifier.
 */
const retryable = <E>(policy: RetryPolicy<E>, error: E): boolean =>
  isLibraryError(error) ? policy.classify(error) === "transient" : policy.retryOn(error)

const afterFailure = Effect.fnUntraced(function*<A, E, R>(
  self: Effect.Effect<A, E, R>,
  policy: RetryPolicy<E>,
  firstError: E,
  deadline: number | undefined,
  given: instrument.Instrumentation | undefined,
  outcomes: RetryBudget["recordOutcome"]
): Effect.fn.Return<A, E, R> {
  let error = firstError
  let attempt = 1
  const instrumentation = given ?? (yield* Effect.service(instrument.CurrentInstrumentation))
  let step: Step<E> | undefined
  while (true) {
    if (!retryable(policy, error)) return yield* Effect.fail(error)
    // As in gRPC, only a failure worth retrying costs a token: a 404 is an answer.
    if (outcomes !== undefined) yield* outcomes(false)
    if (attempt >= policy.maxAttempts) return yield* exhausted(policy, attempt, error)
    const hint = retryAfterMillis(error)
    const now = yield* Clock.currentTimeMillis
    // A hint longer than we may wait ends the retries now: an open circuit fails fast.
    if (hint > policy.maxRetryAfterMillis || (deadline !== undefined && hint > 0 && now + hint >= deadline)) {
      return yield* exhausted(policy, attempt, error)
    }
    step ??= (yield* Schedule.toStep(policy.backoff)) as Step<E>
    const next = yield* Pull.matchEffect(step(now, error), {
      onSuccess: ([, delay]) => Effect.succeed<Duration.Duration | undefined>(delay),
      onFailure: Effect.failCause,
      onDone: () => Effect.succeed(undefined)
    })
    if (next === undefined) return yield* exhausted(policy, attempt, error)
    if (policy.budget !== undefined && !(yield* policy.budget.tryWithdraw)) {
      const failedAttempt = attempt
      const failedWith = error
      yield* emit((timestamp) =>
        ResilienceEvent.RetryBudgetDenied({ name: policy.name, timestamp, attempt: failedAttempt, error: failedWith })
      )
      return yield* Effect.fail(error)
    }
    const delay = hint > Duration.toMillis(next) ? Duration.millis(hint) : next
    const info = { name: policy.name, attempt, delay, error }
    yield* emit((timestamp) => ResilienceEvent.RetryScheduled({ ...info, timestamp }))
    if (policy.onRetry !== undefined) yield* policy.onRetry(info)
    if (Duration.toMillis(delay) > 0) yield* Effect.sleep(delay)
    const result = yield* Effect.result(
      instrumentation === undefined ? self : attemptSpan(instrumentation, self, policy.name, attempt + 1, error)
    )
    if (result._tag === "Success") {
      if (outcomes !== undefined) yield* outcomes(true)
      return result.success
    }
    error = result.failure
    attempt++
  }
})

/**
 * Issue 7: a full policy (timeout + retry + breaker + bulkhead) on the
 * success path, against the same four built naively from Effect 4.1's own
 * primitives, and against cockatiel's wrap(retry, circuitBreaker, timeout).
 */
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap
} from "cockatiel"
import { Effect, Exit, Schedule, Scope, Semaphore } from "effect"
import { CircuitBreaker as EffectBreaker } from "effect/persistence"
import { Backoff, CircuitBreaker, Policy } from "../src/index.ts"
import { CALLS_PER_ITERATION as N, loop, ratio, suite, target } from "./harness.ts"

export const run = async (): Promise<void> => {
  const scope = Effect.runSync(Scope.make())
  const call = Effect.succeed(1)

  const policy = Effect.runSync(Scope.provide(scope)(Policy.make({
    name: "bench",
    timeout: "1 second",
    retry: { maxAttempts: 3, backoff: Backoff.exponential({ base: "100 millis" }) },
    circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "10 seconds" },
    bulkhead: { maxConcurrent: 64 }
  })))

  const effectBreaker = Effect.runSync(
    EffectBreaker.make({ tripPolicy: EffectBreaker.consecutive(5), openDuration: "10 seconds" }).pipe(
      Effect.provide(EffectBreaker.layerStoreMemory()),
      Scope.provide(scope)
    )
  )
  const semaphore = Effect.runSync(Semaphore.make(64))
  const naive = call.pipe(
    Effect.timeout("1 second"),
    semaphore.withPermit,
    effectBreaker.execute({ key: "bench" }),
    Effect.retry(Schedule.max([Schedule.exponential("100 millis"), Schedule.recurs(2)]))
  )

  const composed = call.pipe(policy.execute)
  const rows = await suite(
    "Policy (timeout + retry + breaker + bulkhead): success path, per call",
    [
      { name: "bare Effect.succeed", units: N, fn: () => Effect.runSync(loop(call, N)) },
      { name: "naive Effect primitives", units: N, fn: () => Effect.runSync(loop(naive, N)) },
      { name: "Policy.execute", units: N, fn: () => Effect.runSync(loop(composed, N)) }
    ],
    { baseline: "bare Effect.succeed" }
  )
  target("Policy.execute / naive Effect primitives", ratio(rows, "Policy.execute", "naive Effect primitives"), 0.5)

  const cockatielPolicy = wrap(
    retry(handleAll, { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 100 }) }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(1000, TimeoutStrategy.Aggressive)
  )
  const threeStage = Effect.runSync(Scope.provide(scope)(Policy.make({
    name: "bench3",
    timeout: "1 second",
    retry: { maxAttempts: 3, backoff: Backoff.exponential({ base: "100 millis" }) },
    circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "10 seconds" }
  })))
  const threeStageCall = call.pipe(threeStage.execute)
  const asyncRows = await suite(
    "retry + breaker + timeout from a Promise caller, per call (await each)",
    [
      { name: "bare Promise.resolve", fn: () => Promise.resolve(1) },
      { name: "cockatiel wrap(retry, breaker, timeout)", fn: () => cockatielPolicy.execute(() => Promise.resolve(1)) },
      { name: "Effect.runPromise(Policy.execute)", fn: () => Effect.runPromise(threeStageCall) }
    ],
    { baseline: "bare Promise.resolve" }
  )
  console.log(
    `ratio Policy / cockatiel: ${
      ratio(asyncRows, "Effect.runPromise(Policy.execute)", "cockatiel wrap(retry, breaker, timeout)").toFixed(3)
    }× (reported, no target)`
  )
  Effect.runSync(Scope.close(scope, Exit.void))
}

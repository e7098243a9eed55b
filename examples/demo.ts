/**
 * `npm run demo`: a flaky dependency (30% of calls fail, seeded) called 1,000
 * times without and with a retry policy; prints the error rate of each and
 * what the policy decided, read from the event channel.
 */
import { Data, Effect, Random } from "effect"
import { Backoff, Events, Retry } from "../src/index.ts"

class DependencyError extends Data.TaggedError("DependencyError")<{ readonly status: number }> {}

const CALLS = 1_000
const FAILURE_RATE = 0.3
const SEED = 2026

/** The dependency: fails with a 503 (transient) 30% of the time, drawn from the seeded Random service. */
const callDependency = Effect.flatMap(Random.next, (r) =>
  r < FAILURE_RATE ? Effect.fail(new DependencyError({ status: 503 })) : Effect.succeed("ok"))

const policy = Retry.make<DependencyError>({
  name: "dependency",
  maxAttempts: 4,
  backoff: Backoff.exponential({ base: "1 millis", max: "20 millis", jitter: "full" }),
  retryOn: (error) => Retry.isRetryableStatus(error.status)
})

const errorRate = <E>(call: Effect.Effect<string, E>) =>
  Effect.gen(function*() {
    let failed = 0
    for (let i = 0; i < CALLS; i++) {
      const result = yield* Effect.result(call)
      if (result._tag === "Failure") failed++
    }
    return failed
  })

const percent = (n: number) => `${((100 * n) / CALLS).toFixed(1)}%`

const program = Effect.gen(function*() {
  console.log(`A dependency that fails ${FAILURE_RATE * 100}% of calls (seed ${SEED}), called ${CALLS} times.\n`)
  const withoutRetry = yield* errorRate(callDependency)
  console.log(`without retry : ${String(withoutRetry).padStart(4)} failed calls — error rate ${percent(withoutRetry)}`)

  const [withRetry, events] = yield* Events.collect(errorRate(Retry.retry(callDependency, policy)))
  const retries = events.filter(Events.ResilienceEvent.$is("RetryScheduled")).length
  const exhausted = events.filter(Events.ResilienceEvent.$is("RetryExhausted")).length
  console.log(`with Retry    : ${String(withRetry).padStart(4)} failed calls — error rate ${percent(withRetry)}`)
  console.log(`\nthe retry policy (4 attempts, exponential 1 ms → 20 ms, full jitter) scheduled ${retries} retries`)
  console.log(`and gave up ${exhausted} times; each give-up returned the last attempt's own DependencyError.`)
  if (!(withRetry < withoutRetry)) return yield* Effect.die("retry did not lower the error rate")
})

Effect.runPromise(program.pipe(Random.withSeed(SEED))).catch((error) => {
  console.error(error)
  process.exit(1)
})

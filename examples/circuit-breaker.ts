/**
 * A circuit breaker through a simulated outage (under TestClock: four minutes
 * of traffic run in milliseconds, deterministically).
 *
 * A payment provider answers in 50 ms, goes down at t = 30 s (every call
 * fails after a 2 s hang), and comes back at t = 150 s. A client calls it once
 * a second through a breaker and falls back to "queued" while the circuit is
 * open. The program prints each transition (from `breaker.changes`), how many
 * calls the provider was spared, then shows a keyed breaker isolating one bad
 * host and `Retry` waiting out a rejection's `retryAfter`.
 */
import { Clock, Data, Duration, Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, CircuitBreaker, Retry } from "../src/index.ts"

class ProviderError extends Data.TaggedError("ProviderError")<{ readonly status: number }> {}

const seconds = (millis: number) => `${(millis / 1000).toFixed(0).padStart(3)} s`

/** Down between 30 s and 150 s: a 2-second hang, then a 503. */
const charge = Effect.gen(function*() {
  const now = yield* Clock.currentTimeMillis
  if (now >= 30_000 && now < 150_000) {
    yield* TestClock.adjust("2 seconds")
    return yield* new ProviderError({ status: 503 })
  }
  yield* TestClock.adjust("50 millis")
  return "charged"
})

const outage = Effect.gen(function*() {
  const breaker = yield* CircuitBreaker.make({
    name: "payments",
    policy: CircuitBreaker.countWindow({ size: 20, failureRate: 0.5, minimumCalls: 10 }),
    slowCall: { threshold: "1 second", rate: 0.8 },
    resetTimeout: Backoff.exponential({ base: "10 seconds", max: "40 seconds" }),
    successThreshold: 2,
    isFailure: (error) => error instanceof ProviderError && error.status >= 500
  })
  const printer = yield* breaker.changes.pipe(
    Stream.runForEach((t) =>
      Effect.sync(() =>
        console.log(
          `  ${seconds(t.timestamp)}  ${t.from.padEnd(8)} → ${t.retryAfter ? t.to.padEnd(8) : t.to}${
            t.retryAfter ? `  (open for ${Duration.format(t.retryAfter)})` : ""
          }`
        )
      )
    ),
    Effect.forkChild({ startImmediately: true })
  )
  let reached = 0
  let queued = 0
  const attempt = charge.pipe(
    Effect.tap(() => Effect.sync(() => void reached++)),
    Effect.tapError(() => Effect.sync(() => void reached++)),
    breaker.execute,
    Effect.catchTag("CircuitOpenError", () => Effect.sync(() => (queued++, "queued"))),
    Effect.catchTag("ProviderError", () => Effect.succeed("failed"))
  )
  console.log("payments: one call a second for 4 minutes; the provider is down from 30 s to 150 s\n")
  for (let second = 0; second < 240; second++) {
    yield* attempt
    const now = yield* Clock.currentTimeMillis
    yield* TestClock.setTime(Math.ceil((now + 1) / 1000) * 1000)
  }
  yield* Effect.yieldNow
  yield* Fiber.interrupt(printer)
  const stats = yield* breaker.stats
  console.log(`\n  240 calls: ${reached} reached the provider, ${queued} were rejected at once and queued`)
  console.log(`  stats: state ${stats.state._tag}, rejected ${stats.rejected}, window ${stats.calls} calls / ${stats.failures} failures`)
  if (stats.state._tag !== "Closed" || queued === 0 || stats.rejected !== queued) {
    return yield* Effect.die("the breaker did not shed the outage and recover")
  }
})

const keyed = Effect.gen(function*() {
  const hosts = yield* CircuitBreaker.keyed({ name: "upstream", policy: CircuitBreaker.consecutive(3), resetTimeout: "30 seconds" })
  const fetchFrom = (host: string) =>
    (host === "eu" ? Effect.fail(new ProviderError({ status: 502 })) : Effect.succeed(`${host}: ok`)).pipe(hosts.execute(host))
  for (let i = 0; i < 5; i++) {
    yield* Effect.ignore(fetchFrom("eu"))
    yield* fetchFrom("us")
  }
  const [eu, us] = [yield* hosts.state("eu"), yield* hosts.state("us")]
  console.log(`\nkeyed (one circuit per host): eu is ${eu._tag}, us is ${us._tag}`)
  if (eu._tag !== "Open" || us._tag !== "Closed") return yield* Effect.die("keyed circuits are not independent")
})

const retrying = Effect.gen(function*() {
  const breaker = yield* CircuitBreaker.make({ name: "search", policy: CircuitBreaker.consecutive(1), resetTimeout: "20 seconds" })
  yield* Effect.ignore(breaker.execute(Effect.fail(new ProviderError({ status: 503 }))))
  const started = yield* Clock.currentTimeMillis
  const fiber = yield* Effect.succeed("results").pipe(
    breaker.execute,
    // By default a hint longer than the backoff's cap fails fast; this caller is willing to wait.
    Retry.retry({ maxAttempts: 3, backoff: Backoff.constant("100 millis"), maxRetryAfter: "30 seconds" }),
    Effect.forkChild({ startImmediately: true })
  )
  yield* TestClock.adjust("20 seconds")
  const result = yield* Fiber.join(fiber)
  const waited = (yield* Clock.currentTimeMillis) - started
  console.log(`Retry over a rejection waited ${Duration.format(Duration.millis(waited))} (the rejection's retryAfter) and got "${result}"`)
})

const program = Effect.gen(function*() {
  yield* outage
  yield* keyed
  yield* retrying
}).pipe(Effect.provide(TestClock.layer()))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})

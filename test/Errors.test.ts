import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Logger } from "effect"
import { Bulkhead, CircuitBreaker, DeadLetterQueue, Errors, Fallback, LoadShedder, Policy, Timeout } from "../src/index.ts"

// Every error the library raises, as a caller meets it.
const errors = [
  [
    new CircuitBreaker.CircuitOpenError({ policy: "payments", retryAfter: Duration.seconds(30), state: "Open", key: undefined }),
    'CircuitOpenError: circuit "payments" is open, retry after 30s'
  ],
  [new Timeout.TimeoutError({ policy: "db", duration: Duration.seconds(2) }), 'TimeoutError: "db" timed out after 2s'],
  [
    new Bulkhead.BulkheadRejectedError({ policy: "inventory", reason: "full" }),
    'BulkheadRejectedError: bulkhead "inventory" is full, call rejected'
  ],
  [
    new LoadShedder.LoadShedError({ policy: "search", priority: "sheddable" }),
    'LoadShedError: load shedder "search" shed a sheddable call under load'
  ],
  [
    new Policy.RateLimitedError({ policy: "api", retryAfter: Duration.millis(100), limit: 2 }),
    'RateLimitedError: rate limit of 2 calls of "api" exceeded, retry after 100ms'
  ],
  [
    new Fallback.FallbackChainError({ policy: "user", failures: [1, 2] }),
    'FallbackChainError: all 2 alternatives of "user" failed'
  ],
  [
    new DeadLetterQueue.DeadLetterQueueFullError({ policy: "orders", capacity: 10 }),
    'DeadLetterQueueFullError: dead-letter queue "orders" is full (capacity 10)'
  ],
  [
    new DeadLetterQueue.DeadLetterStoreError({ policy: "orders", operation: "append", cause: "disk full" }),
    'DeadLetterStoreError: dead-letter store of "orders" failed to append: disk full'
  ],
  [
    new Errors.InvalidConfigError({ source: "Retry.make", field: "maxAttempts", expected: "an integer >= 1", value: 0 }),
    "InvalidConfigError: Retry.make: maxAttempts must be an integer >= 1, got 0"
  ]
] as const

describe("Errors: a printed error starts with its class, names the policy once", () => {
  for (const [error, printed] of errors) {
    it(`${error._tag}: String, stack and Cause.pretty`, () => {
      assert.strictEqual(String(error), printed)
      assert.strictEqual(error.name, error._tag)
      assert.strictEqual(error.stack?.split("\n")[0], printed)
      // Cause.pretty may follow the first line with the error's own `cause`.
      assert.isTrue(Cause.pretty(Cause.fail(error)).startsWith(printed), Cause.pretty(Cause.fail(error)))
    })
  }

  it.effect("Effect.logError(error) shows the message, not only the fields", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => {
        lines.push(JSON.stringify(message))
      })
      const [error] = errors[0]
      yield* Effect.logError(error).pipe(Effect.provide(Logger.layer([capture])))
      assert.strictEqual(lines.length, 1)
      assert.include(lines[0], 'circuit \\"payments\\" is open, retry after 30s')
      assert.include(lines[0], '"policy":"payments"')
    }))

  it.effect("a thrown rejection reads the same", () =>
    Effect.gen(function*() {
      const [error, printed] = errors[2]
      const thrown = yield* Effect.promise(() => Effect.runPromise(Effect.fail(error)).catch((e: unknown) => e))
      assert.strictEqual(String(thrown), printed)
    }))
})

describe("Errors: one kind of guard", () => {
  // in the order of `errors`
  const guards: ReadonlyArray<(u: unknown) => boolean> = [
    CircuitBreaker.isCircuitOpenError,
    Timeout.isTimeoutError,
    Bulkhead.isBulkheadRejectedError,
    LoadShedder.isLoadShedError,
    Policy.isRateLimitedError,
    Fallback.isFallbackChainError,
    DeadLetterQueue.isDeadLetterQueueFullError,
    DeadLetterQueue.isDeadLetterStoreError,
    Errors.isInvalidConfigError
  ]

  it("each guard accepts its error and only its error", () => {
    const accepted = guards.map((guard) => errors.flatMap(([error], i) => guard(error) ? [i] : []))
    assert.deepStrictEqual(accepted, guards.map((_, i) => [i]))
  })

  it("an error of another library with the same tag is not ours (Effect's Cause.TimeoutError)", () => {
    const effects = new Cause.TimeoutError("effect's own")
    assert.strictEqual(effects._tag, "TimeoutError")
    assert.strictEqual(Timeout.isTimeoutError(effects), false)
    assert.strictEqual(Timeout.isTimeoutError({ _tag: "TimeoutError" }), false)
  })

  it("the mark is not a field: deep equality and logs do not see it", () => {
    const [error] = errors[1]
    assert.deepStrictEqual(Object.keys(error).sort(), ["_tag", "duration", "policy"])
    assert.notInclude(JSON.stringify(error), "effect-resilience")
  })
})

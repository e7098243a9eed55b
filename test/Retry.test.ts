import { assert, describe, it } from "@effect/vitest"
import { Data, Duration, Effect, Exit, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Backoff, Events, Retry, Timeout } from "../src/index.ts"
import { fields, throwsInvalid } from "./helpers.ts"

class HttpError extends Data.TaggedError("HttpError")<{ readonly status: number; readonly attempt?: number }> {}
class Throttled extends Data.TaggedError("Throttled")<{ readonly retryAfter: Duration.Duration }> {}

/** An effect that fails with `errors[i]` on its i-th run and succeeds once the list is used up. */
const scripted = <E>(errors: ReadonlyArray<E>) =>
  Effect.gen(function*() {
    const runs = yield* Ref.make(0)
    const effect = Effect.flatMap(Ref.getAndUpdate(runs, (n) => n + 1), (i) =>
      i < errors.length ? Effect.fail(errors[i]!) : Effect.succeed(`ok after ${i + 1}`))
    return { effect, runs: Ref.get(runs) }
  })

const noDelay = Backoff.constant(0)

describe("Retry: attempts and final error", () => {
  it.effect("a first-attempt success runs once and emits nothing", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted<HttpError>([])
      const [value, events] = yield* Events.collect(effect.pipe(Retry.retry(Retry.make({ maxAttempts: 5 }))))
      assert.strictEqual(value, "ok after 1")
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(events, [])
    }))

  it.effect("retries until success within maxAttempts", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([new HttpError({ status: 503 }), new HttpError({ status: 502 })])
      const value = yield* effect.pipe(Retry.retry({ maxAttempts: 3, backoff: noDelay }))
      assert.strictEqual(value, "ok after 3")
      assert.strictEqual(yield* runs, 3)
    }))

  it.effect("maxAttempts counts the first attempt; the final error is the last attempt's own", () =>
    Effect.gen(function*() {
      const errors = [1, 2, 3, 4].map((attempt) => new HttpError({ status: 503, attempt }))
      const { effect, runs } = yield* scripted(errors)
      const [exit, events] = yield* Events.collect(
        Effect.exit(effect.pipe(Retry.retry({ name: "orders", maxAttempts: 3, backoff: noDelay })))
      )
      assert.strictEqual(yield* runs, 3)
      assert.deepStrictEqual(exit, Exit.fail(errors[2]!))
      assert.deepStrictEqual(events.map((e) => e._tag), ["RetryScheduled", "RetryScheduled", "RetryExhausted"])
      const last = events[2]!
      assert.deepStrictEqual(fields(last, "_tag", "attempts", "error", "name"), { _tag: "RetryExhausted", attempts: 3, error: errors[2], name: "orders" })
    }))

  it.effect("maxAttempts: 1 never retries", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([new HttpError({ status: 503 })])
      yield* Effect.flip(effect.pipe(Retry.retry({ maxAttempts: 1 })))
      assert.strictEqual(yield* runs, 1)
    }))

  it.effect("a finite backoff ends the retries before maxAttempts", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted(Array.from({ length: 10 }, () => new HttpError({ status: 500 })))
      const fiber = yield* Effect.forkChild(
        Effect.flip(effect.pipe(Retry.retry({ maxAttempts: 10, backoff: Backoff.fromDelays([10, 20]) })))
      )
      yield* TestClock.adjust(30)
      yield* Fiber.join(fiber)
      assert.strictEqual(yield* runs, 3)
    }))
})

describe("Retry: timing under TestClock", () => {
  it.effect("waits each backoff delay before the next attempt and reports it", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([new HttpError({ status: 503 }), new HttpError({ status: 503 })])
      const events: Array<Events.ResilienceEvent> = []
      const fiber = yield* effect.pipe(
        Retry.retry({ maxAttempts: 3, backoff: Backoff.exponential({ base: "1 second" }) }),
        Events.withListener((e) => Effect.sync(() => void events.push(e))),
        Effect.forkChild
      )
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* runs, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* runs, 2)
      yield* TestClock.adjust("1999 millis")
      assert.strictEqual(yield* runs, 2)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok after 3")
      const scheduled = events.filter(Events.ResilienceEvent.$is("RetryScheduled"))
      assert.deepStrictEqual(scheduled.map((e) => [e.attempt, Duration.toMillis(e.delay), e.timestamp]), [[1, 1000, 0], [
        2,
        2000,
        1000
      ]])
    }))

  it.effect("a retryAfter hint raises the next delay to at least the hint", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([new Throttled({ retryAfter: Duration.seconds(5) })])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxAttempts: 2, backoff: Backoff.constant(100), maxRetryAfter: "5 seconds" })))
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual(yield* runs, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok after 2")
    }))

  it.effect("a retryAfter shorter than the backoff changes nothing; numbers are millis", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([{ retryAfter: 10 }, { retryAfter: 3000 }])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxAttempts: 3, backoff: Backoff.constant(1000), maxRetryAfter: 3000 })))
      yield* TestClock.adjust(999)
      assert.strictEqual(yield* runs, 1)
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* runs, 2)
      yield* TestClock.adjust(2999)
      assert.strictEqual(yield* runs, 2)
      yield* TestClock.adjust(1)
      assert.strictEqual(yield* Fiber.join(fiber), "ok after 3")
    }))

  it.effect("interrupting during a backoff wait stops further attempts", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([new HttpError({ status: 503 })])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxAttempts: 3, backoff: Backoff.constant(1000) })))
      yield* TestClock.adjust(500)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust(5000)
      assert.strictEqual(yield* runs, 1)
    }))

  it.effect("onRetry sees attempt, delay and error", () =>
    Effect.gen(function*() {
      const error = new HttpError({ status: 500 })
      const { effect } = yield* scripted([error])
      const seen: Array<Retry.RetryInfo<HttpError>> = []
      yield* effect.pipe(
        Retry.retry({ name: "hooked", maxAttempts: 2, backoff: noDelay, onRetry: (info) => Effect.sync(() => void seen.push(info)) })
      )
      assert.strictEqual(seen.length, 1)
      assert.deepInclude(seen[0]!, { name: "hooked", attempt: 1, error })
      assert.strictEqual(Duration.toMillis(seen[0]!.delay), 0)
    }))
})

describe("Retry: classification", () => {
  it("isRetryableStatus: 5xx, 408 and 429 retry; other statuses do not", () => {
    for (const status of [500, 502, 503, 504, 599, 408, 429]) assert.isTrue(Retry.isRetryableStatus(status), `${status}`)
    for (const status of [200, 301, 400, 401, 403, 404, 409, 422, 499, 600]) {
      assert.isFalse(Retry.isRetryableStatus(status), `${status}`)
    }
  })

  it("retryOnHttpStatus reads status or statusCode, and retries errors without one", () => {
    assert.isTrue(Retry.retryOnHttpStatus({ status: 503 }))
    assert.isFalse(Retry.retryOnHttpStatus({ status: 404 }))
    assert.isFalse(Retry.retryOnHttpStatus({ statusCode: 400 }))
    assert.isTrue(Retry.retryOnHttpStatus(new Error("ECONNRESET")))
  })

  it.effect("by default, an HTTP-like error with a non-retryable status is not retried; others are", () =>
    Effect.gen(function*() {
      const notFound = new HttpError({ status: 404 })
      const { effect, runs } = yield* scripted([notFound])
      assert.strictEqual(yield* Effect.flip(effect.pipe(Retry.retry({ maxAttempts: 3, backoff: noDelay }))), notFound)
      assert.strictEqual(yield* runs, 1)
      const transient = yield* scripted([new HttpError({ status: 503 }), "ECONNRESET"])
      assert.strictEqual(yield* transient.effect.pipe(Retry.retry({ maxAttempts: 3, backoff: noDelay })), "ok after 3")
      const everything = yield* scripted([new HttpError({ status: 404 })])
      assert.strictEqual(
        yield* everything.effect.pipe(Retry.retry({ maxAttempts: 3, backoff: noDelay, retryOn: () => true })),
        "ok after 2"
      )
    }))

  it.effect("retryOn rejects an error: no retry, the error is returned as is", () =>
    Effect.gen(function*() {
      const error = new HttpError({ status: 404 })
      const { effect, runs } = yield* scripted([error])
      const policy = Retry.make<HttpError>({ maxAttempts: 5, backoff: noDelay, retryOn: (e) => Retry.isRetryableStatus(e.status) })
      const [result, events] = yield* Events.collect(Effect.flip(effect.pipe(Retry.retry(policy))))
      assert.strictEqual(result, error)
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(events, [])
    }))

  it.effect("classification applies to every attempt", () =>
    Effect.gen(function*() {
      const final = new HttpError({ status: 400 })
      const { effect, runs } = yield* scripted([new HttpError({ status: 503 }), final, new HttpError({ status: 503 })])
      const error = yield* Effect.flip(effect.pipe(Retry.retry({ maxAttempts: 5, backoff: noDelay, retryOn: Retry.retryOnHttpStatus })))
      assert.strictEqual(error, final)
      assert.strictEqual(yield* runs, 2)
    }))

  it.effect("defects are never retried", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const exit = yield* Effect.exit(
        Ref.update(runs, (n) => n + 1).pipe(Effect.andThen(Effect.die("kaboom")), Retry.retry({ maxAttempts: 5, backoff: noDelay }))
      )
      assert.isTrue(Exit.hasDies(exit))
      assert.strictEqual(yield* Ref.get(runs), 1)
    }))

  it.effect("interruption is never retried", () =>
    Effect.gen(function*() {
      const runs = yield* Ref.make(0)
      const exit = yield* Effect.exit(
        Ref.update(runs, (n) => n + 1).pipe(Effect.andThen(Effect.interrupt), Retry.retry({ maxAttempts: 5, backoff: noDelay }))
      )
      assert.isTrue(Exit.hasInterrupts(exit))
      assert.strictEqual(yield* Ref.get(runs), 1)
    }))
})

describe("Retry: budget", () => {
  it.effect("a 100%-failing dependency called 1,000 times with a 20% budget sees at most 20% extra attempts plus the floor", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0.2, minPerSecond: 1, window: "10 seconds" })
      const policy = Retry.make({ name: "storm", maxAttempts: 5, backoff: noDelay, budget })
      let attempts = 0
      const failing = Effect.suspend(() => {
        attempts++
        return Effect.fail(new HttpError({ status: 503 }))
      })
      const [, events] = yield* Events.collect(
        Effect.forEach(Array.from({ length: 1000 }), () => Effect.flip(Retry.retry(failing, policy)), { discard: true })
      )
      const extra = attempts - 1000
      const floor = 1 * 10
      assert.isAtMost(extra, 0.2 * 1000 + floor)
      // The budget is spent, not merely unused: without it there would be 4,000 extra attempts.
      assert.isAtLeast(extra, 0.2 * 1000)
      assert.isAbove(events.filter(Events.ResilienceEvent.$is("RetryBudgetDenied")).length, 700)
      const stats = yield* budget.stats
      assert.strictEqual(stats.calls, 1000)
      assert.strictEqual(stats.retries, extra)
    }))

  it.effect("the budget refills as the window slides past old retries", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0.2, window: "10 seconds" }) // floor: 2 retries / 10 s
      const policy = Retry.make({ maxAttempts: 3, backoff: noDelay, budget })
      const { effect, runs } = yield* scripted(Array.from({ length: 20 }, () => new HttpError({ status: 503 })))
      yield* Effect.flip(Retry.retry(effect, policy))
      assert.strictEqual(yield* runs, 3)
      yield* Effect.flip(Retry.retry(effect, policy))
      assert.strictEqual(yield* runs, 4) // spent: no retry
      yield* TestClock.adjust("11 seconds")
      yield* Effect.flip(Retry.retry(effect, policy))
      assert.strictEqual(yield* runs, 7) // refilled
    }))
})

describe("Retry: token budget (gRPC retryThrottling)", () => {
  // gRPC proposal A6: tokens start at maxTokens, in [0, maxTokens]; a failed RPC takes 1, a successful
  // one gives back tokenRatio; retries and hedges only while tokens > maxTokens / 2.
  it.effect("arithmetic: −1 per transient failure, +tokenRatio per success, bounded by [0, maxTokens], allowed while > maxTokens/2", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.tokenBudget({ maxTokens: 10, tokenRatio: 0.1 })
      const record = budget.recordOutcome!
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 10, maxTokens: 10, allows: true })
      yield* record(true) // capped at maxTokens
      assert.strictEqual((yield* budget.stats).tokens, 10)
      for (let i = 0; i < 4; i++) yield* record(false)
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 6, maxTokens: 10, allows: true })
      assert.strictEqual(yield* budget.tryWithdraw, true)
      yield* record(false) // 5 = maxTokens / 2: not more than the threshold
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 5, maxTokens: 10, allows: false })
      assert.strictEqual(yield* budget.tryWithdraw, false)
      yield* record(true) // 5.1
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 5.1, maxTokens: 10, allows: true })
      for (let i = 0; i < 9; i++) yield* record(true) // ten times 0.1 is exactly 1: kept in thousandths
      assert.strictEqual((yield* budget.stats).tokens, 6)
      for (let i = 0; i < 20; i++) yield* record(false) // floored at 0
      assert.strictEqual((yield* budget.stats).tokens, 0)
      // a withdrawal takes nothing: only outcomes move the tokens
      assert.strictEqual(yield* budget.tryWithdraw, false)
      assert.strictEqual((yield* budget.stats).tokens, 0)
    }))

  it.effect("retries stop once transient failures bring the tokens to maxTokens/2; a 404 costs nothing; successes reopen", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.tokenBudget({ maxTokens: 4, tokenRatio: 0.5 })
      const policy = Retry.make({ name: "grpc", maxAttempts: 3, backoff: noDelay, budget })
      const notFound = yield* scripted([new HttpError({ status: 404 }), new HttpError({ status: 404 })])
      yield* Effect.flip(Retry.retry(notFound.effect, policy))
      yield* Effect.flip(Retry.retry(notFound.effect, policy))
      assert.strictEqual((yield* budget.stats).tokens, 4) // permanent failures are answers, not load
      const down = yield* scripted(Array.from({ length: 10 }, () => new HttpError({ status: 503 })))
      // attempt 1 fails (3 left: allowed), attempt 2 fails (2 left = 4/2: refused)
      const [, events] = yield* Events.collect(Effect.flip(Retry.retry(down.effect, policy)))
      assert.strictEqual(yield* down.runs, 2)
      assert.deepStrictEqual(events.map((e) => e._tag), ["RetryScheduled", "RetryBudgetDenied"])
      assert.strictEqual((yield* budget.stats).tokens, 2)
      // the first attempt of a call is never refused; it fails, and no retry follows
      yield* Effect.flip(Retry.retry(down.effect, policy))
      assert.strictEqual(yield* down.runs, 3)
      assert.strictEqual((yield* budget.stats).tokens, 1)
      // five successes: 1 + 5 × 0.5 = 3.5; a failure leaves 2.5 > 2 (one retry), the next 1.5 (refused)
      for (let i = 0; i < 5; i++) yield* Retry.retry(Effect.succeed("ok"), policy)
      assert.deepStrictEqual(yield* budget.stats, { kind: "tokens", tokens: 3.5, maxTokens: 4, allows: true })
      yield* Effect.flip(Retry.retry(down.effect, policy))
      assert.strictEqual(yield* down.runs, 5)
      assert.strictEqual((yield* budget.stats).tokens, 1.5)
    }))

  it.effect("rejects maxTokens and tokenRatio outside gRPC's ranges, and mixed budget options", () =>
    Effect.gen(function*() {
      const cases: Array<[Retry.TokenBudgetOptions, string]> = [
        [{ maxTokens: 0 }, "Retry.tokenBudget: maxTokens must be a number in (0, 1000] with at most 3 decimals, got 0"],
        [{ maxTokens: 1001 }, "got 1001"],
        [{ maxTokens: 10.0001 }, "got 10.0001"],
        [{ tokenRatio: 0 }, "Retry.tokenBudget: tokenRatio must be a finite number > 0 with at most 3 decimals, got 0"],
        [{ tokenRatio: 0.5466 }, "got 0.5466"],
        [{ tokenRatio: Infinity }, "got Infinity"]
      ]
      for (const [options, fragment] of cases) {
        const error = yield* Effect.flip(Retry.tokenBudget(options))
        assert.strictEqual(error._tag, "InvalidConfigError")
        assert.include(error.message, fragment)
      }
      const mixed = yield* Effect.flip(Retry.makeBudget({ maxTokens: 10, ratio: 0.2 } as Retry.AnyBudgetOptions))
      assert.include(mixed.message, "not both")
      assert.strictEqual((yield* Retry.makeBudget({ maxTokens: 10 })).kind, "tokens")
      assert.strictEqual((yield* Retry.makeBudget({})).kind, "ratio")
    }))
})

describe("Retry: bad input fails at construction", () => {
  it("rejects maxAttempts, name, backoff and retryOn outside their range", () => {
    throwsInvalid(() => Retry.make({ maxAttempts: 0 }), "Retry.make: maxAttempts must be an integer >= 1 or Infinity, got 0")
    throwsInvalid(() => Retry.make({ maxAttempts: -3 }), "got -3")
    throwsInvalid(() => Retry.make({ maxAttempts: 2.5 }), "got 2.5")
    throwsInvalid(() => Retry.make({ maxAttempts: NaN }), "got NaN")
    throwsInvalid(() => Retry.make({ name: "" }), "Retry.make: name must be a non-empty string")
    throwsInvalid(() => Retry.make({ backoff: 100 as never }), "backoff must be a Schedule")
    throwsInvalid(() => Retry.make({ retryOn: true as never }), "retryOn must be a function")
    throwsInvalid(() => Retry.make({ budget: {} as never }), "budget must be a RetryBudget")
    throwsInvalid(() => Effect.runSync(Effect.never.pipe(Retry.retry({ maxAttempts: 0 }))), "maxAttempts")
    // The data-last form validates when given its options, before any effect is wrapped.
    throwsInvalid(() => Retry.retry({ maxAttempts: 0 }), "maxAttempts")
  })

  it.effect("rejects budget ratio, floor and window in the typed error channel", () =>
    Effect.gen(function*() {
      const cases: Array<[Retry.BudgetOptions, string]> = [
        [{ ratio: 1.5 }, "Retry.budget: ratio must be a number in [0, 1], got 1.5"],
        [{ ratio: -0.1 }, "ratio must be a number in [0, 1], got -0.1"],
        [{ ratio: NaN }, "got NaN"],
        [{ minPerSecond: -1 }, "minPerSecond must be a finite number >= 0, got -1"],
        [{ window: 0 }, "window must be a finite duration > 0"],
        [{ window: "-1 seconds" }, "window"]
      ]
      for (const [options, fragment] of cases) {
        const error = yield* Effect.flip(Retry.budget(options))
        assert.strictEqual(error._tag, "InvalidConfigError")
        assert.include(error.message, fragment)
      }
    }))
})

describe("Retry: maxRetryAfter (an open circuit fails fast)", () => {
  it.effect("a hint longer than maxRetryAfter ends the retries at once with that error, emitting RetryExhausted", () =>
    Effect.gen(function*() {
      const hint = new Throttled({ retryAfter: Duration.seconds(30) })
      const { effect, runs } = yield* scripted([hint])
      const [error, events] = yield* Events.collect(
        Effect.flip(effect.pipe(Retry.retry({ maxAttempts: 4, backoff: Backoff.constant(100), maxRetryAfter: "5 seconds" })))
      )
      assert.strictEqual(error, hint)
      assert.strictEqual(yield* runs, 1)
      assert.deepStrictEqual(events.map((e) => e._tag), ["RetryExhausted"])
    }))

  it.effect("by default it is the backoff's cap: a hint at the cap is waited for, one past it is not", () =>
    Effect.gen(function*() {
      const backoff = Backoff.exponential({ base: "10 millis", max: "1 second" })
      const { effect, runs } = yield* scripted([new Throttled({ retryAfter: Duration.seconds(1) })])
      const fiber = yield* Effect.forkChild(effect.pipe(Retry.retry({ maxAttempts: 2, backoff })))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "ok after 2")
      assert.strictEqual(yield* runs, 2)
      const past = yield* scripted([new Throttled({ retryAfter: Duration.millis(1001) })])
      assert.strictEqual((yield* Effect.flip(past.effect.pipe(Retry.retry({ maxAttempts: 2, backoff }))))._tag, "Throttled")
      assert.strictEqual(yield* past.runs, 1)
      assert.strictEqual(Retry.make({ backoff }).maxRetryAfterMillis, 1000)
      assert.strictEqual(Retry.make().maxRetryAfterMillis, 10_000, "the default backoff's cap")
      assert.strictEqual(Retry.make({ backoff: Backoff.exponential({ base: 10 }) }).maxRetryAfterMillis, 10_000, "uncapped")
      assert.strictEqual(Retry.make({ backoff: Backoff.constant(200) }).maxRetryAfterMillis, 200)
    }))

  it("maxRetryAfter must be a duration >= 0", () => {
    throwsInvalid(() => Retry.make({ maxRetryAfter: -1 }), "maxRetryAfter")
  })
})

describe("Retry: classification", () => {
  it("the default classifier: 5xx, 408, 429 and errors without a status are transient; other statuses permanent", () => {
    assert.strictEqual(Retry.defaultClassifier({ status: 503 }), "transient")
    assert.strictEqual(Retry.defaultClassifier({ status: 408 }), "transient")
    assert.strictEqual(Retry.defaultClassifier({ statusCode: 429 }), "transient")
    assert.strictEqual(Retry.defaultClassifier({ status: 404 }), "permanent")
    assert.strictEqual(Retry.defaultClassifier(new Error("ECONNRESET")), "transient")
  })

  it("classifier: tags win over statuses; listed statuses override the default", () => {
    const classify = Retry.classifier({
      transientStatus: [409],
      permanentStatus: [503],
      permanentTags: ["Invalid"],
      ignoredTags: ["Cancelled"]
    })
    assert.strictEqual(classify({ status: 409 }), "transient")
    assert.strictEqual(classify({ status: 503 }), "permanent")
    assert.strictEqual(classify({ status: 500 }), "transient")
    assert.strictEqual(classify({ _tag: "Invalid", status: 500 }), "permanent")
    assert.strictEqual(classify({ _tag: "Cancelled" }), "ignored")
    throwsInvalid(() => Retry.classifier({ transientStatus: [600] }), "options.transientStatus[0]")
    throwsInvalid(() => Retry.classifier({ transientStatus: [500], permanentStatus: [500] }), "options.permanentStatus[0]")
    throwsInvalid(() => Retry.classifier({ ignoredTags: [""] }), "options.ignoredTags[0]")
  })

  it.effect("classify decides what is retried; only transient failures are", () =>
    Effect.gen(function*() {
      const { effect, runs } = yield* scripted([new HttpError({ status: 404 }), new HttpError({ status: 404 })])
      const value = yield* effect.pipe(Retry.retry({ maxAttempts: 3, backoff: noDelay, classify: { transientStatus: [404] } }))
      assert.strictEqual(value, "ok after 3")
      assert.strictEqual(yield* runs, 3)
      const ignored = yield* scripted([new HttpError({ status: 503 })])
      yield* Effect.flip(ignored.effect.pipe(Retry.retry({ maxAttempts: 3, backoff: noDelay, classify: () => "ignored" })))
      assert.strictEqual(yield* ignored.runs, 1)
    }))

  it.effect("the README example: a Retry typed for HttpError wraps a call that can also time out", () =>
    Effect.gen(function*() {
      const seen: Array<unknown> = []
      const policy = Retry.make<HttpError>({
        name: "scoring",
        maxAttempts: 4,
        backoff: noDelay,
        retryOn: (e) => {
          seen.push(e)
          return Retry.isRetryableStatus(e.status)
        }
      })
      const runs = yield* Ref.make(0)
      // run 1 times out, run 2 fails with 503, run 3 succeeds
      const call = Effect.flatMap(Ref.updateAndGet(runs, (n) => n + 1), (n) =>
        n === 1 ? Effect.never : n === 2 ? Effect.fail(new HttpError({ status: 503 })) : Effect.succeed(n))
      const score: Effect.Effect<number, HttpError | Timeout.TimeoutError> = call.pipe(
        Timeout.timeout({ duration: "2 seconds", name: "scoring" }),
        Retry.retry(policy)
      )
      const fiber = yield* Effect.forkChild(score)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), 3)
      // the TimeoutError went to the classifier (transient), never to retryOn, which is typed for HttpError
      assert.deepStrictEqual(seen.map((e) => (e as HttpError)._tag), ["HttpError"])
      // data-first too
      const again: Effect.Effect<number, HttpError | Timeout.TimeoutError> = Retry.retry(
        call.pipe(Timeout.timeout({ duration: "2 seconds", name: "scoring" })),
        policy
      )
      assert.isDefined(again)
      // a 404 is not retried: retryOn says so
      const notFound = yield* scripted([new HttpError({ status: 404 })])
      yield* Effect.flip(notFound.effect.pipe(Retry.retry(policy)))
      assert.strictEqual(yield* notFound.runs, 1)
    }))

  it("types: a policy typed for HttpError refuses a call with another error of the caller's", () => {
    const policy = Retry.make<HttpError>({ retryOn: (e) => e.status >= 500 })
    const other = Effect.fail(new Throttled({ retryAfter: Duration.zero })) as Effect.Effect<number, HttpError | Throttled>
    // @ts-expect-error Throttled is neither HttpError nor one of the library's own rejections: retryOn cannot judge it
    const refused = () => other.pipe(Retry.retry(policy))
    assert.isFunction(refused)
  })
})

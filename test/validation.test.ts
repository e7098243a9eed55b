/**
 * Issue 10 §7: every bad option is refused with an `InvalidConfigError` (or,
 * for a config document, a `ResilienceConfigError`) naming the field or path,
 * the value and the allowed range, reported the one documented way: pure
 * constructors and combinators throw at the call; functions returning an
 * Effect or a Layer fail in its error channel (docs/configuration.md, "Bad
 * options").
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Schedule, type Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import {
  Backoff,
  Bulkhead,
  CircuitBreaker,
  DeadLetterQueue,
  Events,
  Fallback,
  Hedge,
  Idempotency,
  LoadShedder,
  Pipeline,
  Policy,
  ResilienceConfig,
  Retry,
  Timeout
} from "../src/index.ts"
import { invalidFrom, type Report } from "./helpers.ts"

// Deliberately ill-typed inputs: what a JavaScript caller, a cast or a parsed file can hand over.
const bad = (u: unknown): never => u as never
const huge = 1e10
const overflow = { days: 1e306 }
const secs = { secs: 5 }
const infiniteSchedule = Schedule.spaced("Infinity")

type Case = readonly [report: Report, label: string, build: () => unknown, field: string, message: string]

const cases: ReadonlyArray<Case> = [
  // Backoff: pure constructors throw
  ["throws", "exponential(null)", () => Backoff.exponential(bad(null)), "options",
    "Backoff.exponential: options must be an object with a base, got null"],
  ["throws", "exponential(undefined)", () => Backoff.exponential(bad(undefined)), "options",
    "Backoff.exponential: options must be an object with a base, got undefined"],
  ["throws", "exponential base NaN", () => Backoff.exponential({ base: NaN }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "exponential base -1", () => Backoff.exponential({ base: -1 }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got -1"],
  ["throws", "exponential base Infinity", () => Backoff.exponential({ base: Infinity }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got Infinity"],
  ["throws", "exponential base unknown unit", () => Backoff.exponential({ base: bad(secs) }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["throws", "exponential base empty object", () => Backoff.exponential({ base: {} }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got {}"],
  ["throws", "exponential base NaN tuple", () => Backoff.exponential({ base: [NaN, 0] }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"); a tuple is [seconds, nanos], got [NaN, 0]"],
  ["throws", "exponential base overflow", () => Backoff.exponential({ base: overflow }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), not one that overflows to Infinity, got { days: 1e+306 }"],
  ["throws", "exponential base wrong type", () => Backoff.exponential({ base: bad(true) }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got true"],
  ["throws", "exponential base unparsable", () => Backoff.exponential({ base: bad("soon") }), "base",
    "Backoff.exponential: base must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got \"soon\""],
  ["throws", "exponential factor NaN", () => Backoff.exponential({ base: 10, factor: NaN }), "factor",
    "Backoff.exponential: factor must be a finite number >= 1, got NaN"],
  ["throws", "exponential factor < 1", () => Backoff.exponential({ base: 10, factor: 0.5 }), "factor",
    "Backoff.exponential: factor must be a finite number >= 1, got 0.5"],
  ["throws", "exponential factor Infinity", () => Backoff.exponential({ base: 10, factor: Infinity }), "factor",
    "Backoff.exponential: factor must be a finite number >= 1, got Infinity"],
  ["throws", "exponential max NaN", () => Backoff.exponential({ base: 10, max: NaN }), "max",
    "Backoff.exponential: max must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "exponential max < base", () => Backoff.exponential({ base: 10, max: 5 }), "max",
    "Backoff.exponential: max must be >= base (10 ms), got 5"],
  ["throws", "exponential jitter", () => Backoff.exponential({ base: 10, jitter: bad("half") }), "jitter",
    "Backoff.exponential: jitter must be \"none\", \"full\", \"equal\" or \"decorrelated\", got \"half\""],
  ["throws", "linear(null)", () => Backoff.linear(bad(null)), "options",
    "Backoff.linear: options must be an object with a base, got null"],
  ["throws", "linear increment NaN", () => Backoff.linear({ base: 10, increment: NaN }), "increment",
    "Backoff.linear: increment must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "linear decorrelated", () => Backoff.linear({ base: 10, jitter: bad("decorrelated") }), "jitter",
    "Backoff.linear: jitter must be \"none\", \"full\" or \"equal\", got \"decorrelated\""],
  ["throws", "constant(NaN)", () => Backoff.constant(NaN), "delay",
    "Backoff.constant: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "constant(undefined)", () => Backoff.constant(bad(undefined)), "delay",
    "Backoff.constant: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got undefined"],
  ["throws", "constant unknown unit", () => Backoff.constant(bad(secs)), "delay",
    "Backoff.constant: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["throws", "constant NaN unit", () => Backoff.constant({ seconds: NaN }), "delay",
    "Backoff.constant: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got { seconds: NaN }"],
  ["throws", "decorrelated(null)", () => Backoff.decorrelated(bad(null)), "options",
    "Backoff.decorrelated: options must be an object with a base and a max, got null"],
  ["throws", "decorrelated base 0", () => Backoff.decorrelated({ base: 0, max: 10 }), "base",
    "Backoff.decorrelated: base must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got 0"],
  ["throws", "decorrelated max NaN", () => Backoff.decorrelated({ base: 1, max: NaN }), "max",
    "Backoff.decorrelated: max must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "fromDelays([NaN])", () => Backoff.fromDelays([NaN]), "delays[0]",
    "Backoff.fromDelays: delays[0] must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "fromDelays unknown unit", () => Backoff.fromDelays([1, bad({ sec: 1 })]), "delays[1]",
    "Backoff.fromDelays: delays[1] must be a finite duration >= 0 (e.g. 100, \"2 seconds\"); unknown unit \"sec\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { sec: 1 }"],
  ["throws", "fromDelays([])", () => Backoff.fromDelays([]), "delays",
    "Backoff.fromDelays: delays must be a non-empty list of durations, got []"],
  ["throws", "capped NaN", () => Backoff.capped(Schedule.spaced(10), NaN), "max",
    "Backoff.capped: max must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "jittered", () => Backoff.jittered(Schedule.spaced(10), bad("none")), "jitter",
    "Backoff.jittered: jitter must be \"full\" or \"equal\", got \"none\""],
  ["throws", "delays n NaN", () => Backoff.delays(Schedule.spaced(10), NaN), "n",
    "Backoff.delays: n must be an integer >= 0, got NaN"],
  ["throws", "delays n huge", () => Backoff.delays(Schedule.spaced(10), 2 ** 60), "n",
    "Backoff.delays: n must be an integer in [0, 9007199254740991], got 1152921504606847000"],
  // Retry
  ["throws", "Retry.make(null)", () => Retry.make(bad(null)), "options",
    "Retry.make: options must be an object, got null"],
  ["throws", "Retry.make wrong type", () => Retry.make(bad("fast")), "options",
    "Retry.make: options must be an object, got \"fast\""],
  ["throws", "Retry maxAttempts 0", () => Retry.make({ maxAttempts: 0 }), "maxAttempts",
    "Retry.make: maxAttempts must be an integer >= 1 or Infinity, got 0"],
  ["throws", "Retry maxAttempts NaN", () => Retry.make({ maxAttempts: NaN }), "maxAttempts",
    "Retry.make: maxAttempts must be an integer >= 1 or Infinity, got NaN"],
  ["throws", "Retry maxAttempts 1.5", () => Retry.make({ maxAttempts: 1.5 }), "maxAttempts",
    "Retry.make: maxAttempts must be an integer >= 1 or Infinity, got 1.5"],
  ["throws", "Retry maxAttempts huge", () => Retry.make({ maxAttempts: 1e300 }), "maxAttempts",
    "Retry.make: maxAttempts must be an integer in [1, 9007199254740991] or Infinity, got 1e+300"],
  ["throws", "Retry name", () => Retry.make({ name: "" }), "name",
    "Retry.make: name must be a non-empty string, got \"\""],
  ["throws", "Retry backoff", () => Retry.make({ backoff: bad(100) }), "backoff",
    "Retry.make: backoff must be a Schedule (see Backoff), got 100"],
  ["throws", "Retry retryOn", () => Retry.make({ retryOn: bad(true) }), "retryOn",
    "Retry.make: retryOn must be a function, got true"],
  ["throws", "Retry budget", () => Retry.make({ budget: bad({}) }), "budget",
    "Retry.make: budget must be a RetryBudget (see Retry.budget), got {}"],
  ["throws", "Retry.retry options", () => Effect.void.pipe(Retry.retry({ maxAttempts: -1 })), "maxAttempts",
    "Retry.make: maxAttempts must be an integer >= 1 or Infinity, got -1"],
  ["fails", "Retry.budget(null)", () => Retry.budget(bad(null)), "options",
    "Retry.budget: options must be an object, got null"],
  ["fails", "Retry.budget ratio NaN", () => Retry.budget({ ratio: NaN }), "ratio",
    "Retry.budget: ratio must be a number in [0, 1], got NaN"],
  ["fails", "Retry.budget ratio 2", () => Retry.budget({ ratio: 2 }), "ratio",
    "Retry.budget: ratio must be a number in [0, 1], got 2"],
  ["fails", "Retry.budget minPerSecond Infinity", () => Retry.budget({ minPerSecond: Infinity }), "minPerSecond",
    "Retry.budget: minPerSecond must be a finite number >= 0, got Infinity"],
  ["fails", "Retry.budget window unknown unit", () => Retry.budget({ window: bad(secs) }), "window",
    "Retry.budget: window must be a finite duration > 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  // Timeout
  ["throws", "Timeout NaN", () => Timeout.timeout(NaN), "duration",
    "Timeout.timeout: duration must be a duration > 0 or \"Infinity\", got NaN"],
  ["throws", "Timeout 0", () => Timeout.timeout(0), "duration",
    "Timeout.timeout: duration must be a duration > 0 or \"Infinity\", got 0"],
  ["throws", "Timeout unknown unit", () => Timeout.timeout(bad(secs)), "duration",
    "Timeout.timeout: duration must be a duration > 0 or \"Infinity\"; unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["throws", "Timeout overflow", () => Timeout.timeout(overflow), "duration",
    "Timeout.timeout: duration must be a duration > 0 or \"Infinity\", not one that overflows to Infinity, got { days: 1e+306 }"],
  ["throws", "Timeout null", () => Timeout.timeout(bad(null)), "duration",
    "Timeout.timeout: duration must be a duration > 0 or \"Infinity\", got null"],
  ["throws", "Timeout name", () => Timeout.timeout({ duration: 10, name: "" }), "name",
    "Timeout.timeout: name must be a non-empty string, got \"\""],
  // Hedge
  ["throws", "Hedge.make(null)", () => Hedge.make(bad(null)), "options",
    "Hedge.make: options must be an object with a delay, got null"],
  ["throws", "Hedge delay NaN", () => Hedge.make({ delay: NaN }), "delay",
    "Hedge.make: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "Hedge delay unknown unit", () => Hedge.make({ delay: bad(secs) }), "delay",
    "Hedge.make: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["throws", "Hedge delay Infinity", () => Hedge.make({ delay: "Infinity" }), "delay",
    "Hedge.make: delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got \"Infinity\""],
  ["throws", "Hedge maxAttempts 0", () => Hedge.make({ delay: 10, maxAttempts: 0 }), "maxAttempts",
    "Hedge.make: maxAttempts must be an integer in [1, 100], got 0"],
  ["throws", "Hedge maxAttempts NaN", () => Hedge.make({ delay: 10, maxAttempts: NaN }), "maxAttempts",
    "Hedge.make: maxAttempts must be an integer in [1, 100], got NaN"],
  ["throws", "Hedge maxAttempts huge", () => Hedge.make({ delay: 0, maxAttempts: 1e9 }), "maxAttempts",
    "Hedge.make: maxAttempts must be an integer in [1, 100], got 1000000000"],
  ["throws", "Hedge.race []", () => Hedge.race(bad([]), { delay: 10 }), "effects",
    "Hedge.race: effects must be a non-empty array of effects, got []"],
  // CircuitBreaker trip policies
  ["throws", "consecutive(0)", () => CircuitBreaker.consecutive(0), "failures",
    "CircuitBreaker.consecutive: failures must be an integer >= 1, got 0"],
  ["throws", "consecutive(NaN)", () => CircuitBreaker.consecutive(NaN), "failures",
    "CircuitBreaker.consecutive: failures must be an integer >= 1, got NaN"],
  ["throws", "consecutive(1.5)", () => CircuitBreaker.consecutive(1.5), "failures",
    "CircuitBreaker.consecutive: failures must be an integer >= 1, got 1.5"],
  ["throws", "countWindow(null)", () => CircuitBreaker.countWindow(bad(null)), "options",
    "CircuitBreaker.countWindow: options must be an object, got null"],
  ["throws", "countWindow size huge", () => CircuitBreaker.countWindow({ size: huge }), "size",
    "CircuitBreaker.countWindow: size must be an integer in [1, 1000000], got 10000000000"],
  ["throws", "countWindow size 0", () => CircuitBreaker.countWindow({ size: 0 }), "size",
    "CircuitBreaker.countWindow: size must be an integer in [1, 1000000], got 0"],
  ["throws", "countWindow failureRate NaN", () => CircuitBreaker.countWindow({ failureRate: NaN }), "failureRate",
    "CircuitBreaker.countWindow: failureRate must be a number in (0, 1], got NaN"],
  ["throws", "countWindow failureRate 0", () => CircuitBreaker.countWindow({ failureRate: 0 }), "failureRate",
    "CircuitBreaker.countWindow: failureRate must be a number in (0, 1], got 0"],
  ["throws", "countWindow minimumCalls > size", () => CircuitBreaker.countWindow({ size: 10, minimumCalls: 11 }), "minimumCalls",
    "CircuitBreaker.countWindow: minimumCalls must be an integer in [1, size] (size is 10), got 11"],
  ["throws", "timeWindow buckets huge", () => CircuitBreaker.timeWindow({ window: "1000 days", buckets: huge }), "buckets",
    "CircuitBreaker.timeWindow: buckets must be an integer in [1, 10000], got 10000000000"],
  ["throws", "timeWindow buckets 1.5", () => CircuitBreaker.timeWindow({ buckets: 1.5 }), "buckets",
    "CircuitBreaker.timeWindow: buckets must be an integer in [1, 10000], got 1.5"],
  ["throws", "timeWindow buckets finer than 1 ms", () => CircuitBreaker.timeWindow({ window: 5, buckets: 10 }), "buckets",
    "CircuitBreaker.timeWindow: buckets must be an integer in [1, 5] (each bucket must span at least 1 ms of the 5 ms window), got 10"],
  ["throws", "timeWindow window NaN", () => CircuitBreaker.timeWindow({ window: NaN }), "window",
    "CircuitBreaker.timeWindow: window must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["throws", "timeWindow window unknown unit", () => CircuitBreaker.timeWindow({ window: bad(secs) }), "window",
    "CircuitBreaker.timeWindow: window must be a finite duration > 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["throws", "timeWindow minimumCalls -1", () => CircuitBreaker.timeWindow({ minimumCalls: -1 }), "minimumCalls",
    "CircuitBreaker.timeWindow: minimumCalls must be an integer >= 1, got -1"],
  // CircuitBreaker.make / keyed
  ["fails", "CircuitBreaker.make(null)", () => CircuitBreaker.make(bad(null)), "options",
    "CircuitBreaker.make: options must be an object, got null"],
  ["fails", "breaker policy wrong type", () => CircuitBreaker.make({ policy: bad({ kind: "consecutive" }) }), "policy",
    "CircuitBreaker.make: policy must be a trip policy (CircuitBreaker.consecutive, countWindow or timeWindow), got { kind: \"consecutive\" }"],
  ["fails", "breaker policy data size huge", () => CircuitBreaker.make({ policy: bad({ _tag: "CountWindow", size: huge, failureRate: 0.5, minimumCalls: 1 }) }), "policy.size",
    "CircuitBreaker.make: policy.size must be an integer in [1, 1000000], got 10000000000"],
  ["fails", "breaker resetTimeout NaN", () => CircuitBreaker.make({ resetTimeout: NaN }), "resetTimeout",
    "CircuitBreaker.make: resetTimeout must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["fails", "breaker resetTimeout unknown unit", () => CircuitBreaker.make({ resetTimeout: bad(secs) }), "resetTimeout",
    "CircuitBreaker.make: resetTimeout must be a finite duration > 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["fails", "breaker resetTimeout overflow", () => CircuitBreaker.make({ resetTimeout: overflow }), "resetTimeout",
    "CircuitBreaker.make: resetTimeout must be a finite duration > 0 (e.g. 100, \"2 seconds\"), not one that overflows to Infinity, got { days: 1e+306 }"],
  ["fails", "breaker resetTimeout infinite Schedule", () => CircuitBreaker.make({ resetTimeout: infiniteSchedule }), "resetTimeout",
    "CircuitBreaker.make: resetTimeout must be a Schedule whose first delay is finite (or a maxResetTimeout to cap it), got Infinity"],
  ["fails", "breaker maxResetTimeout < resetTimeout", () => CircuitBreaker.make({ resetTimeout: 10, maxResetTimeout: 5 }), "maxResetTimeout",
    "CircuitBreaker.make: maxResetTimeout must be a duration >= resetTimeout (10 ms), got 5"],
  ["fails", "breaker maxResetTimeout NaN", () => CircuitBreaker.make({ maxResetTimeout: NaN }), "maxResetTimeout",
    "CircuitBreaker.make: maxResetTimeout must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["fails", "breaker halfOpenMaxCalls 0", () => CircuitBreaker.make({ halfOpenMaxCalls: 0 }), "halfOpenMaxCalls",
    "CircuitBreaker.make: halfOpenMaxCalls must be an integer >= 1, got 0"],
  ["fails", "breaker successThreshold NaN", () => CircuitBreaker.make({ successThreshold: NaN }), "successThreshold",
    "CircuitBreaker.make: successThreshold must be an integer >= 1, got NaN"],
  ["fails", "breaker isFailure", () => CircuitBreaker.make({ isFailure: bad("all") }), "isFailure",
    "CircuitBreaker.make: isFailure must be a function, got \"all\""],
  ["fails", "breaker slowCall with consecutive", () => CircuitBreaker.make({ slowCall: { threshold: 10, rate: 0.5 } }), "slowCall",
    "CircuitBreaker.make: slowCall must be absent with a consecutive policy (slow-call rates need countWindow or timeWindow), got { threshold: 10, rate: 0.5 }"],
  ["fails", "breaker slowCall.rate 2", () => CircuitBreaker.make({ policy: CircuitBreaker.countWindow({}), slowCall: { threshold: 10, rate: 2 } }), "slowCall.rate",
    "CircuitBreaker.make: slowCall.rate must be a number in (0, 1], got 2"],
  ["fails", "breaker slowCall.threshold NaN", () => CircuitBreaker.make({ policy: CircuitBreaker.countWindow({}), slowCall: { threshold: NaN, rate: 1 } }), "slowCall.threshold",
    "CircuitBreaker.make: slowCall.threshold must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["fails", "keyed idleTimeToLive NaN", () => CircuitBreaker.keyed({ idleTimeToLive: NaN }), "idleTimeToLive",
    "CircuitBreaker.keyed: idleTimeToLive must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["fails", "keyed(null)", () => CircuitBreaker.keyed(bad(null)), "options",
    "CircuitBreaker.keyed: options must be an object, got null"],
  // Bulkhead, LoadShedder
  ["fails", "Bulkhead.make(null)", () => Bulkhead.make(bad(null)), "options",
    "Bulkhead.make: options must be an object, got null"],
  ["fails", "Bulkhead maxConcurrent NaN", () => Bulkhead.make({ name: "b", maxConcurrent: NaN }), "maxConcurrent",
    "Bulkhead.make: maxConcurrent must be an integer >= 1, got NaN"],
  ["fails", "Bulkhead maxConcurrent 1.5", () => Bulkhead.make({ name: "b", maxConcurrent: 1.5 }), "maxConcurrent",
    "Bulkhead.make: maxConcurrent must be an integer >= 1, got 1.5"],
  ["fails", "Bulkhead maxConcurrent huge", () => Bulkhead.make({ name: "b", maxConcurrent: 2 ** 60 }), "maxConcurrent",
    "Bulkhead.make: maxConcurrent must be an integer in [1, 9007199254740991], got 1152921504606847000"],
  ["fails", "Bulkhead maxQueue -1", () => Bulkhead.make({ name: "b", maxConcurrent: 1, maxQueue: -1 }), "maxQueue",
    "Bulkhead.make: maxQueue must be an integer >= 0, got -1"],
  ["fails", "Bulkhead queueTimeout NaN", () => Bulkhead.make({ name: "b", maxConcurrent: 1, queueTimeout: NaN }), "queueTimeout",
    "Bulkhead.make: queueTimeout must be a duration > 0 or \"Infinity\", got NaN"],
  ["fails", "Bulkhead name empty", () => Bulkhead.make({ name: "", maxConcurrent: 1 }), "name",
    "Bulkhead.make: name must be a non-empty string, got \"\""],
  ["fails", "LoadShedder.make(null)", () => LoadShedder.make(bad(null)), "options",
    "LoadShedder.make: options must be an object, got null"],
  ["fails", "LoadShedder maxInFlight 0", () => LoadShedder.make({ name: "s", maxInFlight: 0 }), "maxInFlight",
    "LoadShedder.make: maxInFlight must be an integer >= 1, got 0"],
  ["fails", "LoadShedder sheddableAt NaN", () => LoadShedder.make({ name: "s", maxInFlight: 1, sheddableAt: NaN }), "sheddableAt",
    "LoadShedder.make: sheddableAt must be a number in [0, 1], got NaN"],
  ["fails", "LoadShedder normalAt 2", () => LoadShedder.make({ name: "s", maxInFlight: 1, normalAt: 2 }), "normalAt",
    "LoadShedder.make: normalAt must be a number in [0, 1], got 2"],
  ["fails", "LoadShedder sheddableAt > normalAt", () => LoadShedder.make({ name: "s", maxInFlight: 1, sheddableAt: 0.9, normalAt: 0.5 }), "sheddableAt",
    "LoadShedder.make: sheddableAt must be a number in [0, normalAt = 0.5], got 0.9"],
  ["throws", "LoadShedder.degrade(null)", () => LoadShedder.degrade(bad(null)), "options",
    "LoadShedder.degrade: options must be an object with full, degraded and when, got null"],
  // Dead letters, idempotency, fallback
  ["fails", "DeadLetterQueue.make(null)", () => DeadLetterQueue.make(bad(null)), "options",
    "DeadLetterQueue.make: options must be an object, got null"],
  ["fails", "DeadLetterQueue capacity NaN", () => DeadLetterQueue.make({ capacity: NaN }), "capacity",
    "DeadLetterQueue.make: capacity must be an integer >= 1, got NaN"],
  ["fails", "DeadLetterQueue capacity 0", () => DeadLetterQueue.make({ capacity: 0 }), "capacity",
    "DeadLetterQueue.make: capacity must be an integer >= 1, got 0"],
  ["fails", "DeadLetterQueue whenFull", () => DeadLetterQueue.make({ whenFull: bad("drop") }), "whenFull",
    "DeadLetterQueue.make: whenFull must be \"fail\" or \"backpressure\", got \"drop\""],
  ["fails", "DeadLetterQueue name", () => DeadLetterQueue.make({ name: "" }), "name",
    "DeadLetterQueue.make: name must be a non-empty string, got \"\""],
  ["fails", "Idempotency.make(null)", () => Idempotency.make(bad(null)), "options",
    "Idempotency.make: options must be an object, got null"],
  ["fails", "Idempotency ttl NaN", () => Idempotency.make({ ttl: NaN }), "ttl",
    "Idempotency.make: ttl must be a duration > 0 or \"Infinity\", got NaN"],
  ["fails", "Idempotency ttl unknown unit", () => Idempotency.make({ ttl: bad(secs) }), "ttl",
    "Idempotency.make: ttl must be a duration > 0 or \"Infinity\"; unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["fails", "Idempotency ttl overflow", () => Idempotency.make({ ttl: overflow }), "ttl",
    "Idempotency.make: ttl must be a duration > 0 or \"Infinity\", not one that overflows to Infinity, got { days: 1e+306 }"],
  ["fails", "Idempotency capacity 1.5", () => Idempotency.make({ capacity: 1.5 }), "capacity",
    "Idempotency.make: capacity must be an integer >= 1, got 1.5"],
  ["fails", "lastKnownGood(null)", () => Fallback.lastKnownGood(bad(null)), "options",
    "Fallback.lastKnownGood: options must be an object, got null"],
  ["fails", "lastKnownGood ttl -1", () => Fallback.lastKnownGood({ ttl: -1 }), "ttl",
    "Fallback.lastKnownGood: ttl must be a duration > 0 or \"Infinity\", got -1"],
  ["fails", "lastKnownGood capacity NaN", () => Fallback.lastKnownGood({ capacity: NaN }), "capacity",
    "Fallback.lastKnownGood: capacity must be an integer >= 1, got NaN"],
  ["fails", "lastKnownGood when", () => Fallback.lastKnownGood({ when: bad(1) }), "when",
    "Fallback.lastKnownGood: when must be a function, got 1"],
  ["throws", "Fallback.orElse(null)", () => Effect.void.pipe(Fallback.orElse(bad(null))), "options",
    "Fallback.orElse: options must be an object with a fallback, got null"],
  ["throws", "Fallback.orElse fallback missing", () => Effect.void.pipe(Fallback.orElse(bad({}))), "fallback",
    "Fallback.orElse: fallback must be a function, got undefined"],
  ["throws", "Fallback.chain(null options)", () => Fallback.chain([Effect.void], bad(null)), "options",
    "Fallback.chain: options must be an object, got null"],
  // Pipeline
  ["throws", "Pipeline.stage(null options)", () => Pipeline.stage("s", Effect.succeed, bad(null)), "options",
    "Pipeline.stage: options must be an object, got null"],
  ["throws", "Pipeline.stage concurrency NaN", () => Pipeline.stage("s", Effect.succeed, { concurrency: NaN }), "concurrency",
    "Pipeline.stage: concurrency must be an integer >= 1 or Infinity, got NaN"],
  ["fails", "Pipeline.run(null options)", () => Pipeline.run(Stream.empty, [], bad(null)), "options",
    "Pipeline.run: options must be an object with deadLetters, got null"],
  ["fails", "Pipeline.run stages not an array", () => Pipeline.run(Stream.empty, bad(null), bad({ deadLetters: {} })), "stages",
    "Pipeline.run: stages must be an array of Pipeline.stage values, got null"],
  // Policy: every block, with its path
  ["fails", "Policy.make(null)", () => Policy.make(bad(null)), "options",
    "Policy.make: options must be an object, got null"],
  ["fails", "Policy.make(undefined)", () => Policy.make(bad(undefined)), "options",
    "Policy.make: options must be an object, got undefined"],
  ["fails", "Policy name empty", () => Policy.make({ name: "" }), "name",
    "Policy.make: name must be a non-empty string, got \"\""],
  ["fails", "Policy retry null", () => Policy.make({ name: "p", retry: bad(null) }), "retry",
    "Policy.make: retry must be an object, or undefined for no retry, got null"],
  ["fails", "Policy circuitBreaker null", () => Policy.make({ name: "p", circuitBreaker: bad(null) }), "circuitBreaker",
    "Policy.make: circuitBreaker must be an object, or undefined for no circuitBreaker, got null"],
  ["fails", "Policy bulkhead null", () => Policy.make({ name: "p", bulkhead: bad(null) }), "bulkhead",
    "Policy.make: bulkhead must be an object, or undefined for no bulkhead, got null"],
  ["fails", "Policy hedge null", () => Policy.make({ name: "p", hedge: bad(null) }), "hedge",
    "Policy.make: hedge must be an object, or undefined for no hedge, got null"],
  ["fails", "Policy rateLimit null", () => Policy.make({ name: "p", rateLimit: bad(null) }), "rateLimit",
    "Policy.make: rateLimit must be an object, or undefined for no rateLimit, got null"],
  ["fails", "Policy fallback null", () => Policy.make({ name: "p", fallback: bad(null) }), "fallback",
    "Policy.make: fallback must be an object, or undefined for no fallback, got null"],
  ["fails", "Policy timeout NaN", () => Policy.make({ name: "p", timeout: NaN }), "timeout",
    "Policy.make: timeout must be a duration > 0 or \"Infinity\", got NaN"],
  ["fails", "Policy totalTimeout unknown unit", () => Policy.make({ name: "p", totalTimeout: bad(secs) }), "totalTimeout",
    "Policy.make: totalTimeout must be a duration > 0 or \"Infinity\"; unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["fails", "Policy retry.maxAttempts NaN", () => Policy.make({ name: "p", retry: { maxAttempts: NaN } }), "retry.maxAttempts",
    "Policy.make: retry.maxAttempts must be an integer >= 1 or Infinity, got NaN"],
  ["fails", "Policy retry.backoff", () => Policy.make({ name: "p", retry: { backoff: bad("fast") } }), "retry.backoff",
    "Policy.make: retry.backoff must be a Schedule (see Backoff), got \"fast\""],
  ["fails", "Policy hedge.delay NaN", () => Policy.make({ name: "p", hedge: { delay: NaN } }), "hedge.delay",
    "Policy.make: hedge.delay must be a finite duration >= 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["fails", "Policy circuitBreaker.resetTimeout NaN", () => Policy.make({ name: "p", circuitBreaker: { resetTimeout: NaN } }), "circuitBreaker.resetTimeout",
    "Policy.make: circuitBreaker.resetTimeout must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got NaN"],
  ["fails", "Policy circuitBreaker.policy.size huge", () => Policy.make({ name: "p", circuitBreaker: { policy: bad({ _tag: "CountWindow", size: huge, failureRate: 0.5, minimumCalls: 1 }) } }), "circuitBreaker.policy.size",
    "Policy.make: circuitBreaker.policy.size must be an integer in [1, 1000000], got 10000000000"],
  ["fails", "Policy bulkhead.maxConcurrent NaN", () => Policy.make({ name: "p", bulkhead: { maxConcurrent: NaN } }), "bulkhead.maxConcurrent",
    "Policy.make: bulkhead.maxConcurrent must be an integer >= 1, got NaN"],
  ["fails", "Policy rateLimit.limit NaN", () => Policy.make({ name: "p", rateLimit: { limit: NaN, window: "1 second" } }), "rateLimit.limit",
    "Policy.make: rateLimit.limit must be an integer >= 1, got NaN"],
  ["fails", "Policy rateLimit.window unknown unit", () => Policy.make({ name: "p", rateLimit: { limit: 1, window: bad(secs) } }), "rateLimit.window",
    "Policy.make: rateLimit.window must be a finite duration > 0 (e.g. 100, \"2 seconds\"); unknown unit \"secs\" (units: weeks, days, hours, minutes, seconds, milliseconds, microseconds, nanoseconds), got { secs: 5 }"],
  ["fails", "Policy fallback.fallback", () => Policy.make({ name: "p", fallback: bad({ fallback: 1 }) }), "fallback.fallback",
    "Policy.make: fallback.fallback must be a function, got 1"],
  // an option set to null would read as the default through `??`: refused, with its path
  ["throws", "Retry maxAttempts null", () => Retry.make({ maxAttempts: bad(null) }), "maxAttempts",
    "Retry.make: maxAttempts must be left out (for the default) or set, never null, got null"],
  ["throws", "Hedge maxAttempts null", () => Hedge.make({ delay: 1, maxAttempts: bad(null) }), "maxAttempts",
    "Hedge.make: maxAttempts must be left out (for the default) or set, never null, got null"],
  ["throws", "Timeout name null", () => Timeout.timeout({ duration: 1, name: bad(null) }), "name",
    "Timeout.timeout: name must be left out (for the default) or set, never null, got null"],
  ["throws", "countWindow size null", () => CircuitBreaker.countWindow({ size: bad(null) }), "size",
    "CircuitBreaker.countWindow: size must be left out (for the default) or set, never null, got null"],
  ["fails", "breaker halfOpenMaxCalls null", () => CircuitBreaker.make({ halfOpenMaxCalls: bad(null) }), "halfOpenMaxCalls",
    "CircuitBreaker.make: halfOpenMaxCalls must be left out (for the default) or set, never null, got null"],
  ["fails", "breaker policy data failureRate null", () => CircuitBreaker.make({ policy: bad({ _tag: "CountWindow", size: 10, failureRate: null, minimumCalls: 1 }) }), "policy.failureRate",
    "CircuitBreaker.make: policy.failureRate must be left out (for the default) or set, never null, got null"],
  ["fails", "Bulkhead maxQueue null", () => Bulkhead.make({ name: "b", maxConcurrent: 1, maxQueue: bad(null) }), "maxQueue",
    "Bulkhead.make: maxQueue must be left out (for the default) or set, never null, got null"],
  ["fails", "Idempotency capacity null", () => Idempotency.make({ capacity: bad(null) }), "capacity",
    "Idempotency.make: capacity must be left out (for the default) or set, never null, got null"],
  ["fails", "Policy retry.maxAttempts null", () => Policy.make({ name: "p", retry: { maxAttempts: bad(null) } }), "retry.maxAttempts",
    "Policy.make: retry.maxAttempts must be left out (for the default) or set, never null, got null"],
  ["fails", "Policy rateLimit.algorithm null", () => Policy.make({ name: "p", rateLimit: { limit: 1, window: 1000, algorithm: bad(null) } }), "rateLimit.algorithm",
    "Policy.make: rateLimit.algorithm must be left out (for the default) or set, never null, got null"],
  ["fails", "Policy rateLimit.limiter", () => Policy.make({ name: "p", rateLimit: { limit: 1, window: 1000, limiter: bad({}) } }), "rateLimit.limiter",
    "Policy.make: rateLimit.limiter must be a RateLimiter (see effect/persistence RateLimiter.make), got {}"],
  ["fails", "Policy rateLimit.key", () => Policy.make({ name: "p", rateLimit: { limit: 1, window: 1000, key: "" } }), "rateLimit.key",
    "Policy.make: rateLimit.key must be a non-empty string, got \"\""],
  // Events
  ["fails", "layerHub capacity 0", () => Events.layerHub({ capacity: 0 }), "capacity",
    "Events.layerHub: capacity must be an integer in [1, 1000000], got 0"],
  ["fails", "layerHub capacity -1", () => Events.layerHub({ capacity: -1 }), "capacity",
    "Events.layerHub: capacity must be an integer in [1, 1000000], got -1"],
  ["fails", "layerHub capacity NaN", () => Events.layerHub({ capacity: NaN }), "capacity",
    "Events.layerHub: capacity must be an integer in [1, 1000000], got NaN"],
  ["fails", "layerHub capacity 1.5", () => Events.layerHub({ capacity: 1.5 }), "capacity",
    "Events.layerHub: capacity must be an integer in [1, 1000000], got 1.5"],
  ["fails", "layerHub capacity huge", () => Events.layerHub({ capacity: huge }), "capacity",
    "Events.layerHub: capacity must be an integer in [1, 1000000], got 10000000000"],
  ["fails", "layerHub(null)", () => Events.layerHub(bad(null)), "options", "Events.layerHub: options must be an object, got null"]
]

describe("validation: every bad value refused, with its path and range", () => {
  it.effect.each(cases)("%s: %s", ([report, , build, field, message]) =>
    Effect.gen(function*() {
      const error = yield* invalidFrom(report, build)
      assert.strictEqual(error.field, field)
      assert.strictEqual(error.message, message)
    }))
})

describe("validation: config durations that overflow to Infinity", () => {
  const nines = "9".repeat(400)
  const overflowCases: ReadonlyArray<readonly [label: string, input: unknown, path: string, value: string]> = [
    ["1e306 seconds (legacy)", { timeouts: { db: 1e306 } }, "timeouts.db", "1e+306"],
    ["a 400-digit short form", { policies: { p: { timeout: `${nines}d` } } }, "policies.p.timeout", JSON.stringify(`${nines}d`)],
    ["a 400-digit long form", { policies: { p: { timeout: `${nines} seconds` } } }, "policies.p.timeout", JSON.stringify(`${nines} seconds`)],
    [
      "a retry delay",
      { retry_policies: { db: { initial_delay: 1e306 } } },
      "retry_policies.db.initial_delay",
      "1e+306"
    ]
  ]
  it.effect.each(overflowCases)("%s", ([, input, path, value]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ResilienceConfig.decode(input as ResilienceConfig.DocumentInput))
      assert.strictEqual(error.path, path)
      assert.strictEqual(
        error.message,
        `${path}: expected a duration that fits in milliseconds (this one overflows to Infinity), got ${value}`
      )
    }))
})

describe("validation: config sizes past their upper bound", () => {
  const breaker = (policy: object) => ({ policies: { p: { circuitBreaker: { resetTimeout: "1 minute", policy } } } })
  const sizeCases: ReadonlyArray<readonly [label: string, input: unknown, path: string, message: string]> = [
    [
      "countWindow size 1e10",
      breaker({ kind: "countWindow", size: 1e10, failureRate: 0.5, minimumCalls: 10 }),
      "policies.p.circuitBreaker.policy.size",
      "policies.p.circuitBreaker.policy.size: expected an integer in [1, 1000000], got 10000000000"
    ],
    [
      "timeWindow buckets 1e10",
      breaker({ kind: "timeWindow", window: "1000 days", buckets: 1e10, failureRate: 0.5, minimumCalls: 10 }),
      "policies.p.circuitBreaker.policy.buckets",
      "policies.p.circuitBreaker.policy.buckets: expected an integer in [1, 10000], got 10000000000"
    ]
  ]
  it.effect.each(sizeCases)("%s", ([, input, path, message]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ResilienceConfig.decode(input as ResilienceConfig.DocumentInput))
      assert.strictEqual(error.path, path)
      assert.strictEqual(error.message, message)
    }))
})

describe("validation: a reset-timeout Schedule that yields Infinity", () => {
  const trip = (b: CircuitBreaker.CircuitBreaker) => Effect.flip(b.execute(Effect.fail("boom")))
  const retryAfter = (b: CircuitBreaker.CircuitBreaker) =>
    Effect.map(b.state, (s) => (s._tag === "Open" ? Duration.toMillis(s.retryAfter) : -1))

  it.effect("is capped at maxResetTimeout: open for the hour, not 0 ms", () =>
    Effect.gen(function*() {
      const b = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        resetTimeout: Schedule.spaced("Infinity"),
        maxResetTimeout: "1 hour"
      })
      yield* trip(b)
      assert.strictEqual(yield* retryAfter(b), 3_600_000)
      yield* TestClock.adjust(1)
      const rejected = yield* Effect.flip(b.execute(Effect.succeed("probe")))
      assert.isTrue(CircuitBreaker.isCircuitOpenError(rejected))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* b.execute(Effect.succeed("probe")), "probe")
    }))

  it.effect("without maxResetTimeout, a later infinite delay repeats the last finite one", () =>
    Effect.gen(function*() {
      // 1 s, then 1 s · 1e308 = Infinity
      const b = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: Schedule.exponential("1 second", 1e308) })
      yield* trip(b)
      assert.strictEqual(yield* retryAfter(b), 1_000)
      yield* TestClock.adjust(1_000)
      yield* trip(b) // the probe fails: the second opening
      assert.strictEqual(yield* retryAfter(b), 1_000)
    }))
})

describe("validation: sweep of every option with every kind of bad value", () => {
  const values: ReadonlyArray<unknown> = [NaN, Infinity, -Infinity, -1, 0, 1.5, null, "x", {}, { secs: 1 }, 1e10, 2 ** 60, true, [], [NaN, 1]]
  type Target = readonly [
    label: string,
    report: Report,
    base: Record<string, unknown>,
    fields: ReadonlyArray<string>,
    build: (options: never) => unknown,
    /** The path the fields are reported under, and fields a cross-field rule may name instead. */
    prefix?: string,
    others?: ReadonlyArray<string>
  ]
  const targets: ReadonlyArray<Target> = [
    ["Backoff.exponential", "throws", { base: 10 }, ["base", "factor", "max", "jitter"], Backoff.exponential],
    ["Backoff.linear", "throws", { base: 10 }, ["base", "increment", "max", "jitter"], Backoff.linear],
    ["Backoff.decorrelated", "throws", { base: 10, max: 100 }, ["base", "max"], Backoff.decorrelated, "", ["max"]],
    ["Retry.make", "throws", {}, ["name", "maxAttempts", "backoff", "retryOn", "budget", "onRetry"], Retry.make],
    ["Retry.budget", "fails", {}, ["ratio", "minPerSecond", "window"], Retry.budget],
    ["Timeout.timeout", "throws", { duration: 10 }, ["duration", "name"], (o) => Timeout.timeout(o)],
    ["Hedge.make", "throws", { delay: 10 }, ["delay", "maxAttempts", "name"], Hedge.make],
    ["CircuitBreaker.countWindow", "throws", {}, ["size", "failureRate", "minimumCalls"], CircuitBreaker.countWindow],
    ["CircuitBreaker.timeWindow", "throws", {}, ["window", "buckets", "failureRate", "minimumCalls"], CircuitBreaker.timeWindow, "", ["buckets"]],
    [
      "CircuitBreaker.make",
      "fails",
      {},
      ["name", "policy", "resetTimeout", "maxResetTimeout", "halfOpenMaxCalls", "successThreshold", "isFailure", "slowCall"],
      CircuitBreaker.make
    ],
    [
      "CircuitBreaker.make slowCall",
      "fails",
      { threshold: 10, rate: 0.5 },
      ["threshold", "rate"],
      (slowCall) => CircuitBreaker.make({ policy: CircuitBreaker.countWindow({}), slowCall }),
      "slowCall."
    ],
    ["CircuitBreaker.keyed", "fails", {}, ["idleTimeToLive"], CircuitBreaker.keyed],
    ["Bulkhead.make", "fails", { name: "b", maxConcurrent: 1 }, ["name", "maxConcurrent", "maxQueue", "queueTimeout"], Bulkhead.make],
    ["LoadShedder.make", "fails", { name: "s", maxInFlight: 1 }, ["name", "maxInFlight", "sheddableAt", "normalAt"], LoadShedder.make, "", ["sheddableAt"]],
    ["DeadLetterQueue.make", "fails", {}, ["name", "capacity", "whenFull"], DeadLetterQueue.make],
    ["Idempotency.make", "fails", {}, ["name", "ttl", "capacity"], Idempotency.make],
    ["Fallback.lastKnownGood", "fails", {}, ["name", "ttl", "capacity", "when"], Fallback.lastKnownGood],
    ["Fallback.orElse", "throws", { fallback: () => Effect.void }, ["fallback", "when", "name"], (o) => Effect.void.pipe(Fallback.orElse(o))],
    ["Pipeline.stage", "throws", {}, ["policy", "idempotency", "idempotencyKey", "critical", "concurrency"], (o) => Pipeline.stage("s", Effect.succeed, o)],
    ["Events.layerHub", "fails", {}, ["capacity"], Events.layerHub],
    [
      "Policy.make",
      "fails",
      { name: "p" },
      ["name", "timeout", "totalTimeout", "retry", "rateLimit", "circuitBreaker", "bulkhead", "hedge", "fallback"],
      Policy.make
    ],
    [
      "Policy.make rateLimit",
      "fails",
      { limit: 1, window: 1000 },
      ["limit", "window", "algorithm", "onExceeded", "limiter", "key"],
      (rateLimit) => Policy.make({ name: "p", rateLimit }),
      "rateLimit."
    ]
  ]
  /** `undefined` when `build` accepted its options, else the error it reported the documented way. */
  const settle = (report: Report, build: () => unknown) =>
    Effect.gen(function*() {
      if (report === "throws") {
        try {
          build()
          return undefined
        } catch {
          return yield* invalidFrom(report, build)
        }
      }
      const built = build()
      const effect = Layer.isLayer(built) ? Layer.build(built as Layer.Layer<unknown, unknown>) : (built as Effect.Effect<unknown, unknown, Scope.Scope>)
      const ok = yield* Effect.scoped(effect).pipe(Effect.as(true), Effect.catch(() => Effect.succeed(false)))
      return ok ? undefined : yield* invalidFrom(report, build)
    })

  it.effect.each(targets)("%s: NaN and null refused; any bad value accepted or refused naming the field, the range and the value", ([
    label,
    report,
    base,
    fields,
    build,
    prefix = "",
    others = []
  ]) =>
    Effect.gen(function*() {
      for (const field of fields) {
        for (const value of values) {
          const error = yield* settle(report, () => build({ ...base, [field]: value } as never))
          const where = `${label} { ${field}: ${String(value)} }`
          // no option takes NaN or null: accepting either is reading it as something else
          if (error === undefined) {
            assert.isFalse(value === null || Number.isNaN(value), `${where} was accepted`)
            continue
          }
          const path = `${prefix}${field}`
          assert.isTrue(
            error.field === path || error.field.startsWith(`${path}.`) || others.map((o) => `${prefix}${o}`).includes(error.field),
            `${where}: reported ${error.field}`
          )
          assert.isTrue(error.message.startsWith(`${error.source}: ${error.field} must be ${error.expected}, got `), where)
          assert.notInclude(error.message, "[object Object]", where)
        }
      }
    }))
})

/**
 * Every default in one place, pinned by test/defaults.test.ts so that a
 * change is a decision, not an accident.
 */

export const retry = {
  name: "retry",
  maxAttempts: 3,
  /** Default backoff: exponential from 100 ms, ×2, capped at 10 s, full jitter. */
  backoffBaseMillis: 100,
  backoffFactor: 2,
  backoffMaxMillis: 10_000,
  backoffJitter: "full",
  /**
   * The longest `retryAfter` hint a retry waits for when its backoff has no
   * cap of its own (a hint longer than the cap ends the retries at once).
   * Equal to the default backoff's cap.
   */
  maxRetryAfterMillis: 10_000
} as const

/** `Backoff` constructors: what an option left out means, in code and in config alike. */
export const backoff = {
  factor: 2,
  jitter: "none"
} as const

/**
 * The default classification: besides every 5xx, these statuses
 * are transient; any other status is permanent, an error without one transient.
 */
export const classify = {
  transientStatus: [408, 429] as ReadonlyArray<number>
} as const

export const retryBudget = {
  ratio: 0.2,
  minPerSecond: 10,
  windowMillis: 10_000
} as const

export const timeout = {
  name: "timeout"
} as const

export const fallback = {
  name: "fallback"
} as const

export const lastKnownGood = {
  name: "last-known-good",
  /** 5 minutes. */
  ttlMillis: 300_000,
  capacity: 1000
} as const

export const hedge = {
  name: "hedge",
  /** The primary and one hedge. */
  maxAttempts: 2
} as const

export const bulkhead = {
  /** No waiting line: a call that finds no free permit is rejected at once. */
  maxQueue: 0
} as const

export const loadShedder = {
  /** Sheddable calls are shed once in-flight calls reach 50% of maxInFlight. */
  sheddableAt: 0.5,
  /** Normal calls are shed once in-flight calls reach 80% of maxInFlight. */
  normalAt: 0.8,
  priority: "normal",
  degradeName: "degrade"
} as const

export const deadLetterQueue = {
  name: "dead-letters",
  capacity: 10_000,
  /** A full queue fails the offer visibly rather than stalling the producer. */
  whenFull: "fail"
} as const

export const idempotency = {
  name: "idempotency",
  /** 1 hour. */
  ttlMillis: 3_600_000,
  capacity: 10_000
} as const

export const pipeline = {
  name: "pipeline",
  /** Items a stage handles at once. */
  concurrency: 1,
  critical: true
} as const

export const circuitBreaker = {
  name: "circuit-breaker",
  /** Default trip policy: `consecutive(5)`. */
  consecutiveFailures: 5,
  resetTimeoutMillis: 60_000,
  halfOpenMaxCalls: 1,
  successThreshold: 1,
  /** `countWindow` and `timeWindow`. */
  failureRate: 0.5,
  /** `countWindow`; its `minimumCalls` defaults to `size`. */
  countWindowSize: 100,
  timeWindowMillis: 60_000,
  timeWindowBuckets: 10,
  timeWindowMinimumCalls: 10,
  /** `keyed`: a circuit unused this long is dropped. */
  keyedIdleTimeToLiveMillis: 3_600_000,
  /** Transitions buffered per `changes` subscriber (the oldest are dropped beyond). */
  changesCapacity: 256
} as const

export const rateLimit = {
  algorithm: "token-bucket"
} as const

/** A duration in the config's encoded form. */
function millis(ms: number): string {
  return `${ms} millis`
}

/**
 * ResilienceConfig: the default profile, the fields a block gets when neither
 * its profile nor its policy sets them, and the built-in profiles. Values are
 * in the config file's own (encoded) form, so they go through the same Schema
 * as user input.
 */
export const resilienceConfig = {
  profile: "balanced",
  envPrefix: "RESILIENCE",
  /**
   * The code defaults above, in config form: a block gets what the
   * constructors would give it in code. A backoff written by a profile or a
   * policy is not completed from this one (see configDecode.ts `resolvePolicy`).
   */
  blocks: {
    retry: {
      maxAttempts: retry.maxAttempts,
      backoff: {
        kind: "exponential",
        base: millis(retry.backoffBaseMillis),
        factor: retry.backoffFactor,
        max: millis(retry.backoffMaxMillis),
        jitter: retry.backoffJitter
      }
    },
    circuitBreaker: {
      successThreshold: circuitBreaker.successThreshold,
      halfOpenMaxCalls: circuitBreaker.halfOpenMaxCalls
    },
    bulkhead: { maxQueue: bulkhead.maxQueue },
    hedge: { maxAttempts: hedge.maxAttempts },
    rateLimit: { algorithm: rateLimit.algorithm }
  },
  /**
   * From the seeds: retries (maxAttempts = retries + 1), initial delay,
   * breaker threshold, recovery and queue. Ours: factor 2, max delay 30 s,
   * full jitter, 2 successes to close, 1 half-open probe, and
   * maxConcurrent = queue / 10.
   */
  profiles: {
    conservative: profile(5, "2 seconds", 3, "120 seconds", 50, 500),
    balanced: profile(3, "1 second", 5, "60 seconds", 100, 1000),
    aggressive: profile(2, "500 millis", 10, "30 seconds", 200, 2000),
    "cost-optimized": profile(1, "2 seconds", 5, "60 seconds", 50, 500),
    none: {}
  }
} as const

function profile(
  retries: number,
  initialDelay: string,
  failures: number,
  recovery: string,
  maxConcurrent: number,
  maxQueue: number
) {
  return {
    retry: {
      maxAttempts: retries + 1,
      backoff: { kind: "exponential", base: initialDelay, factor: 2, max: "30 seconds", jitter: "full" }
    },
    circuitBreaker: {
      policy: { kind: "consecutive", failures },
      resetTimeout: recovery,
      successThreshold: 2,
      halfOpenMaxCalls: 1
    },
    bulkhead: { maxConcurrent, maxQueue }
  } as const
}

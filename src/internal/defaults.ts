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

/** `Retry.tokenBudget`: gRPC's own example (proposal A6, `retryThrottling`). */
export const tokenBudget = {
  maxTokens: 10,
  tokenRatio: 0.1
} as const

export const timeout = {
  name: "timeout"
} as const

/** `Timeout.promise`: how long aborted work may take to settle before it is reported abandoned. */
export const timeoutPromise = {
  graceMillis: 1_000
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
  name: "bulkhead",
  /** No waiting line: a call that finds no free permit is rejected at once. */
  maxQueue: 0
} as const

export const loadShedder = {
  name: "load-shedder",
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

/**
 * AdaptiveLimit: Netflix concurrency-limits' defaults (`AIMDLimit`,
 * `Gradient2Limit` builders), so that a limiter starts where theirs does.
 */
export const adaptiveLimit = {
  name: "adaptive-limit",
  aimd: {
    initialLimit: 20,
    minLimit: 20,
    maxLimit: 200,
    /** Multiplicative decrease on a drop: limit · 0.9. */
    backoffRatio: 0.9,
    /** A call slower than this counts as a drop. */
    timeoutMillis: 5_000,
    /** No sample window: every call is a sample (as Netflix's AIMDLimit is usually run). */
    windowMillis: 0
  },
  gradient2: {
    initialLimit: 20,
    minLimit: 20,
    maxLimit: 200,
    /** Share of the new estimate taken at each sample. */
    smoothing: 0.2,
    /** Latency may grow to 1.5× the long-term average before the limit falls. */
    rttTolerance: 1.5,
    /** Samples in the long-term latency average (exponential, after 10 warm-up samples). */
    longWindow: 600,
    longWindowWarmup: 10,
    /** Calls allowed to queue in the dependency: added to the limit at each sample. */
    queueSize: 4,
    /** One sample per 1-second window (Netflix WindowedLimit), so `longWindow` spans 10 minutes. */
    windowMillis: 1_000
  },
  /** Netflix WindowedLimit: a window of 10 calls or fewer is discarded, calls under 100 µs ignored. */
  window: {
    minSamples: 10,
    minRttMillis: 0.1
  }
} as const

/** Throttle: Google SRE client-side adaptive throttling (SRE book, ch. 21). */
export const throttle = {
  name: "throttle",
  /** Requests may exceed K · accepts before any is rejected locally. */
  k: 2,
  /** 2 minutes. */
  windowMillis: 120_000,
  /** The window slides one 10-second bucket at a time. */
  buckets: 12
} as const

/** The shared rate-limit store on Redis (`effect-resilience/Redis`). */
export const redisRateLimiterStore = {
  prefix: "effect-resilience:ratelimit:",
  /**
   * A Redis round trip in one zone takes well under 1 ms, so 500 ms means Redis is not answering. Not lower: the
   * timer also fires when this process's own event loop stalls (a long GC pause) with the answer already waiting.
   */
  timeoutMillis: 500,
  /** After a failure, calls use the fallback this long before one call asks Redis again. */
  retryIntervalMillis: 1_000,
  onUnavailable: "local"
} as const

/** The shared circuit breaker store on Redis (`CircuitBreaker.layerStoreRedis`). */
export const redisCircuitBreakerStore = {
  prefix: "effect-resilience:breaker:",
  /** One circuit for every replica. */
  mode: "shared",
  /** The longest one Redis command may take before the store falls back to local state (see `redisRateLimiterStore`). */
  timeoutMillis: 500,
  /** Outcomes are sent, and probe leases asked for, this often: the bound on how late a replica sees a trip it caused. */
  flushIntervalMillis: 50,
  /** While Redis does not answer, it is asked again this often. */
  retryIntervalMillis: 1_000,
  /** A probe lease lasts this long past the opening's end unless its holder renews it (every third of it). */
  leaseMillis: 10_000,
  /** Shared circuit keys expire after a day unused. */
  keyTtlMillis: 86_400_000
} as const

export const telemetry = {
  /** How often `Telemetry.layer` copies registry state into the gauges (for push exporters). */
  sampleIntervalMillis: 10_000,
  logs: true
} as const

export const health = {
  host: "127.0.0.1",
  port: 9464
} as const

/** `LiveConfig`: a burst of file events (one save is often several) is read once, after this much quiet. */
export const liveConfig = {
  debounceMillis: 100
} as const

export const chaos = {
  name: "chaos",
  /** An injection with no `rate` always fires (while enabled). */
  rate: 1,
  /** `Chaos.dependency`. */
  dependencyName: "dependency"
} as const

/** `Chaos.proxy`: it listens on loopback only. */
export const chaosProxy = {
  name: "proxy",
  host: "127.0.0.1"
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

/** The durable dead-letter store on Redis (`effect-resilience/Redis`). */
export const redisDeadLetterStore = {
  prefix: "effect-resilience:dlq:",
  /**
   * Longer than the rate-limit store's: a dead letter is off the hot path, and waiting through a short
   * failover beats failing the offer.
   */
  timeoutMillis: 2_000,
  /** How long a removed entry is kept so that a failed remove can be undone, and the undo retried. */
  recoveryWindowMillis: 600_000
} as const

export const policy = {
  name: "policy"
} as const

/** `HttpResilience`: which methods are repeated (RFC 9110 §9.2.2 idempotent ones; hedged: the reads). */
export const http = {
  name: "http",
  retryMethods: ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] as ReadonlyArray<string>,
  hedgeMethods: ["GET", "HEAD"] as ReadonlyArray<string>
} as const

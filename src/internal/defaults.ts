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
  backoffJitter: "full"
} as const

export const retryBudget = {
  ratio: 0.2,
  minPerSecond: 10,
  windowMillis: 10_000
} as const

export const timeout = {
  name: "timeout"
} as const

/**
 * gRPC's retry throttling (proposal A6, `retryThrottling`) as a pure state
 * machine: `tokens` start at `maxTokens` and stay in [0, maxTokens]; a
 * failed attempt takes 1, a successful one gives back `tokenRatio`; retries
 * and hedges are allowed while `tokens > maxTokens / 2`.
 *
 * Tokens are kept in thousandths, as integers: gRPC supports three decimal
 * places, and `0.1` added ten times must give exactly `1`, so that the
 * threshold is crossed after the same number of calls on every platform.
 */

export interface TokenConfig {
  /** In thousandths of a token. */
  readonly maxMilli: number
  /** In thousandths of a token. */
  readonly ratioMilli: number
}

export const SCALE = 1000

export const config = (maxTokens: number, tokenRatio: number): TokenConfig => ({
  maxMilli: Math.round(maxTokens * SCALE),
  ratioMilli: Math.round(tokenRatio * SCALE)
})

/** The tokens, in thousandths, of a new budget: full. */
export const initial = (config: TokenConfig): number => config.maxMilli

export const onFailure = (tokens: number): number => Math.max(0, tokens - SCALE)

export const onSuccess = (config: TokenConfig, tokens: number): number => Math.min(config.maxMilli, tokens + config.ratioMilli)

/** A retry or hedge may start: more than half the tokens are left (strictly, as in gRPC). */
export const allows = (config: TokenConfig, tokens: number): boolean => 2 * tokens > config.maxMilli

/** Whether `n` has at most three decimal places (gRPC's precision), without float noise. */
export const hasMilliPrecision = (n: number): boolean => Math.abs(n * SCALE - Math.round(n * SCALE)) < 1e-6

/**
 * Gradient2, as Netflix concurrency-limits' `Gradient2Limit`: the limit
 * follows the ratio of the long-term average latency to the latest one.
 *
 * - `longRtt` is an exponential average over `longWindow` samples (a plain
 *   mean over the first `warmup` samples, so the first calls set it quickly).
 * - `gradient = clamp(rttTolerance · longRtt / rtt, 0.5, 1)`: latency within
 *   `rttTolerance` of normal keeps the gradient at 1; above it, the limit is
 *   scaled down, by at most half per sample (outliers do not collapse it).
 * - `next = limit · gradient + queueSize`, smoothed:
 *   `limit · (1 − smoothing) + next · smoothing`, clamped to [min, max].
 *   With normal latency the limit grows by about `queueSize · smoothing` per
 *   sample; that is how it probes for more capacity.
 * - When `longRtt` exceeds twice the latest latency (latency back to normal
 *   after a long overload), `longRtt` decays by 5% per sample, so the
 *   average does not keep the limit high for the next `longWindow` samples.
 * - A limiter used below half of its limit does not change it (its latency
 *   says nothing about the top).
 *
 * Drops are not read (as in Netflix's): a failing call counts by its
 * latency. Choose AIMD when errors, not latency, signal overload.
 *
 * A pure machine: `(state, sample) => state`.
 */
import type { Sample } from "./adaptiveLimitSample.ts"

export interface Config {
  readonly initialLimit: number
  readonly minLimit: number
  readonly maxLimit: number
  readonly smoothing: number
  readonly rttTolerance: number
  readonly longWindow: number
  readonly warmup: number
  readonly queueSize: number
}

export interface State {
  /** The estimate, fractional; the limit applied is its floor. */
  readonly estimate: number
  /** Long-term average latency, in milliseconds. */
  readonly longRtt: number
  /** Samples seen by the long-term average, up to `warmup`. */
  readonly count: number
  readonly sum: number
}

export const initial = (config: Config): State => ({ estimate: config.initialLimit, longRtt: 0, count: 0, sum: 0 })

/** The long-term average after one more sample. */
const average = (config: Config, state: State, rtt: number): Pick<State, "longRtt" | "count" | "sum"> => {
  if (state.count < config.warmup) {
    const count = state.count + 1
    const sum = state.sum + rtt
    return { longRtt: sum / count, count, sum }
  }
  const factor = 2 / (config.longWindow + 1)
  return { longRtt: state.longRtt * (1 - factor) + rtt * factor, count: state.count, sum: state.sum }
}

export const update = (config: Config, state: State, sample: Sample): State => {
  const shortRtt = sample.rttMillis
  const avg = average(config, state, shortRtt)
  const longRtt = avg.longRtt
  // A zero latency (a call faster than the clock's resolution) reads as "no queuing".
  const recovering = shortRtt > 0 && longRtt / shortRtt > 2
  const nextAvg = recovering ? { ...avg, longRtt: longRtt * 0.95 } : avg
  if (sample.inFlight < state.estimate / 2) return { estimate: state.estimate, ...nextAvg }
  const gradient = shortRtt > 0 ? Math.max(0.5, Math.min(1, config.rttTolerance * longRtt / shortRtt)) : 1
  const target = state.estimate * gradient + config.queueSize
  const smoothed = state.estimate * (1 - config.smoothing) + target * config.smoothing
  const estimate = Math.max(config.minLimit, Math.min(config.maxLimit, smoothed))
  return { estimate, ...nextAvg }
}

export const limit = (state: State): number => Math.floor(state.estimate)

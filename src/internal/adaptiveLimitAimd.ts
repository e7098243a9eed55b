/**
 * AIMD (additive increase, multiplicative decrease), as Netflix
 * concurrency-limits' `AIMDLimit`: a drop (or a call slower than `timeout`)
 * multiplies the limit by `backoffRatio`; any other sample taken while the
 * limiter was at least half used adds 1. A limiter used below half of its
 * limit learns nothing about the top, so it does not grow (no unbounded
 * drift while idle).
 *
 * A pure machine: `(state, sample) => state`.
 */
import type { Sample } from "./adaptiveLimitSample.ts"

export interface Config {
  readonly initialLimit: number
  readonly minLimit: number
  readonly maxLimit: number
  readonly backoffRatio: number
  readonly timeoutMillis: number
}

export interface State {
  readonly limit: number
}

export const initial = (config: Config): State => ({ limit: config.initialLimit })

export const update = (config: Config, state: State, sample: Sample): State => {
  let next = state.limit
  if (sample.dropped || sample.rttMillis > config.timeoutMillis) {
    next = Math.floor(next * config.backoffRatio)
  } else if (sample.inFlight * 2 >= next) {
    next = next + 1
  }
  next = Math.min(config.maxLimit, Math.max(config.minLimit, next))
  return next === state.limit ? state : { limit: next }
}

export const limit = (state: State): number => state.limit

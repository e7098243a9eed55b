/**
 * Sample windows, as Netflix concurrency-limits' `WindowedLimit`: calls are
 * gathered for `millis` and the algorithm sees one sample per window (the
 * average latency, the most calls in flight, whether any call dropped).
 * Gradient2's `longWindow` of 600 counts windows (10 minutes at 1 s each),
 * not calls; fed every call of a busy service, its long-term average would
 * follow a rising latency within a fraction of a second and the limit would
 * climb with it.
 *
 * A window with `minSamples` calls or fewer is discarded (too little to
 * judge), and calls faster than `minRttMillis` are ignored (below the
 * clock's resolution they say nothing about queuing).
 *
 * A pure machine: `(state, sample) => state`.
 */
import type { Sample } from "./adaptiveLimitSample.ts"

export interface Config {
  /** Window length; 0 = no windowing, every call is a sample. */
  readonly millis: number
  readonly minSamples: number
  readonly minRttMillis: number
}

export interface State<S> {
  readonly inner: S
  /** The window closes with the first call ending after this time. */
  readonly endsAt: number
  readonly count: number
  readonly rttSum: number
  readonly maxInFlight: number
  readonly dropped: boolean
}

export const initial = <S>(inner: S): State<S> => ({
  inner,
  endsAt: -Infinity,
  count: 0,
  rttSum: 0,
  maxInFlight: 0,
  dropped: false
})

export const update = <S>(
  config: Config,
  update: (inner: S, sample: Sample) => S,
  state: State<S>,
  sample: Sample
): State<S> => {
  if (sample.rttMillis < config.minRttMillis) return state
  const count = state.count + 1
  const rttSum = state.rttSum + sample.rttMillis
  const maxInFlight = Math.max(state.maxInFlight, sample.inFlight)
  const dropped = state.dropped || sample.dropped
  if (sample.atMillis <= state.endsAt) {
    return { inner: state.inner, endsAt: state.endsAt, count, rttSum, maxInFlight, dropped }
  }
  const inner = count > config.minSamples
    ? update(state.inner, { rttMillis: rttSum / count, inFlight: maxInFlight, dropped, atMillis: sample.atMillis })
    : state.inner
  return { inner, endsAt: sample.atMillis + config.millis, count: 0, rttSum: 0, maxInFlight: 0, dropped: false }
}

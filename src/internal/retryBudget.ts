/**
 * The retry budget as a pure state machine: calls deposit `ratio` of a
 * retry, and a floor of `minPerSecond` retries per second is always allowed,
 * both over a sliding time window.
 */
import * as TimeWindow from "./timeWindow.ts"

export interface BudgetConfig {
  readonly ratio: number
  readonly minPerSecond: number
  readonly windowMillis: number
}

export const CALLS = 0 as const
export const RETRIES = 1 as const

export const BUCKETS = 10

export const initial = (config: BudgetConfig): TimeWindow.TimeWindow =>
  new TimeWindow.TimeWindow(config.windowMillis / BUCKETS, BUCKETS, 2)

/**
 * The window is updated in place (the library's one sliding window is
 * mutable); the budget's `Ref` hands the same window back, so every step
 * still goes through `Ref.update`/`Ref.modify`.
 */
export const recordCall = (state: TimeWindow.TimeWindow, now: number): TimeWindow.TimeWindow => {
  state.add(now, CALLS)
  return state
}

/** How many retries the window allows in all, as of its last update. */
export const allowance = (config: BudgetConfig, state: TimeWindow.TimeWindow): number =>
  config.minPerSecond * (config.windowMillis / 1000) + config.ratio * state.total(CALLS)

/** Takes one retry from the budget if it has one. */
export const tryWithdraw = (
  config: BudgetConfig,
  state: TimeWindow.TimeWindow,
  now: number
): [allowed: boolean, state: TimeWindow.TimeWindow] => {
  state.advance(now)
  if (state.total(RETRIES) + 1 > allowance(config, state)) return [false, state]
  state.add(now, RETRIES)
  return [true, state]
}

export const advance = (state: TimeWindow.TimeWindow, now: number): TimeWindow.TimeWindow => {
  state.advance(now)
  return state
}

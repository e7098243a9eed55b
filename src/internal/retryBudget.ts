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

export const CALLS = 0
export const RETRIES = 1

export const BUCKETS = 10

export const initial = (config: BudgetConfig): TimeWindow.TimeWindow =>
  TimeWindow.make(config.windowMillis, BUCKETS, 2)

export const recordCall = (state: TimeWindow.TimeWindow, now: number): TimeWindow.TimeWindow =>
  TimeWindow.add(state, now, CALLS)

/** How many retries the window allows in all, as of now. */
export const allowance = (config: BudgetConfig, state: TimeWindow.TimeWindow): number =>
  config.minPerSecond * (config.windowMillis / 1000) + config.ratio * state.totals[CALLS]!

/** Takes one retry from the budget if it has one. */
export const tryWithdraw = (
  config: BudgetConfig,
  state: TimeWindow.TimeWindow,
  now: number
): [allowed: boolean, state: TimeWindow.TimeWindow] => {
  const current = TimeWindow.advance(state, now)
  if (current.totals[RETRIES]! + 1 > allowance(config, current)) return [false, current]
  return [true, TimeWindow.add(current, now, RETRIES)]
}

export const advance = TimeWindow.advance

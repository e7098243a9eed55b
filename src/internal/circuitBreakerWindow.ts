/**
 * The call windows a circuit breaker judges: what the trip policy sees of the
 * recent past. Each records one outcome in O(1) time and holds O(size) or
 * O(buckets) memory, never O(calls).
 *
 * Unlike most of `internal/`, these are mutable: a window is owned by exactly
 * one breaker state and updated in place, because copying a ring of 100 calls
 * on every successful call would cost more than the breaker itself. The state
 * machine (`circuitBreakerMachine.ts`) is the only writer.
 *
 * - `Tally`: counts since the window was last cleared (the `consecutive`
 *   policy judges streaks, not windows; the tally only feeds `stats`).
 * - `CountWindow`: the last `size` calls, as a ring of outcome bits.
 * - `TimeWindow`: the calls of the last `window`, in `buckets` buckets; as the
 *   clock passes a bucket the whole bucket is dropped, so the window spans
 *   between `window - bucket` and `window` of time. It is the time window
 *   the retry budget uses too (`timeWindow.ts`).
 *
 * Both allocate their rings lazily, so an idle circuit carries little.
 */

import { TimeWindow as SlidingWindow } from "./timeWindow.ts"

/** Outcome bits stored per call. */
const FAILED = 1
const SLOW = 2

export interface Window {
  /** Records one call completed at `now`. */
  record(now: number, failed: boolean, slow: boolean): void
  /** Drops what the clock has passed (time windows only). */
  advance(now: number): void
  /** Calls, failures and slow calls in the window as of the last `record`/`advance`. */
  readonly calls: number
  readonly failures: number
  readonly slow: number
  clear(): void
}

/** Counts since the last clear: no eviction. */
export class Tally implements Window {
  calls = 0
  failures = 0
  slow = 0
  record(_now: number, failed: boolean, slow: boolean): void {
    this.calls++
    if (failed) this.failures++
    if (slow) this.slow++
  }
  advance(_now: number): void {}
  clear(): void {
    this.calls = 0
    this.failures = 0
    this.slow = 0
  }
}

/**
 * The last `size` calls. The ring of outcome bits is allocated on the first
 * failed or slow call: until then every call in the window is a plain
 * success (bits 0), so an idle, healthy circuit carries no ring.
 */
export class CountWindow implements Window {
  calls = 0
  failures = 0
  slow = 0
  private next = 0
  private ring: Uint8Array | undefined = undefined
  constructor(readonly size: number) {}
  record(_now: number, failed: boolean, slow: boolean): void {
    const bits = (failed ? FAILED : 0) | (slow ? SLOW : 0)
    let ring = this.ring
    if (ring === undefined && bits !== 0) ring = this.ring = new Uint8Array(this.size)
    const i = this.next
    if (ring !== undefined) {
      if (this.calls === this.size) {
        const old = ring[i]!
        if ((old & FAILED) !== 0) this.failures--
        if ((old & SLOW) !== 0) this.slow--
      }
      ring[i] = bits
    }
    if (this.calls !== this.size) this.calls++
    if (failed) this.failures++
    if (slow) this.slow++
    this.next = i + 1 === this.size ? 0 : i + 1
  }
  advance(_now: number): void {}
  clear(): void {
    this.calls = 0
    this.failures = 0
    this.slow = 0
    this.next = 0
    this.ring = undefined
  }
}

/**
 * The calls of the last `buckets` buckets of `bucketMillis` each: the
 * library's one time window (`timeWindow.ts`) with three counters.
 */
export class TimeWindow extends SlidingWindow implements Window {
  constructor(bucketMillis: number, buckets: number) {
    super(bucketMillis, buckets, 3)
  }
  get calls(): number {
    return this.c0
  }
  get failures(): number {
    return this.c1
  }
  get slow(): number {
    return this.c2
  }
  record(now: number, failed: boolean, slow: boolean): void {
    // One advance for the three counters.
    this.advance(now)
    const ring = this.ring
    if (ring !== undefined) {
      const at = this.at
      ring[at]!++
      if (failed) ring[at + 1]!++
      if (slow) ring[at + 2]!++
    }
    this.c0++
    if (failed) this.c1++
    if (slow) this.c2++
  }
}

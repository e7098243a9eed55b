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
 *   between `window - bucket` and `window` of time.
 */

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

/** The last `size` calls. */
export class CountWindow implements Window {
  calls = 0
  failures = 0
  slow = 0
  private next = 0
  private readonly ring: Uint8Array
  constructor(readonly size: number) {
    this.ring = new Uint8Array(size)
  }
  record(_now: number, failed: boolean, slow: boolean): void {
    const ring = this.ring
    const i = this.next
    if (this.calls === this.size) {
      const old = ring[i]!
      if ((old & FAILED) !== 0) this.failures--
      if ((old & SLOW) !== 0) this.slow--
    } else {
      this.calls++
    }
    ring[i] = (failed ? FAILED : 0) | (slow ? SLOW : 0)
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
  }
}

/** The calls of the last `buckets` buckets of `bucketMillis` each. */
export class TimeWindow implements Window {
  calls = 0
  failures = 0
  slow = 0
  /** Index (floor(time / bucketMillis)) of the newest bucket; -Infinity when empty. */
  private head = -Infinity
  /** Offset in `counts` of the newest bucket. */
  private headAt = 0
  /** Per bucket: calls, failures, slow, at 3·slot, 3·slot+1, 3·slot+2. */
  private readonly counts: Float64Array
  constructor(readonly bucketMillis: number, readonly buckets: number) {
    this.counts = new Float64Array(buckets * 3)
  }
  advance(now: number): void {
    const index = Math.floor(now / this.bucketMillis)
    const head = this.head
    if (index <= head) return
    const n = this.buckets
    if (index - head >= n) {
      if (this.calls !== 0) this.clearCounts()
      this.headAt = (((index % n) + n) % n) * 3
    } else {
      const counts = this.counts
      const end = n * 3
      let at = this.headAt
      for (let i = head; i < index; i++) {
        at = at + 3 === end ? 0 : at + 3
        this.calls -= counts[at]!
        this.failures -= counts[at + 1]!
        this.slow -= counts[at + 2]!
        counts[at] = 0
        counts[at + 1] = 0
        counts[at + 2] = 0
      }
      this.headAt = at
    }
    this.head = index
  }
  record(now: number, failed: boolean, slow: boolean): void {
    // A clock that stepped back records into the newest bucket.
    this.advance(now)
    const at = this.headAt
    const counts = this.counts
    counts[at]!++
    this.calls++
    if (failed) {
      counts[at + 1]!++
      this.failures++
    }
    if (slow) {
      counts[at + 2]!++
      this.slow++
    }
  }
  clear(): void {
    this.clearCounts()
    this.head = -Infinity
  }
  private clearCounts(): void {
    this.counts.fill(0)
    this.calls = 0
    this.failures = 0
    this.slow = 0
  }
}

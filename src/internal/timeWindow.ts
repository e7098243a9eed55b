/**
 * The one sliding time window of the library: up to three counters summed
 * over the last `buckets` intervals of `bucketMillis`, in O(buckets) memory
 * and O(1) time per add (amortised over the buckets the clock passes). As the
 * clock passes a bucket the whole bucket is dropped (the resolution is one
 * bucket). The retry budget (calls, retries) and the circuit breaker's time
 * window (calls, failures, slow calls) both use it.
 *
 * It is mutable: its owner (a breaker state, a budget's `Ref`) updates it in
 * place, because copying a ring on every call would cost more than the
 * policy itself.
 *
 * Memory is allocated lazily: while every count lies in the newest bucket
 * (an idle keyed circuit called once, a budget used in one burst) the totals
 * are all there is; the ring of buckets is allocated when the clock first
 * leaves a bucket that holds counts.
 */

export type Counter = 0 | 1 | 2

export class TimeWindow {
  /** Totals over the window, per counter, as of the last `add`/`advance`. */
  c0 = 0
  c1 = 0
  c2 = 0
  /** Index (floor(time / bucketMillis)) of the newest bucket; -Infinity when empty. */
  protected head = -Infinity
  /** Offset in the ring of the newest bucket (`slot(head)`), kept so an add needs no modulo. */
  protected at = 0
  /** Per bucket, `width` counts; `undefined` while every count is in the newest bucket. */
  protected ring: Float64Array | undefined = undefined
  constructor(readonly bucketMillis: number, readonly buckets: number, readonly width: 1 | 2 | 3) {}

  /** The sum of `counter` over the window as of the last `add`/`advance`. */
  total(counter: Counter): number {
    return counter === 0 ? this.c0 : counter === 1 ? this.c1 : this.c2
  }

  /** Offset in the ring of the bucket of `index`. */
  protected slot(index: number): number {
    const n = this.buckets
    return (((index % n) + n) % n) * this.width
  }

  /** Drops every bucket the clock has passed. A clock that stepped back changes nothing. */
  advance(now: number): void {
    const index = Math.floor(now / this.bucketMillis)
    const head = this.head
    if (index <= head) return
    this.head = index
    this.at = this.slot(index)
    if (this.c0 === 0 && this.c1 === 0 && this.c2 === 0) {
      // Nothing to drop (and, with a ring, every bucket is zero).
      return
    }
    if (index - head >= this.buckets) {
      this.clearCounts()
      return
    }
    let ring = this.ring
    if (ring === undefined) {
      // The counts leave the newest bucket: they get a slot of their own.
      ring = this.ring = new Float64Array(this.buckets * this.width)
      const at = this.slot(head)
      ring[at] = this.c0
      if (this.width > 1) ring[at + 1] = this.c1
      if (this.width > 2) ring[at + 2] = this.c2
    }
    const width = this.width
    for (let i = head + 1; i <= index; i++) {
      const at = this.slot(i)
      this.c0 -= ring[at]!
      ring[at] = 0
      if (width > 1) {
        this.c1 -= ring[at + 1]!
        ring[at + 1] = 0
      }
      if (width > 2) {
        this.c2 -= ring[at + 2]!
        ring[at + 2] = 0
      }
    }
  }

  /** Adds `amount` to `counter` in the bucket of `now` (a clock that stepped back adds to the newest bucket). */
  add(now: number, counter: Counter, amount = 1): void {
    this.advance(now)
    const ring = this.ring
    if (ring !== undefined) ring[this.at + counter]! += amount
    if (counter === 0) this.c0 += amount
    else if (counter === 1) this.c1 += amount
    else this.c2 += amount
  }

  clear(): void {
    this.clearCounts()
    this.head = -Infinity
  }

  private clearCounts(): void {
    // Dropping the ring frees its memory; it is allocated again if needed.
    this.ring = undefined
    this.c0 = 0
    this.c1 = 0
    this.c2 = 0
  }
}

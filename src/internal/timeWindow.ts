/**
 * A sliding time window of counters, aggregated in buckets so memory is
 * O(buckets), not O(events). Pure and immutable: every operation returns a
 * new window, so a `Ref` can hold it and tests can drive it directly.
 *
 * A window of `windowMillis` split in `buckets` keeps the counts of the last
 * `buckets` bucket intervals; as the clock passes a bucket, the whole bucket
 * is dropped (the resolution is one bucket).
 */

export interface TimeWindow {
  readonly bucketMillis: number
  readonly width: number
  /** Index (time / bucketMillis) of the newest bucket. */
  readonly head: number
  /** Ring of buckets; bucket for index i lives at i % buckets.length. */
  readonly buckets: ReadonlyArray<ReadonlyArray<number>>
  readonly totals: ReadonlyArray<number>
}

export const make = (windowMillis: number, buckets: number, width: number): TimeWindow => {
  const zero = new Array<number>(width).fill(0)
  return {
    bucketMillis: windowMillis / buckets,
    width,
    head: -Infinity,
    buckets: new Array(buckets).fill(zero),
    totals: zero
  }
}

/** Drops every bucket the clock has passed. */
export const advance = (self: TimeWindow, now: number): TimeWindow => {
  const index = Math.floor(now / self.bucketMillis)
  if (index <= self.head) return self
  const size = self.buckets.length
  const zero = new Array<number>(self.width).fill(0)
  if (index - self.head >= size) {
    return { ...self, head: index, buckets: new Array(size).fill(zero), totals: zero }
  }
  const buckets = self.buckets.slice()
  const totals = self.totals.slice()
  for (let i = self.head + 1; i <= index; i++) {
    const slot = i % size
    const old = buckets[slot]!
    for (let c = 0; c < self.width; c++) totals[c]! -= old[c]!
    buckets[slot] = zero
  }
  return { ...self, head: index, buckets, totals }
}

/** Adds `amount` to `counter` in the bucket of `now` (advancing first). */
export const add = (self: TimeWindow, now: number, counter: number, amount = 1): TimeWindow => {
  const w = advance(self, now)
  const slot = w.head % w.buckets.length
  const buckets = w.buckets.slice()
  const bucket = buckets[slot]!.slice()
  bucket[counter]! += amount
  buckets[slot] = bucket
  const totals = w.totals.slice()
  totals[counter]! += amount
  return { ...w, buckets, totals }
}

/** The sum of `counter` over the window as of `now`. */
export const total = (self: TimeWindow, now: number, counter: number): number => advance(self, now).totals[counter]!

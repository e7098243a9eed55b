/**
 * The load driver of the scenarios: requests arrive at a given rate in
 * simulated time, each runs in its own fiber, and every call's start, end and
 * outcome is recorded. Nothing here sleeps for real: run it under
 * `VirtualTime.run` (or a `TestClock` that something else advances).
 */
import { Clock, Effect, Fiber } from "effect"

/** How a request ended, as the user saw it. */
export interface Outcome {
  readonly ok: boolean
  /** e.g. "ok", "fallback", "DependencyError", "CircuitOpenError". */
  readonly label: string
}

export interface CallRecord extends Outcome {
  readonly start: number
  readonly end: number
}

export interface DriveOptions<R> {
  /** Milliseconds of simulated time during which requests arrive. */
  readonly duration: number
  /** Arrivals per second at time `t` (ms since the start); read once per millisecond step. */
  readonly rate: (t: number) => number
  readonly request: (i: number) => Effect.Effect<Outcome, never, R>
  /** Runs every `sampleEvery` ms from 0 until the last request ends (e.g. to sample a breaker's state). */
  readonly sample?: ((t: number) => Effect.Effect<void>) | undefined
  readonly sampleEvery?: number | undefined
}

/** Runs the load; returns the records in arrival order, times in ms since the start. */
export const drive = <R>(options: DriveOptions<R>): Effect.Effect<ReadonlyArray<CallRecord>, never, R> =>
  Effect.gen(function*() {
    const origin = yield* Clock.currentTimeMillis
    const records: Array<CallRecord> = []
    const fibers: Array<Fiber.Fiber<void>> = []
    const run = (index: number) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const outcome = yield* options.request(index)
        const end = yield* Clock.currentTimeMillis
        records[index] = { ...outcome, start: start - origin, end: end - origin }
      })
    const sampler = options.sample === undefined ? undefined : yield* Effect.forkChild(
      Effect.gen(function*() {
        for (;;) {
          yield* options.sample!((yield* Clock.currentTimeMillis) - origin)
          yield* Effect.sleep(options.sampleEvery ?? 1000)
        }
      })
    )
    // arrivals spread evenly: the k-th arrival of the run lands when the
    // cumulated rate reaches k
    let owed = 0
    let i = 0
    let t = 0
    for (let step = 0; step < options.duration; step++) {
      owed += options.rate(step) / 1000
      while (owed >= 1 - 1e-9) {
        owed -= 1
        if (step > t) {
          yield* Effect.sleep(step - t)
          t = step
        }
        fibers.push(yield* Effect.forkChild(run(i++)))
      }
    }
    yield* Fiber.joinAll(fibers)
    if (sampler !== undefined) {
      yield* options.sample!((yield* Clock.currentTimeMillis) - origin)
      yield* Fiber.interrupt(sampler)
    }
    return records
  })

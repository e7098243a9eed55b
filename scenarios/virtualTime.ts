/**
 * Virtual time for the scenarios: a discrete-event simulation of an Effect
 * program. Its fibers run on a scheduler of our own, which queues their tasks
 * instead of handing them to the event loop; a `Clock` whose sleeps wait in a
 * heap. The runner drains every queued task (all fibers run until they
 * suspend), then jumps the clock to the next wake-up and resumes every sleep
 * due at that instant, until the program ends. So a woken fiber has always
 * settled — and registered its next sleep — before the clock moves on.
 *
 * Why not `TestClock`: it wakes one sleep at a time through the event loop,
 * with a live timer guarding each wake-up: about 0.35 ms per sleep here, and
 * the payment scenario sleeps ~200,000 times. Policies see only `Clock`,
 * `Effect.sleep` and `Random`, exactly as under TestClock, so the code under
 * test is the same (the library's own tests use TestClock). The whole run is
 * synchronous: it blocks the event loop until the program ends.
 */
import { Clock, Context, Duration, Effect, Exit, Scheduler } from "effect"

interface Sleeper {
  readonly at: number
  readonly seq: number
  resume: ((effect: Effect.Effect<void>) => void) | undefined
}

/** A min-heap of sleepers by (wake-up time, registration order). */
class Heap {
  private readonly items: Array<Sleeper> = []
  get size() {
    return this.items.length
  }
  peek(): Sleeper | undefined {
    return this.items[0]
  }
  push(s: Sleeper) {
    const a = this.items
    a.push(s)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(a[i]!, a[p]!)) break
      ;[a[i], a[p]] = [a[p]!, a[i]!]
      i = p
    }
  }
  pop(): Sleeper | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last !== undefined) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && before(a[l]!, a[m]!)) m = l
        if (r < a.length && before(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }
}

const before = (a: Sleeper, b: Sleeper) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

export interface VirtualTimeStats {
  /** Distinct instants the clock stopped at, and sleeps woken. */
  readonly instants: number
  readonly wakes: number
  /** Virtual milliseconds from start to end. */
  readonly elapsed: number
}

/**
 * Runs `effect` in virtual time (the clock starts at 0) and returns its
 * result once it ends, with the run's statistics. Dies if the program waits
 * on something other than time (a deadlock).
 */
export const run = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<[A, VirtualTimeStats], E, R> =>
  Effect.flatMap(Effect.context<R>(), (outer) => {
    let now = 0
    let seq = 0
    const heap = new Heap()
    const tasks: Array<() => void> = []
    const scheduler: Scheduler.Scheduler = {
      executionMode: "sync",
      // a fiber runs until it suspends: there is no one else to be fair to
      shouldYield: () => false,
      makeDispatcher: () => ({
        scheduleTask: (task) => void tasks.push(task),
        flush: drain
      })
    }
    function drain() {
      // index loop: tasks queue more tasks while we run them
      for (let i = 0; i < tasks.length; i++) tasks[i]!()
      tasks.length = 0
    }
    const nanos = () => BigInt(Math.round(now * 1_000_000))
    const clock: Clock.Clock = {
      currentTimeMillisUnsafe: () => now,
      currentTimeMillis: Effect.sync(() => now),
      currentTimeNanosUnsafe: nanos,
      currentTimeNanos: Effect.sync(nanos),
      monotonicTimeNanosUnsafe: nanos,
      monotonicTimeNanos: Effect.sync(nanos),
      sleep: (duration: Duration.Duration) => {
        const millis = Duration.toMillis(duration)
        if (!(millis > 0)) return Effect.yieldNow
        return Effect.callback<void>((resume) => {
          const sleeper: Sleeper = { at: now + millis, seq: seq++, resume }
          heap.push(sleeper)
          // an interrupted sleep stays in the heap, disarmed
          return Effect.sync(() => {
            sleeper.resume = undefined
          })
        })
      }
    }
    const context = Context.add(outer, Clock.Clock, clock)
    const fiber = Effect.runForkWith(context)(effect, { scheduler })
    let instants = 0
    let wakes = 0
    for (;;) {
      drain()
      if (fiber.pollUnsafe() !== undefined) break
      const next = heap.pop()
      if (next === undefined) {
        return Effect.die(new Error("virtual time: the program waits on something other than time"))
      }
      now = next.at
      let woke = 0
      for (let s: Sleeper | undefined = next; s !== undefined; s = heap.peek()?.at === now ? heap.pop() : undefined) {
        if (s.resume !== undefined) {
          s.resume(Effect.void)
          woke++
        }
      }
      if (woke > 0) instants++
      wakes += woke
    }
    const exit = fiber.pollUnsafe()!
    const stats: VirtualTimeStats = { instants, wakes, elapsed: now }
    return Exit.map(exit, (a): [A, VirtualTimeStats] => [a, stats])
  })

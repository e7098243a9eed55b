/**
 * Bulkhead machinery: the admission decisions as pure functions over the
 * counters, and the waiting line they act on.
 *
 * How the permits move. A call that finds a free permit takes it (one
 * counter update). A call that finds none joins the line: a node appended to
 * an intrusive doubly linked list, on which its fiber parks. A finishing call
 * hands its permit straight to the first node (it never becomes free, so no
 * newcomer can overtake a waiter) and wakes that node's fiber. Appending,
 * handing over and removing an interrupted or timed-out waiter are each O(1):
 * nothing scans the line and nothing is copied.
 *
 * Why the state is not in a `Ref`: the counters and the line change together
 * in every decision (admit, hand over, leave), and the line is a linked list
 * of the waiting fibers' latches, which an immutable snapshot in a `Ref`
 * could only hold by copying it on every change (O(n)). So one closure-owned
 * {@link Line} holds both, each decision is one synchronous step over it, and
 * the decisions themselves are pure functions of the counters ({@link admit},
 * {@link release}, {@link leave}), tested directly.
 *
 * Each waiter's node walks one way through three phases: `Waiting` (in the
 * line), `Granted` (handed a permit, not yet running), `Running`; or leaves
 * the line (`Gone`) when it is interrupted or times out. The exit hook of the
 * waiter reads the phase, so a permit handed to a waiter that is interrupted
 * before it runs is passed on, never lost.
 */
import { Effect } from "effect"
import type { BulkheadStats } from "../Bulkhead.ts"

export interface Config {
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueue: number
  /** Milliseconds; `Infinity` when waiters never time out. */
  readonly queueTimeoutMillis: number
}

export interface State {
  /** Calls holding a permit: running, or handed one and about to run. */
  readonly running: number
  /** Callers waiting in the line. */
  readonly queued: number
  /** Calls rejected so far (full or queue timeout). */
  readonly rejected: number
}

export const initial: State = { running: 0, queued: 0, rejected: 0 }

export type Admission = "run" | "wait" | "reject"

/**
 * A new call: it runs when a permit is free, waits when the line has room,
 * else is rejected. A permit is never free while someone waits (a finishing
 * call hands it to the first waiter), so running at once never overtakes.
 */
export const admit = (s: State, c: Config): readonly [Admission, State] =>
  s.running < c.maxConcurrent
    ? ["run", { running: s.running + 1, queued: s.queued, rejected: s.rejected }]
    : s.queued < c.maxQueue
    ? ["wait", { running: s.running, queued: s.queued + 1, rejected: s.rejected }]
    : ["reject", { running: s.running, queued: s.queued, rejected: s.rejected + 1 }]

export type Release = "hand-over" | "free"

/** A permit comes back: to the first waiter if there is one (it stays taken), else it is free. */
export const release = (s: State): readonly [Release, State] =>
  s.queued > 0
    ? ["hand-over", { running: s.running, queued: s.queued - 1, rejected: s.rejected }]
    : ["free", { running: s.running - 1, queued: s.queued, rejected: s.rejected }]

/** A waiter left the line without a permit (interrupted, or timed out when `timedOut`). */
export const leave = (s: State, timedOut: boolean): State => ({
  running: s.running,
  queued: s.queued - 1,
  rejected: timedOut ? s.rejected + 1 : s.rejected
})

export const stats = (s: State, c: Config): BulkheadStats => ({
  active: s.running,
  queued: s.queued,
  available: c.maxConcurrent - s.running,
  rejected: s.rejected,
  maxConcurrent: c.maxConcurrent,
  maxQueue: c.maxQueue
})

const Waiting = 0
const Granted = 1
const Running = 2
const Gone = 3
type Phase = typeof Waiting | typeof Granted | typeof Running | typeof Gone

/** One waiter: a node of the line and the latch its fiber parks on. */
interface Waiter {
  prev: Waiter | undefined
  next: Waiter | undefined
  phase: Phase
  /** Set once the fiber has parked; a permit handed over before that is seen when it parks. */
  resume: ((effect: Effect.Effect<void>) => void) | undefined
}

/**
 * Resumes a parked waiter on the next tick of the releasing fiber's
 * dispatcher, as `Semaphore` does: not inline, where a line of calls that
 * finish synchronously would nest one fiber's run loop inside the previous
 * one's, and not through `Effect.yieldNow`, which would suspend the waiter a
 * second time. A waiter interrupted before the tick ignores the resume, and
 * its exit passes the permit on.
 */
const wake = (resume: (effect: Effect.Effect<void>) => void): Effect.Effect<void> =>
  Effect.withFiber((fiber) => {
    fiber.currentDispatcher.scheduleTask(() => resume(Effect.void), 0)
    return Effect.void
  })

/** The counters and the FIFO line of waiters, changed together (see the module note). */
export class Line {
  state: State = initial
  private head: Waiter | undefined = undefined
  private tail: Waiter | undefined = undefined

  /** Appends a waiter (already counted in `queued` by {@link admit}). */
  push(): Waiter {
    const waiter: Waiter = { prev: this.tail, next: undefined, phase: Waiting, resume: undefined }
    if (this.tail === undefined) this.head = waiter
    else this.tail.next = waiter
    this.tail = waiter
    return waiter
  }

  /** Takes a waiter out of the line, wherever it is. */
  unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.head = waiter.next
    else waiter.prev.next = waiter.next
    if (waiter.next === undefined) this.tail = waiter.prev
    else waiter.next.prev = waiter.prev
    waiter.prev = waiter.next = undefined
  }

  /**
   * A permit comes back: it goes to the first waiter, or becomes free. Returns
   * the effect that wakes the waiter, when there is one to wake.
   */
  release(): Effect.Effect<void> | undefined {
    const [decision, next] = release(this.state)
    this.state = next
    if (decision === "free") return undefined
    const waiter = this.head!
    this.unlink(waiter)
    waiter.phase = Granted
    const resume = waiter.resume
    if (resume === undefined) return undefined // not parked yet: it sees `Granted` when it parks
    waiter.resume = undefined
    return wake(resume)
  }

  /** A waiter's fiber parks until it is handed a permit. */
  park(waiter: Waiter): Effect.Effect<void> {
    return Effect.callback<void>((resume) => {
      if (waiter.phase === Waiting) waiter.resume = resume
      else resume(Effect.void)
    })
  }
}

export type Reason = "full" | "queue-timeout"

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<BulkheadStats>
}

/**
 * Builds the executor. `reject` builds the rejection (its error and event);
 * it is given by the public module, which owns the error type.
 */
export const make = <E>(config: Config, reject: (reason: Reason) => Effect.Effect<never, E>): Executor<E> => {
  const line = new Line()
  const full = reject("full")
  const timedOut = reject("queue-timeout")
  const timeoutMillis = config.queueTimeoutMillis

  const onRunExit = () => line.release()

  const waitThenRun = <A, E1, R>(
    self: Effect.Effect<A, E1, R>,
    restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>
  ): Effect.Effect<A, E1 | E, R> => {
    const waiter = line.push()
    const park = line.park(waiter)
    const wait = timeoutMillis === Infinity ? park : Effect.timeoutOption(park, timeoutMillis)
    return Effect.onExitPrimitive(
      // Whatever the wait returned, the phase decides: a permit handed over
      // as the timer fired is used, not dropped.
      Effect.flatMap(restore(wait), (): Effect.Effect<A, E1 | E, R> => {
        if (waiter.phase === Granted) {
          waiter.phase = Running
          return restore(self)
        }
        line.unlink(waiter)
        waiter.phase = Gone
        line.state = leave(line.state, true)
        return timedOut
      }),
      () => {
        switch (waiter.phase) {
          case Waiting: // interrupted in the line
            line.unlink(waiter)
            waiter.phase = Gone
            line.state = leave(line.state, false)
            return undefined
          case Granted: // interrupted after a permit was handed over, before running: pass it on
          case Running:
            waiter.phase = Gone
            return line.release()
          case Gone:
            return undefined
        }
      },
      true
    )
  }

  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>): Effect.Effect<A, E1 | E, R> =>
    Effect.uninterruptibleMask((restore) => {
      const [admission, next] = admit(line.state, config)
      line.state = next
      switch (admission) {
        case "run":
          return Effect.onExitPrimitive(restore(self), onRunExit, true)
        case "wait":
          return waitThenRun(self, restore)
        case "reject":
          return full
      }
    })

  return { execute, stats: Effect.sync(() => stats(line.state, config)) }
}

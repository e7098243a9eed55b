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
 * the decisions themselves are pure functions of the counters
 * ({@link admission}, {@link releaseTo}), tested directly.
 *
 * The limits can change under load ({@link Line.reconfigure}, for
 * `Policy.reconfigure`): the config is a field of the same closure-owned
 * line, for the same reason (a raised limit and the waiters it admits change
 * together, in one step). A raised `maxConcurrent` serves the line at once; a
 * lowered one takes no permit back: finishing calls free their permits
 * (handing none over) until fewer than the new limit run. A lowered
 * `maxQueue` drops no waiter: it applies to new arrivals.
 *
 * Each waiter's node walks one way: `Waiting` (in the line), `Granted`
 * (handed a permit: about to run, or running), `Gone` (its permit given back,
 * or it left the line, interrupted or timed out). The exit hook of the waiter
 * reads the phase, so a permit handed to a waiter that is interrupted before
 * it runs is passed on, never lost.
 */
import { Effect, Fiber } from "effect"
import type { BulkheadOptions, BulkheadStats } from "../Bulkhead.ts"
import { attached } from "./attached.ts"
import * as defaults from "./defaults.ts"
import * as validate from "./validate.ts"

export interface Config {
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueue: number
  /** Milliseconds; `Infinity` when waiters never time out. */
  readonly queueTimeoutMillis: number
}

export interface Counts {
  /** Calls holding a permit: running, or handed one and about to run. */
  readonly running: number
  /** Callers waiting in the line. */
  readonly queued: number
  /** Calls rejected so far (full or queue timeout). */
  readonly rejected: number
}

export type Admission = "run" | "wait" | "reject"

/**
 * A new call: it runs when a permit is free, waits when the line has room,
 * else is rejected. A permit is never free while someone waits (a finishing
 * call hands it to the first waiter), so running at once never overtakes.
 */
export const admission = (s: Counts, c: Config): Admission =>
  s.running < c.maxConcurrent ? "run" : s.queued < c.maxQueue ? "wait" : "reject"

export type Release = "hand-over" | "free"

/**
 * A permit comes back: to the first waiter if there is one (it stays taken),
 * else it becomes free. After the limit was lowered below the calls running,
 * it becomes free even with waiters, until fewer than the new limit run.
 */
export const releaseTo = (s: Counts, c: Config): Release =>
  s.queued > 0 && s.running <= c.maxConcurrent ? "hand-over" : "free"

export const stats = (s: Counts, c: Config): BulkheadStats => ({
  active: s.running,
  queued: s.queued,
  // below zero only while a lowered limit waits for running calls to finish
  available: Math.max(0, c.maxConcurrent - s.running),
  rejected: s.rejected,
  maxConcurrent: c.maxConcurrent,
  maxQueue: c.maxQueue
})

const Waiting = 0
const Granted = 1
const Gone = 2
type Phase = typeof Waiting | typeof Granted | typeof Gone

type Resume = (effect: Effect.Effect<any, any, any>) => void

/** One waiter: a node of the line and the latch its fiber parks on. */
interface Waiter {
  prev: Waiter | undefined
  next: Waiter | undefined
  phase: Phase
  /** Set once the fiber has parked; a permit handed over before that is seen when it parks. */
  resume: Resume | undefined
  /**
   * What the fiber resumes with when woken: the call itself (no separate
   * step after the wait), or `Effect.void` when the wait is timed.
   */
  readonly then: Effect.Effect<any, any, any>
  /** The waiting fiber, for a wait without a timeout (see {@link Line.parkUntimed}). */
  readonly fiber: Fiber.Fiber<unknown, unknown> | undefined
}

/** The counters and the FIFO line of waiters, changed together (see the module note). */
export class Line implements Counts {
  running = 0
  queued = 0
  rejected = 0
  private head: Waiter | undefined = undefined
  private tail: Waiter | undefined = undefined
  private toWake: Array<Waiter> = []
  private wakeScheduled = false
  /** Fibers waiting without a timeout, until resumed or gone (see {@link Line.parkUntimed}). */
  private readonly untimed = new Map<Fiber.Fiber<unknown, unknown>, Waiter>()

  constructor(public config: Config) {}

  /** Decides a new call's admission and counts it. */
  admit(): Admission {
    const decision = admission(this, this.config)
    if (decision === "run") this.running++
    else if (decision === "wait") this.queued++
    else this.rejected++
    return decision
  }

  /**
   * Appends a waiter (already counted by {@link admit}) that resumes with
   * `then` when served; with `fiber`, one waiting without a timeout.
   */
  push(then: Effect.Effect<any, any, any>, fiber?: Fiber.Fiber<unknown, unknown>): Waiter {
    const waiter: Waiter = { prev: this.tail, next: undefined, phase: Waiting, resume: undefined, then, fiber }
    if (fiber !== undefined) this.untimed.set(fiber, waiter)
    if (this.tail === undefined) this.head = waiter
    else this.tail.next = waiter
    this.tail = waiter
    return waiter
  }

  /** A waiter leaves the line without a permit: interrupted, or timed out (then counted as rejected). */
  leave(waiter: Waiter, timedOut: boolean): void {
    if (waiter.prev === undefined) this.head = waiter.next
    else waiter.prev.next = waiter.next
    if (waiter.next === undefined) this.tail = waiter.prev
    else waiter.next.prev = waiter.prev
    waiter.prev = waiter.next = undefined
    waiter.phase = Gone
    this.queued--
    if (timedOut) this.rejected++
  }

  /** A permit comes back: it goes to the first waiter, or becomes free. */
  release(): void {
    if (releaseTo(this, this.config) === "free") {
      this.running--
      return
    }
    this.grantFirst()
  }

  /** New limits (validated by the caller); a raised `maxConcurrent` admits waiters now. */
  reconfigure(config: Config): void {
    this.config = config
    while (this.running < config.maxConcurrent && this.queued > 0) {
      this.running++
      this.grantFirst()
    }
  }

  /** Hands a taken permit to the first waiter and wakes it. */
  private grantFirst(): void {
    const waiter = this.head!
    this.head = waiter.next
    if (this.head === undefined) this.tail = undefined
    else this.head.prev = undefined
    waiter.next = undefined
    waiter.phase = Granted
    this.queued--
    if (waiter.resume === undefined) return // not parked yet: it sees `Granted` when it parks
    this.wake(waiter)
  }

  /**
   * Resumes parked waiters handed a permit on the next tick of the releasing
   * fiber's dispatcher, all those of one tick in one task, as `Semaphore`
   * wakes its waiters: not inline, where a line of calls that finish
   * synchronously would nest one fiber's run loop inside the previous one's.
   * A waiter interrupted before the tick ignores the resume; its exit passes
   * the permit on.
   */
  private wake(waiter: Waiter): void {
    this.toWake.push(waiter)
    if (this.wakeScheduled) return
    this.wakeScheduled = true
    const fiber = Fiber.getCurrent()
    if (fiber === undefined) this.drain()
    else fiber.currentDispatcher.scheduleTask(this.drain, 0)
  }

  private readonly drain = (): void => {
    const batch = this.toWake
    this.toWake = []
    this.wakeScheduled = false
    for (let i = 0; i < batch.length; i++) {
      const waiter = batch[i]!
      const resume = waiter.resume!
      waiter.resume = undefined
      this.resumed(waiter)
      resume(waiter.then)
    }
  }

  /** A waiter's fiber parks until it is handed a permit, then goes on with its `then`. */
  park<A, E, R>(waiter: Waiter): Effect.Effect<A, E, R> {
    return Effect.callback<A, E, R>((resume) => {
      if (waiter.phase === Waiting) waiter.resume = resume
      else resume(waiter.then)
    })
  }

  /**
   * A wait without a timeout, the same for every waiter: its waiter is found
   * by the fiber running it, so a parked call costs its node and one map
   * entry instead of a park, an exit hook, an interruptible region and their
   * closures of its own (about 300 bytes less per queued call). The entry
   * lives while the fiber waits: it goes when the fiber is resumed with its
   * permit, so a call that waits again inside its own run (the same fiber,
   * the same line) has its own entry, and an exit that finds none is that of
   * a call that was running.
   */
  private readonly parkUntimed = Effect.callback<any, any, any>((resume) => {
    const waiter = this.untimed.get(Fiber.getCurrent()!)!
    if (waiter.phase === Waiting) {
      waiter.resume = resume
      return
    }
    this.resumed(waiter)
    resume(waiter.then)
  })

  private readonly exitUntimed = (): undefined => {
    const fiber = Fiber.getCurrent()!
    const waiter = this.untimed.get(fiber)
    if (waiter === undefined) return this.exitRunning()
    this.untimed.delete(fiber)
    return this.exit(waiter)
  }

  /** The untimed wait under `restore` (one of two: the caller's fiber was interruptible or not), built once. */
  private readonly untimedWaits = new Map<unknown, Effect.Effect<any, any, any>>()

  waitUntimed<A, E, R>(restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>): Effect.Effect<A, E, R> {
    let wait = this.untimedWaits.get(restore)
    if (wait === undefined) {
      wait = Effect.onExitPrimitive(restore(this.parkUntimed), this.exitUntimed, true)
      this.untimedWaits.set(restore, wait)
    }
    return wait
  }

  /** A waiter woken with its permit leaves the untimed map (unless it left already, interrupted). */
  private resumed(waiter: Waiter): void {
    if (waiter.fiber !== undefined && this.untimed.get(waiter.fiber) === waiter) this.untimed.delete(waiter.fiber)
  }

  /** The exit of a call that ran with a permit. */
  exitRunning(): undefined {
    this.release()
    return undefined
  }

  /**
   * The exit of a call that waited: give back what it holds, wherever it got
   * to. (Its hook is an inline arrow, not a named one: under tsx/esbuild's
   * `keepNames` a named closure made per call also gets a `name` property
   * store, 256 bytes per parked waiter.)
   */
  exit(waiter: Waiter): undefined {
    if (waiter.phase === Waiting) {
      this.leave(waiter, false) // interrupted in the line
    } else if (waiter.phase === Granted) {
      // ran, or was interrupted after a permit was handed over and before running: pass it on
      waiter.phase = Gone
      this.release()
    }
    return undefined
  }

  isGranted(waiter: Waiter): boolean {
    return waiter.phase === Granted
  }
}

export type Reason = "full" | "queue-timeout"

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<BulkheadStats>
  /** The limits in force. */
  readonly config: () => Config
  /** Puts new limits in force (see {@link Line.reconfigure}). */
  readonly reconfigure: (config: Config) => void
}

/** The options checked, with their defaults: what `Bulkhead.make` builds and `Policy.reconfigure` puts in force. */
export const configOf = (options: BulkheadOptions): Config => {
  const source = "Bulkhead.make"
  validate.options(source, "options", options, true)
  return {
    name: validate.nonEmptyName(source, "name", options.name ?? defaults.bulkhead.name),
    maxConcurrent: validate.positiveInt(source, "maxConcurrent", options.maxConcurrent),
    maxQueue: validate.nonNegativeInt(source, "maxQueue", options.maxQueue ?? defaults.bulkhead.maxQueue),
    queueTimeoutMillis: options.queueTimeout === undefined
      ? Infinity
      : validate.positiveDurationOrInfinityMillis(source, "queueTimeout", options.queueTimeout)
  }
}

/** The executor behind each public bulkhead, for `Policy.reconfigure`. */
export const executors = attached<Executor<unknown>>("effect-resilience/Bulkhead/executor")

/**
 * Builds the executor. `reject` builds the rejection (its error and event);
 * it is given by the public module, which owns the error type.
 */
export const make = <E>(config: Config, reject: (reason: Reason) => Effect.Effect<never, E>): Executor<E> => {
  const line = new Line(config)
  const full = reject("full")
  const timedOut = reject("queue-timeout")

  const onRunExit = (): undefined => line.exitRunning()

  // Interruptible while parked and while running; the exit hook reads the
  // waiter's phase, so whatever point an interruption lands on, the line and
  // the permit are put right.
  const waitThenRun = <A, E1, R>(
    self: Effect.Effect<A, E1, R>,
    restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>
  ): Effect.Effect<A, E1 | E, R> => {
    const timeoutMillis = line.config.queueTimeoutMillis
    if (timeoutMillis === Infinity) {
      // woken with the call itself
      line.push(self, Fiber.getCurrent())
      return line.waitUntimed(restore)
    }
    const waiter = line.push(Effect.void)
    return Effect.onExitPrimitive(
      // Whatever the timed wait returned, the phase decides: a permit handed
      // over as the timer fired is used, not dropped.
      Effect.flatMap(restore(Effect.timeoutOption(line.park<void, never, never>(waiter), timeoutMillis)), (): Effect.Effect<A, E1 | E, R> => {
        if (line.isGranted(waiter)) return restore(self)
        line.leave(waiter, true)
        return timedOut
      }),
      () => line.exit(waiter),
      true
    )
  }

  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>): Effect.Effect<A, E1 | E, R> =>
    Effect.uninterruptibleMask((restore) => {
      switch (line.admit()) {
        case "run":
          return Effect.onExitPrimitive(restore(self), onRunExit, true)
        case "wait":
          return waitThenRun(self, restore)
        case "reject":
          return full
      }
    })

  return {
    execute,
    stats: Effect.sync(() => stats(line, line.config)),
    config: () => line.config,
    reconfigure: (next) => line.reconfigure(next)
  }
}

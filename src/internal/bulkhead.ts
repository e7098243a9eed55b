/**
 * Bulkhead machinery: a pure admission state machine, and the executor that
 * runs it against a `Semaphore`.
 *
 * How the permits move. The bulkhead owns `maxConcurrent` permits. While
 * nobody waits, a call that finds a free permit takes it from the bulkhead's
 * own pool in one synchronous state update (no semaphore round trip: this is
 * the success path, and it is as cheap as `Semaphore.withPermit`). As soon as
 * a caller has to wait, it parks in the `Semaphore`, which is the FIFO waiting
 * line: a finishing call that sees an unserved waiter lends its permit to the
 * semaphore (`release(1)`) instead of returning it to the pool, and the
 * semaphore hands it to the first waiter. Waiters take their permit with
 * `takeScoped`, so a permit taken and a release registered are one
 * uninterruptible step: an interrupted or timed-out waiter can never keep one.
 * A permit lent with nobody left to claim it is taken back (`takeIfAvailable`)
 * by whoever notices (a leaving waiter, a finishing waiter).
 *
 * The counters live in one `Ref`, updated synchronously inside uninterruptible
 * regions, so each decision is atomic. They are kept conservative: a permit
 * moving between the pool and the semaphore is counted as in use until the
 * move is done, so the pool never hands out more than `maxConcurrent`.
 */
import { Effect, type Exit, Option, Ref, Scheduler, Scope, Semaphore } from "effect"
import type { BulkheadStats } from "../Bulkhead.ts"

export interface Config {
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueue: number
  /** Milliseconds; `Infinity` when waiters never time out. */
  readonly queueTimeoutMillis: number
}

export interface State {
  /** Calls running, each holding a permit. */
  readonly running: number
  /** Callers admitted to wait and not yet running. */
  readonly queued: number
  /** Permits lent to the semaphore: free there, or taken by a waiter that has not started yet. */
  readonly lent: number
  /** Calls rejected so far (full or queue timeout). */
  readonly rejected: number
}

export const initial: State = { running: 0, queued: 0, lent: 0, rejected: 0 }

export type Admission = "run" | "wait" | "lend" | "reject"

/**
 * A new call. It runs at once when nobody waits and the pool has a permit.
 * When others wait, it joins the line behind them (FIFO): covered by a lent
 * permit nobody has claimed yet, or by one it lends from the pool itself
 * (`lend`: the pool has a free permit, so it must not sit idle while someone
 * waits), or uncovered if the line is shorter than `maxQueue`. Otherwise it is
 * rejected.
 */
export const admit = (s: State, c: Config): readonly [Admission, State] => {
  const poolFree = c.maxConcurrent - s.running - s.lent
  if (s.queued === 0 && poolFree > 0) {
    return ["run", { running: s.running + 1, queued: s.queued, lent: s.lent, rejected: s.rejected }]
  }
  if (s.queued < s.lent) {
    return ["wait", { running: s.running, queued: s.queued + 1, lent: s.lent, rejected: s.rejected }]
  }
  if (poolFree > 0) {
    return ["lend", { running: s.running, queued: s.queued + 1, lent: s.lent + 1, rejected: s.rejected }]
  }
  if (s.queued - s.lent < c.maxQueue) {
    return ["wait", { running: s.running, queued: s.queued + 1, lent: s.lent, rejected: s.rejected }]
  }
  return ["reject", { running: s.running, queued: s.queued, lent: s.lent, rejected: s.rejected + 1 }]
}

/** A waiter got its permit from the semaphore and starts. */
export const start = (s: State): State => ({
  running: s.running + 1,
  queued: s.queued - 1,
  lent: s.lent - 1,
  rejected: s.rejected
})

/** A waiter left the line without running (interrupted, or timed out when `timedOut`). */
export const leave = (s: State, timedOut: boolean): State => ({
  running: s.running,
  queued: s.queued - 1,
  lent: s.lent,
  rejected: timedOut ? s.rejected + 1 : s.rejected
})

export type Release = "pool" | "lend"

/**
 * A call that took its permit from the pool finished: the permit goes to the
 * semaphore when a waiter has none coming, else back to the pool.
 */
export const finishFromPool = (s: State): readonly [Release, State] =>
  s.queued > s.lent
    ? ["lend", { running: s.running - 1, queued: s.queued, lent: s.lent + 1, rejected: s.rejected }]
    : ["pool", { running: s.running - 1, queued: s.queued, lent: s.lent, rejected: s.rejected }]

/** A call that took its permit from the semaphore finished: the permit goes back to the semaphore. */
export const finishFromLine = (s: State): State => ({
  running: s.running - 1,
  queued: s.queued,
  lent: s.lent + 1,
  rejected: s.rejected
})

/** Lent permits nobody waits for, to take back into the pool. */
export const unclaimed = (s: State): number => Math.max(0, s.lent - s.queued)

/** One unclaimed permit was taken back into the pool. */
export const reclaimed = (s: State): State => ({
  running: s.running,
  queued: s.queued,
  lent: s.lent - 1,
  rejected: s.rejected
})

/** Permits reserved for a waiter that has not started are not available. */
export const stats = (s: State, c: Config): BulkheadStats => ({
  active: s.running,
  queued: s.queued,
  available: c.maxConcurrent - s.running - Math.min(s.lent, s.queued),
  rejected: s.rejected,
  maxConcurrent: c.maxConcurrent,
  maxQueue: c.maxQueue
})

export type Reason = "full" | "queue-timeout"

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<BulkheadStats>
  readonly state: Ref.Ref<State>
}

const states = new WeakMap<object, Ref.Ref<State>>()

/** Remembers the counters behind a bulkhead, for {@link stateOf}. */
export const register = (bulkhead: object, state: Ref.Ref<State>): void => void states.set(bulkhead, state)

/** For tests: the raw counters behind a bulkhead. */
export const stateOf = (bulkhead: object): State | undefined => states.get(bulkhead)?.ref.current

/**
 * Runs a few operations with scheduler yields disabled, so that no other
 * fiber runs between them: a counter update and the semaphore operation it
 * describes then happen as one step.
 */
const atomically = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, Scheduler.PreventSchedulerYield, true)

/**
 * Builds the executor. `reject` builds the rejection (its error and event);
 * it is given by the public module, which owns the error type.
 */
export const make = <E>(
  config: Config,
  reject: (reason: Reason) => Effect.Effect<never, E>
): Effect.Effect<Executor<E>> =>
  Effect.gen(function*() {
    const line = yield* Semaphore.make(config.maxConcurrent)
    // Every permit starts in the pool; the semaphore only holds lent ones.
    yield* line.take(config.maxConcurrent)
    const state = Ref.makeUnsafe(initial)
    const full = reject("full")
    const timedOut = reject("queue-timeout")

    // Lends a permit already counted in `lent`, unless the waiters it was for
    // left in the meantime: then it stays in the pool.
    const lend = atomically(Effect.suspend(() => {
      if (unclaimed(state.ref.current) > 0) {
        state.ref.current = reclaimed(state.ref.current)
        return Effect.void
      }
      return Effect.asVoid(line.release(1))
    }))

    // Takes lent permits nobody waits for back into the pool.
    const reclaim: Effect.Effect<void> = atomically(Effect.suspend(() =>
      unclaimed(state.ref.current) === 0
        ? Effect.void
        : Effect.flatMap(line.takeIfAvailable(1), (taken) => {
          if (!taken) return Effect.void
          state.ref.current = reclaimed(state.ref.current)
          return reclaim
        })
    ))

    const onPoolExit = (): Effect.Effect<void> | undefined => {
      const [release, next] = finishFromPool(state.ref.current)
      state.ref.current = next
      return release === "lend" ? lend : undefined
    }

    const acquire = line.takeScoped(1)
    const timeoutMillis = config.queueTimeoutMillis

    const waitThenRun = <A, E1, R>(
      self: Effect.Effect<A, E1, R>,
      restore: <AX, EX, RX>(effect: Effect.Effect<AX, EX, RX>) => Effect.Effect<AX, EX, RX>
    ): Effect.Effect<A, E1 | E, R> => {
      const scope = Scope.makeUnsafe()
      // 0: waiting, 1: running, 2: left the line (timed out)
      let phase = 0
      const take = Scope.provide(acquire, scope)
      const wait: Effect.Effect<boolean> = timeoutMillis === Infinity
        ? Effect.as(take, true)
        : Effect.map(Effect.timeoutOption(take, timeoutMillis), Option.isSome)
      return Effect.onExitPrimitive(
        Effect.flatMap(restore(wait), (acquired): Effect.Effect<A, E1 | E, R> => {
          if (!acquired) {
            phase = 2
            state.ref.current = leave(state.ref.current, true)
            return timedOut
          }
          phase = 1
          state.ref.current = start(state.ref.current)
          return restore(self)
        }),
        (exit) => {
          if (phase === 0) state.ref.current = leave(state.ref.current, false)
          else if (phase === 1) state.ref.current = finishFromLine(state.ref.current)
          // Returns the permit to the semaphore, if this caller holds one.
          const close = Scope.close(scope, exit as Exit.Exit<unknown, unknown>)
          return unclaimed(state.ref.current) === 0 ? close : Effect.andThen(close, reclaim)
        },
        true
      )
    }

    const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>): Effect.Effect<A, E1 | E, R> =>
      Effect.uninterruptibleMask((restore) => {
        const [admission, next] = admit(state.ref.current, config)
        state.ref.current = next
        switch (admission) {
          case "run":
            return Effect.onExitPrimitive(restore(self), onPoolExit, true)
          case "wait":
            return waitThenRun(self, restore)
          case "lend":
            return Effect.andThen(lend, waitThenRun(self, restore))
          case "reject":
            return full
        }
      })

    return {
      execute,
      stats: Effect.sync(() => stats(state.ref.current, config)),
      state
    }
  })

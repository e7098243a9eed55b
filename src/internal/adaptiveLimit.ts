/**
 * Adaptive limiter machinery: the algorithms behind one interface (pure
 * machines, `(state, sample) => state`), and the executor.
 *
 * Why the executor's state is not in a `Ref`: admission and release run
 * inside the call's exit frame, synchronously (a slot is taken only after
 * its release is registered, so no in-flight slot can leak, and no
 * uninterruptible region is paid for). `Ref` has no public synchronous
 * write, and going through `Ref.modify` would add two effects to every call.
 * So one closure-owned {@link Slots} holds the limit, the in-flight count,
 * the rejections and the algorithm's state, as the bulkhead's `Line` does;
 * every limit decision is the algorithm's pure step, tested directly.
 */
import { Clock, Context, Effect, type Exit } from "effect"
import { ClockCache } from "./clockCache.ts"
import * as Aimd from "./adaptiveLimitAimd.ts"
import * as Gradient2 from "./adaptiveLimitGradient2.ts"
import type { Sample } from "./adaptiveLimitSample.ts"
import * as Window from "./adaptiveLimitWindow.ts"
import { answerOf, IGNORED, REFUSED } from "./exitAnswer.ts"

export type { Sample }

export type Algorithm =
  | { readonly _tag: "Aimd"; readonly config: Aimd.Config; readonly window: Window.Config }
  | { readonly _tag: "Gradient2"; readonly config: Gradient2.Config; readonly window: Window.Config }

/** One algorithm as a machine over an opaque state. */
export interface Machine<S> {
  readonly initial: S
  readonly update: (state: S, sample: Sample) => S
  readonly limit: (state: S) => number
}

export const machineOf = (algorithm: Algorithm): Machine<unknown> => windowed(algorithm.window, bare(algorithm))

/** Feeds `machine` one sample per window, unless `config.millis` is 0. */
export const windowed = <S>(config: Window.Config, machine: Machine<S>): Machine<unknown> => {
  if (config.millis === 0) return machine as Machine<unknown>
  return {
    initial: Window.initial(machine.initial),
    update: (s, sample) => Window.update(config, machine.update, s as Window.State<S>, sample),
    limit: (s) => machine.limit((s as Window.State<S>).inner)
  }
}

/** An algorithm module (`initial`, `update`, `limit` over its own state) bound to its config. */
const bound = <C, S>(
  algorithm: {
    readonly initial: (config: C) => S
    readonly update: (config: C, state: S, sample: Sample) => S
    readonly limit: (state: S) => number
  },
  config: C
): Machine<unknown> => ({
  initial: algorithm.initial(config),
  update: (s, sample) => algorithm.update(config, s as S, sample),
  limit: (s) => algorithm.limit(s as S)
})

const bare = (algorithm: Algorithm): Machine<unknown> =>
  algorithm._tag === "Aimd" ? bound(Aimd, algorithm.config) : bound(Gradient2, algorithm.config)

export interface Config {
  readonly name: string
  readonly algorithm: Algorithm
  readonly isDropped: (error: unknown) => boolean
}

export interface State {
  readonly algorithm: unknown
  /** The limit applied: a call is admitted while `inFlight < limit`. */
  readonly limit: number
  readonly inFlight: number
  readonly rejected: number
}

export interface Stats {
  readonly limit: number
  readonly inFlight: number
  readonly rejected: number
}

export const stats = (s: State): Stats => ({ limit: s.limit, inFlight: s.inFlight, rejected: s.rejected })

/**
 * Monotonic time in fractional milliseconds: it measures elapsed time
 * whatever the wall clock does, and costs a fraction of the wall-clock
 * nanoseconds (no re-anchoring). As a double it keeps sub-microsecond
 * precision for 100 days of uptime.
 *
 * Effect's default `Clock` reads `process.hrtime.bigint()`; for that clock
 * the same timer (libuv's `uv_hrtime`) is read through `process.hrtime()`,
 * which costs no BigInt allocation and conversion (about 20 ns less per
 * read, two reads per call). The default clock is recognised by identity
 * (the one instance `Clock.Clock` resolves to when no clock is provided), so
 * any other clock, `TestClock` included, is read through its service.
 */
export const defaultClock: Clock.Clock = Context.get(Context.empty(), Clock.Clock)

const hrtime = (globalThis as {
  readonly process?: { readonly hrtime?: { (): [number, number]; readonly bigint?: () => bigint } }
}).process?.hrtime

/** Whether {@link nowMillis} reads the default clock's timer directly (where that clock reads `process.hrtime`). */
export const readsTimerDirectly = typeof hrtime === "function" && typeof hrtime.bigint === "function"

export const nowMillis = (clock: Clock.Clock): number => {
  if (clock === defaultClock && readsTimerDirectly) {
    const time = hrtime!()
    return time[0] * 1e3 + time[1] / 1e6
  }
  return Number(clock.monotonicTimeNanosUnsafe()) / 1e6
}

export interface Executor<E> {
  readonly execute: <A, E1, R>(self: Effect.Effect<A, E1, R>) => Effect.Effect<A, E1 | E, R>
  readonly stats: Effect.Effect<Stats>
}

/** The executor's state, stepped in place by the executor alone (see the module note). */
class Slots implements State {
  inFlight = 0
  rejected = 0
  constructor(public algorithm: unknown, public limit: number) {}
}

/**
 * One call's pass through a limiter. Admission happens inside the
 * `onExitPrimitive` it is released by: the exit handler is registered before
 * the slot is taken, so no interruption can fall between the two, without
 * the cost of an uninterruptible region. A call interrupted before its
 * admission ran, or rejected, has `start < 0` and releases nothing.
 *
 * Why a `Run` is reused: its two effects and their closures are built once,
 * and a call takes a free `Run` (given back by its exit handler) instead of
 * allocating five objects (the two effects, two closures and their shared
 * scope), about 20 ns of a call's 230 (bench/adaptive-limit.bench.ts). The
 * free list holds at most as many runs as were ever in the limiter at once
 * (admitted calls are bounded by the limit).
 */
class Run {
  start = -1
  inFlight = 0
  clock: Clock.Clock = defaultClock
  call: Effect.Effect<unknown, unknown, unknown> = Effect.void
  readonly effect: Effect.Effect<unknown, unknown, unknown>
  constructor(
    admit: (run: Run) => Effect.Effect<unknown, unknown, unknown>,
    release: (run: Run, exit: Exit.Exit<unknown, unknown>) => Effect.Effect<void> | undefined
  ) {
    this.effect = Effect.onExitPrimitive(
      Effect.suspend(() => admit(this)),
      // Not `interruptible`: an interruptible handler is skipped when the fiber is interrupted.
      (exit) => release(this, exit)
    )
  }
}

/**
 * Builds the executor. `reject` builds a rejection (error and event) and
 * `changed` reports a new limit; both are given by the public module, which
 * owns the error and event types.
 */
export const make = <E>(
  config: Config,
  reject: (limit: number, inFlight: number) => Effect.Effect<never, E>,
  changed: (from: number, to: number) => Effect.Effect<void>
): Executor<E> => {
  const machine = machineOf(config.algorithm)
  const slots = new Slots(machine.initial, machine.limit(machine.initial))
  const isDropped = config.isDropped
  const clocks = new ClockCache()

  const settle = (exit: Exit.Exit<unknown, unknown>, clock: Clock.Clock, start: number, inFlight: number) => {
    // Released first: a throwing `isDropped` must not keep the slot.
    slots.inFlight--
    const outcome = answerOf(isDropped, exit)
    if (outcome === IGNORED) return undefined
    const end = nowMillis(clock)
    const algorithm = machine.update(slots.algorithm, { rttMillis: end - start, inFlight, dropped: outcome === REFUSED, atMillis: end })
    // A pure machine's unchanged state has the limit it had (AIMD with nothing
    // to change, a call under the window's minRttMillis): no limit to read.
    if (algorithm === slots.algorithm) return undefined
    const from = slots.limit
    const limit = machine.limit(algorithm)
    slots.algorithm = algorithm
    slots.limit = limit
    return limit === from ? undefined : changed(from, limit)
  }

  const admit = (run: Run): Effect.Effect<unknown, unknown, unknown> => {
    if (slots.inFlight >= slots.limit) {
      slots.rejected++
      return reject(slots.limit, slots.inFlight)
    }
    run.inFlight = ++slots.inFlight
    run.start = nowMillis(run.clock)
    return run.call
  }

  const free: Array<Run> = []
  const release = (run: Run, exit: Exit.Exit<unknown, unknown>) => {
    const { clock, inFlight, start } = run
    // A free run keeps neither the call nor the fiber's clock alive.
    run.call = Effect.void
    run.clock = defaultClock
    free.push(run)
    return start < 0 ? undefined : settle(exit, clock, start, inFlight)
  }

  const execute = <A, E1, R>(self: Effect.Effect<A, E1, R>): Effect.Effect<A, E1 | E, R> =>
    Effect.withFiber((fiber) => {
      const run = free.pop() ?? new Run(admit, release)
      run.start = -1
      run.call = self
      run.clock = clocks.of(fiber)
      return run.effect as Effect.Effect<A, E1 | E, R>
    })

  return { execute, stats: Effect.sync(() => stats(slots)) }
}

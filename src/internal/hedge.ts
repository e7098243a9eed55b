/**
 * The hedging race.
 *
 * Attempt 1 is forked and started at once. When it completes before it
 * suspends (a cached or synchronous answer) the result is returned at once:
 * no timer, no event, no hedge. Otherwise the caller waits on an inbox fed
 * by fiber observers:
 *
 * - `Settled(index, exit)` from every attempt fiber;
 * - `Timer(generation)` from one timer fiber, restarted at every launch, so
 *   that the next hedge starts `delay` after the latest launch.
 *
 * The first success wins. The other attempts (and the timer) are
 * interrupted, and awaited, before the result is handed back, so their
 * finalizers have run by then. A failed attempt launches the next one at
 * once; when every attempt has failed, the last failure's cause is returned.
 *
 * With a budget, every hedged attempt (2, 3, ...) must be granted by it
 * before it starts: a refusal emits `HedgeBudgetDenied` and ends the
 * hedging (the attempts already running go on). The stage that counts the
 * call against the budget (see `budget.ts`) also reports each attempt's
 * outcome to a token budget; an interrupted loser reports nothing.
 *
 * The whole race runs uninterruptibly except its waits, so an interruption of
 * the caller can never fall between forking an attempt and recording it; the
 * `ensuring` finalizer interrupts every live attempt in all cases.
 */
import { type Cause, Duration, Effect, type Exit, Fiber } from "effect"
import { ResilienceEvent } from "../Events.ts"
import type { RetryBudget } from "../Retry.ts"
import * as budgets from "./budget.ts"
import type { Classifier } from "./classify.ts"
import { emit } from "./events.ts"
import * as instrument from "./instrument.ts"

export interface HedgeConfig {
  readonly name: string
  readonly maxAttempts: number
  readonly delayMillis: number
  /** `Effect.sleep(delay)`, built once per policy. */
  readonly sleep: Effect.Effect<void>
  /** Classifies a failed attempt's typed error; none (a race of backends): every failure hedges. */
  readonly classify: Classifier | undefined
  /** Every hedged attempt draws on it (shared with a retry). */
  readonly budget: RetryBudget<unknown> | undefined
}

export const makeConfig = (
  name: string,
  maxAttempts: number,
  delayMillis: number,
  classify: Classifier | undefined,
  budget: RetryBudget<unknown> | undefined
): HedgeConfig => ({
  name,
  maxAttempts,
  delayMillis,
  sleep: Effect.sleep(Duration.millis(delayMillis)),
  classify,
  budget
})

/**
 * A typed failure that is not transient (a 404: the dependency answered)
 * ends the race: another attempt would get the same answer. Defects keep
 * the race going, as before classification.
 */
const isFinal = (classify: Classifier | undefined, cause: Cause.Cause<unknown>): boolean => {
  if (classify === undefined) return false
  for (const reason of cause.reasons) {
    if (reason._tag === "Fail") return classify(reason.error) !== "transient"
  }
  return false
}

/**
 * A failed attempt that costs a token: a transient typed failure, as in
 * gRPC (a defect or an interruption says nothing about the dependency's
 * load).
 */
const isTransientFailure = (classify: Classifier | undefined, cause: Cause.Cause<unknown>): boolean => {
  for (const reason of cause.reasons) {
    if (reason._tag === "Fail") return classify === undefined || classify(reason.error) === "transient"
  }
  return false
}

type Outcomes = RetryBudget["recordOutcome"]

/** What one settled attempt tells a token budget, if it is told anything. */
const report = (outcomes: Outcomes, classify: Classifier | undefined, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> => {
  if (outcomes === undefined) return Effect.void
  if (exit._tag === "Success") return outcomes(true)
  return isTransientFailure(classify, exit.cause) ? outcomes(false) : Effect.void
}

/** A result together with the attempt (1-based) that produced it. */
export interface Won<A> {
  readonly value: A
  readonly attempt: number
}

type Message<A, E> =
  | { readonly _tag: "Settled"; readonly index: number; readonly exit: Exit.Exit<A, E> }
  | { readonly _tag: "Timer"; readonly generation: number }

type Restore = <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>

/**
 * Attempts and the timer are forked detached: the race itself interrupts
 * them (see `cleanup`), and it cannot be interrupted between a fork and its
 * registration, so supervision by the caller's fiber would only add cost.
 */
const fork = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.forkDetach(effect, forkOptions)
const forkOptions = { startImmediately: true } as const

/** Turns the winning value and its attempt number (1-based) into the result. */
export type Project<A, B> = (value: A, attempt: number) => B

export const won = <A>(value: A, attempt: number): Won<A> => ({ value, attempt })
export const valueOnly = <A>(value: A): A => value

/**
 * One race past its first instant. Its mutable state is only touched by the
 * racing fiber and, synchronously, by fiber observers.
 */
class Race<A, E, R, B> {
  readonly live = new Set<Fiber.Fiber<A, E>>()
  readonly inbox: Array<Message<A, E>> = []
  waiter: ((message: Message<A, E>) => void) | undefined = undefined
  timer: Fiber.Fiber<void> | undefined = undefined
  generation = 0
  launched = 1
  settled = 0
  /** The budget refused a hedge: no more are launched. */
  refused = false

  constructor(
    readonly attempt: (index: number) => Effect.Effect<A, E, R>,
    readonly config: HedgeConfig,
    readonly project: Project<A, B>,
    restore: Restore,
    /** Whether `attempt` already opens a span per attempt (an instrumented policy). */
    readonly traced: boolean,
    /** Reports each settled attempt to a token budget, when this race counts the call. */
    readonly outcomes: Outcomes
  ) {
    this.loop = Effect.flatMap(restore(this.next), (message) => this.handle(message))
  }

  push(message: Message<A, E>): void {
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      waiter(message)
    } else {
      this.inbox.push(message)
    }
  }

  observe(fiber: Fiber.Fiber<A, E>, index: number): void {
    this.live.add(fiber)
    fiber.addObserver((exit) => {
      this.live.delete(fiber)
      this.push({ _tag: "Settled", index, exit })
    })
  }

  /**
   * The next message. If the wait is interrupted, the waiter is left in
   * place: `cleanup` then interrupts every attempt, and a message that still
   * reaches the stale waiter resumes nothing.
   */
  readonly next: Effect.Effect<Message<A, E>> = Effect.callback<Message<A, E>>((resume) => {
    const message = this.inbox.shift()
    if (message !== undefined) return resume(Effect.succeed(message))
    this.waiter = (message) => resume(Effect.succeed(message))
  })

  /** Stops the timer. It runs no user code, so there is nothing to wait for. */
  stopTimer(): void {
    const timer = this.timer
    this.timer = undefined
    timer?.interruptUnsafe()
  }

  /** Stops the timer, then interrupts and awaits every attempt still running. */
  readonly cleanup: Effect.Effect<void> = Effect.suspend(() => {
    this.stopTimer()
    return this.live.size === 0 ? Effect.void : Fiber.interruptAll(Array.from(this.live))
  })

  /** (Re)starts the timer for the next hedge, if there is one to launch. */
  startTimer(): Effect.Effect<void> {
    this.stopTimer()
    if (!this.canLaunch() || this.config.delayMillis === 0) return Effect.void
    const generation = ++this.generation
    return Effect.map(
      fork(Effect.andThen(this.config.sleep, Effect.sync(() => this.push({ _tag: "Timer", generation })))),
      (timer) => {
        this.timer = timer
      }
    )
  }

  canLaunch(): boolean {
    return !this.refused && this.launched < this.config.maxAttempts
  }

  /**
   * Launches the next attempt (and, with a zero delay, all the remaining
   * ones), then restarts the timer; with a budget, only if it grants the
   * attempt.
   */
  launch(): Effect.Effect<void, never, R> {
    const budget = this.config.budget
    if (budget === undefined) return this.launchGranted()
    return Effect.flatMap(budget.tryWithdraw, (granted) => {
      if (granted) return this.launchGranted()
      this.refused = true
      this.stopTimer()
      const { name } = this.config
      const attempt = this.launched + 1
      return emit((timestamp) => ResilienceEvent.HedgeBudgetDenied({ name, timestamp, attempt }))
    })
  }

  launchGranted(): Effect.Effect<void, never, R> {
    const index = this.launched++
    const { name } = this.config
    const launched = Effect.andThen(
      emit((timestamp) => ResilienceEvent.HedgeLaunched({ name, timestamp, attempt: index + 1 })),
      Effect.map(
        fork(this.traced ? this.attempt(index) : lateTraced(this.attempt(index), name, index)),
        (fiber) => this.observe(fiber, index)
      )
    )
    if (this.config.delayMillis === 0 && this.canLaunch()) {
      return Effect.andThen(launched, Effect.suspend(() => this.launch()))
    }
    return Effect.andThen(launched, Effect.suspend(() => this.startTimer()))
  }

  /** Waits for the next message (the only interruptible step of the race) and handles it. */
  readonly loop: Effect.Effect<B, E, R>

  handle(message: Message<A, E>): Effect.Effect<B, E, R> {
    if (message._tag === "Timer") {
      if (message.generation !== this.generation || !this.canLaunch()) return this.loop
      this.timer = undefined
      return Effect.andThen(this.launch(), this.loop)
    }
    this.settled++
    const exit = message.exit
    const settled = this.settledWith(message.index, exit)
    return this.outcomes === undefined
      ? settled
      : Effect.andThen(report(this.outcomes, this.config.classify, exit), settled)
  }

  settledWith(index: number, exit: Exit.Exit<A, E>): Effect.Effect<B, E, R> {
    if (exit._tag === "Success") {
      const attempt = index + 1
      const result = this.project(exit.value, attempt)
      if (this.launched === 1) return Effect.succeed(result)
      const { name } = this.config
      return Effect.as(emit((timestamp) => ResilienceEvent.HedgeWon({ name, timestamp, attempt })), result)
    }
    // `cleanup` (the race's `ensuring`) interrupts the attempts still running.
    if (isFinal(this.config.classify, exit.cause)) return Effect.failCause(exit.cause)
    if (this.canLaunch()) return Effect.andThen(this.launch(), Effect.suspend(() => this.afterFailure(exit.cause)))
    return this.afterFailure(exit.cause)
  }

  /** With nothing left to launch, the last attempt to fail ends the race. */
  afterFailure(cause: Cause.Cause<E>): Effect.Effect<B, E, R> {
    return !this.canLaunch() && this.settled >= this.launched ? Effect.failCause(cause) : this.loop
  }
}

/**
 * Runs `attempt(0)`, `attempt(1)`, ... (at most `config.maxAttempts`) as a
 * hedged race, and returns `project(value, attempt)` of the winner. Called
 * once when a combinator is applied; `attempt(i)` is called once per
 * launched attempt (`attempt(0)` once and for all).
 */
export const run = <A, E, R, B>(
  attempt: (index: number) => Effect.Effect<A, E, R>,
  config: HedgeConfig,
  project: Project<A, B>,
  instrumentation?: instrument.Instrumentation
): Effect.Effect<B, E, R> =>
  instrumentation === undefined
    ? race(attempt, config, project, false)
    : race(traced(instrumentation, attempt, config.name), config, project, true)

/** Every attempt in a `resilience.hedge.attempt` span. */
const traced = <A, E, R>(
  instrumentation: instrument.Instrumentation,
  attempt: (index: number) => Effect.Effect<A, E, R>,
  name: string
) =>
(index: number): Effect.Effect<A, E, R> =>
  instrumentation.span(attempt(index), "hedge.attempt", name, { "resilience.attempt": index + 1 })

/**
 * A hedged attempt (2, 3, ...) of a race run without instrumentation: it
 * looks instrumentation up as it starts, so a standalone hedge pays nothing
 * until it hedges.
 */
const lateTraced = <A, E, R>(attempt: Effect.Effect<A, E, R>, name: string, index: number): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => {
    const instrumentation = instrument.of(fiber)
    return instrumentation === undefined
      ? attempt
      : instrumentation.span(attempt, "hedge.attempt", name, { "resilience.attempt": index + 1 })
  })

const race = <A, E, R, B>(
  attempt: (index: number) => Effect.Effect<A, E, R>,
  config: HedgeConfig,
  project: Project<A, B>,
  traced: boolean
): Effect.Effect<B, E, R> => {
  const budget = config.budget
  if (budget === undefined) return racing(attempt, config, project, traced, undefined)
  return budgets.holding(budget, (counting) => racing(attempt, config, project, traced, counting ? budget.recordOutcome : undefined))
}

const racing = <A, E, R, B>(
  attempt: (index: number) => Effect.Effect<A, E, R>,
  config: HedgeConfig,
  project: Project<A, B>,
  traced: boolean,
  outcomes: Outcomes
): Effect.Effect<B, E, R> => {
  const forkFirst = fork(attempt(0))
  return Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(forkFirst, (first) => {
      const exit = first.pollUnsafe()
      if (exit !== undefined && exit._tag === "Success") {
        const result = project(exit.value, 1)
        return outcomes === undefined ? Effect.succeed(result) : Effect.as(outcomes(true), result)
      }
      const race = new Race<A, E, R, B>(attempt, config, project, restore, traced, outcomes)
      race.observe(first, 0)
      const start = config.delayMillis === 0 && config.maxAttempts > 1 ? race.launch() : race.startTimer()
      return Effect.ensuring(Effect.andThen(start, race.loop), race.cleanup)
    })
  )
}

/**
 * A simulated dependency for tests, examples and the demo: a server with a
 * latency, a transient failure rate, windows of (partial) outage, an optional
 * capacity (calls beyond it wait in an unbounded line, as a real overloaded
 * server's do) and a time from which it is healthy again. Draws come from
 * `Random`, times from `Clock`.
 */
import { Clock, Duration, Effect, Random } from "effect"
import type { Distribution, Instant } from "./chaos.ts"
import { delayOf, instantMillis } from "./chaos.ts"
import type { InvalidConfigError } from "../Errors.ts"
import * as defaults from "./defaults.ts"
import { guard, TaggedError } from "./errors.ts"
import * as validate from "./validate.ts"

export type Reason = "failure" | "outage" | "permanent"

export class DependencyError extends TaggedError("DependencyError")<{
  readonly policy: string
  /** 503 for a transient failure or an outage, 400 for a permanent one. */
  readonly status: number
  readonly reason: Reason
}> {
  override get message(): string {
    return `dependency "${this.policy}" failed: ${this.reason} (${this.status})`
  }
}

export const isDependencyError = guard<DependencyError>("DependencyError")

export interface OutageWindow {
  readonly from: Instant
  readonly until?: Instant | undefined
  /** The share of calls that fail during the window; 1 (all) by default. */
  readonly failureRate?: number | undefined
  /** The latency during the window, in place of the usual one. */
  readonly latency?: Duration.Input | Distribution | undefined
}

export interface DependencyOptions<A> {
  readonly name?: string | undefined
  /** Transient failures (503) outside outages. */
  readonly failureRate?: number | undefined
  /** Permanent failures (400): the caller's mistake, not worth a retry. */
  readonly permanentRate?: number | undefined
  readonly latency?: Duration.Input | Distribution | undefined
  readonly outages?: ReadonlyArray<OutageWindow> | undefined
  /** From this instant on, the dependency never fails (latency stays). */
  readonly recoverAt?: Instant | undefined
  /** Calls served at once; the others wait in line (unbounded). */
  readonly capacity?: number | undefined
  /** What a successful call returns (given the call's number, from 1). */
  readonly value?: ((n: number) => A) | undefined
}

export interface DependencyStats {
  /** Calls that reached the dependency. */
  readonly calls: number
  readonly succeeded: number
  readonly failed: number
  readonly inFlight: number
  readonly maxInFlight: number
  /** Calls waiting for capacity now, and at most. */
  readonly queued: number
  readonly maxQueued: number
}

export interface Dependency<A> {
  readonly name: string
  readonly call: Effect.Effect<A, DependencyError>
  readonly stats: Effect.Effect<DependencyStats>
}

interface Waiter {
  state: "waiting" | "granted" | "left"
  readonly resume: (effect: Effect.Effect<void>) => void
}

interface Window {
  readonly from: number
  readonly until: number
  readonly failureRate: number
  readonly latency: Distribution | undefined
}

export const make = <A = number>(options: DependencyOptions<A> = {}): Effect.Effect<Dependency<A>, InvalidConfigError> =>
  Effect.flatMap(validate.attempt(() => prepare(options)), build)

const prepare = <A>(options: DependencyOptions<A>) => {
  const source = "Chaos.dependency"
  const name = validate.nonEmptyName(source, "name", options.name ?? defaults.chaos.dependencyName)
  const failureRate = validate.ratio(source, "failureRate", options.failureRate ?? 0)
  const permanentRate = validate.ratio(source, "permanentRate", options.permanentRate ?? 0)
  if (failureRate + permanentRate > 1) {
    throw validate.invalid(source, "permanentRate", `a number in [0, 1 - failureRate = ${1 - failureRate}]`, permanentRate)
  }
  const latency = delayOf(source, "latency", options.latency ?? 0)
  const windows: ReadonlyArray<Window> = (options.outages ?? []).map((w, i) => {
    const field = `outages[${i}]`
    const from = instantMillis(source, `${field}.from`, w.from)
    const until = instantMillis(source, `${field}.until`, w.until ?? "Infinity")
    if (!(until > from)) throw validate.invalid(source, `${field}.until`, `an instant after from (${from} ms)`, w.until)
    return {
      from,
      until,
      failureRate: validate.ratio(source, `${field}.failureRate`, w.failureRate ?? 1),
      latency: w.latency === undefined ? undefined : delayOf(source, `${field}.latency`, w.latency)
    }
  })
  const recoverAt = options.recoverAt === undefined ? Infinity : instantMillis(source, "recoverAt", options.recoverAt)
  const capacity = options.capacity === undefined
    ? undefined
    : validate.positiveInt(source, "capacity", options.capacity)
  const value = options.value ?? ((n: number) => n as unknown as A)
  return { name, failureRate, permanentRate, latency, windows, recoverAt, capacity, value }
}

const build = <A>(
  { capacity, failureRate, latency, name, permanentRate, recoverAt, value, windows }: ReturnType<typeof prepare<A>>
): Effect.Effect<Dependency<A>> =>
  Effect.sync(() => {
    // plain counters and a FIFO line: each update is one synchronous step of
    // a fiber, so no other fiber can interleave with it; the line is O(1) per
    // call however long it grows (a spike queues tens of thousands)
    const stats = { calls: 0, succeeded: 0, failed: 0, inFlight: 0, maxInFlight: 0, queued: 0, maxQueued: 0 }
    let busy = 0
    const line: Array<Waiter> = []
    let head = 0

    const release = () => {
      while (head < line.length) {
        const next = line[head]!
        line[head++] = undefined as unknown as Waiter
        if (next.state === "waiting") {
          // the slot passes straight to the next in line
          next.state = "granted"
          stats.queued--
          next.resume(Effect.void)
          return
        }
      }
      line.length = 0
      head = 0
      busy--
    }

    const acquire = Effect.callback<void>((resume) => {
      if (busy < capacity!) {
        busy++
        return resume(Effect.void)
      }
      const waiter: Waiter = { state: "waiting", resume }
      line.push(waiter)
      if (++stats.queued > stats.maxQueued) stats.maxQueued = stats.queued
      return Effect.sync(() => {
        if (waiter.state === "waiting") stats.queued--
        else release() // interrupted just as the slot was handed over: pass it on
        waiter.state = "left"
      })
    })

    const serve =
      Effect.fnUntraced(function*(n: number) {
        const now = yield* Clock.currentTimeMillis
        const window = windows.find((w) => now >= w.from && now < w.until)
        const delay = yield* (window?.latency ?? latency)
        if (Duration.toMillis(delay) > 0) yield* Effect.sleep(delay)
        const done = yield* Clock.currentTimeMillis
        if (done < recoverAt) {
          const r = yield* Random.next
          const transient = window === undefined ? failureRate : window.failureRate
          if (r < transient) {
            return yield* Effect.fail(
              new DependencyError({ policy: name, status: 503, reason: window === undefined ? "failure" : "outage" })
            )
          }
          if (r < transient + permanentRate) {
            return yield* Effect.fail(new DependencyError({ policy: name, status: 400, reason: "permanent" }))
          }
        }
        return value(n)
      })

    const call: Effect.Effect<A, DependencyError> = Effect.suspend(() => {
      const n = ++stats.calls
      stats.inFlight++
      if (stats.inFlight > stats.maxInFlight) stats.maxInFlight = stats.inFlight
      const served = capacity === undefined
        ? serve(n)
        : Effect.uninterruptibleMask((restore) =>
          Effect.andThen(restore(acquire), restore(serve(n)).pipe(Effect.ensuring(Effect.sync(release))))
        )
      return served.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            stats.inFlight--
            if (exit._tag === "Success") stats.succeeded++
            else stats.failed++
          })
        )
      )
    })

    return { name, call, stats: Effect.sync(() => ({ ...stats })) } satisfies Dependency<A>
  })

/**
 * One replica of a service behind a circuit breaker shared through Redis
 * (`CircuitBreaker.layerStoreRedis`), run as a child process so that the
 * shared-breaker tests (and the propagation bench) have runtimes in separate
 * processes:
 *
 *   node --import tsx test/redis/breakerReplica.ts '<BreakerReplicaOptions as JSON>'
 *
 * It prints `ready` once connected, then answers one JSON line per command
 * line read on stdin:
 *
 * - `call ok` / `call fail` / `call hold <ms>`: one call through the breaker
 *   (`hold`: a success that takes `<ms>`), answered `{ "result": "ok" | "failed" | "rejected" }`;
 * - `probe <hold> <within>`: tries, every 20 ms for `<within>` ms, a call that
 *   holds for `<hold>` ms, answered as `call` once one is admitted and ends (or `"rejected"`);
 * - `state`: `{ "state": <tag of the local view> }`;
 * - `wait-open <ms>`: polls the local view every millisecond until it
 *   rejects, answered `{ "at": <epoch ms when it first rejected> }` (or `null` after `<ms>`).
 */
import { Deferred, Effect, Exit, Layer } from "effect"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { CircuitBreaker } from "../../src/index.ts"
import { layerRedis } from "./replica.ts"

export interface BreakerReplicaOptions {
  readonly port: number
  readonly prefix: string
  readonly mode?: "shared" | { readonly quorum: number }
  /** `consecutive(failures)`. */
  readonly failures: number
  readonly resetTimeoutMillis: number
  readonly halfOpenMaxCalls?: number
  readonly flushIntervalMillis?: number
  readonly leaseTimeoutMillis?: number
  readonly timeoutMillis?: number
  readonly retryIntervalMillis?: number
}

/** The store of a replica on the options' Redis (its own client). */
export const layerBreakerStore = (options: BreakerReplicaOptions) =>
  CircuitBreaker.layerStoreRedis({
    prefix: options.prefix,
    mode: options.mode,
    flushInterval: options.flushIntervalMillis,
    leaseTimeout: options.leaseTimeoutMillis,
    timeout: options.timeoutMillis,
    retryInterval: options.retryIntervalMillis
  }).pipe(Layer.provideMerge(layerRedis(options.port)))

/** The replica's breaker, named "shared": the same circuit in every replica. */
export const makeBreaker = (options: BreakerReplicaOptions) =>
  CircuitBreaker.make({
    name: "shared",
    policy: CircuitBreaker.consecutive(options.failures),
    resetTimeout: options.resetTimeoutMillis,
    halfOpenMaxCalls: options.halfOpenMaxCalls ?? 1
  })

export type CallResult = "ok" | "failed" | "rejected"

/** One call through `breaker`: a success, a failure (`"boom"`), or a success that holds for `holdMillis`. */
export const call = (breaker: CircuitBreaker.CircuitBreaker, kind: "ok" | "fail" | number): Effect.Effect<CallResult> => {
  const body = kind === "ok" ? Effect.void : kind === "fail" ? Effect.fail("boom") : Effect.sleep(kind)
  return Effect.exit(breaker.execute(body)).pipe(
    Effect.map((exit) =>
      Exit.isSuccess(exit)
        ? "ok"
        : exit.cause.reasons.some((r) => r._tag === "Fail" && CircuitBreaker.isCircuitOpenError(r.error))
        ? "rejected"
        : "failed"
    )
  )
}

/** Tries `call(breaker, holdMillis)` every 20 ms until one is admitted (its result) or `withinMillis` passed ("rejected"). */
export const probe = (breaker: CircuitBreaker.CircuitBreaker, holdMillis: number, withinMillis: number): Effect.Effect<CallResult> =>
  Effect.gen(function*() {
    const until = Date.now() + withinMillis
    while (true) {
      const result = yield* call(breaker, holdMillis)
      if (result !== "rejected" || Date.now() >= until) return result
      yield* Effect.sleep(20)
    }
  })

/** Polls the local view every millisecond until it rejects: the real time it first did, or null after `withinMillis`. */
export const waitOpen = (breaker: CircuitBreaker.CircuitBreaker, withinMillis: number): Effect.Effect<number | null> =>
  Effect.gen(function*() {
    const until = Date.now() + withinMillis
    while (Date.now() < until) {
      const state = yield* breaker.state
      if (state._tag === "Open" || state._tag === "ForcedOpen") return Date.now()
      yield* Effect.sleep(1)
    }
    return null
  })

/** A child replica: answers once it is ready, with a function that sends one command and awaits its answer. */
export const childBreakerReplica = (options: BreakerReplicaOptions) =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify(options)], {
          cwd: join(dirname(fileURLToPath(import.meta.url)), "..", ".."),
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    const ready = yield* Deferred.make<void, Error>()
    let waiting: Array<Deferred.Deferred<any, Error>> = []
    let err = ""
    child.stderr.on("data", (data) => (err += data.toString()))
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === "ready") Deferred.doneUnsafe(ready, Exit.void)
      else if (line.startsWith("{")) {
        const answer = waiting.shift()
        if (answer !== undefined) Deferred.doneUnsafe(answer, Exit.succeed(JSON.parse(line)))
      }
    })
    child.on("exit", (code) => {
      const error = new Error(`breaker replica exited ${code}: ${err}`)
      Deferred.doneUnsafe(ready, Exit.fail(error))
      for (const d of waiting) Deferred.doneUnsafe(d, Exit.fail(error))
      waiting = []
    })
    yield* Deferred.await(ready)
    const send = <A>(command: string): Effect.Effect<A, Error> =>
      Effect.gen(function*() {
        const answer = yield* Deferred.make<A, Error>()
        waiting.push(answer)
        child.stdin.write(`${command}\n`)
        return yield* Deferred.await(answer)
      })
    return {
      send,
      call: (kind: "ok" | "fail" | number) =>
        Effect.map(send<{ result: CallResult }>(typeof kind === "number" ? `call hold ${kind}` : `call ${kind}`), (a) => a.result),
      probe: (holdMillis: number, withinMillis: number) =>
        Effect.map(send<{ result: CallResult }>(`probe ${holdMillis} ${withinMillis}`), (a) => a.result),
      state: Effect.map(send<{ state: string }>("state"), (a) => a.state),
      waitOpen: (withinMillis: number) => Effect.map(send<{ at: number | null }>(`wait-open ${withinMillis}`), (a) => a.at),
      kill: Effect.sync(() => child.kill("SIGKILL"))
    }
  })

export type BreakerReplica = Effect.Success<ReturnType<typeof childBreakerReplica>>

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const options = JSON.parse(process.argv[2]!) as BreakerReplicaOptions
  const program = Effect.gen(function*() {
    const breaker = yield* makeBreaker(options)
    // Commands run one at a time, in order (a `call hold` answers when its call ends).
    const lines = createInterface({ input: process.stdin })
    const queue: Array<string> = []
    let wake: (() => void) | undefined
    lines.on("line", (line) => {
      queue.push(line)
      wake?.()
    })
    lines.on("close", () => process.exit(0))
    console.log("ready")
    while (true) {
      if (queue.length === 0) yield* Effect.callback<void>((resume) => void (wake = () => resume(Effect.void)))
      wake = undefined
      const [command, arg, value] = queue.shift()!.split(" ")
      let answer: unknown
      if (command === "call") answer = { result: yield* call(breaker, arg === "hold" ? Number(value) : (arg as "ok" | "fail")) }
      else if (command === "probe") answer = { result: yield* probe(breaker, Number(arg), Number(value)) }
      else if (command === "state") answer = { state: (yield* breaker.state)._tag }
      else answer = { at: yield* waitOpen(breaker, Number(arg)) }
      console.log(JSON.stringify(answer))
    }
  }).pipe(Effect.scoped, Effect.provide(layerBreakerStore(options)))
  Effect.runPromise(program).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}

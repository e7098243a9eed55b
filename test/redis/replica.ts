/**
 * One replica of a service for the shared rate-limit tests: its own Redis
 * client, its own store and its own `Policy`, offering calls at a steady pace
 * through a `fixed-window` rate limit shared through Redis. Used in-process
 * (each replica its own layers, clients and policy) and as a child process:
 *
 *   node --import tsx test/redis/replica.ts <port> <prefix> <everyMillis> <workers> <limit> <timeoutMillis>
 *
 * prints `ready` once connected, reads `<from> <until>` (epoch ms) from stdin,
 * runs, and prints `{"admitted":n,"rejected":m}`. `measureAccuracy` runs
 * several of both kinds and reads the per-window counts in Redis (the test and
 * bench/redis.bench.ts).
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Clock, Deferred, Effect, Exit, Fiber } from "effect"
import { Redis as EffectRedis } from "effect/persistence"
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Policy } from "../../src/index.ts"
import * as Redis from "../../src/Redis.ts"

/**
 * `Redis` (effect/persistence) and `NodeRedis` on 127.0.0.1:`port`. The
 * reconnect delay is capped at 100 ms so fault tests see the server return
 * quickly.
 */
export const layerRedis = (port: number) =>
  NodeRedis.layer({
    socket: {
      host: "127.0.0.1",
      port,
      connectTimeout: 1_000,
      reconnectStrategy: (retries: number) => Math.min(10 * 2 ** retries, 100)
    }
  })

export interface ReplicaOptions {
  readonly port: number
  readonly prefix: string
  /** Each worker offers one call every `everyMillis`. */
  readonly everyMillis: number
  /** Concurrent callers in the replica (a loaded machine slows each call; several callers keep the demand up). */
  readonly workers: number
  readonly limit: number
  /** The store's timeout (ms). */
  readonly timeoutMillis: number
}

/** The run: calls start at or after `from` and before `until` (epoch ms, real clock). */
export interface RunWindow {
  readonly from: number
  readonly until: number
}

export interface ReplicaResult {
  readonly admitted: number
  readonly rejected: number
}

/**
 * Builds the replica (connects, loads the script with a warm-up call on
 * another key), then runs `ready`, which announces it and answers the run's
 * window. The shared policy: `limit` calls per 1 s fixed window, named
 * "shared" (its key in Redis).
 */
export const replica = (options: ReplicaOptions, ready: Effect.Effect<RunWindow>): Effect.Effect<ReplicaResult, unknown> =>
  Effect.gen(function*() {
    const rateLimit = { limit: options.limit, window: "1 second", algorithm: "fixed-window" } as const
    const policy = yield* Policy.make({ name: "shared", rateLimit })
    const warmUp = yield* Policy.make({ name: "warm-up", rateLimit: { ...rateLimit, limit: 1_000_000 } })
    yield* warmUp.execute(Effect.void)
    const { from, until } = yield* ready
    let admitted = 0
    let rejected = 0
    const worker = (offset: number) =>
      Effect.gen(function*() {
        let next = from + offset
        while (true) {
          const now = yield* Clock.currentTimeMillis
          if (next > now) yield* Effect.sleep(next - now)
          // A late worker (a stalled event loop) skips the slots it missed instead of catching up after `until`.
          const at = yield* Clock.currentTimeMillis
          if (at >= until) return
          const exit = yield* Effect.exit(policy.execute(Effect.void))
          if (Exit.isSuccess(exit)) admitted++
          else rejected++
          next = Math.max(next + options.everyMillis, at)
        }
      })
    yield* Effect.forEach(
      Array.from({ length: options.workers }, (_, i) => Math.floor((i * options.everyMillis) / options.workers)),
      worker,
      { concurrency: "unbounded", discard: true }
    )
    return { admitted, rejected }
  }).pipe(
    Effect.scoped,
    Effect.provide(Redis.layerRateLimiterStore({ prefix: options.prefix, timeout: options.timeoutMillis })),
    Effect.provide(layerRedis(options.port))
  )

/**
 * One replica in a child process of its own (this file run by node), on the same Redis and key: answers
 * once the child is ready, with a function that starts its run and waits for its result. The child is
 * killed when the scope closes.
 */
export const childReplica = (options: ReplicaOptions) =>
  Effect.gen(function*() {
    const args = [options.port, options.prefix, options.everyMillis, options.workers, options.limit, options.timeoutMillis]
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...args.map(String)], {
          cwd: join(dirname(fileURLToPath(import.meta.url)), "..", ".."),
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.kill("SIGKILL"))
    )
    let out = ""
    const ready = yield* Deferred.make<void>()
    const result = yield* Deferred.make<ReplicaResult, Error>()
    child.stdout.on("data", (data) => {
      out += data.toString()
      if (out.includes("ready")) Deferred.doneUnsafe(ready, Exit.void)
    })
    child.stderr.on("data", (data) => (out += data.toString()))
    child.on("exit", (code) => {
      const last = out.trim().split("\n").at(-1) ?? ""
      Deferred.doneUnsafe(
        result,
        code === 0 && last.startsWith("{")
          ? Exit.succeed(JSON.parse(last))
          : Exit.fail(new Error(`replica exited ${code}: ${out}`))
      )
      Deferred.doneUnsafe(ready, Exit.void)
    })
    yield* Deferred.await(ready)
    return (window: RunWindow) =>
      Effect.andThen(Effect.sync(() => child.stdin.write(`${window.from} ${window.until}\n`)), Deferred.await(result))
  })

export interface AccuracyRun {
  /** Admitted calls per 1 s window, read in Redis: the `seconds` windows of the run, then the one after it. */
  readonly counts: ReadonlyArray<number>
  readonly results: ReadonlyArray<ReplicaResult>
  readonly admitted: number
  readonly offered: number
}

/**
 * Runs `inProcess` replicas in this process and `children` in child processes, all connected before a
 * run of `seconds` whole 1 s windows starts, and reads each window's count in Redis during the second
 * after it ends (its key expires one window after the window).
 */
export const measureAccuracy = (
  options: ReplicaOptions & { readonly inProcess: number; readonly children: number; readonly seconds: number }
): Effect.Effect<AccuracyRun, unknown, EffectRedis.Redis> =>
  Effect.gen(function*() {
    const runChildren = yield* Effect.forEach(Array.from({ length: options.children }), () => childReplica(options), {
      concurrency: "unbounded"
    })
    const window = yield* Deferred.make<RunWindow>()
    const readies = yield* Effect.forEach(Array.from({ length: options.inProcess }), () => Deferred.make<void>())
    const inProcess = yield* Effect.forkChild(Effect.all(
      readies.map((ready) => replica(options, Effect.andThen(Deferred.succeed(ready, undefined), Deferred.await(window)))),
      { concurrency: "unbounded" }
    ))
    yield* Effect.forEach(readies, Deferred.await)
    // Everyone is connected: start on a whole second.
    const from = Math.ceil((Date.now() + 500) / 1_000) * 1_000
    const run: RunWindow = { from, until: from + options.seconds * 1_000 }
    yield* Deferred.succeed(window, run)

    const redis = yield* EffectRedis.Redis
    const starts = Array.from({ length: options.seconds + 1 }, (_, i) => from + i * 1_000)
    const monitor = Effect.forEach(starts, (start) =>
      Effect.sleep(Math.max(0, start + 1_300 - Date.now())).pipe(
        Effect.andThen(redis.send<string | null>("GET", `${options.prefix}shared:fixed:${start}`)),
        Effect.map((count) => Number(count ?? 0))
      ))
    const [counts, children, replicas] = yield* Effect.all(
      [monitor, Effect.forEach(runChildren, (runChild) => runChild(run), { concurrency: "unbounded" }), Fiber.join(inProcess)],
      { concurrency: "unbounded" }
    )
    const results = [...replicas, ...children]
    const admitted = results.reduce((sum, r) => sum + r.admitted, 0)
    return { counts, results, admitted, offered: admitted + results.reduce((sum, r) => sum + r.rejected, 0) }
  }).pipe(Effect.scoped)

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [port, prefix, everyMillis, workers, limit, timeoutMillis] = process.argv.slice(2).map((arg, i) =>
    i === 1 ? arg : Number(arg)
  ) as [number, string, number, number, number, number]
  const ready = Effect.callback<RunWindow>((resume) => {
    process.stdin.once("data", (data) => {
      const [from, until] = data.toString().trim().split(" ").map(Number)
      resume(Effect.succeed({ from: from!, until: until! }))
    })
    console.log("ready")
  })
  Effect.runPromise(replica({ port, prefix, everyMillis, workers, limit, timeoutMillis }, ready)).then(
    (result) => {
      console.log(JSON.stringify(result))
      process.exit(0)
    },
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

/**
 * Durable dead letters on a real redis-server (test/redis/globalSetup.ts):
 * the store contract, Redis going away, a remove whose answer was lost, and a
 * pipeline killed with SIGKILL mid-stream. Skipped, loudly, without
 * redis-server unless REQUIRE_REDIS=1.
 */
import { assert, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect, Fiber, Layer, Schedule, Schema } from "effect"
import { Redis as EffectRedis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { DeadLetterQueue } from "../src/index.ts"
import * as Redis from "../src/Redis.ts"
import { input, suite } from "./DeadLetterStoreSuite.ts"
import { failsInvalid } from "./helpers.ts"
import { deadLetters, fails } from "./redis/deadLetterPipeline.ts"
import { describeRedis, layerRedis, port, startRedisServer, uniquePrefix } from "./redis/helpers.ts"

/** A store on the shared server under a fresh prefix, with its client. */
const layerStore = (prefix = uniquePrefix(), options?: Redis.RedisDeadLetterStoreOptions) =>
  Redis.layerDeadLetterStore({ ...options, prefix }).pipe(Layer.provideMerge(layerRedis(port())))

describeRedis("Redis dead-letter store", () => {
  suite("Redis", () => layerStore(), { test: it.live })

  it.live("bad options fail with InvalidConfigError naming the field", () =>
    Effect.gen(function*() {
      const build = (options: Redis.RedisDeadLetterStoreOptions) =>
        Effect.scoped(Layer.build(Redis.layerDeadLetterStore(options).pipe(Layer.provide(layerRedis(port())))))
      yield* failsInvalid(
        build({ timeout: 0 }),
        "timeout",
        "Redis.layerDeadLetterStore: timeout must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got 0"
      )
      yield* failsInvalid(
        build({ recoveryWindow: "forever" as never }),
        "recoveryWindow",
        "Redis.layerDeadLetterStore: recoveryWindow must be a finite duration > 0 (e.g. 100, \"2 seconds\"), got \"forever\""
      )
      yield* failsInvalid(build({ prefix: 1 as never }), "prefix", "Redis.layerDeadLetterStore: prefix must be a string, got 1")
    }))

  it.effect("bounds its commands on real time: a TestClock moved while a reply is on its way does not fail the call", () =>
    Effect.gen(function*() {
      const dlq = yield* DeadLetterQueue.make({ name: "q", item: Schema.String })
      const size = yield* Effect.forkChild(dlq.size)
      yield* TestClock.adjust("1 minute")
      assert.strictEqual(yield* Fiber.join(size), 0)
    }).pipe(Effect.provide(layerStore())))

  it.live("Redis away: every operation fails with DeadLetterStoreError within its timeout, then works again", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(Effect.promise(() => startRedisServer()), (s) => Effect.promise(() => s.dispose()))
      yield* Effect.gen(function*() {
        const dlq = yield* DeadLetterQueue.make({ name: "q", item: Schema.String })
        yield* dlq.offer(input("a"))
        yield* Effect.promise(() => server.stop())
        for (const [operation, effect] of [["append", dlq.offer(input("b"))], ["list", dlq.entries], ["count", dlq.size]] as const) {
          const started = Date.now()
          const error = yield* Effect.flip(effect as Effect.Effect<unknown, DeadLetterQueue.DeadLetterStoreError>)
          const waited = Date.now() - started
          assert.strictEqual(error._tag, "DeadLetterStoreError")
          assert.strictEqual(error.operation, operation)
          // bounded: the timeout (300 ms), not node-redis' offline queue
          assert.isBelow(waited, 2_000)
        }
        yield* Effect.promise(() => server.start())
        // the test server keeps nothing on disk: it comes back empty (a production Redis persists, docs/dead-letter-queue.md)
        const again = yield* dlq.offer({ ...input("c"), id: "c" }).pipe(
          Effect.retry({ times: 30, schedule: Schedule.spaced("100 millis") })
        )
        assert.strictEqual(again.id, "c")
      }).pipe(
        Effect.provide(Redis.layerDeadLetterStore({ prefix: uniquePrefix(), timeout: "300 millis" })),
        Effect.provide(layerRedis(server.port))
      )
    }).pipe(Effect.scoped), 30_000)

  /**
   * The client as a lost connection or a slow answer leaves it: the remove script runs in Redis, then its
   * caller gets an error (`"lose"`) or waits 200 ms for the answer (`"delay"`).
   */
  const layerRemoveAnswer = (answer: { current: "lose" | "delay" | "normal" }) =>
    Layer.effect(
      EffectRedis.Redis,
      Effect.gen(function*() {
        const redis = yield* EffectRedis.Redis
        return EffectRedis.Redis.of({
          ...redis,
          eval: (script) => {
            const run = redis.eval(script)
            return (...params) =>
              !script.lua.includes("ZREM") || answer.current === "normal"
                ? run(...params)
                : answer.current === "lose"
                ? Effect.andThen(run(...params), Effect.fail(new EffectRedis.RedisError({ cause: "connection reset" })))
                : Effect.andThen(run(...params), Effect.as(Effect.sleep("200 millis"), 1))
          }
        })
      })
    ).pipe(Layer.provide(layerRedis(port())))

  /** Polls until `check` holds or 1 s passed; answers its last value. */
  const eventually = <A>(read: Effect.Effect<A, unknown>, check: (a: A) => boolean) =>
    Effect.gen(function*() {
      let value = yield* read
      for (let i = 0; i < 100 && !check(value); i++) {
        yield* Effect.sleep("10 millis")
        value = yield* read
      }
      return value
    })

  it.live("a remove that ran in Redis but whose answer was lost is undone: the entry comes back in front", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const answer = { current: "lose" as "lose" | "delay" | "normal" }
      yield* Effect.gen(function*() {
        const dlq = yield* DeadLetterQueue.make({ name: "q", item: Schema.String })
        yield* dlq.offer(input("a"))
        yield* dlq.offer(input("b"))
        const error = yield* Effect.flip(dlq.take)
        assert.strictEqual(error.operation, "remove")
        answer.current = "normal"
        // the undo runs in the background, at once
        const left = yield* eventually(Effect.map(dlq.entries, (all) => all.map((e) => e.item)), (l) => l.length === 2)
        assert.deepStrictEqual(left, ["a", "b"])
        assert.strictEqual((yield* dlq.take).item, "a")
        // an answered remove deletes the copy it kept: nothing piles up in Redis
        const redis = yield* EffectRedis.Redis
        const kept = yield* eventually(redis.send<ReadonlyArray<string>>("KEYS", `${prefix}*removed*`), (k) => k.length === 0)
        assert.deepStrictEqual(kept, [])
      }).pipe(Effect.provide(Redis.layerDeadLetterStore({ prefix, timeout: "300 millis" })), Effect.provide(layerRemoveAnswer(answer)))
    }))

  it.live("a remove interrupted while it waits for its answer is undone too", () =>
    Effect.gen(function*() {
      const answer = { current: "delay" as "lose" | "delay" | "normal" }
      yield* Effect.gen(function*() {
        const store = yield* DeadLetterQueue.DeadLetterStore
        const entry = { id: "a", item: "a", stage: "s", error: { cause: [], message: "" }, attempts: 1, firstFailedAt: 0, lastFailedAt: 0 }
        yield* store.append("q", entry)
        const remove = yield* Effect.forkChild(store.remove("q", "a"))
        // the script has run by now; its answer is 200 ms away
        yield* eventually(store.count("q"), (n) => n === 0)
        yield* Fiber.interrupt(remove)
        answer.current = "normal"
        assert.deepStrictEqual(yield* eventually(store.list("q"), (l) => l.length === 1), [entry])
      }).pipe(
        Effect.provide(Redis.layerDeadLetterStore({ prefix: uniquePrefix(), timeout: "1 second" })),
        Effect.provide(layerRemoveAnswer(answer))
      )
    }))

  it.live("a pipeline killed with SIGKILL mid-stream: every dead letter it wrote is there, once, and replayable", () =>
    Effect.gen(function*() {
      const prefix = uniquePrefix()
      const items = 600
      // the first run is killed once it has written 20 dead letters
      const first = yield* runChild(prefix, items, 20)
      assert.isNull(first.code, `the first run was killed: ${first.out}`)
      assert.isAtLeast(first.dead.length, 20)
      assert.isBelow(first.dead.length, items / 3, "killed mid-stream, not after the end")
      // in Redis: every dead letter it reported, and at most the 4 offers it had in flight (stored, not yet reported)
      const afterKill = yield* Effect.flatMap(deadLetters, (dlq) => dlq.entries).pipe(Effect.provide(layerStore(prefix)))
      const ids = afterKill.map((e) => e.id)
      for (const id of first.dead) assert.include(ids, id)
      assert.isAtMost(ids.length - first.dead.length, 4)
      assert.strictEqual(new Set(ids).size, ids.length)
      // a new process runs the same source again (an at-least-once source redelivers it): items that
      // fail again find their dead letter (same id) and store nothing
      const second = yield* runChild(prefix, items, undefined)
      assert.strictEqual(second.code, 0, second.out)

      const expected = Array.from({ length: items }, (_, index) => ({ key: `o${index}`, index })).filter(fails)
      const replayed: Array<string> = []
      const result = yield* Effect.gen(function*() {
        const dlq = yield* deadLetters
        const ids = (yield* dlq.entries).map((e) => e.id)
        for (const id of first.dead) assert.include(ids, id)
        assert.deepStrictEqual([...ids].sort(), expected.map((o) => o.key).sort())
        const entry = (yield* dlq.entries).find((e) => e.id === first.dead[0])
        assert.deepStrictEqual([entry?.stage, entry?.attempts, entry?.error.message], ["submit", 1, `Rejected {"key":"${entry?.id}"}`])
        return yield* dlq.replay((order) => Effect.sync(() => void replayed.push(order.key)))
      }).pipe(Effect.provide(layerStore(prefix)))
      assert.deepStrictEqual(result, { replayed: expected.length, failedAgain: 0 })
      assert.deepStrictEqual(replayed, expected.map((o) => o.key))
    }), 60_000)
})

class ChildFailed extends Data.TaggedError("ChildFailed")<{ readonly message: string }> {}

interface ChildRun {
  readonly code: number | null
  readonly dead: ReadonlyArray<string>
  readonly out: string
}

/**
 * Runs test/redis/deadLetterPipeline.ts in a child process; with `killAfter`, kills it (SIGKILL) once it
 * reported that many dead letters. Answers the dead letters it reported (every line it wrote before dying).
 */
const runChild = (prefix: string, items: number, killAfter: number | undefined) =>
  Effect.callback<ChildRun, ChildFailed>((resume) => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..")
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(root, "test/redis/deadLetterPipeline.ts"), String(port()), prefix, String(items)],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    const dead: Array<string> = []
    child.stdout.on("data", (data) => {
      out += data.toString()
      const lines = out.split("\n")
      dead.length = 0
      for (const line of lines) if (line.startsWith("dead ")) dead.push(line.slice(5))
      if (killAfter !== undefined && dead.length >= killAfter) child.kill("SIGKILL")
    })
    child.stderr.on("data", (data) => (out += data.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000)
    child.on("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, dead: [...dead], out: out.slice(-2_000) }))
    })
    child.on("error", (error) => resume(Effect.fail(new ChildFailed({ message: String(error) }))))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

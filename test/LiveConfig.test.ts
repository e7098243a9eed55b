import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Fiber, FileSystem, Layer, PlatformError, Queue, Result, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as nodePath from "node:path"
import { Events, LiveConfig, Policy } from "../src/index.ts"
import { captureLogs } from "./helpers.ts"

class Scoring extends Context.Service<Scoring, Policy.Policy>()("test/Scoring") {}

const config = (maxConcurrent: number, extra = "") => `
profile: none
policies:
  scoring:
    timeout: 2 seconds
    bulkhead: { maxConcurrent: ${maxConcurrent}, maxQueue: 4 }
    circuitBreaker: { policy: { kind: consecutive, failures: 2 }, resetTimeout: 10 seconds${extra} }
`

/**
 * A file system holding one file in /etc/app: `write` changes its text
 * (`undefined`: removed) and reports the change to the watch, as an editor's
 * save does.
 */
const fakeFiles = (initial: string) =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<FileSystem.WatchEvent>()
    const state = { text: initial as string | undefined, reads: 0, watched: [] as Array<string> }
    const layer = FileSystem.layerNoop({
      readFileString: (path) =>
        Effect.suspend(() => {
          state.reads++
          return state.text === undefined
            ? Effect.fail(PlatformError.systemError({ _tag: "NotFound", module: "FileSystem", method: "readFileString", pathOrDescriptor: path }))
            : Effect.succeed(state.text)
        }),
      watch: (path, options) => {
        state.watched.push(path)
        return Stream.unwrap(Effect.sync(() => {
          options?.onReady?.()
          return Stream.fromQueue(events)
        }))
      }
    })
    const write = (text: string | undefined, name = "resilience.yaml") =>
      Effect.andThen(Effect.sync(() => void (state.text = text)), Queue.offer(events, { _tag: "Update", path: name }))
    return { state, layer, write }
  })

const path = "/etc/app/resilience.yaml"

/** Lets forked fibers run until they suspend. */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

describe("LiveConfig.layerPolicy (TestClock, a fake file system)", () => {
  it.effect("applies each change in place after the debounce; breaker state and bulkhead occupancy are kept", () =>
    Effect.gen(function*() {
      const files = yield* fakeFiles(config(1))
      const [, events] = yield* Events.collect(Effect.gen(function*() {
        const context = yield* Layer.build(LiveConfig.layerPolicy(Scoring, "scoring", path).pipe(Layer.provide(files.layer)))
        const policy = Context.get(context, Scoring)
        yield* settle
        yield* TestClock.adjust(Duration.millis(100))
        assert.deepStrictEqual(files.state.watched, ["/etc/app"])
        assert.strictEqual(files.state.reads, 2, "read at start and once the watch is installed")
        // one call holds the only permit, one waits, the breaker has one failure
        const gate = yield* Deferred.make<void>()
        const running = yield* Effect.forkChild(Deferred.await(gate).pipe(policy.execute))
        const waiting = yield* Effect.forkChild(Effect.succeed("waited").pipe(policy.execute))
        yield* Effect.exit(Effect.fail("down").pipe(policy.execute, Effect.timeout("1 second")))
        yield* settle
        yield* files.write(config(3))
        yield* files.write(config(3))
        yield* settle
        yield* TestClock.adjust(Duration.millis(99))
        assert.strictEqual(policy.bulkhead!.maxConcurrent, 1, "not before the debounce")
        yield* TestClock.adjust(Duration.millis(1))
        yield* settle
        assert.strictEqual(policy.bulkhead!.maxConcurrent, 3)
        assert.strictEqual(files.state.reads, 3, "a burst is read once")
        assert.strictEqual(yield* Fiber.join(waiting), "waited")
        assert.strictEqual((yield* policy.bulkhead!.stats).active, 1)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(running)
      }).pipe(Effect.scoped))
      assert.deepStrictEqual(events.filter((e) => e._tag.startsWith("Reconfig")).map((e) => e._tag), ["Reconfigured"])
    }))

  it.effect("a bad change is logged and reported and the last good config stays; the next good one applies", () =>
    Effect.gen(function*() {
      const files = yield* fakeFiles(config(2))
      const logs = captureLogs()
      const [, events] = yield* Events.collect(Effect.gen(function*() {
        const context = yield* Layer.build(LiveConfig.layerPolicy(Scoring, "scoring", path).pipe(Layer.provide(files.layer)))
        const policy = Context.get(context, Scoring)
        const step = (text: string | undefined) =>
          Effect.gen(function*() {
            yield* files.write(text)
            yield* settle
            yield* TestClock.adjust(Duration.millis(100))
            yield* settle
            return policy.bulkhead!.maxConcurrent
          })
        yield* settle
        yield* TestClock.adjust(Duration.millis(100))
        assert.strictEqual(yield* step(config(0)), 2, "maxConcurrent 0, refused by the config's schema")
        const withoutBulkhead = config(3).split("\n").filter((line) => !line.includes("bulkhead")).join("\n")
        assert.strictEqual(yield* step(withoutBulkhead), 2, "a bulkhead removed: refused by Policy.reconfigure")
        assert.strictEqual(yield* step("policies: [unclosed"), 2, "bad YAML")
        assert.strictEqual(yield* step(undefined), 2, "file removed")
        assert.strictEqual(yield* step(config(5, ", successThreshold: 0")), 2, "refused by the breaker")
        assert.strictEqual(yield* step("profile: none\npolicies: {}\n"), 2, "no entry for the policy")
        assert.strictEqual(yield* step(config(6)), 6)
      }).pipe(Effect.scoped, Effect.provide(logs.layer)))
      const tags = events.filter((e) => e._tag.startsWith("Reconfig")).map((e) => e._tag)
      assert.deepStrictEqual(tags, [...Array(6).fill("ReconfigureRefused"), "Reconfigured"])
      const warnings = logs.lines.filter((line) => line.startsWith("Warn"))
      assert.strictEqual(warnings.length, 6)
      assert.include(warnings[0]!, `ResilienceConfigError: ${path}: policies.scoring.bulkhead.maxConcurrent`)
      assert.include(warnings[1]!, "InvalidConfigError")
      assert.include(warnings[1]!, "cannot be removed in place")
      assert.include(warnings[3]!, "PlatformError: NotFound")
    }))

  it.effect("ignores events of other files in the directory", () =>
    Effect.gen(function*() {
      const files = yield* fakeFiles(config(2))
      const context = yield* Layer.build(LiveConfig.layerPolicy(Scoring, "scoring", path).pipe(Layer.provide(files.layer)))
      yield* settle
      yield* TestClock.adjust(Duration.millis(100))
      const reads = files.state.reads
      yield* files.write(config(4), "other.yaml")
      yield* settle
      yield* TestClock.adjust(Duration.seconds(1))
      assert.strictEqual(files.state.reads, reads)
      assert.strictEqual(Context.get(context, Scoring).bulkhead!.maxConcurrent, 2)
    }).pipe(Effect.scoped))

  it.effect("fails at start on a file that cannot be read or decoded, and on a bad debounce", () =>
    Effect.gen(function*() {
      const missing = yield* fakeFiles(config(1))
      missing.state.text = undefined
      const build = (layer: Layer.Layer<FileSystem.FileSystem>, options?: LiveConfig.WatchOptions) =>
        Effect.flip(Layer.build(LiveConfig.layerPolicy(Scoring, "scoring", path, options).pipe(Layer.provide(layer))))
      const unreadable = yield* build(missing.layer)
      assert.deepStrictEqual([unreadable._tag, unreadable._tag === "ResilienceConfigError" && unreadable.kind], ["ResilienceConfigError", "read"])
      const bad = yield* fakeFiles(config(0))
      const refused = yield* build(bad.layer)
      assert.strictEqual(refused._tag === "ResilienceConfigError" ? refused.path : "", "policies.scoring.bulkhead.maxConcurrent")
      const good = yield* fakeFiles(config(1))
      const debounce = yield* build(good.layer, { debounce: -1 })
      assert.strictEqual(debounce._tag === "InvalidConfigError" ? debounce.field : "", "debounce")
    }).pipe(Effect.scoped))

  it.effect("LiveConfig.watch emits the file once the watch is installed, then each distinct text", () =>
    Effect.gen(function*() {
      const files = yield* fakeFiles(config(1))
      const readings = yield* LiveConfig.watch(path).pipe(
        Stream.take(3),
        Stream.runCollect,
        Effect.provide(files.layer),
        Effect.forkChild
      )
      yield* settle
      yield* TestClock.adjust(Duration.millis(100))
      for (const text of [config(1), "policies: [", config(2)]) {
        yield* files.write(text)
        yield* settle
        yield* TestClock.adjust(Duration.millis(100))
      }
      const collected = yield* Fiber.join(readings)
      assert.deepStrictEqual(
        collected.map((r) => Result.isSuccess(r) ? r.success.policies["scoring"]?.bulkhead : "error"),
        [{ maxConcurrent: 1, maxQueue: 4 }, "error", { maxConcurrent: 2, maxQueue: 4 }]
      )
    }))
})

describe("LiveConfig.layerPolicy (a real file)", () => {
  it.live("follows edits of a real file through NodeFileSystem (bounded: 5 seconds)", () =>
    Effect.gen(function*() {
      const directory = yield* Effect.promise(() => fs.mkdtemp(nodePath.join(os.tmpdir(), "live-config-")))
      const file = nodePath.join(directory, "resilience.yaml")
      yield* Effect.promise(() => fs.writeFile(file, config(1)))
      yield* Effect.gen(function*() {
        const context = yield* Layer.build(
          LiveConfig.layerPolicy(Scoring, "scoring", file, { debounce: "20 millis" }).pipe(Layer.provide(NodeFileSystem.layer))
        )
        const policy = Context.get(context, Scoring)
        const until = (maxConcurrent: number) =>
          Effect.gen(function*() {
            while (policy.bulkhead!.maxConcurrent !== maxConcurrent) yield* Effect.sleep("10 millis")
          }).pipe(Effect.timeout("5 seconds"))
        // the edit may land before the watch is installed: the read once it is catches it
        yield* Effect.promise(() => fs.writeFile(file, config(3)))
        yield* until(3)
        // an editor's save: a new file renamed over the old one
        yield* Effect.promise(() => fs.writeFile(`${file}.tmp`, config(5)).then(() => fs.rename(`${file}.tmp`, file)))
        yield* until(5)
        yield* Effect.promise(() => fs.writeFile(file, "policies: ["))
        yield* Effect.promise(() => fs.writeFile(file, config(7)))
        yield* until(7)
      }).pipe(
        Effect.scoped,
        Effect.ensuring(Effect.promise(() => fs.rm(directory, { recursive: true, force: true })))
      )
    }))
})

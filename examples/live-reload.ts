/**
 * `node --import tsx examples/live-reload.ts`: two policies follow their
 * config file while calls are in flight.
 *
 * - `inventory` has a bulkhead of 2 with 4 calls waiting; the file raises it
 *   to 6 and the waiters run at once, none lost.
 * - `payments` has a breaker that is open; the file lowers its threshold and
 *   reset timeout, and the circuit stays open for the rest of its time.
 * - Then the file is broken: the change is refused (logged, reported), the
 *   last good settings stay.
 *
 * The file is a real temporary file, watched through `NodeFileSystem`; each
 * wait for a reload is bounded by 5 seconds.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { Context, Deferred, Duration, Effect, Fiber, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Events, LiveConfig, Policy } from "../src/index.ts"

class Inventory extends Context.Service<Inventory, Policy.Policy>()("example/Inventory") {}
class Payments extends Context.Service<Payments, Policy.Policy>()("example/Payments") {}

const config = (maxConcurrent: number, failures: number, resetTimeout: string) => `
profile: none
policies:
  inventory:
    bulkhead: { maxConcurrent: ${maxConcurrent}, maxQueue: 10 }
  payments:
    circuitBreaker: { policy: { kind: consecutive, failures: ${failures} }, resetTimeout: ${resetTimeout} }
`

const check = (what: string, ok: boolean) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`)
  if (!ok) process.exitCode = 1
}

const program = (file: string, seen: (tag: Events.ResilienceEventTag, name: string) => number) =>
  Effect.gen(function*() {
    const inventory = yield* Inventory
    const payments = yield* Payments
    const write = (text: string) => Effect.promise(() => fs.writeFile(file, text))
    const until = (done: () => boolean) =>
      Effect.gen(function*() {
        while (!done()) yield* Effect.sleep("10 millis")
      }).pipe(Effect.timeout("5 seconds"))

    // payments: two failures open the circuit for 60 seconds
    yield* Effect.exit(Effect.fail("card network down").pipe(payments.execute))
    yield* Effect.exit(Effect.fail("card network down").pipe(payments.execute))
    // inventory: 2 calls run, 4 wait
    const gate = yield* Deferred.make<void>()
    const calls = yield* Effect.forEach(
      [1, 2, 3, 4, 5, 6],
      (i) => Effect.forkChild(Deferred.await(gate).pipe(Effect.as(i), inventory.execute))
    )
    yield* Effect.sleep("50 millis")
    const before = yield* inventory.bulkhead!.stats
    console.log(`before: inventory ${before.active} running, ${before.queued} waiting; payments ${(yield* payments.circuitBreaker!.state)._tag}`)

    // an editor's save: a new file renamed over the old one (a reader never sees it half-written)
    yield* Effect.promise(() => fs.writeFile(`${file}.tmp`, config(6, 5, "5 seconds")).then(() => fs.rename(`${file}.tmp`, file)))
    yield* until(() => seen("Reconfigured", "inventory") === 1 && seen("Reconfigured", "payments") === 1)
    const after = yield* inventory.bulkhead!.stats
    const state = yield* payments.circuitBreaker!.state
    console.log(`after:  inventory ${after.active} running, ${after.queued} waiting; payments ${state._tag}`)
    check("the raised limit admitted the waiters at once", after.active === 6 && after.queued === 0)
    check(
      "the open circuit kept its opening (60 s, not the new 5 s)",
      state._tag === "Open" && Duration.toMillis(state.retryAfter) > 50_000
    )

    yield* write("policies: [ this is not yaml")
    yield* until(() => seen("ReconfigureRefused", "inventory") === 1 && seen("ReconfigureRefused", "payments") === 1)
    check("a broken file was refused; the last good limit stays", inventory.bulkhead!.maxConcurrent === 6)

    yield* Deferred.succeed(gate, undefined)
    const results = yield* Fiber.joinAll(calls)
    check("every call finished", results.length === 6)
    const idle = yield* inventory.bulkhead!.stats
    check("no permit leaked", idle.active === 0 && idle.available === 6)
  })

const main = Effect.gen(function*() {
  const directory = yield* Effect.promise(() => fs.mkdtemp(path.join(os.tmpdir(), "live-reload-")))
  const file = path.join(directory, "resilience.yaml")
  yield* Effect.promise(() => fs.writeFile(file, config(2, 2, "60 seconds")))
  const policies = Layer.mergeAll(
    LiveConfig.layerPolicy(Inventory, "inventory", file, { debounce: "20 millis" }),
    LiveConfig.layerPolicy(Payments, "payments", file, { debounce: "20 millis" })
  ).pipe(Layer.provide(NodeFileSystem.layer))
  const events: Array<Events.ResilienceEvent> = []
  const seen = (tag: Events.ResilienceEventTag, name: string) => events.filter((e) => e._tag === tag && e.name === name).length
  yield* program(file, seen).pipe(
    Effect.provide(policies),
    Events.withListener((event) => Effect.sync(() => void events.push(event)))
  )
  console.log(`events: ${events.filter((e) => e._tag.startsWith("Reconfig")).map((e) => `${e._tag}(${e.name})`).join(", ")}`)
  yield* Effect.promise(() => fs.rm(directory, { recursive: true, force: true }))
})

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exit(1)
})

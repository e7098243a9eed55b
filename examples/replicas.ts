/**
 * Three replicas of a service share one circuit breaker through a local Redis
 * (`CircuitBreaker.layerStoreRedis`, docs/scale-out.md).
 *
 * Each replica is a runtime with its own Redis connection, its own store and
 * its own breaker, exactly as it would be in a process of its own. The
 * payment provider fails; each replica sees one failure only, never enough
 * to trip a private `consecutive(3)` breaker, yet together they trip the
 * shared circuit and every replica rejects. After the reset timeout one
 * replica (and only one: it holds the probe lease) probes, and its success
 * closes the circuit for all three.
 *
 * The program starts its own redis-server on a free port when one is
 * installed, and otherwise says how to install it and exits.
 */
import * as NodeRedis from "@effect/platform-node/NodeRedis"
import { Effect, Exit, Layer, Stream } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { CircuitBreaker } from "../src/index.ts"

const installHint = "Install Redis to run this example: sudo apt-get install -y redis-server (or brew install redis)"

/** A free loopback port (bound, read and released). */
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")))
    })
  })

/** A throwaway redis-server: no persistence, its own directory; stopped when the scope closes. */
const redisServer = Effect.acquireRelease(
  Effect.promise(async () => {
    const port = await freePort()
    const dir = mkdtempSync(join(tmpdir(), "replicas-example-"))
    const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir], {
      stdio: "ignore"
    })
    // Wait until it accepts connections.
    for (let i = 0; i < 100 && spawnSync("redis-cli", ["-p", String(port), "ping"]).stdout?.toString().trim() !== "PONG"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return { port, server, dir }
  }),
  ({ dir, server }) =>
    Effect.sync(() => {
      server.kill("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    })
)

const charge = (replica: string) => Effect.fail(`503 from the provider (seen by ${replica})`)

const replica = (name: string, port: number) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      CircuitBreaker.layerStoreRedis({ prefix: "replicas-example:" }).pipe(
        Layer.provide(NodeRedis.layer({ socket: { host: "127.0.0.1", port } }))
      )
    )
    const breaker = yield* CircuitBreaker.make({
      name: "payments",
      policy: CircuitBreaker.consecutive(3),
      resetTimeout: "2 seconds"
    }).pipe(Effect.provide(context))
    yield* breaker.changes.pipe(
      Stream.runForEach((t) => Effect.log(`${name}: payments ${t.from} -> ${t.to}`)),
      Effect.forkScoped
    )
    const call = (effect: Effect.Effect<string, string>) =>
      Effect.map(Effect.exit(breaker.execute(effect)), (exit) =>
        Exit.isSuccess(exit)
          ? `ok (${exit.value})`
          : CircuitBreaker.isCircuitOpenError(exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error : undefined)
          ? "rejected: circuit open"
          : "failed")
    return { name, call }
  })

const program = Effect.gen(function*() {
  const { port } = yield* redisServer
  const replicas = yield* Effect.forEach(["replica A", "replica B", "replica C"], (name) => replica(name, port))

  yield* Effect.log("Each replica sees one failure (a private consecutive(3) breaker would stay closed):")
  for (const r of replicas) yield* Effect.log(`${r.name}: ${yield* r.call(charge(r.name))}`)
  // The failures reach Redis in the next batch (50 ms), the trip comes back by pub/sub.
  yield* Effect.sleep("300 millis")

  yield* Effect.log("Every replica now rejects, without calling the provider:")
  for (const r of replicas) yield* Effect.log(`${r.name}: ${yield* r.call(Effect.succeed("charged"))}`)

  yield* Effect.sleep("2200 millis")
  yield* Effect.log("After the reset timeout, one replica holds the probe lease; the others still reject:")
  const probes = yield* Effect.forEach(replicas, (r) =>
    Effect.map(r.call(Effect.as(Effect.sleep("200 millis"), "charged")), (result) => `${r.name}: ${result}`), {
    concurrency: "unbounded"
  })
  for (const line of probes) yield* Effect.log(line)
  yield* Effect.sleep("300 millis")

  yield* Effect.log("The probe succeeded: the circuit is closed for every replica:")
  for (const r of replicas) yield* Effect.log(`${r.name}: ${yield* r.call(Effect.succeed("charged"))}`)
}).pipe(Effect.scoped)

if (spawnSync("redis-server", ["--version"]).status !== 0) {
  console.log(installHint)
} else {
  Effect.runPromise(program).then(() => process.exit(0), (error) => {
    console.error(error)
    process.exit(1)
  })
}

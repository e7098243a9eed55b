import { readFileSync } from "node:fs"
import * as http from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Random } from "effect"
import { Chaos, Timeout } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import { failsInvalid, loopbackServer } from "./helpers.ts"

/** One request on a fresh connection (no keep-alive pool: each request meets the proxy's faults anew). */
const get = (url: string) =>
  Timeout.promise(
    (signal) =>
      new Promise<{ readonly status: number; readonly body: string }>((resolve, reject) => {
        const request = http.get(url, { agent: false, signal }, (response) => {
          let body = ""
          response.setEncoding("utf8")
          response.on("data", (chunk: string) => body += chunk)
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body }))
          response.on("error", reject)
        })
        request.on("error", reject)
      }),
    { duration: "1 second", name: "client", catch: (error) => (error as NodeJS.ErrnoException).code ?? String(error) }
  )

const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const value = yield* self
    return [value, performance.now() - start] as const
  })

/** A server that answers every request with `body`, counting requests. */
const server = (body = "ok") =>
  Effect.gen(function*() {
    let requests = 0
    const s = yield* loopbackServer((_request, response) => {
      requests++
      response.end(body)
    })
    return { ...s, requests: () => requests }
  })

// Real sockets on loopback, bounded: every test here ends well within a second.
describe("Chaos.proxy", () => {
  it.live("forwards requests and answers unchanged when no fault is set", () =>
    Effect.gen(function*() {
      const target = yield* server("hello")
      const proxy = yield* Chaos.proxy({ target: target.url })
      assert.notStrictEqual(proxy.port, target.port)
      assert.deepStrictEqual([proxy.name, proxy.host], [defaults.chaosProxy.name, defaults.chaosProxy.host])
      assert.deepStrictEqual(defaults.chaosProxy, { name: "proxy", host: "127.0.0.1" })
      assert.deepStrictEqual(yield* get(`${proxy.url}/x`), { status: 200, body: "hello" })
      const stats = yield* proxy.stats
      assert.deepStrictEqual([stats.connections, stats.resets, stats.blackholed], [1, 0, 0])
    }).pipe(Effect.scoped))

  it.live("latency delays what the target sends by at least the latency", () =>
    Effect.gen(function*() {
      const target = yield* server()
      const proxy = yield* Chaos.proxy({ target: { port: target.port }, latency: "150 millis" })
      const [response, millis] = yield* elapsed(get(proxy.url))
      assert.strictEqual(response.body, "ok")
      assert.isAtLeast(millis, 150)
    }).pipe(Effect.scoped))

  it.live("bandwidth caps the bytes per second", () =>
    Effect.gen(function*() {
      const target = yield* server("x".repeat(20_000))
      const proxy = yield* Chaos.proxy({ target: target.url, bandwidth: 100_000 })
      const [response, millis] = yield* elapsed(get(proxy.url))
      assert.strictEqual(response.body.length, 20_000)
      // 20 kB (plus headers) at 100 kB/s
      assert.isAtLeast(millis, 200)
    }).pipe(Effect.scoped))

  it.live("reset: the request is sent and the connection reset, and the server never answers", () =>
    Effect.gen(function*() {
      const target = yield* server()
      const proxy = yield* Chaos.proxy({ target: target.url, reset: true })
      assert.strictEqual(yield* Effect.flip(get(proxy.url)), "ECONNRESET")
      assert.strictEqual(target.requests(), 0)
      assert.strictEqual((yield* proxy.stats).resets, 1)
    }).pipe(Effect.scoped))

  it.live("a reset rate resets that share of connections, drawn from the seeded Random", () =>
    Effect.gen(function*() {
      const target = yield* server()
      const proxy = yield* Chaos.proxy({ target: target.url, reset: 0.5 }).pipe(Random.withSeed(7))
      const results = yield* Effect.forEach(Array.from({ length: 8 }), () => Effect.exit(get(proxy.url)))
      const failed = results.filter(Exit.isFailure).length
      const stats = yield* proxy.stats
      assert.strictEqual(stats.resets, failed)
      assert.strictEqual(target.requests(), 8 - failed)
      assert.isAbove(failed, 0)
      assert.isBelow(failed, 8)
    }).pipe(Effect.scoped))

  it.live("blackhole: the request is swallowed and only the client's timeout ends the wait", () =>
    Effect.gen(function*() {
      const target = yield* server()
      const proxy = yield* Chaos.proxy({ target: target.url, blackhole: true })
      const error = yield* Effect.flip(get(proxy.url).pipe(Timeout.timeout({ duration: "100 millis", name: "probe" })))
      assert.strictEqual((error as Timeout.TimeoutError)._tag, "TimeoutError")
      assert.strictEqual(target.requests(), 0)
      assert.strictEqual((yield* proxy.stats).blackholed, 1)
    }).pipe(Effect.scoped))

  it.live("faults change while the proxy runs", () =>
    Effect.gen(function*() {
      const target = yield* server()
      const proxy = yield* Chaos.proxy({ target: target.url })
      assert.strictEqual((yield* get(proxy.url)).status, 200)
      yield* proxy.update({ reset: true })
      assert.strictEqual(yield* Effect.flip(get(proxy.url)), "ECONNRESET")
      yield* proxy.update({ reset: false, latency: "10 millis" })
      assert.strictEqual((yield* get(proxy.url)).status, 200)
      const toxics = yield* proxy.toxics
      assert.deepStrictEqual([toxics.reset, toxics.blackhole, toxics.bandwidth], [0, false, undefined])
    }).pipe(Effect.scoped))

  it.live("closes with its scope: its port refuses connections afterwards", () =>
    Effect.gen(function*() {
      const target = yield* server()
      const url = yield* Effect.scoped(Effect.map(Chaos.proxy({ target: target.url }), (p) => p.url))
      assert.strictEqual(yield* Effect.flip(get(url)), "ECONNREFUSED")
    }).pipe(Effect.scoped))

  it.effect("refuses bad options in the typed channel, naming the field", () =>
    Effect.gen(function*() {
      const proxy = (options: Chaos.ProxyOptions) => Effect.scoped(Chaos.proxy(options))
      yield* failsInvalid(
        proxy({ target: "not a url" }),
        "target",
        `Chaos.proxy: target must be a URL ("http://127.0.0.1:8080") or { host, port } with a port, got "not a url"`
      )
      yield* failsInvalid(proxy({ target: { port: 80 }, reset: 2 }), "reset", "Chaos.proxy: reset must be a number in [0, 1], got 2")
      yield* failsInvalid(proxy({ target: { port: 80 }, bandwidth: 0 }), "bandwidth", "Chaos.proxy: bandwidth must be a finite number >= 1, got 0")
      yield* failsInvalid(
        proxy({ target: { port: 80 }, latency: -1 }),
        "latency",
        `Chaos.proxy: latency must be a finite duration >= 0 (e.g. 100, "2 seconds"), got -1`
      )
    }))

  it("loads node:net only when a proxy starts (the main entry stays free of it)", () => {
    for (const file of ["../src/Chaos.ts", "../src/internal/chaosProxy.ts"]) {
      const text = readFileSync(new URL(file, import.meta.url), "utf8")
      assert.notMatch(text, /^import (?!type )[^\n]* from "node:/m)
    }
  })
})

/**
 * An HTTP client through real faults, on loopback, in under two seconds.
 *
 * A flaky inventory server (node:http) answers every third request with a
 * 503 whose `Retry-After` is an HTTP-date a second away, and answers writes
 * with 409. It sits behind `Chaos.proxy`, which the program turns slow, then
 * resetting, then dead (a black hole). The client is Effect's own
 * `HttpClient` with `HttpResilience.layer`: retries for reads only,
 * `Retry-After` honoured, one circuit per host, a timeout per attempt.
 * Every decision is printed from the event channel.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Duration, Effect, Layer } from "effect"
import { HttpClient } from "effect/http"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Backoff, Chaos, CircuitBreaker, Events, HttpResilience } from "../src/index.ts"

/** Every third request is a 503 asking to come back in a second (as an HTTP-date). */
const flakyServer = Effect.acquireRelease(
  Effect.callback<http.Server>((resume) => {
    let requests = 0
    const server = http.createServer((request, response) => {
      requests++
      if (request.method === "POST") return void response.writeHead(409).end("already reserved")
      if (requests % 3 === 1) {
        return void response.writeHead(503, { "retry-after": new Date(Date.now() + 1000).toUTCString() }).end()
      }
      response.end(JSON.stringify({ sku: request.url, stock: 7 }))
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.callback<void>((resume) => {
    server.closeAllConnections()
    server.close(() => resume(Effect.void))
  })
)

const log = (line: string) => Effect.sync(() => console.log(line))

const printEvents = Events.layer((event) => {
  switch (event._tag) {
    case "RetryScheduled":
      return log(`  retry ${event.attempt} in ${Duration.format(event.delay)} after ${(event.error as Error).message}`)
    case "BreakerTransition":
      return log(`  circuit ${event.name}: ${event.from} -> ${event.to}`)
    case "TimeoutFired":
      return log(`  attempt cut at ${Duration.format(event.duration)}`)
    default:
      return log(`  ${event._tag}`)
  }
})

const get = (url: string) =>
  HttpClient.get(url).pipe(
    Effect.flatMap((response) => Effect.map(response.text, (body) => `${response.status} ${body}`)),
    Effect.catchTag("HttpClientError", (error) => {
      const rejection = HttpResilience.rejectionOf(error)
      return Effect.succeed(rejection === undefined ? `failed: ${error.reason._tag}` : `rejected: ${rejection._tag}`)
    })
  )

const program = Effect.gen(function*() {
  const server = yield* flakyServer
  const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy = yield* Chaos.proxy({ target })

  yield* log("1. a 503 with an HTTP-date Retry-After: the retry waits until that date")
  yield* log(`   -> ${yield* get(`${proxy.url}/sku/1`)}`)

  yield* log("2. a POST answered 409 is an answer: tried once, not retried")
  const post = yield* HttpClient.post(`${proxy.url}/reservations`)
  yield* log(`   -> ${post.status}`)

  yield* log("3. the link turns slow (80 ms), still within the 150 ms attempt timeout: answered")
  yield* proxy.update({ latency: "80 millis" })
  yield* log(`   -> ${yield* get(`${proxy.url}/sku/2`)}`)

  yield* log("4. every connection is reset: three attempts, then the transport error")
  yield* proxy.update({ latency: 0, reset: true })
  yield* log(`   -> ${yield* get(`${proxy.url}/sku/3`)}`)

  yield* log("5. the host becomes a black hole: attempts are cut at 150 ms, and its circuit opens")
  yield* proxy.update({ reset: false, blackhole: true })
  yield* log(`   -> ${yield* get(`${proxy.url}/sku/4`)}`)

  yield* log("6. while the circuit is open, requests fail at once, without a connection")
  const before = (yield* proxy.stats).connections
  yield* log(`   -> ${yield* get(`${proxy.url}/sku/5`)} (new connections: ${(yield* proxy.stats).connections - before})`)

  const stats = yield* proxy.stats
  yield* log(`proxy: ${stats.connections} connections, ${stats.resets} reset, ${stats.blackholed} swallowed`)
}).pipe(Effect.scoped)

const Client = HttpResilience.layer({
  name: "inventory",
  retry: { maxAttempts: 3, backoff: Backoff.constant("20 millis"), maxRetryAfter: "2 seconds" },
  circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "30 seconds" },
  timeout: "150 millis"
}).pipe(Layer.provide(NodeHttpClient.layerNodeHttpOptions({ keepAlive: false })))

await Effect.runPromise(program.pipe(Effect.provide(Layer.mergeAll(Client, printEvents))))

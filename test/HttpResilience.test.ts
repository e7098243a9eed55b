import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Tracer } from "effect"
import { HttpClient, HttpClientError, HttpClientResponse } from "effect/http"
import { TestClock } from "effect/testing"
import { Backoff, Chaos, CircuitBreaker, Events, HttpResilience, Policy } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"
import { failsInvalid, loopbackServer } from "./helpers.ts"

/** How the fake server answers one request: a status (with headers, after a delay), or a broken connection. */
type Answer =
  | {
    readonly status: number
    readonly headers?: Record<string, string>
    readonly delay?: Duration.Input
    readonly body?: string
  }
  | "transport"

/**
 * A client with no socket: answer `i` goes to request `i` (the last one
 * repeats), and every request is recorded with the `Clock` time it was sent.
 */
const scripted = (...answers: ReadonlyArray<Answer>) => {
  const sent: Array<{ readonly method: string; readonly host: string; readonly at: number }> = []
  const bodies: Array<Response> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      const answer = answers[Math.min(sent.length, answers.length - 1)]!
      sent.push({ method: request.method, host: url.host, at })
      if (answer === "transport") {
        return yield* Effect.fail(
          new HttpClientError.HttpClientError({ reason: new HttpClientError.TransportError({ request, description: "reset" }) })
        )
      }
      if (answer.delay !== undefined) yield* Effect.sleep(answer.delay)
      const web = new Response(answer.body ?? null, { status: answer.status, headers: answer.headers ?? {} })
      bodies.push(web)
      return HttpClientResponse.fromWeb(request, web)
    })
  )
  return { client, sent, bodies, times: () => sent.map((s) => s.at) }
}

/** Runs `effect` in a fiber and moves the TestClock until it is done. */
const advance = <A, E>(effect: Effect.Effect<A, E>, by: Duration.Input = "1 minute") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(by)
    return yield* Fiber.join(fiber)
  })

/**
 * A constant 100 ms backoff: any longer wait comes from Retry-After (a hint
 * is waited for up to `maxRetryAfter`, by default the backoff's own cap).
 */
const quickRetry = { maxAttempts: 3, backoff: Backoff.constant("100 millis"), maxRetryAfter: "10 seconds" } as const

describe("HttpResilience: classification and Retry-After (TestClock, no socket)", () => {
  it.effect("503 with Retry-After: 2 waits exactly 2 s before the next attempt", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503, headers: { "retry-after": "2" } }, { status: 200 })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry })
      const response = yield* advance(client.get("http://api.test/orders"))
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(server.times(), [0, 2000])
    }))

  it.effect("503 with an HTTP-date Retry-After waits until that date (read against Clock)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 1, 12, 0, 0))
      const server = scripted(
        { status: 503, headers: { "retry-after": "Thu, 01 Jan 2026 12:00:03 GMT" } },
        { status: 200 }
      )
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry })
      assert.strictEqual((yield* advance(client.get("http://api.test/"))).status, 200)
      const start = Date.UTC(2026, 0, 1, 12, 0, 0)
      assert.deepStrictEqual(server.times().map((t) => t - start), [0, 3000])
    }))

  it.effect("429 with Retry-After is retried after the hint; a 500's Retry-After is no hint", () =>
    Effect.gen(function*() {
      const limited = scripted({ status: 429, headers: { "retry-after": "1" } }, { status: 200 })
      const client = yield* HttpResilience.wrap(limited.client, { retry: quickRetry })
      assert.strictEqual((yield* advance(client.get("http://api.test/"))).status, 200)
      assert.deepStrictEqual(limited.times(), [0, 1000])

      const failing = scripted({ status: 500, headers: { "retry-after": "5" } }, { status: 200 })
      const other = yield* HttpResilience.wrap(failing.client, { retry: quickRetry })
      assert.strictEqual((yield* advance(other.get("http://api.test/"))).status, 200)
      assert.deepStrictEqual(failing.times(), [60_000, 60_100]) // after the first advance's minute
    }))

  it.effect("a Retry-After longer than maxRetryAfter ends the retries at once, and the 503 comes back", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503, headers: { "retry-after": "120" } }, { status: 200 })
      const client = yield* HttpResilience.wrap(server.client, { retry: { ...quickRetry, maxRetryAfter: "10 seconds" } })
      const [response, events] = yield* advance(Events.collect(client.get("http://api.test/")))
      assert.strictEqual(response.status, 503)
      assert.deepStrictEqual(server.times(), [0])
      assert.deepStrictEqual(events.map((e) => e._tag), ["RetryExhausted"])
      const error = (events[0] as Extract<Events.ResilienceEvent, { _tag: "RetryExhausted" }>).error
      assert.isTrue(HttpResilience.isHttpStatusError(error))
      assert.deepStrictEqual(
        [(error as HttpResilience.HttpStatusError).status, Duration.toMillis((error as HttpResilience.HttpStatusError).retryAfter!)],
        [503, 120_000]
      )
      assert.strictEqual(String(error), `HttpStatusError: "http": GET http://api.test/ answered 503, retry after 2m`)
    }))

  it.effect("the last response comes back after the retries, as a response", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 502 })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry })
      assert.strictEqual((yield* advance(client.get("http://api.test/"))).status, 502)
      assert.deepStrictEqual(server.times(), [0, 100, 200])
    }))

  it.effect("a 404 is tried once, and its breaker counts it as an answer", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 404 })
      const breakers = yield* CircuitBreaker.keyed({ name: "api", policy: CircuitBreaker.consecutive(2) })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry, circuitBreaker: breakers })
      for (let i = 0; i < 3; i++) {
        assert.strictEqual((yield* advance(client.get("http://api.test/missing"))).status, 404)
        assert.strictEqual(server.sent.length, i + 1)
      }
      assert.strictEqual((yield* breakers.state("api.test"))._tag, "Closed")
    }))

  it.effect("a POST is not retried by default; PUT is; retryMethods changes that", () =>
    Effect.gen(function*() {
      const post = scripted({ status: 503 })
      const client = yield* HttpResilience.wrap(post.client, { retry: quickRetry })
      assert.strictEqual((yield* advance(client.post("http://api.test/orders"))).status, 503)
      assert.strictEqual(post.sent.length, 1)

      const put = scripted({ status: 503 })
      yield* advance(Effect.flatMap(HttpResilience.wrap(put.client, { retry: quickRetry }), (c) => c.put("http://api.test/orders/1")))
      assert.strictEqual(put.sent.length, 3)

      const allowed = scripted({ status: 503 }, { status: 201 })
      const told = yield* HttpResilience.wrap(allowed.client, { retry: quickRetry, retryMethods: ["post"] })
      assert.strictEqual((yield* advance(told.post("http://api.test/orders"))).status, 201)
      assert.deepStrictEqual(allowed.sent.map((s) => s.method), ["POST", "POST"])
    }))

  it.effect("transport errors are retried; a bad URL is not", () =>
    Effect.gen(function*() {
      const server = scripted("transport", { status: 200 })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry })
      assert.strictEqual((yield* advance(client.get("http://api.test/"))).status, 200)
      assert.deepStrictEqual(server.times(), [0, 100])

      const never = scripted({ status: 200 })
      const other = yield* HttpResilience.wrap(never.client, { retry: quickRetry })
      const error = yield* Effect.flip(advance(other.get("http://[bad")))
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual((error as HttpClientError.HttpClientError).reason._tag, "InvalidUrlError")
      assert.strictEqual(never.sent.length, 0)
    }))

  it.effect("one circuit per host: a failing host opens its circuit, the others keep theirs", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503 })
      const breakers = yield* CircuitBreaker.keyed({ name: "api", policy: CircuitBreaker.consecutive(2), resetTimeout: "1 hour" })
      const client = yield* HttpResilience.wrap(server.client, { retry: false, circuitBreaker: breakers })
      yield* advance(client.get("http://a.test:8080/"))
      yield* advance(client.get("http://a.test:8080/x"))
      const error = yield* Effect.flip(advance(client.get("http://a.test:8080/y")))
      assert.strictEqual(error._tag, "CircuitOpenError")
      assert.strictEqual((error as CircuitBreaker.CircuitOpenError).key, "a.test:8080")
      assert.strictEqual((yield* advance(client.get("http://b.test/"))).status, 503)
      assert.deepStrictEqual(server.sent.map((s) => s.host), ["a.test:8080", "a.test:8080", "b.test"])
      assert.deepStrictEqual([...(yield* breakers.keys)].sort(), ["a.test:8080", "b.test"])
    }))

  it.effect("an open circuit's retryAfter is longer than the retry will wait: it fails fast", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503 })
      const client = yield* HttpResilience.wrap(server.client, {
        retry: { maxAttempts: 5, backoff: Backoff.constant("100 millis") },
        circuitBreaker: { policy: CircuitBreaker.consecutive(2), resetTimeout: "1 minute" }
      })
      const error = yield* Effect.flip(advance(client.get("http://api.test/")))
      assert.strictEqual(error._tag, "CircuitOpenError")
      assert.deepStrictEqual(server.times(), [0, 100])
    }))

  it.effect("slow answers: the attempt timeout runs inside the host's breaker, so they trip it", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 200, delay: "5 seconds" })
      const breakers = yield* CircuitBreaker.keyed({ name: "api", policy: CircuitBreaker.consecutive(2) })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry, timeout: "1 second", circuitBreaker: breakers })
      const error = yield* Effect.flip(advance(client.get("http://api.test/")))
      assert.strictEqual(error._tag, "CircuitOpenError")
      assert.deepStrictEqual(server.times(), [0, 1100])
      assert.strictEqual((yield* breakers.state("api.test"))._tag, "Open")
    }))

  it.effect("totalTimeout bounds the whole request, retries included", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503 })
      const client = yield* HttpResilience.wrap(server.client, {
        retry: { maxAttempts: 10, backoff: Backoff.constant("1 second") },
        totalTimeout: "2500 millis"
      })
      const error = yield* Effect.flip(advance(client.get("http://api.test/")))
      assert.strictEqual(error._tag, "TimeoutError")
      assert.deepStrictEqual(server.times(), [0, 1000, 2000])
    }))

  it.effect("a Retry-After that would end past the total timeout gives up at once, with that response", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503, headers: { "retry-after": "3" } }, { status: 200 })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry, totalTimeout: "2500 millis" })
      const fiber = yield* Effect.forkChild(client.get("http://api.test/"))
      yield* TestClock.adjust(0)
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 503)
      assert.deepStrictEqual(server.times(), [0])
    }))

  it.effect("GETs are hedged; POSTs never are", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 200, delay: "1 second" }, { status: 200, delay: "10 millis" })
      const client = yield* HttpResilience.wrap(server.client, { hedge: { delay: "100 millis" } })
      const [response, events] = yield* advance(Events.collect(client.get("http://api.test/search")))
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(server.times(), [0, 100])
      assert.deepStrictEqual(events.map((e) => e._tag === "HedgeWon" ? [e._tag, e.attempt] : [e._tag]), [["HedgeLaunched"], ["HedgeWon", 2]])

      const posts = scripted({ status: 200, delay: "1 second" })
      const other = yield* HttpResilience.wrap(posts.client, { hedge: { delay: "100 millis" } })
      yield* advance(other.post("http://api.test/search"))
      assert.strictEqual(posts.sent.length, 1)
    }))

  it.effect("a client that fails on statuses itself gets its StatusCodeError back after the retries", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503, body: "busy" })
      const client = yield* HttpResilience.wrap(HttpClient.filterStatusOk(server.client), { retry: quickRetry })
      const error = yield* Effect.flip(advance(client.get("http://api.test/")))
      assert.strictEqual((error as HttpClientError.HttpClientError).reason._tag, "StatusCodeError")
      assert.strictEqual(server.sent.length, 3)
      // the error's response is the caller's to read
      assert.strictEqual(yield* (error as HttpClientError.HttpClientError).response!.text, "busy")
    }))

  it.effect("the bodies of responses not returned are read and dropped; the returned one is left to the caller", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503, body: "first" }, { status: 503, body: "second" }, { status: 200, body: "ok" })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry })
      const response = yield* advance(client.get("http://api.test/"))
      // the reads run on a detached fiber: give it event-loop turns, not time
      for (let i = 0; i < 100 && !(server.bodies[0]!.bodyUsed && server.bodies[1]!.bodyUsed); i++) {
        yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      }
      assert.deepStrictEqual(server.bodies.map((b) => b.bodyUsed), [true, true, false])
      assert.strictEqual(yield* response.text, "ok")
    }))

  it.effect("a resent request's client span carries http.request.resend_count", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({
        span(options) {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      const server = scripted({ status: 503 }, "transport", { status: 200 })
      const client = yield* HttpResilience.wrap(server.client, { retry: quickRetry })
      yield* advance(client.get("http://api.test/").pipe(Effect.withTracer(tracer)))
      const sends = spans.filter((s) => s.kind === "client")
      assert.deepStrictEqual(sends.map((s) => s.attributes.get("http.request.resend_count")), [undefined, 1, 2])
    }))

  it.effect("the layer replaces the HttpClient service; a rejection arrives inside an HttpClientError", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503 })
      const program = Effect.gen(function*() {
        yield* HttpClient.get("http://api.test/")
        return yield* Effect.flip(HttpClient.get("http://api.test/"))
      }).pipe(Effect.provide(
        HttpResilience.layer({ retry: false, circuitBreaker: { policy: CircuitBreaker.consecutive(1) } }).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, server.client))
        )
      ))
      const error = yield* advance(program)
      assert.strictEqual(error.reason._tag, "TransportError")
      assert.strictEqual(HttpResilience.rejectionOf(error)?._tag, "CircuitOpenError")
      assert.strictEqual(server.sent.length, 1)
    }))

  it.effect("a Policy runs every request through its own stages, whatever the method", () =>
    Effect.gen(function*() {
      const server = scripted({ status: 503 }, { status: 200 })
      const policy = yield* Policy.make({
        name: "payments-api",
        classify: HttpResilience.classifier(),
        retry: { maxAttempts: 2, backoff: Backoff.constant("100 millis") }
      })
      const client = yield* HttpResilience.wrap(server.client, policy)
      assert.strictEqual((yield* advance(client.post("http://api.test/pay"))).status, 200)
      assert.deepStrictEqual(server.times(), [0, 100])
    }).pipe(Effect.scoped))

  it.effect("bad options fail in the typed channel, naming the field; defaults are pinned", () =>
    Effect.gen(function*() {
      const { client } = scripted({ status: 200 })
      yield* failsInvalid(
        HttpResilience.wrap(client, { retryMethods: "GET" as unknown as ReadonlyArray<string> }),
        "retryMethods",
        `HttpResilience: retryMethods must be an array of HTTP methods (e.g. ["GET", "PUT"]), got "GET"`
      )
      yield* failsInvalid(
        HttpResilience.wrap(client, { retry: { maxAttempts: 0 } }),
        "retry.maxAttempts",
        "HttpResilience: retry.maxAttempts must be an integer >= 1 or Infinity, got 0"
      )
      yield* failsInvalid(
        HttpResilience.wrap(client, { timeout: -1 }),
        "timeout",
        `HttpResilience: timeout must be a duration > 0 or "Infinity", got -1`
      )
      assert.deepStrictEqual(defaults.http, {
        name: "http",
        retryMethods: ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"],
        hedgeMethods: ["GET", "HEAD"]
      })
    }))
})

/** A node:http client with keep-alive off: every request opens its own connection (and meets the proxy anew). */
const NodeClient = NodeHttpClient.layerNodeHttpOptions({ keepAlive: false })

/** A real server answering from `answer(n)` for its n-th request (0-based), counting requests and closed ones. */
const realServer = (answer: (n: number, request: import("node:http").IncomingMessage) => {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly delayMillis?: number
}) =>
  Effect.gen(function*() {
    const counts = { requests: 0, closedEarly: 0, methods: [] as Array<string> }
    const server = yield* loopbackServer((request, response) => {
      const { delayMillis = 0, headers = {}, status } = answer(counts.requests++, request)
      counts.methods.push(request.method ?? "")
      response.on("close", () => {
        if (!response.writableFinished) counts.closedEarly++
      })
      setTimeout(() => {
        if (!response.destroyed) response.writeHead(status, headers).end("body")
      }, delayMillis)
    })
    return { ...server, counts }
  })

const fast = { maxAttempts: 3, backoff: Backoff.constant("10 millis") } as const

// Real sockets on loopback; each test takes well under 200 ms, the lot under 2 s.
describe("HttpResilience against a real node:http server", () => {
  it.live("503 + Retry-After: 2 past maxRetryAfter: tried once, the hint read in seconds", () =>
    Effect.gen(function*() {
      const server = yield* realServer(() => ({ status: 503, headers: { "retry-after": "2" } }))
      const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: { ...fast, maxRetryAfter: "1 second" } })
      const [response, events] = yield* Events.collect(client.get(`${server.url}/`))
      assert.strictEqual(response.status, 503)
      assert.strictEqual(server.counts.requests, 1)
      const error = (events[0] as Extract<Events.ResilienceEvent, { _tag: "RetryExhausted" }>).error as HttpResilience.HttpStatusError
      assert.strictEqual(Duration.toMillis(error.retryAfter!), 2000)
    }).pipe(Effect.scoped, Effect.provide(NodeClient)))

  it.live("503 + an HTTP-date Retry-After: the hint is read against the clock", () =>
    Effect.gen(function*() {
      const server = yield* realServer(() => ({ status: 503, headers: { "retry-after": new Date(Date.now() + 5000).toUTCString() } }))
      const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: { ...fast, maxRetryAfter: "1 second" } })
      const [response, events] = yield* Events.collect(client.get(`${server.url}/`))
      assert.strictEqual(response.status, 503)
      const error = (events[0] as Extract<Events.ResilienceEvent, { _tag: "RetryExhausted" }>).error as HttpResilience.HttpStatusError
      // an HTTP-date has whole seconds
      assert.isAtLeast(Duration.toMillis(error.retryAfter!), 3000)
      assert.isAtMost(Duration.toMillis(error.retryAfter!), 5000)
    }).pipe(Effect.scoped, Effect.provide(NodeClient)))

  it.live("503 then 200, and 429 with Retry-After: 0 then 200: retried, the answer returned", () =>
    Effect.gen(function*() {
      const server = yield* realServer((n) =>
        n === 0 ? { status: 503 } : n === 2 ? { status: 429, headers: { "retry-after": "0" } } : { status: 200 }
      )
      const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: fast })
      const first = yield* client.get(`${server.url}/a`)
      assert.deepStrictEqual([first.status, yield* first.text], [200, "body"])
      assert.strictEqual((yield* client.get(`${server.url}/b`)).status, 200)
      assert.strictEqual(server.counts.requests, 4)
    }).pipe(Effect.scoped, Effect.provide(NodeClient)))

  it.live("a 404 is tried once and a POST is not retried", () =>
    Effect.gen(function*() {
      const server = yield* realServer((_, request) => ({ status: request.method === "POST" ? 503 : 404 }))
      const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: fast })
      assert.strictEqual((yield* client.get(`${server.url}/missing`)).status, 404)
      assert.strictEqual((yield* client.post(`${server.url}/orders`)).status, 503)
      assert.deepStrictEqual(server.counts.methods, ["GET", "POST"])
    }).pipe(Effect.scoped, Effect.provide(NodeClient)))

  it.live("slow responses: each attempt is cut at its timeout, and the server sees the request closed", () =>
    Effect.gen(function*() {
      const server = yield* realServer(() => ({ status: 200, delayMillis: 1000 }))
      const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: { ...fast, maxAttempts: 2 }, timeout: "150 millis" })
      const error = yield* Effect.flip(client.get(`${server.url}/slow`))
      assert.strictEqual(error._tag, "TimeoutError")
      assert.strictEqual(server.counts.requests, 2)
      // the second close travels back over loopback: wait for it, bounded
      yield* Effect.sleep("5 millis").pipe(Effect.repeat({ until: () => server.counts.closedEarly === 2, times: 200 }))
      assert.strictEqual(server.counts.closedEarly, 2)
    }).pipe(Effect.scoped, Effect.provide(NodeClient)))

  it.live("connection resets through the fault proxy: retried, then the host's circuit opens", () =>
    Effect.gen(function*() {
      const server = yield* realServer(() => ({ status: 200 }))
      const proxy = yield* Chaos.proxy({ target: server.url, reset: true })
      const breakers = yield* CircuitBreaker.keyed({ name: "api", policy: CircuitBreaker.consecutive(3) })
      const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: fast, circuitBreaker: breakers })
      const error = yield* Effect.flip(client.get(`${proxy.url}/`))
      assert.strictEqual(error._tag, "HttpClientError")
      assert.strictEqual((error as HttpClientError.HttpClientError).reason._tag, "TransportError")
      assert.strictEqual((yield* proxy.stats).resets, 3)
      assert.strictEqual((yield* Effect.flip(client.get(`${proxy.url}/`)))._tag, "CircuitOpenError")
      assert.strictEqual((yield* proxy.stats).connections, 3)
      // the proxy heals: a fresh circuit for a fresh client answers
      yield* proxy.update({ reset: false })
      const healthy = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, { retry: fast })
      assert.strictEqual((yield* healthy.get(`${proxy.url}/`)).status, 200)
      assert.strictEqual(server.counts.requests, 1)
    }).pipe(Effect.scoped, Effect.provide(NodeClient)))
})



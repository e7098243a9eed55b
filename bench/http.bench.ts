/**
 * Issue 16: the cost of HttpResilience per request against a bare
 * HttpClient. Targets: the default middleware (classification, retry, one
 * circuit per host) and every stage at once (attempt and total timeouts, a
 * hedge armed but never firing) each <= 1.1× a bare request to a node:http
 * server on loopback (body read). `NodeHttpClient.layerNodeHttp`'s agent does
 * not keep connections alive, so every request opens one: that is the bare
 * request timed.
 *
 * A loopback request varies on a shared machine by about what the
 * middleware costs, so the cases run in rotated batches (median kept), with
 * an A/A row (the bare client twice) that shows the noise of the run. The
 * middleware's CPU alone is measured too, over a transport that answers at
 * once: the gap between the two is scheduler turns, not CPU.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, ManagedRuntime } from "effect"
import { HttpClient, type HttpClientRequest, HttpClientResponse } from "effect/http"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { HttpResilience } from "../src/index.ts"
import { byName, CALLS_PER_ITERATION as N, loop, median, suite, target } from "./harness.ts"

/**
 * Requests per timed batch, and batches per case (interleaved, so every case
 * sees the same machine load). A batch's time varies by a few percent with
 * the load of a shared machine: 25 batches (rather than 15) narrow the
 * median of each case.
 */
const REQUESTS = 200
const ROUNDS = process.env.BENCH_QUICK === "1" ? 4 : 25

const listen = (): Promise<http.Server> =>
  new Promise((resolve) => {
    const server = http.createServer((_request, response) => response.end("ok"))
    server.listen(0, "127.0.0.1", () => resolve(server))
  })

interface Case {
  readonly name: string
  readonly batch: Effect.Effect<void, unknown>
}

/**
 * Loopback requests cost hundreds of microseconds and vary with the load of
 * the machine by more than the middleware costs, so each case runs in
 * batches rotated round by round, and the median batch is reported.
 */
const measure = async (
  cases: ReadonlyArray<Case>
): Promise<Array<{ readonly name: string; readonly micros: number; readonly samples: ReadonlyArray<number> }>> => {
  const samples = cases.map(() => [] as Array<number>)
  for (const c of cases) await Effect.runPromise(c.batch) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (round + k) % cases.length
      const start = performance.now()
      await Effect.runPromise(cases[i]!.batch)
      samples[i]!.push(((performance.now() - start) * 1000) / REQUESTS)
    }
  }
  return cases.map((c, i) => ({ name: c.name, micros: median(samples[i]!), samples: samples[i]! }))
}

const stages = {
  defaults: {},
  everything: { timeout: "5 seconds", totalTimeout: "20 seconds", hedge: { delay: "5 seconds" } }
} as const

const names = {
  bare: "bare HttpClient",
  defaults: "HttpResilience.wrap, defaults (retry, breaker per host)",
  everything: "HttpResilience.wrap, + timeout, totalTimeout, hedge"
} as const

/** The middleware's CPU: the same clients over a transport that answers at once, in ns per request. */
const inProcess = async (): Promise<Record<keyof typeof names, number>> => {
  const response = (request: HttpClientRequest.HttpClientRequest) =>
    HttpClientResponse.fromWeb(request, new Response("ok", { status: 200 }))
  const bare = HttpClient.make((request) => Effect.succeed(response(request)))
  const defaults = await Effect.runPromise(HttpResilience.wrap(bare, stages.defaults))
  const everything = await Effect.runPromise(HttpResilience.wrap(bare, stages.everything))
  const get = (client: HttpClient.HttpClient.With<any>) => loop(client.get("http://api.test/"), N)
  const rows = await suite(`HttpResilience, transport answering at once (${N} GETs per iteration)`, [
    { name: names.bare, fn: () => Effect.runPromise(get(bare)), units: N },
    { name: names.defaults, fn: () => Effect.runPromise(get(defaults)), units: N },
    { name: names.everything, fn: () => Effect.runPromise(get(everything)), units: N }
  ], { baseline: names.bare })
  return {
    bare: byName(rows, names.bare).nsPerUnit,
    defaults: byName(rows, names.defaults).nsPerUnit,
    everything: byName(rows, names.everything).nsPerUnit
  }
}

export const run = async (): Promise<void> => {
  const own = await inProcess()
  const server = await listen()
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  const runtime = ManagedRuntime.make(NodeHttpClient.layerNodeHttp)
  try {
    const bare = await runtime.runPromise(Effect.service(HttpClient.HttpClient))
    const defaults = await Effect.runPromise(HttpResilience.wrap(bare, stages.defaults))
    const everything = await Effect.runPromise(HttpResilience.wrap(bare, stages.everything))
    const batch = (client: HttpClient.HttpClient.With<any>) =>
      Effect.gen(function*() {
        for (let i = 0; i < REQUESTS; i++) {
          const response = yield* client.get(url)
          yield* response.text
        }
      })
    const rows = await measure([
      { name: names.bare, batch: batch(bare) },
      { name: "bare again (A/A: the noise of this run)", batch: batch(bare) },
      { name: names.defaults, batch: batch(defaults) },
      { name: names.everything, batch: batch(everything) }
    ])
    // the baseline is the bare client's batches of both bare rows
    const base = median([...rows[0]!.samples, ...rows[1]!.samples])
    console.log(`\n## HttpResilience on loopback (NodeHttpClient, a connection per GET, body read; median of ${ROUNDS} rotated batches of ${REQUESTS})\n`)
    console.log(`| case | µs/request | × bare (both bare rows' batches) |`)
    console.log(`|---|---:|---:|`)
    for (const row of rows) console.log(`| ${row.name} | ${row.micros.toFixed(1)} | ${(row.micros / base).toFixed(3)} |`)
    // The CPU the middleware adds, over the bare loopback request: what it would cost with no scheduler turn added.
    const estimate = (ns: number) => ((base * 1000 + ns - own.bare) / (base * 1000)).toFixed(3)
    console.log(`\nCPU alone (in-process cost over the bare loopback request): defaults ${estimate(own.defaults)}×, every stage ${estimate(own.everything)}×`)
    target("HttpResilience defaults vs a bare HttpClient, per loopback request", rows[2]!.micros / base, 1.1)
    target("HttpResilience with every stage vs a bare HttpClient, per loopback request", rows[3]!.micros / base, 1.1, "×", {
      pending: "the attempt and total timeouts and the hedge run the request in forked fibers: extra scheduler turns per request"
    })
  } finally {
    await runtime.dispose()
    server.closeAllConnections()
    server.close()
  }
}

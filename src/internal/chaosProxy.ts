/**
 * `Chaos.proxy`: a TCP proxy on loopback that injects network faults between
 * a client and a real server — latency, connection resets, a black hole and a
 * bandwidth cap — what Toxiproxy does, in Node, without a Go binary.
 *
 * It moves real bytes, so it runs on real time (Node timers), never on
 * `Clock`: a `TestClock` cannot make a socket faster. `node:net` is loaded by
 * a dynamic import when the proxy starts, so the main entry stays free of it.
 */
import { Duration, Effect, Random, Ref, type Scope } from "effect"
import type * as net from "node:net"
import type { InvalidConfigError } from "../Errors.ts"
import * as defaults from "./defaults.ts"
import { guard, TaggedError } from "./errors.ts"
import * as validate from "./validate.ts"

/** The faults; each can be changed while the proxy runs (`update`). */
export interface Toxics {
  /** Every chunk the target sends reaches the client this much later (order kept). Default 0. */
  readonly latency?: Duration.Input | undefined
  /**
   * Resets a connection (TCP RST) when the client's first bytes arrive, as a
   * peer that crashed mid-request: `true` every connection, a number in
   * [0, 1] that share of them (drawn from the `Random` service). Default `false`.
   */
  readonly reset?: boolean | number | undefined
  /** Accepts connections, swallows what the client sends and never answers. Default `false`. */
  readonly blackhole?: boolean | undefined
  /** Caps what the target sends to the client at this many bytes per second (> 0). Default: no cap. */
  readonly bandwidth?: number | undefined
}

export interface ProxyOptions extends Toxics {
  /** The server behind the proxy: a URL (`"http://127.0.0.1:8080"`) or `{ host, port }`. */
  readonly target: string | { readonly host?: string | undefined; readonly port: number }
  /** Reported in errors. Default `"proxy"`. */
  readonly name?: string | undefined
  /** The port to listen on (on 127.0.0.1). Default 0: a free port. */
  readonly port?: number | undefined
}

export interface ProxyStats {
  /** Connections accepted. */
  readonly connections: number
  /** Connections reset by the `reset` toxic. */
  readonly resets: number
  /** Connections swallowed by the `blackhole` toxic. */
  readonly blackholed: number
  /** Connections open now. */
  readonly open: number
}

export interface Proxy {
  readonly name: string
  readonly host: string
  readonly port: number
  /** `http://host:port`: point an HTTP client here instead of at the target. */
  readonly url: string
  /** The faults in force. */
  readonly toxics: Effect.Effect<ResolvedToxics>
  /** Changes some faults; the others stay. Applies to data and connections from now on. */
  readonly update: (toxics: Toxics) => Effect.Effect<void, InvalidConfigError>
  readonly stats: Effect.Effect<ProxyStats>
}

export interface ResolvedToxics {
  readonly latency: Duration.Duration
  readonly reset: number
  readonly blackhole: boolean
  readonly bandwidth: number | undefined
}

export class ProxyError extends TaggedError("ProxyError")<{
  readonly policy: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `chaos proxy "${this.policy}" could not listen: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

export const isProxyError = guard<ProxyError>("ProxyError")

const resolve = (source: string, toxics: Toxics, base: ResolvedToxics): ResolvedToxics => {
  const reset = toxics.reset === undefined
    ? base.reset
    : typeof toxics.reset === "boolean"
    ? (toxics.reset ? 1 : 0)
    : validate.ratio(source, "reset", toxics.reset)
  if (toxics.blackhole !== undefined && typeof toxics.blackhole !== "boolean") {
    throw validate.invalid(source, "blackhole", "a boolean", toxics.blackhole)
  }
  return {
    latency: toxics.latency === undefined ? base.latency : Duration.millis(validate.durationMillis(source, "latency", toxics.latency)),
    reset,
    blackhole: toxics.blackhole ?? base.blackhole,
    bandwidth: toxics.bandwidth === undefined ? base.bandwidth : validate.finiteAtLeast(source, "bandwidth", toxics.bandwidth, 1)
  }
}

const none: ResolvedToxics = { latency: Duration.zero, reset: 0, blackhole: false, bandwidth: undefined }

const targetOf = (source: string, target: ProxyOptions["target"]): { readonly host: string; readonly port: number } => {
  const expected = "a URL (\"http://127.0.0.1:8080\") or { host, port }"
  if (typeof target === "string") {
    const url = URL.canParse(target) ? new URL(target) : undefined
    if (url === undefined || url.port === "") throw validate.invalid(source, "target", `${expected} with a port`, target)
    return { host: url.hostname, port: Number(url.port) }
  }
  if (typeof target !== "object" || target === null) throw validate.invalid(source, "target", expected, target)
  return { host: target.host ?? defaults.chaosProxy.host, port: validate.positiveInt(source, "target.port", target.port, 65535) }
}

/** Sends downstream chunks after the latency and at the bandwidth, in order. */
const downstream = (client: net.Socket, toxics: () => ResolvedToxics) => {
  let lastDue = 0
  let pending = 0
  let ended = false
  const flushEnd = () => {
    if (ended && pending === 0) client.end()
  }
  return {
    write: (chunk: Buffer) => {
      const t = toxics()
      if (Duration.toMillis(t.latency) === 0 && t.bandwidth === undefined && pending === 0) {
        client.write(chunk)
        return
      }
      const now = performance.now()
      const transfer = t.bandwidth === undefined ? 0 : (chunk.length / t.bandwidth) * 1000
      const due = Math.max(now + Duration.toMillis(t.latency), lastDue) + transfer
      lastDue = due
      pending++
      setTimeout(() => {
        pending--
        if (!client.destroyed) client.write(chunk)
        flushEnd()
      }, due - now)
    },
    end: () => {
      ended = true
      flushEnd()
    }
  }
}

export const make = (options: ProxyOptions): Effect.Effect<Proxy, InvalidConfigError | ProxyError, Scope.Scope> =>
  Effect.gen(function*() {
    const source = "Chaos.proxy"
    const { name, port, target, initial } = yield* validate.attempt(() => {
      validate.options(source, "options", options, true, "an object with a target")
      return {
        name: validate.nonEmptyName(source, "name", options.name ?? defaults.chaosProxy.name),
        port: options.port === undefined ? 0 : validate.nonNegativeInt(source, "port", options.port, 65535),
        target: targetOf(source, options.target),
        initial: resolve(source, options, none)
      }
    })
    const state = yield* Ref.make(initial)
    const stats = yield* Ref.make<Omit<ProxyStats, "open">>({ connections: 0, resets: 0, blackholed: 0 })
    const count = (key: keyof Omit<ProxyStats, "open">) =>
      Effect.runSync(Ref.update(stats, (s) => ({ ...s, [key]: s[key] + 1 })))
    const random = yield* Random.Random
    const toxics = () => Ref.getUnsafe(state)
    const nodeNet = yield* Effect.promise(() => import("node:net"))
    // every open socket, to cut them when the scope closes; the clients' alone, for `stats.open`
    const sockets = new Set<net.Socket>()
    const clients = new Set<net.Socket>()
    const track = (set: Set<net.Socket>, socket: net.Socket) => {
      set.add(socket)
      socket.once("close", () => set.delete(socket))
    }

    const onConnection = (client: net.Socket) => {
      track(sockets, client)
      track(clients, client)
      count("connections")
      client.on("error", () => client.destroy())
      const t = toxics()
      if (t.blackhole) {
        count("blackholed")
        client.on("data", () => {})
        return
      }
      if (t.reset > 0 && (t.reset === 1 || random.nextDoubleUnsafe() < t.reset)) {
        count("resets")
        client.once("data", () => client.resetAndDestroy())
        return
      }
      const upstream = nodeNet.connect(target.port, target.host)
      track(sockets, upstream)
      const down = downstream(client, toxics)
      upstream.on("data", down.write)
      upstream.on("end", down.end)
      upstream.on("error", () => client.resetAndDestroy())
      client.on("data", (chunk) => {
        // a black hole switched on mid-connection swallows what follows
        if (!toxics().blackhole) upstream.write(chunk)
      })
      client.on("end", () => upstream.end())
      client.on("close", () => upstream.destroy())
    }

    const server = yield* Effect.acquireRelease(
      Effect.callback<net.Server, ProxyError>((resume) => {
        const server = nodeNet.createServer(onConnection)
        server.once("error", (cause) => resume(Effect.fail(new ProxyError({ policy: name, cause }))))
        server.listen(port, defaults.chaosProxy.host, () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          for (const socket of sockets) socket.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    const address = server.address() as net.AddressInfo
    const proxy: Proxy = {
      name,
      host: address.address,
      port: address.port,
      url: `http://${address.address}:${address.port}`,
      toxics: Ref.get(state),
      update: (changes) =>
        Effect.flatMap(
          validate.attempt(() => resolve(source, validate.options(source, "toxics", changes, true), Ref.getUnsafe(state))),
          (next) => Ref.set(state, next)
        ),
      stats: Effect.map(Ref.get(stats), (s) => ({ ...s, open: clients.size }))
    }
    return proxy
  })

/**
 * A real redis-server for the tests: Debian's `redis-server` package, run on a
 * free loopback port with a temporary directory, never a fake. The vitest
 * global setup starts one shared server; fault tests start their own with
 * {@link startRedisServer} and stop/restart it mid-run.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

/** The command that installs the server, quoted in every "missing" message. */
export const installCommand = "sudo apt-get install -y redis-server"

/** The `redis-server` binary on PATH (or `REDIS_SERVER`), if any. */
export const findRedisServer = (): string | undefined => {
  const explicit = process.env["REDIS_SERVER"]
  if (explicit !== undefined && explicit !== "") return fs.existsSync(explicit) ? explicit : undefined
  const dirs = (process.env["PATH"] ?? "").split(path.delimiter).concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"])
  for (const dir of dirs) {
    const candidate = path.join(dir, "redis-server")
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** A port the OS reports free on 127.0.0.1 (bound, read and released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port")))
    })
  })

/** One PING over a raw socket: true when the server answers +PONG within `timeoutMillis`. */
const ping = (port: number, timeoutMillis: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMillis, () => done(false))
    socket.on("error", () => done(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (data) => done(data.toString().startsWith("+PONG")))
  })

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Whether the process is running now. */
  readonly running: () => boolean
  /** Stops the server (SIGTERM, SIGKILL after 3 s) and waits for it to exit. The port stays reserved for `start`. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
  /** Starts it again on the same port, empty (no persistence), and waits until it answers PING. */
  readonly start: () => Promise<void>
  readonly restart: () => Promise<void>
  /** Stops the server and removes its directory. */
  readonly dispose: () => Promise<void>
}

/**
 * Starts a `redis-server` on a free loopback port, with no persistence, in a
 * fresh temporary directory, and waits (up to 5 s) until it answers PING.
 */
export const startRedisServer = async (options?: { readonly binary?: string | undefined }): Promise<RedisServer> => {
  const binary = options?.binary ?? findRedisServer()
  if (binary === undefined) throw new Error(`redis-server is not installed; install it with: ${installCommand}`)
  const port = await freePort()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-resilience-redis-"))
  let child: ChildProcess | undefined
  let output = ""

  const start = async (): Promise<void> => {
    if (child !== undefined) return
    output = ""
    const spawned = spawn(binary, [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--dir", dir,
      "--save", "",
      "--appendonly", "no",
      "--daemonize", "no",
      "--logfile", ""
    ], { stdio: ["ignore", "pipe", "pipe"] })
    child = spawned
    spawned.stdout?.on("data", (data) => (output += data.toString()))
    spawned.stderr?.on("data", (data) => (output += data.toString()))
    spawned.once("exit", () => {
      if (child === spawned) child = undefined
    })
    const deadline = Date.now() + 5_000
    while (Date.now() < deadline) {
      if (child !== spawned) break
      if (await ping(port, 200)) return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await stop("SIGKILL")
    throw new Error(`redis-server did not answer on port ${port} within 5 s:\n${output.slice(-2_000)}`)
  }

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    const running = child
    if (running === undefined) return
    const exited = new Promise<void>((resolve) => running.once("exit", () => resolve()))
    running.kill(signal)
    const timer = setTimeout(() => running.kill("SIGKILL"), 3_000)
    await exited
    clearTimeout(timer)
    child = undefined
  }

  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    running: () => child !== undefined,
    stop,
    start,
    restart: async () => {
      await stop()
      await start()
    },
    dispose: async () => {
      await stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

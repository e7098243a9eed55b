/** Assertions shared by the test files. */
import { assert } from "@effect/vitest"
import { Deferred, Effect, Layer, Logger, type Scope } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { Errors } from "../src/index.ts"

/** Runs `f`, which must throw an `InvalidConfigError`, and returns it. */
export const thrownInvalid = (f: () => unknown): Errors.InvalidConfigError => {
  try {
    f()
  } catch (error) {
    if (Errors.isInvalidConfigError(error)) return error
    throw error
  }
  throw new Error("expected an InvalidConfigError")
}

/** `f` throws an `InvalidConfigError` whose message contains `fragment`. */
export const throwsInvalid = (f: () => unknown, fragment: string): void => {
  assert.include(thrownInvalid(f).message, fragment)
}

/** `effect` fails with an `InvalidConfigError` naming `field`, with exactly `message`. */
export const failsInvalid = <A, E>(effect: Effect.Effect<A, E>, field: string, message: string) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    assert.isTrue(Errors.isInvalidConfigError(error), String(error))
    if (Errors.isInvalidConfigError(error)) {
      assert.strictEqual(error.field, field)
      assert.strictEqual(error.message, message)
    }
  })

/**
 * How a function reports bad options (docs/configuration.md, "Bad options"):
 * `"throws"` at the call, or `"fails"` in the error channel of the Effect or
 * Layer it returns (and then it must not throw).
 */
export type Report = "throws" | "fails"

/** The `InvalidConfigError` that `build` reports the way `report` says. */
export const invalidFrom = (report: Report, build: () => unknown): Effect.Effect<Errors.InvalidConfigError> =>
  Effect.gen(function*() {
    if (report === "throws") return thrownInvalid(build)
    let built: unknown
    try {
      built = build()
    } catch (error) {
      return assert.fail(`expected a failing Effect or Layer, but the call threw ${String(error)}`)
    }
    const effect: Effect.Effect<unknown, unknown, Scope.Scope> = Layer.isLayer(built)
      ? Layer.build(built as Layer.Layer<unknown, unknown>)
      : Effect.isEffect(built)
      ? (built as Effect.Effect<unknown, unknown, Scope.Scope>)
      : assert.fail(`expected an Effect or a Layer, got ${String(built)}`)
    const error = yield* Effect.flip(Effect.scoped(effect)).pipe(
      Effect.mapError(() => new Error("expected an InvalidConfigError, but it succeeded")),
      Effect.orDie
    )
    if (!Errors.isInvalidConfigError(error)) return assert.fail(`expected an InvalidConfigError, got ${String(error)}`)
    return error
  })

/** A logger layer that keeps every line as `LEVEL <message as JSON>`, for assertions on logs. */
export const captureLogs = (): { readonly lines: Array<string>; readonly layer: Layer.Layer<never> } => {
  const lines: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push(`${logLevel} ${JSON.stringify(message)}`)
  })
  return { lines, layer: Logger.layer([logger]) }
}

/**
 * Lets forked fibers run until they block (on a sleep, a permit, a `Deferred`).
 * For asserting that a fiber is *still waiting*, where nothing signals it;
 * when a test waits for a fiber to *reach* a point, a `Deferred` or `Latch`
 * opened there is exact and needs no count.
 */
export const settle: Effect.Effect<void> = Effect.repeat(Effect.yieldNow, { times: 19 })

/**
 * The named fields of a value, to assert several at once:
 * `deepStrictEqual(fields(state, "_tag", "probes"), { _tag: "HalfOpen", probes: 3 })`
 * shows which one differs, where `isTrue(a && b)` only says `false`.
 */
export const fields = <K extends string>(value: unknown, ...keys: ReadonlyArray<K>): Record<K, unknown> =>
  Object.fromEntries(keys.map((key) => [key, (value as Record<string, unknown>)[key]])) as Record<K, unknown>

/**
 * A handshake for "wait until `n` fibers reached this point": each `arrive`
 * counts one, and `arrived` completes at the `n`th. Exact where `settle`
 * guesses how many yields are enough.
 */
export const countdown = (n: number): Effect.Effect<{ readonly arrive: Effect.Effect<void>; readonly arrived: Effect.Effect<void> }> =>
  Effect.map(Deferred.make<void>(), (done) => {
    let left = n
    return {
      arrive: Effect.suspend(() => --left === 0 ? Deferred.succeed(done, undefined) : Effect.void),
      arrived: Deferred.await(done)
    }
  })

/**
 * A real `node:http` server on 127.0.0.1 (a free port) for the socket tests,
 * closed with its scope (open connections are cut, so no test waits on them).
 */
export const loopbackServer = (
  handler: (request: http.IncomingMessage, response: http.ServerResponse) => void
): Effect.Effect<{ readonly url: string; readonly port: number }, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<http.Server>((resume) => {
      const server = http.createServer(handler)
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => {
    const port = (server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, port }
  }))

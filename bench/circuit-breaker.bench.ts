/**
 * Issue 4: Closed-state success-path cost of CircuitBreaker.execute against a
 * bare call and Effect 4.1's own `effect/persistence` CircuitBreaker (memory
 * store). Issue 12: from a Promise caller, an open breaker's rejection
 * against cockatiel's and opossum's, and the Closed-state success path
 * against cockatiel's. (Idle keyed circuits: circuit-breaker-memory.bench.ts.)
 */
import { circuitBreaker as cockatielBreaker, ConsecutiveBreaker, handleAll } from "cockatiel"
import { Effect, Layer, Scope } from "effect"
import { CircuitBreaker as EffectCircuitBreaker } from "effect/persistence"
import Opossum from "opossum"
import { CircuitBreaker } from "../src/index.ts"
import { byName, CALLS_PER_ITERATION as N, loop, ratio, suite, target } from "./harness.ts"

const call = Effect.succeed(1)

const effectBreaker = (): EffectCircuitBreaker.CircuitBreaker => {
  const scope = Scope.makeUnsafe()
  return Effect.runSync(
    EffectCircuitBreaker.make({ tripPolicy: EffectCircuitBreaker.consecutive(5), openDuration: "30 seconds" }).pipe(
      Scope.provide(scope),
      Effect.provide(Layer.fresh(EffectCircuitBreaker.layerStoreMemory()))
    )
  )
}

export const run = async (): Promise<void> => {
  await successPath()
  await fromPromise()
}

const successPath = async () => {
  const consecutive = Effect.runSync(CircuitBreaker.make({ policy: CircuitBreaker.consecutive(5) }))
  const counted = Effect.runSync(CircuitBreaker.make({ policy: CircuitBreaker.countWindow({ size: 100, minimumCalls: 20 }) }))
  const timed = Effect.runSync(CircuitBreaker.make({ policy: CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 10 }) }))
  const slowCalls = Effect.runSync(CircuitBreaker.make({
    policy: CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 10 }),
    slowCall: { threshold: "1 second", rate: 0.5 }
  }))
  const keyed = Effect.runSync(CircuitBreaker.keyed({ policy: CircuitBreaker.consecutive(5) }))
  const theirs = effectBreaker()

  const programs: Record<string, Effect.Effect<void, unknown>> = {
    "bare Effect.succeed": loop(call, N),
    "effect/persistence CircuitBreaker (memory store)": loop(call.pipe(theirs.execute({ key: "k" })), N),
    "CircuitBreaker consecutive(5)": loop(call.pipe(consecutive.execute), N),
    "CircuitBreaker countWindow(100)": loop(call.pipe(counted.execute), N),
    "CircuitBreaker timeWindow(10 s, 10)": loop(call.pipe(timed.execute), N),
    "CircuitBreaker timeWindow + slowCall": loop(call.pipe(slowCalls.execute), N),
    "CircuitBreaker.keyed consecutive(5), one key": loop(keyed.execute(call, "k"), N)
  }
  const rows = await suite(
    "CircuitBreaker: Closed-state success path, per call",
    Object.entries(programs).map(([name, program]) => ({ name, units: N, fn: () => Effect.runSync(program) })),
    { baseline: "bare Effect.succeed" }
  )
  const bare = byName(rows, "bare Effect.succeed").nsPerUnit
  const theirsName = "effect/persistence CircuitBreaker (memory store)"
  target("CircuitBreaker consecutive / effect/persistence CircuitBreaker", ratio(rows, "CircuitBreaker consecutive(5)", theirsName), 0.1)
  target("CircuitBreaker consecutive: ns above a bare call", byName(rows, "CircuitBreaker consecutive(5)").nsPerUnit - bare, 250, " ns")
  target("CircuitBreaker countWindow: ns above a bare call", byName(rows, "CircuitBreaker countWindow(100)").nsPerUnit - bare, 250, " ns")
  target("CircuitBreaker timeWindow: ns above a bare call", byName(rows, "CircuitBreaker timeWindow(10 s, 10)").nsPerUnit - bare, 250, " ns")
}

const ignore = () => undefined

/** Both called the same way: one awaited call at a time, `Effect.runPromise` per call for ours. */
const fromPromise = async () => {
  const fn = () => Promise.resolve(1)
  const failing = () => Promise.reject(new Error("down"))

  const theirsClosed = cockatielBreaker(handleAll, { halfOpenAfter: 3_600_000, breaker: new ConsecutiveBreaker(5) })
  const theirsOpen = cockatielBreaker(handleAll, { halfOpenAfter: 3_600_000, breaker: new ConsecutiveBreaker(1) })
  await theirsOpen.execute(failing).catch(ignore)
  const opossumClosed = new Opossum(fn, { resetTimeout: 3_600_000, timeout: false })
  const opossumOpen = new Opossum(fn, { resetTimeout: 3_600_000, timeout: false })
  opossumOpen.open()

  const oursClosed = Effect.runSync(CircuitBreaker.make({ policy: CircuitBreaker.consecutive(5), resetTimeout: "1 hour" }))
  const oursOpen = Effect.runSync(CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), resetTimeout: "1 hour" }))
  await Effect.runPromise(Effect.exit(oursOpen.execute(Effect.fail("down"))))
  const call = Effect.succeed(1)
  const rejected = oursOpen.execute(call)
  const succeeded = oursClosed.execute(call)
  if (!CircuitBreaker.isCircuitOpenError(await Effect.runPromise(Effect.flip(rejected)))) {
    throw new Error("our breaker should be open")
  }
  await theirsOpen.execute(fn).then(() => {
    throw new Error("cockatiel's breaker should be open")
  }, ignore)

  const rows = await suite(
    "CircuitBreaker from a Promise caller, per call: open-breaker rejection, Closed success",
    [
      { name: "cockatiel open breaker rejects", fn: () => theirsOpen.execute(fn).catch(ignore) },
      { name: "opossum open breaker rejects", fn: () => opossumOpen.fire().catch(ignore) },
      { name: "Effect.runPromise(breaker.execute), open", fn: () => Effect.runPromise(rejected).catch(ignore) },
      { name: "bare Effect.runPromise(Effect.succeed(1))", fn: () => Effect.runPromise(call) },
      { name: "cockatiel closed breaker, success", fn: () => theirsClosed.execute(fn) },
      { name: "opossum closed breaker, success", fn: () => opossumClosed.fire() },
      { name: "Effect.runPromise(breaker.execute), Closed, success", fn: () => Effect.runPromise(succeeded) }
    ],
    { baseline: "cockatiel open breaker rejects" }
  )
  opossumClosed.shutdown()
  opossumOpen.shutdown()
  target(
    "open-breaker rejection / cockatiel's",
    ratio(rows, "Effect.runPromise(breaker.execute), open", "cockatiel open breaker rejects"),
    1.2
  )
  console.log(
    `open-breaker rejection / opossum's: ${
      ratio(rows, "Effect.runPromise(breaker.execute), open", "opossum open breaker rejects").toFixed(3)
    }×`
  )
  target(
    "Closed success from a Promise / cockatiel's breaker",
    ratio(rows, "Effect.runPromise(breaker.execute), Closed, success", "cockatiel closed breaker, success"),
    1.5
  )
}

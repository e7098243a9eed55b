/**
 * Issue 4: Closed-state success-path cost of CircuitBreaker.execute against a
 * bare call and Effect 4.1's own `effect/persistence` CircuitBreaker (memory
 * store), and the heap held by 100,000 idle keyed circuits.
 */
import { Effect, Layer, Scope } from "effect"
import { CircuitBreaker as EffectCircuitBreaker } from "effect/persistence"
import { CircuitBreaker } from "../src/index.ts"
import { byName, CALLS_PER_ITERATION as N, loop, ratio, retainedMemory, suite, target } from "./harness.ts"

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

/** Bytes (heap + external, after GC) per idle circuit: 100,000 keys each called once (a success), then left alone. */
const keyedHeap = (options: CircuitBreaker.KeyedCircuitBreakerOptions, keys = 100_000) => {
  const before = retainedMemory()
  const keyed = Effect.runSync(CircuitBreaker.keyed(options))
  Effect.runSync(Effect.gen(function*() {
    for (let i = 0; i < keys; i++) yield* keyed.execute(call, `host-${i}.example.com`)
  }))
  const after = retainedMemory()
  const size = Effect.runSync(keyed.keys).length
  if (size !== keys) throw new Error(`expected ${keys} circuits, got ${size}`)
  return { total: after - before, perCircuit: (after - before) / keys }
}

export const run = async (): Promise<void> => {
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

  console.log("\n## CircuitBreaker.keyed: memory (heap + external, after GC) held by 100,000 idle circuits\n")
  console.log("| policy | heap + external (MB) | bytes per circuit |")
  console.log("|---|---:|---:|")
  const heaps: Array<[string, CircuitBreaker.KeyedCircuitBreakerOptions]> = [
    ["consecutive(5)", { policy: CircuitBreaker.consecutive(5) }],
    ["countWindow(size 100)", { policy: CircuitBreaker.countWindow({ size: 100 }) }],
    ["timeWindow(10 buckets)", { policy: CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 10 }) }]
  ]
  let worst = 0
  for (const [label, options] of heaps) {
    const { perCircuit, total } = keyedHeap(options)
    worst = Math.max(worst, total)
    console.log(`| ${label} | ${(total / 1e6).toFixed(1)} | ${perCircuit.toFixed(0)} |`)
  }
  target("100,000 idle keyed circuits (worst policy above), heap + external", worst / 1e6, 100, " MB")
}

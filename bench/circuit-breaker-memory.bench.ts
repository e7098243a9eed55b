/**
 * Issue 12: what a keyed circuit costs when idle (heap + external memory,
 * after GC) against Effect's `effect/persistence` breaker with the same trip
 * policy. (The open breaker's rejection against cockatiel's and opossum's is
 * in circuit-breaker.bench.ts.)
 */
import { Effect, Layer, Scope } from "effect"
import { CircuitBreaker as EffectCircuitBreaker } from "effect/persistence"
import { CircuitBreaker } from "../src/index.ts"
import { retainedMemory, target } from "./harness.ts"

const KEYS = 100_000
const call = Effect.succeed(1)

/** Bytes per idle circuit: `KEYS` keys each called once (a success), then left alone; the breaker stays reachable. */
const perCircuit = (build: () => (key: string) => Effect.Effect<unknown, unknown>): { total: number; perKey: number } => {
  const before = retainedMemory()
  const execute = build()
  Effect.runSync(Effect.gen(function*() {
    for (let i = 0; i < KEYS; i++) yield* execute(`host-${i}.example.com`)
  }))
  const total = retainedMemory() - before
  // Read after the measurement, so the breaker (and its circuits) is alive during it.
  if (typeof execute !== "function") throw new Error("unreachable")
  return { total, perKey: total / KEYS }
}

const ours = (policy: CircuitBreaker.TripPolicy) => () => {
  const keyed = Effect.runSync(CircuitBreaker.keyed({ policy }))
  return (key: string) => keyed.execute(call, key)
}

const theirs = (tripPolicy: EffectCircuitBreaker.TripPolicy) => () => {
  const breaker = Effect.runSync(
    EffectCircuitBreaker.make({ tripPolicy, openDuration: "30 seconds" }).pipe(
      Scope.provide(Scope.makeUnsafe()),
      Effect.provide(Layer.fresh(EffectCircuitBreaker.layerStoreMemory()))
    )
  )
  return (key: string) => call.pipe(breaker.execute({ key }))
}

export const run = async (): Promise<void> => {
  console.log(`\n## CircuitBreaker.keyed: ${KEYS.toLocaleString("en")} idle circuits, heap + external after GC\n`)
  console.log("| breaker | MB | bytes per circuit |")
  console.log("|---|---:|---:|")
  const cases: Array<[string, () => (key: string) => Effect.Effect<unknown, unknown>]> = [
    ["ours consecutive(5)", ours(CircuitBreaker.consecutive(5))],
    ["effect/persistence consecutive(5)", theirs(EffectCircuitBreaker.consecutive(5))],
    ["ours countWindow(size 100)", ours(CircuitBreaker.countWindow({ size: 100 }))],
    ["effect/persistence rate(size 100)", theirs(EffectCircuitBreaker.rate({ size: 100 }))],
    ["ours timeWindow(10 s, 10 buckets)", ours(CircuitBreaker.timeWindow({ window: "10 seconds", buckets: 10 }))]
  ]
  const bytes: Record<string, { total: number; perKey: number }> = {}
  for (const [label, build] of cases) {
    const measured = perCircuit(build)
    bytes[label] = measured
    console.log(`| ${label} | ${(measured.total / 1e6).toFixed(1)} | ${measured.perKey.toFixed(0)} |`)
  }
  target(
    "idle consecutive circuit / effect/persistence's",
    bytes["ours consecutive(5)"]!.perKey / bytes["effect/persistence consecutive(5)"]!.perKey,
    1
  )
  target(
    "idle countWindow circuit / effect/persistence rate's",
    bytes["ours countWindow(size 100)"]!.perKey / bytes["effect/persistence rate(size 100)"]!.perKey,
    1
  )
  target("100,000 idle timeWindow circuits", bytes["ours timeWindow(10 s, 10 buckets)"]!.total / 1e6, 60, " MB")
}

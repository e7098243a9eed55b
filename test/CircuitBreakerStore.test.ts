import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { CircuitBreaker } from "../src/index.ts"
import { suite } from "./CircuitBreakerStoreSuite.ts"

suite("memory", CircuitBreaker.layerStoreMemory)

describe("CircuitBreakerStore", () => {
  it.effect("a breaker keeps its circuits in the store of its context", () =>
    Effect.gen(function*() {
      const tables: Array<string> = []
      const counting = Layer.effect(
        CircuitBreaker.CircuitBreakerStore,
        Effect.map(CircuitBreaker.CircuitBreakerStore, (memory) => ({
          table: (options: CircuitBreaker.CircuitBreakerStore.TableOptions) => {
            tables.push(options.name)
            return memory.table(options)
          }
        }))
      ).pipe(Layer.provide(CircuitBreaker.layerStoreMemory))
      yield* Effect.gen(function*() {
        const plain = yield* CircuitBreaker.make({ name: "plain" })
        const keyed = yield* CircuitBreaker.keyed({ name: "keyed" })
        yield* plain.execute(Effect.void)
        yield* keyed.execute(Effect.void, "k")
      }).pipe(Effect.provide(counting))
      assert.deepStrictEqual(tables, ["plain", "keyed"])
    }))
})

/** Assertions shared by the test files. */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
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

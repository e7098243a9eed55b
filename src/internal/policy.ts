/**
 * The fixed composition order of `Policy.execute`, outermost first:
 *
 *   fallback → totalTimeout → retry → throttle → rateLimit → circuitBreaker → bulkhead → hedge → attemptTimeout → call
 *
 * Each present policy contributes one stage; `execute` wraps the call in the
 * stages from the innermost out. Stages are plain wrappers, so the order is
 * data: `Policy.describe` reports it and the tests pin it.
 */
import type { Effect } from "effect"
import type { Instrumentation } from "./instrument.ts"

export type Wrap = (self: Effect.Effect<any, any, any>) => Effect.Effect<any, any, any>

export interface Stage {
  readonly kind: StageKind
  readonly wrap: Wrap
  /** The wrapper with a span per attempt (retry, hedge), used when telemetry is installed. */
  readonly traced?: ((instrumentation: Instrumentation) => Wrap) | undefined
}

export const ORDER = [
  "fallback",
  "totalTimeout",
  "retry",
  "throttle",
  "rateLimit",
  "circuitBreaker",
  "bulkhead",
  "hedge",
  "timeout"
] as const

export type StageKind = typeof ORDER[number]

/** Sorts stages into the contract order (outermost first). */
export const ordered = (stages: ReadonlyArray<Stage>): ReadonlyArray<Stage> =>
  [...stages].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind))

/** One wrapper that applies stages given outermost first (see `ordered`), innermost first. */
export const compose = (stages: ReadonlyArray<Stage>): Wrap => {
  const inner = stages.map((s) => s.wrap).reverse()
  switch (inner.length) {
    case 0:
      return (self) => self
    case 1:
      return inner[0]!
    default:
      return (self) => {
        let effect = self
        for (const wrap of inner) effect = wrap(effect)
        return effect
      }
  }
}

/** `compose` with each stage's traced wrapper where it has one. */
export const composeTraced = (stages: ReadonlyArray<Stage>, instrumentation: Instrumentation): Wrap =>
  compose(stages.map((s) => s.traced === undefined ? s : { kind: s.kind, wrap: s.traced(instrumentation) }))

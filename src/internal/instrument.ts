/**
 * The one hook the policies call for telemetry: a span (and, for a whole
 * policy execution, the call metrics) around an execution or an attempt.
 *
 * The hook is held in a `Context.Reference` whose default is `undefined`;
 * `Telemetry.layer` fills it. A policy reads it once per execution, inside a
 * `withFiber` it needs anyway or one it adds, and with nothing installed runs
 * the call exactly as before: no span, no clock read, no allocation.
 */
import { Context, type Effect, type Fiber } from "effect"
import { withFiber } from "effect/Effect"

/** What a span is around: `resilience.<kind>`. */
export type SpanKind = "policy" | "retry.attempt" | "hedge.attempt" | "circuit_breaker"

export interface Instrumentation {
  /**
   * Runs `self` in a span named `resilience.<kind>` with the policy's name
   * and `attributes`; sets `resilience.outcome` from the exit.
   */
  readonly span: <A, E, R>(
    self: Effect.Effect<A, E, R>,
    kind: SpanKind,
    policy: string,
    attributes: Record<string, unknown> | undefined
  ) => Effect.Effect<A, E, R>
}

export const CurrentInstrumentation = Context.Reference<Instrumentation | undefined>(
  "effect-resilience/Instrumentation",
  { defaultValue: () => undefined }
)

/** The installed instrumentation of a fiber, or `undefined`. */
export const of = (fiber: Fiber.Fiber<unknown, unknown>): Instrumentation | undefined =>
  fiber.getRef(CurrentInstrumentation)

/**
 * Runs `self` in a span of `kind` when instrumentation is installed, and as
 * it is otherwise. For wrappers that have no fiber at hand already.
 */
export const traced = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  kind: SpanKind,
  policy: string,
  attributes?: Record<string, unknown>
): Effect.Effect<A, E, R> =>
  withFiber((fiber) => {
    const instrumentation = of(fiber)
    return instrumentation === undefined ? self : instrumentation.span(self, kind, policy, attributes)
  })

/** How a breaker state reads in spans, metrics and `/health` (the seed's spelling: `half_open`). */
export const breakerStateLabel = (tag: string): string => {
  switch (tag) {
    case "Closed":
      return "closed"
    case "HalfOpen":
      return "half_open"
    case "Open":
      return "open"
    case "ForcedOpen":
      return "forced_open"
    case "Disabled":
      return "disabled"
    default:
      return tag
  }
}

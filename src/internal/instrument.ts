/**
 * The one hook the policies call for telemetry: a span (and, for a whole
 * policy execution, the call metrics) around an execution or an attempt.
 *
 * The hook is held in a `Context.Reference` whose default is `undefined`;
 * `Telemetry.layer` fills it. Where it is read, and what that costs when
 * nothing is installed:
 *
 * - `Policy.execute`: once per call (one `withFiber`); an instrumented policy
 *   then hands it to its retry and hedge stages, so they read nothing;
 * - a circuit breaker: inside the `withFiber` its admission needs anyway;
 * - a standalone `Retry.retry`: only once a retry starts; a standalone hedge:
 *   only once it launches a hedged attempt. Their success paths pay nothing,
 *   and their first attempt runs in the caller's span.
 */
import { Context, type Effect, type Fiber } from "effect"

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

// A context is immutable, so the answer for the context seen last can be
// reused: on a hot path the fiber's context rarely changes between calls, and
// a miss in a context costs two map lookups and an overlay walk.
let lastContext: Context.Context<never> | undefined
let lastValue: Instrumentation | undefined

/** The installed instrumentation of a fiber, or `undefined`. */
export const of = (fiber: Fiber.Fiber<unknown, unknown>): Instrumentation | undefined => {
  const context = fiber.context
  if (context !== lastContext) {
    lastValue = Context.getOrUndefined(context, CurrentInstrumentation)
    lastContext = context
  }
  return lastValue
}

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

/**
 * Machinery of `Telemetry`: the metric definitions, the event listener that
 * turns decisions into metrics, span events and logs, the span hook the
 * policies call (`instrument.ts`), and the registry sampler for gauges.
 *
 * Everything here runs only once `Telemetry.layer` is provided; the policies
 * themselves hold no metric and create no span.
 */
import { Cause, Duration, Effect, Exit, Metric, Tracer } from "effect"
import type { ResilienceEvent } from "../Events.ts"
import * as Registry from "../Registry.ts"
import * as health from "./health.ts"
import { breakerStateLabel, type Instrumentation, type SpanKind } from "./instrument.ts"

// -----------------------------------------------------------------------------
// metrics
// -----------------------------------------------------------------------------

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })
const gauge = (name: string, description: string) => Metric.gauge(name, { description })

/** Every metric, by role. The four seed series keep their names and labels exactly. */
export const metrics = {
  // the seed's dashboards (names and label keys are a contract)
  circuitBreakerState: gauge("circuit_breaker_state", "Circuit breaker state: 0 closed, 1 half_open, 2 open (label: service)"),
  retryAttempts: counter("retry_attempts_total", "Retries scheduled (label: operation)"),
  timeoutErrors: counter("timeout_errors_total", "Calls that ran past their timeout (label: operation)"),
  fallbackInvocations: counter("fallback_invocations_total", "Answers served by a fallback (label: operation)"),
  // the library's own
  calls: counter("resilience_calls_total", "Policy executions by outcome (labels: policy, outcome)"),
  callDuration: Metric.histogram("resilience_call_duration_seconds", {
    description: "Duration of policy executions, in seconds (label: policy)",
    boundaries: Metric.exponentialBoundaries({ start: 0.001, factor: 2, count: 16 })
  }),
  retriesExhausted: counter("resilience_retries_exhausted_total", "Calls that used every attempt (label: policy)"),
  retryBudgetDenied: counter("resilience_retry_budget_denied_total", "Retries refused by the retry budget (label: policy)"),
  breakerTransitions: counter("resilience_circuit_breaker_transitions_total", "Breaker transitions (labels: policy, to)"),
  breakerRejections: counter("resilience_circuit_breaker_rejections_total", "Calls rejected by a breaker (label: policy)"),
  fallbacks: counter("resilience_fallbacks_total", "Fallbacks used (labels: policy, source)"),
  bulkheadActive: gauge("resilience_bulkhead_active", "Calls running in a bulkhead (label: policy)"),
  bulkheadQueued: gauge("resilience_bulkhead_queued", "Calls waiting for a bulkhead permit (label: policy)"),
  bulkheadRejections: counter("resilience_bulkhead_rejections_total", "Calls rejected by a bulkhead (labels: policy, reason)"),
  hedgesLaunched: counter("resilience_hedges_launched_total", "Hedged attempts started (label: policy)"),
  hedgeBudgetDenied: counter("resilience_hedge_budget_denied_total", "Hedged attempts refused by the retry budget (label: policy)"),
  hedgesWon: counter("resilience_hedges_won_total", "Races won by a hedged attempt (label: policy)"),
  shed: counter("resilience_shed_total", "Calls shed by a load shedder (labels: policy, priority)"),
  rateLimited: counter("resilience_rate_limited_total", "Calls refused by a rate limit (label: policy)"),
  deadLetterQueueSize: gauge("resilience_dead_letter_queue_size", "Entries in a dead-letter queue (label: policy)"),
  deadLetters: counter("resilience_dead_letters_total", "Items stored in a dead-letter queue (label: policy)"),
  deadLetterRejections: counter("resilience_dead_letter_rejections_total", "Items refused by a full dead-letter queue (label: policy)"),
  adaptiveLimit: gauge("resilience_adaptive_limit", "Concurrency limit of an adaptive limiter (label: policy)"),
  adaptiveLimitRejections: counter("resilience_adaptive_limit_rejections_total", "Calls rejected by an adaptive limiter (label: policy)"),
  throttled: counter("resilience_throttled_total", "Calls rejected locally by adaptive throttling (label: policy)"),
  degraded: counter("resilience_degraded_total", "Degraded variants run instead of the full one (label: policy)"),
  stagesSkipped: counter("resilience_stages_skipped_total", "Non-critical pipeline stages skipped (label: policy)"),
  idempotentHits: counter("resilience_idempotent_hits_total", "Calls answered without running (labels: policy, kind)"),
  abandoned: counter("resilience_abandoned_total", "Timed-out work that did not stop and runs on (labels: policy, reason)"),
  reconfigurations: counter("resilience_reconfigurations_total", "Live reconfigurations (labels: policy, outcome: applied, refused)")
} as const

/** The gauge value of a breaker state: 0 closed (or disabled), 1 half-open, 2 open (or forced open). */
export const breakerStateValue = (label: string): number =>
  label === "half_open" ? 1 : label === "open" || label === "forced_open" ? 2 : 0

const inc = (metric: Metric.Metric<number, unknown>, attributes: Record<string, string>) =>
  Metric.update(Metric.withAttributes(metric, attributes), 1)

const setBreakerState = (name: string, label: string) => {
  const value = breakerStateValue(label)
  return Metric.update(Metric.withAttributes(metrics.circuitBreakerState, { service: name }), value)
}

// -----------------------------------------------------------------------------
// outcome of an execution
// -----------------------------------------------------------------------------

/** `resilience.outcome` values. */
export type Outcome = "success" | "failure" | "rejected" | "timeout" | "fallback" | "shed" | "interrupted"

const rejectionTags = new Set(["CircuitOpenError", "BulkheadRejectedError", "RateLimitedError"])

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && typeof (error as { _tag?: unknown })._tag === "string"
    ? (error as { _tag: string })._tag
    : undefined

export const outcomeOf = (exit: Exit.Exit<unknown, unknown>, fellBack: boolean): Outcome => {
  if (Exit.isSuccess(exit)) return fellBack ? "fallback" : "success"
  const cause = exit.cause
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const tag = tagOf(failure.error)
    if (tag === "TimeoutError") return "timeout"
    if (tag === "LoadShedError") return "shed"
    if (tag !== undefined && rejectionTags.has(tag)) return "rejected"
    return "failure"
  }
  return Cause.hasInterruptsOnly(cause) ? "interrupted" : "failure"
}

/** Set on the span when a fallback answered, so the span's outcome reads `fallback`. */
const FALLBACK_SOURCE = "resilience.fallback.source"

// -----------------------------------------------------------------------------
// spans
// -----------------------------------------------------------------------------

/**
 * A span stack trace points into the library (the policy's wrapper), never
 * at the caller, and capturing one costs more than the span itself.
 */
const noStackTrace = { captureStackTrace: false } as const

export const instrumentation: Instrumentation = {
  span: <A, E, R>(
    self: Effect.Effect<A, E, R>,
    kind: SpanKind,
    policy: string,
    attributes: Record<string, unknown> | undefined
  ): Effect.Effect<A, E, R> =>
    Effect.useSpan(
      `resilience.${kind}`,
      { attributes: attributes === undefined ? { "resilience.policy": policy } : { ...attributes, "resilience.policy": policy } },
      (span) =>
        Effect.withParentSpan(
          kind === "policy" ? measured(self, policy, span) : withOutcome(self, span),
          span,
          noStackTrace
        )
    )
}

// The outcome is set synchronously in the exit hook: no finalizer effect to run.
const withOutcome = <A, E, R>(self: Effect.Effect<A, E, R>, span: Tracer.Span): Effect.Effect<A, E, R> =>
  Effect.onExitPrimitive(self, (exit) => {
    span.attribute("resilience.outcome", outcomeOf(exit, span.attributes.has(FALLBACK_SOURCE)))
    return undefined
  })

/** A whole policy execution: its span's outcome, `resilience_calls_total` and the duration histogram. */
const measured = <A, E, R>(self: Effect.Effect<A, E, R>, policy: string, span: Tracer.Span): Effect.Effect<A, E, R> =>
  Effect.clockWith((clock) => {
    const start = clock.currentTimeMillisUnsafe()
    return Effect.onExitPrimitive(self, (exit) => {
      const outcome = outcomeOf(exit, span.attributes.has(FALLBACK_SOURCE))
      span.attribute("resilience.outcome", outcome)
      const seconds = (clock.currentTimeMillisUnsafe() - start) / 1000
      return Effect.andThen(
        Metric.update(callsOf(policy, outcome), 1),
        Metric.update(durationOf(policy), seconds)
      )
    })
  })

// Labelled metrics on the success path are built once per (policy, outcome).
const callsCache = new Map<string, Metric.Metric<number, unknown>>()
const durationCache = new Map<string, Metric.Metric<number, unknown>>()

const callsOf = (policy: string, outcome: Outcome) => {
  const key = `${policy}\u0000${outcome}`
  let metric = callsCache.get(key)
  if (metric === undefined) {
    metric = Metric.withAttributes(metrics.calls, { policy, outcome })
    callsCache.set(key, metric)
  }
  return metric
}

const durationOf = (policy: string) => {
  let metric = durationCache.get(policy)
  if (metric === undefined) {
    metric = Metric.withAttributes(metrics.callDuration, { policy })
    durationCache.set(policy, metric)
  }
  return metric
}

// -----------------------------------------------------------------------------
// events → metrics, span events, logs
// -----------------------------------------------------------------------------

/** What one event becomes. */
interface Reading {
  /** Span event name, e.g. `resilience.retry.scheduled`. */
  readonly span: string
  readonly attributes: Record<string, unknown>
  readonly metrics: Effect.Effect<void>
  readonly level: "Debug" | "Info" | "Warn" | "Error"
  readonly message: string
}

const errorMessage = (error: unknown): string =>
  error instanceof Error
    ? (error.message === "" ? error.name : `${error.name}: ${error.message}`)
    : typeof error === "string"
    ? error
    : String(tagOf(error) ?? error)

const millis = (duration: Duration.Duration | undefined): number | undefined =>
  duration === undefined ? undefined : Duration.toMillis(duration)

/** Every event member, exhaustively: a new member fails to compile here until it is handled. */
export const read = (event: ResilienceEvent): Reading => {
  const name = event.name
  const policy = { policy: name }
  switch (event._tag) {
    case "RetryScheduled":
      return {
        span: "resilience.retry.scheduled",
        attributes: { "resilience.attempt": event.attempt, "resilience.retry.delay_ms": Duration.toMillis(event.delay), "error.message": errorMessage(event.error) },
        metrics: inc(metrics.retryAttempts, { operation: name }),
        level: "Debug",
        message: `retry ${event.attempt} of "${name}" in ${Duration.format(event.delay)} after ${errorMessage(event.error)}`
      }
    case "RetryExhausted":
      return {
        span: "resilience.retry.exhausted",
        attributes: { "resilience.attempt": event.attempts, "error.message": errorMessage(event.error) },
        metrics: inc(metrics.retriesExhausted, policy),
        level: "Warn",
        message: `"${name}" gave up after ${event.attempts} attempts: ${errorMessage(event.error)}`
      }
    case "RetryBudgetDenied":
      return {
        span: "resilience.retry.budget_denied",
        attributes: { "resilience.attempt": event.attempt },
        metrics: inc(metrics.retryBudgetDenied, policy),
        level: "Warn",
        message: `retry budget of "${name}" refused a retry after attempt ${event.attempt}`
      }
    case "TimeoutFired":
      return {
        span: "resilience.timeout",
        attributes: { "resilience.timeout_ms": Duration.toMillis(event.duration) },
        metrics: inc(metrics.timeoutErrors, { operation: name }),
        level: "Info",
        message: `"${name}" timed out after ${Duration.format(event.duration)}`
      }
    case "BreakerTransition": {
      const from = breakerStateLabel(event.from)
      const to = breakerStateLabel(event.to)
      return {
        span: "resilience.circuit_breaker.transition",
        attributes: { "resilience.circuit_breaker.from": from, "resilience.circuit_breaker.to": to },
        metrics: Effect.andThen(inc(metrics.breakerTransitions, { policy: name, to }), setBreakerState(name, to)),
        level: to === "open" || to === "forced_open" ? "Warn" : "Info",
        message: `circuit "${name}" ${from} -> ${to}`
      }
    }
    case "BreakerRejected":
      return {
        span: "resilience.circuit_breaker.rejected",
        attributes: {
          "resilience.circuit_breaker.state": breakerStateLabel(event.state),
          "resilience.retry_after_ms": millis(event.retryAfter)
        },
        metrics: inc(metrics.breakerRejections, policy),
        level: "Info",
        message: `circuit "${name}" rejected a call (${breakerStateLabel(event.state)})`
      }
    case "LimitChanged":
      return {
        span: "resilience.adaptive_limit.changed",
        attributes: { "resilience.adaptive_limit.from": event.from, "resilience.adaptive_limit.to": event.to },
        metrics: Metric.update(Metric.withAttributes(metrics.adaptiveLimit, policy), event.to),
        level: "Debug",
        message: `adaptive limit "${name}" ${event.from} -> ${event.to}`
      }
    case "LimitRejected":
      return {
        span: "resilience.adaptive_limit.rejected",
        attributes: { "resilience.adaptive_limit.limit": event.limit, "resilience.adaptive_limit.in_flight": event.inFlight },
        metrics: inc(metrics.adaptiveLimitRejections, policy),
        level: "Info",
        message: `adaptive limit "${name}" rejected a call (${event.inFlight} in flight, limit ${event.limit})`
      }
    case "Throttled":
      return {
        span: "resilience.throttle.rejected",
        attributes: { "resilience.throttle.probability": event.probability },
        metrics: inc(metrics.throttled, policy),
        level: "Info",
        message: `throttle "${name}" rejected a call locally (probability ${event.probability.toFixed(3)})`
      }
    case "RateLimited":
      return {
        span: "resilience.rate_limit.rejected",
        attributes: { "resilience.retry_after_ms": millis(event.retryAfter) },
        metrics: inc(metrics.rateLimited, policy),
        level: "Info",
        message: `rate limit "${name}" rejected a call, retry after ${Duration.format(event.retryAfter)}`
      }
    case "BulkheadRejected":
      return {
        span: "resilience.bulkhead.rejected",
        attributes: { "resilience.bulkhead.reason": event.reason },
        metrics: inc(metrics.bulkheadRejections, { policy: name, reason: event.reason }),
        level: "Info",
        message: `bulkhead "${name}" rejected a call (${event.reason})`
      }
    case "FallbackUsed":
      return {
        span: "resilience.fallback.used",
        attributes: { [FALLBACK_SOURCE]: event.source, "error.message": errorMessage(event.error) },
        metrics: Effect.andThen(
          inc(metrics.fallbacks, { policy: name, source: event.source }),
          inc(metrics.fallbackInvocations, { operation: name })
        ),
        level: "Info",
        message: `"${name}" answered from ${event.source} after ${errorMessage(event.error)}`
      }
    case "HedgeLaunched":
      return {
        span: "resilience.hedge.launched",
        attributes: { "resilience.attempt": event.attempt },
        metrics: inc(metrics.hedgesLaunched, policy),
        level: "Debug",
        message: `"${name}" launched hedged attempt ${event.attempt}`
      }
    case "HedgeBudgetDenied":
      return {
        span: "resilience.hedge.budget_denied",
        attributes: { "resilience.attempt": event.attempt },
        metrics: inc(metrics.hedgeBudgetDenied, policy),
        level: "Warn",
        message: `retry budget of "${name}" refused hedged attempt ${event.attempt}`
      }
    case "HedgeWon":
      return {
        span: "resilience.hedge.won",
        attributes: { "resilience.hedge.winner": event.attempt },
        metrics: inc(metrics.hedgesWon, policy),
        level: "Debug",
        message: `"${name}" answered by hedged attempt ${event.attempt}`
      }
    case "Shed":
      return {
        span: "resilience.shed",
        attributes: { "resilience.priority": event.priority },
        metrics: inc(metrics.shed, { policy: name, priority: event.priority }),
        level: "Info",
        message: `"${name}" shed a ${event.priority} call`
      }
    case "Degraded":
      return {
        span: "resilience.degraded",
        attributes: {},
        metrics: inc(metrics.degraded, policy),
        level: "Info",
        message: `"${name}" ran its degraded variant`
      }
    case "DeadLetterRejected":
      return {
        span: "resilience.dead_letter_queue.rejected",
        attributes: { "resilience.dead_letter_queue.capacity": event.capacity },
        metrics: inc(metrics.deadLetterRejections, policy),
        level: "Warn",
        message: `dead-letter queue "${name}" is full (capacity ${event.capacity}): an item was refused`
      }
    case "DeadLettered":
      return {
        span: "resilience.dead_lettered",
        attributes: { "resilience.stage": event.stage, "resilience.dead_letter.id": event.id },
        metrics: inc(metrics.deadLetters, policy),
        level: "Error",
        message: `item ${event.id} failed at stage "${event.stage}" and was dead-lettered in "${name}"`
      }
    case "StageSkipped":
      return {
        span: "resilience.stage.skipped",
        attributes: { "resilience.stage": event.stage },
        metrics: inc(metrics.stagesSkipped, policy),
        level: "Info",
        message: `"${name}" skipped non-critical stage "${event.stage}" under overload`
      }
    case "Abandoned":
      return {
        span: "resilience.timeout.abandoned",
        attributes: { "resilience.abandoned.reason": event.reason, "resilience.timeout_ms": Duration.toMillis(event.duration) },
        metrics: inc(metrics.abandoned, { policy: name, reason: event.reason }),
        level: "Warn",
        message: `"${name}" timed out after ${Duration.format(event.duration)} and its work runs on (${event.reason})`
      }
    case "Reconfigured":
      return {
        span: "resilience.reconfigured",
        attributes: { "resilience.stages": event.stages.join(",") },
        metrics: inc(metrics.reconfigurations, { policy: name, outcome: "applied" }),
        level: "Info",
        message: `"${name}" reconfigured: ${event.stages.length === 0 ? "no stages" : event.stages.join(" -> ")}`
      }
    case "ReconfigureRefused":
      return {
        span: "resilience.reconfigure_refused",
        attributes: { "error.message": errorMessage(event.error) },
        metrics: inc(metrics.reconfigurations, { policy: name, outcome: "refused" }),
        level: "Warn",
        message: `"${name}" kept its settings, new ones refused: ${errorMessage(event.error)}`
      }
    case "IdempotentHit":
      return {
        span: "resilience.idempotent.hit",
        attributes: { "resilience.idempotency.kind": event.kind },
        metrics: inc(metrics.idempotentHits, { policy: name, kind: event.kind }),
        level: "Debug",
        message: `"${name}" answered a duplicate call (${event.kind})`
      }
  }
}

const log = {
  Debug: Effect.logDebug,
  Info: Effect.logInfo,
  Warn: Effect.logWarning,
  Error: Effect.logError
} as const

export interface ListenerOptions {
  readonly metrics: boolean
  readonly spanEvents: boolean
  readonly logs: boolean
}

/** The listener `Telemetry.layer` adds to the event channel. */
export const listener = (options: ListenerOptions) => (event: ResilienceEvent): Effect.Effect<void> => {
  const reading = read(event)
  const steps: Array<Effect.Effect<void>> = []
  if (options.metrics) steps.push(reading.metrics)
  if (options.spanEvents) steps.push(spanEvent(event, reading))
  if (options.logs) {
    steps.push(log[reading.level](reading.message).pipe(
      Effect.annotateLogs({ "resilience.policy": event.name, "resilience.event": event._tag })
    ))
  }
  return Effect.all(steps, { discard: true })
}

/**
 * Adds the decision to the current span as a span event. A fallback's
 * source and a hedge's winner are also set as attributes of that span.
 */
const spanEvent = (event: ResilienceEvent, reading: Reading): Effect.Effect<void> =>
  Effect.flatMap(Effect.serviceOption(Tracer.ParentSpan), (parent) => {
    if (parent._tag === "None" || parent.value._tag !== "Span") return Effect.void
    const span = parent.value
    const attributes: Record<string, unknown> = { "resilience.policy": event.name }
    for (const [key, value] of Object.entries(reading.attributes)) {
      if (value !== undefined) attributes[key] = value
    }
    span.event(reading.span, BigInt(event.timestamp) * 1_000_000n, attributes)
    if (event._tag === "FallbackUsed") span.attribute(FALLBACK_SOURCE, event.source)
    if (event._tag === "HedgeWon") span.attribute("resilience.hedge.winner", event.attempt)
    return Effect.void
  })

// -----------------------------------------------------------------------------
// gauges from the registry
// -----------------------------------------------------------------------------

/** Sets the state gauges (breaker state, bulkhead active/queued, DLQ size) from the registry, if one is provided. */
export const sample: Effect.Effect<void> = Effect.flatMap(
  Effect.serviceOption(Registry.PolicyRegistry),
  (registry) =>
    registry._tag === "None"
      ? Effect.void
      : Effect.flatMap(health.view.pipe(Effect.provideService(Registry.PolicyRegistry, registry.value)), (view) =>
        Effect.all([
          ...Object.entries(view.breakers).map(([name, label]) => setBreakerState(name, label)),
          ...Object.entries(view.bulkheads).flatMap(([name, b]) => [
            Metric.update(Metric.withAttributes(metrics.bulkheadActive, { policy: name }), b.active),
            Metric.update(Metric.withAttributes(metrics.bulkheadQueued, { policy: name }), b.queued)
          ]),
          ...Object.entries(view.deadLetterQueues).flatMap(([name, q]) =>
            q.size === null ? [] : [Metric.update(Metric.withAttributes(metrics.deadLetterQueueSize, { policy: name }), q.size)]
          )
        ], { discard: true }))
)

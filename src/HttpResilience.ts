/**
 * Resilience for Effect's `HttpClient` (`effect/http`): a whole policy
 * around every request, with what HTTP adds — responses classified by the
 * library's one classifier, `Retry-After` honoured in both its forms, one
 * circuit per host, retries and hedges only for the methods that may be
 * repeated, and a resend count on every resent request's span.
 *
 * `HttpResilience.layer(options)` wraps the `HttpClient` service in place;
 * `HttpResilience.wrap(client, options)` returns a wrapped client whose
 * rejections stay typed. See docs/http.md.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { dual } from "effect/Function"
import { HttpClient, type HttpClientError, type HttpClientResponse } from "effect/http"
import type { InvalidConfigError } from "./Errors.ts"
import * as classify from "./internal/classify.ts"
import * as internal from "./internal/http.ts"
import * as Policy from "./Policy.ts"

/**
 * Options of {@link wrap} and {@link layer}. Every block is optional.
 *
 * **Details**
 *
 * - `name` (default `"http"`): in errors and events; the circuit of host `h` is `name/h`.
 * - `classify`: the one classification (`Retry.classifier` options or a function) of statuses and
 *   errors, shared by the retry, the breakers and the hedge. Default: 5xx, 408 and 429 transient,
 *   other 4xx permanent (an answer: not retried, a breaker success), transport errors transient,
 *   encode and URL errors permanent.
 * - `retry` (default `Retry`'s defaults: 3 attempts, exponential backoff; `false` for none): for
 *   `retryMethods` only (default the idempotent ones: GET, HEAD, OPTIONS, TRACE, PUT, DELETE). A
 *   `Retry-After` longer than `retry.maxRetryAfter` ends the retries at once.
 * - `circuitBreaker` (default `CircuitBreaker`'s defaults; `false` for none; or a keyed breaker to
 *   share): one circuit per host (`host:port`), idle circuits evicted after `idleTimeToLive`.
 * - `hedge` (default none): hedged attempts for `hedgeMethods` (default GET and HEAD).
 * - `timeout`: bounds each attempt, inside the host's breaker, so slow answers count against it.
 * - `totalTimeout`: bounds the whole request, retries and waits included; a
 *   `Retry-After` that would end past it gives up at once, with that response.
 *
 * @example
 * ```ts
 * import type { HttpResilience } from "effect-resilience"
 *
 * const options: HttpResilience.HttpResilienceOptions = {
 *   name: "search",
 *   retry: { maxAttempts: 3, maxRetryAfter: "5 seconds" },
 *   hedge: { delay: "150 millis" },
 *   timeout: "1 second"
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface HttpResilienceOptions extends internal.Options {}

/**
 * What a request goes through: options (HTTP-aware stages), or a `Policy`
 * (its own stages, for every method).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpResilience, Policy } from "effect-resilience"
 *
 * const fromOptions: HttpResilience.HttpResilienceInput = { timeout: "2 seconds" }
 * const fromPolicy = Effect.map(Policy.make({ name: "api", retry: { maxAttempts: 2 } }), (policy) => {
 *   const input: HttpResilience.HttpResilienceInput = policy
 *   return input
 * })
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type HttpResilienceInput = HttpResilienceOptions | Policy.Policy<HttpClientResponse.HttpClientResponse>

/**
 * A response whose status made an attempt fail, as the retry, the breaker
 * and the hedge see it: its `status` is classified, and its `retryAfter`
 * (from `Retry-After` on a 429 or 503) is the least wait before the next
 * attempt. The caller never gets one: the last response is returned as a
 * response. It shows in events (`RetryScheduled.error`), in a custom
 * classifier and in a `Policy`'s fallback.
 *
 * @example
 * ```ts
 * import { HttpResilience } from "effect-resilience"
 *
 * const retriedAfter = (error: unknown) => HttpResilience.isHttpStatusError(error) ? error.retryAfter : undefined
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const HttpStatusError = internal.HttpStatusError

/**
 * @category errors
 * @since 0.1.0
 */
export type HttpStatusError = internal.HttpStatusError

/**
 * Checks whether a value is a {@link HttpStatusError}.
 *
 * @example
 * ```ts
 * import { HttpResilience } from "effect-resilience"
 *
 * HttpResilience.isHttpStatusError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isHttpStatusError: (u: unknown) => u is HttpStatusError = internal.isHttpStatusError

/**
 * The classifier `HttpResilience` uses, for a `Policy` given to {@link layer}
 * or {@link wrap}: the shared classifier (from `options`, as
 * `Retry.classifier` takes them) that also knows `HttpClientError`s — a
 * transport error is judged like any error without a status (transient by
 * default), an encode, URL or decode error is permanent.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpResilience, Policy } from "effect-resilience"
 *
 * const policy = Policy.make({
 *   name: "payments-api",
 *   classify: HttpResilience.classifier({ permanentStatus: [503] }),
 *   retry: { maxAttempts: 3 },
 *   bulkhead: { maxConcurrent: 16 }
 * })
 * ```
 *
 * @category classification
 * @since 0.1.0
 */
export const classifier = (options?: classify.ClassifierOptions): classify.Classifier =>
  internal.classifier(classify.make("HttpResilience.classifier", "options", options))

const stagesOf = (input: HttpResilienceInput): Effect.Effect<{ readonly name: string; readonly stages: internal.Stages }, InvalidConfigError> =>
  Policy.isPolicy(input)
    ? Effect.succeed({ name: input.name, stages: internal.policyStages(input) })
    : Effect.suspend(() => internal.optionStages(input))

/**
 * Wraps a client: every request goes through the stages of `options`, or
 * through a `Policy`. Rejections stay typed: `CircuitOpenError`,
 * `TimeoutError`, and (from a `Policy`) `BulkheadRejectedError` and
 * `RateLimitedError`.
 *
 * **Details**
 *
 * A response with a failing status is handed back as the response it is
 * (the last one, after the retries); a client that fails on statuses itself
 * (`HttpClient.filterStatusOk`) gets its `StatusCodeError` back. `Retry-After`
 * on a 429 or 503, in seconds or as an HTTP-date (read against `Clock`), is
 * the least wait before the next attempt. A resent request's client span
 * carries `http.request.resend_count`. The bodies of responses not returned
 * are read and dropped in the background, so their connections are reused.
 *
 * **Gotchas**
 *
 * A `Policy` does not know HTTP methods: with one, a POST is retried if the
 * policy retries. Give options to retry and hedge by method.
 *
 * **Example** (Per-host breakers and retries for a client)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient } from "effect/http"
 * import { CircuitBreaker, HttpResilience } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* HttpResilience.wrap(yield* HttpClient.HttpClient, {
 *     retry: { maxAttempts: 4, maxRetryAfter: "5 seconds" },
 *     circuitBreaker: { policy: CircuitBreaker.consecutive(5), resetTimeout: "30 seconds" },
 *     timeout: "2 seconds"
 *   })
 *   const response = yield* client.get("http://127.0.0.1:8080/orders")
 *   return response.status
 * })
 * ```
 *
 * @category combinators
 * @since 0.1.0
 */
export const wrap: {
  (options: HttpResilienceInput): (
    client: HttpClient.HttpClient
  ) => Effect.Effect<HttpClient.HttpClient.With<HttpClientError.HttpClientError | Policy.PolicyError>, InvalidConfigError>
  (
    client: HttpClient.HttpClient,
    options: HttpResilienceInput
  ): Effect.Effect<HttpClient.HttpClient.With<HttpClientError.HttpClientError | Policy.PolicyError>, InvalidConfigError>
} = dual(2, (client: HttpClient.HttpClient, options: HttpResilienceInput) =>
  Effect.map(
    stagesOf(options),
    ({ name, stages }) => internal.makeClient(client, name, stages, (error: Policy.PolicyError) => error)
  ))

/**
 * Replaces the `HttpClient` service with one that runs every request
 * through `options` (or a `Policy`); provide the transport below it.
 *
 * **Details**
 *
 * Code that asks for `HttpClient.HttpClient` is unchanged. As the service's
 * error type is `HttpClientError`, a rejection (an open circuit, a timeout)
 * arrives as an `HttpClientError` whose `TransportError` has the rejection
 * as its `cause` (see {@link rejectionOf}); use {@link wrap} to keep it typed.
 *
 * **Example** (A resilient client for the whole program)
 *
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { FetchHttpClient, HttpClient } from "effect/http"
 * import { HttpResilience } from "effect-resilience"
 *
 * const Client = HttpResilience.layer({ name: "api", timeout: "2 seconds", hedge: { delay: "100 millis" } }).pipe(
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * const program = HttpClient.get("http://127.0.0.1:8080/health").pipe(Effect.provide(Client))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  options: HttpResilienceInput
): Layer.Layer<HttpClient.HttpClient, InvalidConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.flatMap(Effect.service(HttpClient.HttpClient), (client) =>
      Effect.map(stagesOf(options), ({ name, stages }) => internal.makeClient(client, name, stages, internal.asTransportError)))
  )

/**
 * The policy rejection (`CircuitOpenError`, `TimeoutError`, ...) carried by
 * an `HttpClientError` from a client made by {@link layer}, if it is one.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClient } from "effect/http"
 * import { HttpResilience } from "effect-resilience"
 *
 * const status = HttpClient.get("http://127.0.0.1:8080/").pipe(
 *   Effect.map((response) => response.status),
 *   Effect.catchTag("HttpClientError", (error) =>
 *     HttpResilience.rejectionOf(error)?._tag === "CircuitOpenError" ? Effect.succeed(503) : Effect.fail(error))
 * )
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export const rejectionOf = (error: HttpClientError.HttpClientError): Policy.PolicyError | undefined => {
  const reason = error.reason
  return reason._tag === "TransportError" && classify.isLibraryError(reason.cause)
    ? reason.cause as Policy.PolicyError
    : undefined
}

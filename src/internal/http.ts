/**
 * Machinery of `HttpResilience`: responses become typed failures the shared
 * classifier can judge, `Retry-After` becomes the failure's `retryAfter`
 * (which the retry already honours, up to `maxRetryAfter`), and each request
 * runs through the stages in the contract order:
 *
 *   totalTimeout → retry → circuitBreaker (per host) → hedge → timeout → send
 *
 * At the end a response that failed only by its status is handed back as the
 * response it is: wrapping a client changes which responses you get (the last
 * one, after the retries), not what a response is.
 */
import { Clock, Duration, Effect, Exit, Predicate, Result } from "effect"
import { Headers, HttpClient, HttpClientError } from "effect/http"
import type { HttpClientRequest, HttpClientResponse } from "effect/http"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import type { InvalidConfigError } from "../Errors.ts"
import * as Hedge from "../Hedge.ts"
import type * as Policy from "../Policy.ts"
import * as Retry from "../Retry.ts"
import * as Timeout from "../Timeout.ts"
import * as classify from "./classify.ts"
import * as defaults from "./defaults.ts"
import * as retryInternal from "./retry.ts"
import { guard, TaggedError } from "./errors.ts"
import * as validate from "./validate.ts"

/**
 * A response whose status made the attempt fail (any status >= 400, or an
 * underlying `StatusCodeError`): the classifier reads its `status`, the
 * retry its `retryAfter`.
 */
export class HttpStatusError extends TaggedError("HttpStatusError")<{
  readonly policy: string
  readonly status: number
  /** From `Retry-After` on a 429 or 503 (seconds or an HTTP-date), else `undefined`. */
  readonly retryAfter: Duration.Duration | undefined
  readonly request: HttpClientRequest.HttpClientRequest
  readonly response: HttpClientResponse.HttpClientResponse
  /** The `StatusCodeError` of a client that filters statuses itself; handed back instead of the response. */
  readonly original: HttpClientError.HttpClientError | undefined
}> {
  override get message(): string {
    const hint = this.retryAfter === undefined ? "" : `, retry after ${Duration.format(this.retryAfter)}`
    return `"${this.policy}": ${this.request.method} ${this.request.url} answered ${this.status}${hint}`
  }
}

export const isHttpStatusError = guard<HttpStatusError>("HttpStatusError")

/**
 * A `Retry-After` on a 429 or 503, in either form (RFC 9110 §10.2.3): whole
 * seconds, or an HTTP-date read against `now` (a date in the past is 0). An
 * invalid value is no hint at all.
 */
export const retryAfterOf = (response: HttpClientResponse.HttpClientResponse, now: number): Duration.Duration | undefined => {
  if (response.status !== 429 && response.status !== 503) return undefined
  const value = response.headers["retry-after"]
  if (value === undefined) return undefined
  const parsed = Headers.parseRetryAfter(value)
  return Result.isSuccess(parsed) ? Headers.retryAfterDelay(parsed.success, now) : undefined
}

const statusFailure = (
  policy: string,
  request: HttpClientRequest.HttpClientRequest,
  response: HttpClientResponse.HttpClientResponse,
  original: HttpClientError.HttpClientError | undefined
): Effect.Effect<never, HttpStatusError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.fail(
      new HttpStatusError({ policy, status: response.status, retryAfter: retryAfterOf(response, now), request, response, original })
    ))

/**
 * The shared classifier, taught the client's own errors: a transport error
 * goes to the classifier (transient by default: the request may not have
 * arrived); an encode, URL or decode error is ours, not the server's, so it
 * is permanent; a status by its status.
 */
export const classifier = (base: classify.Classifier): classify.Classifier => (error) => {
  if (HttpClientError.isHttpClientError(error) && error.reason._tag !== "TransportError") return "permanent"
  return base(error)
}

/** Host and port of a request's URL: the key of its circuit. */
const hostOf = (url: string): string => {
  const start = url.indexOf("//")
  if (start === -1) return url
  const end = url.indexOf("/", start + 2)
  const authority = end === -1 ? url.slice(start + 2) : url.slice(start + 2, end)
  const at = authority.lastIndexOf("@")
  return at === -1 ? authority : authority.slice(at + 1)
}

/** How a policy rejection reaches the caller: as it is (`wrap`), or inside an `HttpClientError` (`layer`). */
export type Rejection<E> = (error: Policy.PolicyError, request: HttpClientRequest.HttpClientRequest) => E

export const asTransportError: Rejection<HttpClientError.HttpClientError> = (error, request) =>
  new HttpClientError.HttpClientError({
    reason: new HttpClientError.TransportError({ request, cause: error, description: error.message })
  })

/**
 * One request's bookkeeping: how many times it was sent, and the status
 * failures whose responses are released unless handed to the caller. A
 * request answered at once (the common case) costs this object and one
 * frame per stage. The handlers are assigned in the constructor: under a
 * loader that keeps function names (tsx), a named closure per request would
 * cost a property definition each.
 */
class Exchange<E> {
  sent = 0
  failed: Array<HttpStatusError> | undefined = undefined
  handed: HttpClientResponse.HttpClientResponse | undefined = undefined
  readonly attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>
  readonly onSuccess: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpStatusError>
  readonly onFailure: (error: HttpClientError.HttpClientError) => Effect.Effect<never, HttpStatusError | HttpClientError.HttpClientError>
  /** A status failure becomes its response again (or the client's own `StatusCodeError`); a rejection is shaped by `reject`. */
  readonly settle: (error: unknown) => Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>
  /** `undefined` when nothing failed: the exit passes through without another frame. */
  readonly release: (exit: Exit.Exit<HttpClientResponse.HttpClientResponse, unknown>) => Effect.Effect<void> | undefined

  constructor(
    name: string,
    request: HttpClientRequest.HttpClientRequest,
    reject: Rejection<E>,
    send: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
  ) {
    this.onSuccess = (response) => response.status < 400 ? Effect.succeed(response) : this.fail(name, request, response, undefined)
    this.onFailure = (error) =>
      error.reason._tag === "StatusCodeError" ? this.fail(name, request, error.reason.response, error) : Effect.fail(error)
    const once = Effect.matchEffect(send, this)
    this.attempt = Effect.suspend(() => {
      const resends = this.sent++
      return resends === 0 ? once : Effect.annotateSpans(once, "http.request.resend_count", resends)
    })
    this.settle = (error) => {
      if (isHttpStatusError(error)) {
        this.handed = error.response
        return error.original === undefined ? Effect.succeed(error.response) : Effect.fail(error.original)
      }
      if (classify.isLibraryError(error)) return Effect.fail(reject(error as Policy.PolicyError, request))
      return Effect.fail(error)
    }
    this.release = (exit) =>
      this.failed === undefined ? undefined : releaseBodies(this.failed, Exit.isSuccess(exit) ? exit.value : this.handed)
  }

  fail(
    name: string,
    request: HttpClientRequest.HttpClientRequest,
    response: HttpClientResponse.HttpClientResponse,
    original: HttpClientError.HttpClientError | undefined
  ): Effect.Effect<never, HttpStatusError> {
    return Effect.tapError(statusFailure(name, request, response, original), (error) =>
      Effect.sync(() => {
        ;(this.failed ??= []).push(error)
      }))
  }
}

/**
 * Builds the client. `stagesOf(attempt, request)` puts a request's attempt
 * through the configured stages; the client around it counts resends, turns
 * failing statuses into `HttpStatusError`s and back, and releases the responses
 * it does not return.
 */
export const makeClient = <E>(
  client: HttpClient.HttpClient,
  name: string,
  stagesOf: Stages,
  reject: Rejection<E>
): HttpClient.HttpClient.With<HttpClientError.HttpClientError | E> =>
  // `transform` calls this once per run of the request, so the exchange is fresh for each.
  HttpClient.transform(client, (send, request) => {
    const exchange = new Exchange(name, request, reject, send)
    return Effect.onExitPrimitive(
      Effect.catch(stagesOf(exchange.attempt, request), exchange.settle),
      exchange.release
    ) as Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError | E>
  })

/**
 * Reads and drops the bodies of the responses not returned (retried,
 * hedged past), off the caller's fiber, so their connections go back to
 * the pool instead of waiting for the garbage collector.
 */
const releaseBodies = (failed: ReadonlyArray<HttpStatusError>, kept: HttpClientResponse.HttpClientResponse | undefined) => {
  const dropped = failed.filter((error) => error.response !== kept)
  return dropped.length === 0
    ? Effect.void
    : Effect.asVoid(Effect.forkDetach(Effect.forEach(dropped, (error) => Effect.ignore(error.response.arrayBuffer), { discard: true })))
}

/** Puts one request's attempt through the stages. */
export type Stages = (
  attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>,
  request: HttpClientRequest.HttpClientRequest
) => Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>

type Wrap = (self: Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>) => Effect.Effect<HttpClientResponse.HttpClientResponse, unknown>

export interface Options {
  readonly name?: string | undefined
  readonly classify?: classify.Classifier | classify.ClassifierOptions | undefined
  readonly retry?: Omit<Retry.RetryOptions<unknown>, "name"> | false | undefined
  readonly retryMethods?: ReadonlyArray<string> | undefined
  readonly circuitBreaker?: Omit<CircuitBreaker.KeyedCircuitBreakerOptions, "name"> | CircuitBreaker.KeyedCircuitBreaker | false | undefined
  readonly hedge?: Omit<Hedge.HedgeOptions, "name"> | undefined
  readonly hedgeMethods?: ReadonlyArray<string> | undefined
  readonly timeout?: Duration.Input | undefined
  readonly totalTimeout?: Duration.Input | undefined
}

const source = "HttpResilience"

const methods = (field: string, input: ReadonlyArray<string> | undefined, fallback: ReadonlyArray<string>): ReadonlySet<string> => {
  if (input === undefined) return new Set(fallback)
  if (!Array.isArray(input) || !input.every((m) => Predicate.isString(m) && m.length > 0)) {
    throw validate.invalid(source, field, "an array of HTTP methods (e.g. [\"GET\", \"PUT\"])", input)
  }
  return new Set(input.map((m) => m.toUpperCase()))
}

const timeoutOf = (field: string, name: string, duration: Duration.Input | undefined): Wrap | undefined =>
  duration === undefined ? undefined : validate.nested(source, field, () => Timeout.timeout({ duration, name }), "duration")

/**
 * The retry stage. Under a total timeout it knows the deadline, so that a
 * `Retry-After` ending past it gives up at once, with that response, instead
 * of sleeping into the timeout.
 */
const withDeadline = (policy: Retry.RetryPolicy<unknown>, totalMillis: number): Wrap =>
  totalMillis === Infinity
    ? (self) => retryInternal.retry(self, policy)
    : (self) => Effect.flatMap(Clock.currentTimeMillis, (start) => retryInternal.retry(self, policy, start + totalMillis))

/**
 * The options form: the stages in the contract order, built and checked
 * once; retry and hedge only for the methods they may repeat.
 */
export const optionStages = (options: Options): Effect.Effect<{ readonly name: string; readonly stages: Stages }, InvalidConfigError> =>
  Effect.gen(function*() {
    const checked = yield* validate.attempt(() => {
      validate.options(source, "options", options, false)
      const name = validate.nonEmptyName(source, "name", options.name ?? defaults.http.name)
      const classifyHttp = classifier(classify.make(source, "classify", options.classify))
      // prepared once: the per-request stages only apply them
      const retryOptions = options.retry
      const totalTimeout = timeoutOf("totalTimeout", name, options.totalTimeout)
      const totalMillis = options.totalTimeout === undefined ? Infinity : validate.positiveDurationOrInfinityMillis(source, "totalTimeout", options.totalTimeout)
      const retry: Wrap | undefined = retryOptions === false
        ? undefined
        : withDeadline(
          validate.nested(source, "retry", () => Retry.make({ ...retryOptions, classify: retryOptions?.classify ?? classifyHttp, name })),
          totalMillis
        )
      const hedge: Wrap | undefined = options.hedge === undefined
        ? undefined
        : Hedge.hedge(validate.nested(source, "hedge", () => Hedge.make({ ...options.hedge!, classify: options.hedge!.classify ?? classifyHttp, name })))
      return {
        name,
        classifier: classifyHttp,
        retry,
        hedge,
        retryMethods: methods("retryMethods", options.retryMethods, defaults.http.retryMethods),
        hedgeMethods: methods("hedgeMethods", options.hedgeMethods, defaults.http.hedgeMethods),
        timeout: timeoutOf("timeout", name, options.timeout),
        totalTimeout
      }
    })
    const cb = options.circuitBreaker
    const breakers = cb === false
      ? undefined
      : CircuitBreaker.isKeyedCircuitBreaker(cb)
      ? cb
      : yield* validate.nestedEffect(
        source,
        "circuitBreaker",
        CircuitBreaker.keyed({ ...cb, classify: cb?.classify ?? checked.classifier, name: checked.name })
      )
    const { hedge, hedgeMethods, retry, retryMethods, timeout, totalTimeout } = checked
    // A client mostly calls the same URLs: the last one's host is kept, so
    // that a repeated request slices no strings and looks its circuit up by
    // a key whose hash is already computed.
    let lastUrl: string | undefined
    let lastHost = ""
    const hostKey = (url: string): string => {
      if (url !== lastUrl) {
        lastHost = hostOf(url)
        lastUrl = url
      }
      return lastHost
    }
    const stages: Stages = (attempt, request) => {
      let effect = attempt
      if (timeout !== undefined) effect = timeout(effect)
      if (hedge !== undefined && hedgeMethods.has(request.method)) effect = hedge(effect)
      if (breakers !== undefined) effect = breakers.execute(effect, hostKey(request.url))
      if (retry !== undefined && retryMethods.has(request.method)) effect = retry(effect)
      if (totalTimeout !== undefined) effect = totalTimeout(effect)
      return effect
    }
    return { name: checked.name, stages }
  })

/** The policy form: every request through the policy's own stages, whatever its method. */
export const policyStages = (policy: Policy.Policy<HttpClientResponse.HttpClientResponse>): Stages => (attempt) =>
  policy.execute(attempt)

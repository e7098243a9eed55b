/**
 * The Schemas of a resilience config document: the native per-policy shape,
 * the legacy (seed) sections, and the primitives they share. Every check
 * carries an `expected` annotation: it becomes the "what is allowed" part of
 * a `ResilienceConfigError`.
 */
import { Duration, Schema, type SchemaAST, SchemaIssue, SchemaTransformation } from "effect"
import * as defaults from "./defaults.ts"
import { limits } from "./validate.ts"

// -----------------------------------------------------------------------------
// numbers
// -----------------------------------------------------------------------------

const number = (expected: string, predicate: (n: number) => boolean) =>
  Schema.Number.check(Schema.makeFilter((n: number) => predicate(n), { expected }))

export const PositiveInt = number("an integer >= 1", (n) => Number.isInteger(n) && n >= 1)
/** The same upper bounds as the code constructors (validate.ts `limits`): sizes allocated up front. */
const PositiveIntUpTo = (max: number) => number(`an integer in [1, ${max}]`, (n) => Number.isInteger(n) && n >= 1 && n <= max)
export const NonNegativeInt = number("an integer >= 0", (n) => Number.isInteger(n) && n >= 0)
export const Rate = number("a number in (0, 1]", (n) => Number.isFinite(n) && n > 0 && n <= 1)
export const Factor = number("a finite number >= 1", (n) => Number.isFinite(n) && n >= 1)

// -----------------------------------------------------------------------------
// durations
// -----------------------------------------------------------------------------

const SHORT_DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const SHORT_UNIT_MILLIS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * A duration string: Effect's `"<n> <unit>"` form ("5 seconds", "250 millis",
 * "1.5 minutes", ...) or a short form ("250ms", "5s", "2m", "1h", "1d").
 * Negative and infinite durations are not durations here, nor is a finite
 * number that overflows to infinity once scaled to milliseconds ("1e400d").
 */
export const parseDurationString = (input: string): Duration.Duration | undefined => {
  const text = input.trim()
  const short = SHORT_DURATION.exec(text)
  if (short !== null) {
    const millis = Number(short[1]) * SHORT_UNIT_MILLIS[short[2] as keyof typeof SHORT_UNIT_MILLIS]
    return Number.isFinite(millis) ? Duration.millis(millis) : undefined
  }
  if (text === "Infinity" || text.startsWith("-")) return undefined
  const decoded = Duration.fromInput(text as Duration.Input)
  return decoded._tag === "Some" && Duration.isFinite(decoded.value) ? decoded.value : undefined
}

type Minimum = "positive" | "non-negative"

const inRange = (duration: Duration.Duration, minimum: Minimum): boolean =>
  minimum === "positive" ? Duration.toMillis(duration) > 0 : Duration.toMillis(duration) >= 0

const toDuration = (input: unknown, minimum: Minimum, seconds: boolean): Duration.Duration | undefined => {
  let duration: Duration.Duration | undefined
  if (typeof input === "string") duration = parseDurationString(input)
  else if (seconds && typeof input === "number" && Number.isFinite(input)) {
    duration = input < 0 ? undefined : Duration.millis(input * 1000)
  }
  // a number of seconds such as 1e306 overflows once in milliseconds
  return duration !== undefined && Duration.isFinite(duration) && inRange(duration, minimum) ? duration : undefined
}

/** A well-formed duration whose milliseconds overflow to Infinity (1e306 seconds, a 400-digit "9…9d"). */
const overflows = (input: unknown, seconds: boolean): boolean => {
  if (typeof input === "number") return seconds && input > 0 && Number.isFinite(input) && !Number.isFinite(input * 1000)
  if (typeof input !== "string") return false
  const text = input.trim()
  const short = SHORT_DURATION.exec(text)
  if (short !== null) return !Number.isFinite(Number(short[1]) * SHORT_UNIT_MILLIS[short[2] as keyof typeof SHORT_UNIT_MILLIS])
  if (text === "Infinity" || text.startsWith("-")) return false
  const decoded = Duration.fromInput(text as Duration.Input)
  return decoded._tag === "Some" && !Duration.isFinite(decoded.value)
}

const overflowExpected = "a duration that fits in milliseconds (this one overflows to Infinity)"

/** The filter of a duration field: an overflow gets its own message, since the value looks like a duration. */
const durationFilter = (minimum: Minimum, seconds: boolean) => (u: unknown, _: SchemaAST.AST, options: SchemaAST.ParseOptions) =>
  toDuration(u, minimum, seconds) !== undefined ||
  (overflows(u, seconds) ? new SchemaIssue.InvalidValue({ expected: overflowExpected }, u, options) : false)

const encodeDuration = (duration: Duration.Duration): string => `${Duration.toMillis(duration)} millis`

const durationExpected = (minimum: Minimum, seconds: boolean): string => {
  const range = minimum === "positive" ? "> 0" : ">= 0"
  return seconds
    ? `a number of seconds ${range} or a duration such as "5 seconds"`
    : `a duration ${range} with a unit, such as "5 seconds" or "250 millis"`
}

/** A duration written with its unit ("5 seconds"): the native shape. */
const durationString = (minimum: Minimum) => {
  const expected = durationExpected(minimum, false)
  return Schema.String.annotate({ expected }).check(
    Schema.makeFilter(durationFilter(minimum, false), { expected })
  ).pipe(Schema.decodeTo(
    Schema.Duration,
    SchemaTransformation.transform({
      decode: (s: string) => toDuration(s, minimum, false)!,
      encode: encodeDuration
    })
  ))
}

/** A number of seconds, or a duration string: the legacy shape. */
const durationSeconds = (minimum: Minimum) => {
  const expected = durationExpected(minimum, true)
  return Schema.Union([Schema.Number, Schema.String]).annotate({ expected }).check(
    Schema.makeFilter(durationFilter(minimum, true), { expected })
  ).pipe(Schema.decodeTo(
    Schema.Duration,
    SchemaTransformation.transform<Duration.Duration, number | string>({
      decode: (u) => toDuration(u, minimum, true)!,
      encode: encodeDuration
    })
  ))
}

export const PositiveDuration = durationString("positive")
export const NonNegativeDuration = durationString("non-negative")
export const PositiveSeconds = durationSeconds("positive")
export const NonNegativeSeconds = durationSeconds("non-negative")

// -----------------------------------------------------------------------------
// cross-field checks
// -----------------------------------------------------------------------------

/** A failure at a field of the checked struct, with the value found there. */
const at = (path: string, expected: string, value: unknown): Schema.FilterIssue => ({
  path: [path],
  issue: new SchemaIssue.InvalidValue({ expected }, value, { reportInput: true })
})

const millis = Duration.toMillis
const fmt = (d: Duration.Duration) => Duration.format(d)

const structCheck = <T>(f: (value: T) => ReadonlyArray<Schema.FilterIssue>) =>
  Schema.makeFilter<T>((value) => {
    const issues = f(value)
    return issues.length === 0 ? undefined : issues
  })

// -----------------------------------------------------------------------------
// profiles
// -----------------------------------------------------------------------------

export const profileNames = Object.keys(defaults.resilienceConfig.profiles) as ReadonlyArray<
  keyof typeof defaults.resilienceConfig.profiles
>

export type ProfileName = keyof typeof defaults.resilienceConfig.profiles

const quoted = (values: ReadonlyArray<string>): string => {
  const q = values.map((v) => JSON.stringify(v))
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`
}

const literals = <const L extends ReadonlyArray<string>>(values: L) =>
  Schema.Literals(values).annotate({ expected: `one of ${quoted(values)}` })

export const ProfileNameSchema = literals(profileNames as readonly [ProfileName, ...Array<ProfileName>])

// -----------------------------------------------------------------------------
// native policy
// -----------------------------------------------------------------------------

export const backoffKinds = ["exponential", "linear", "constant", "decorrelated"] as const
export const jitters = ["none", "full", "equal", "decorrelated"] as const

export const Backoff = Schema.Struct({
  kind: literals(backoffKinds),
  base: NonNegativeDuration,
  factor: Schema.optionalKey(Factor),
  increment: Schema.optionalKey(NonNegativeDuration),
  max: Schema.optionalKey(NonNegativeDuration),
  jitter: Schema.optionalKey(literals(jitters))
}).check(structCheck((b) => {
  const issues: Array<Schema.FilterIssue> = []
  const only = (field: "factor" | "increment", kind: string) => {
    if (b[field] !== undefined && b.kind !== kind) {
      issues.push(at(field, `no ${field}: it applies to kind "${kind}" only, this backoff is "${b.kind}"`, b[field]))
    }
  }
  only("factor", "exponential")
  only("increment", "linear")
  if (b.max !== undefined && millis(b.max) < millis(b.base)) {
    issues.push(at("max", `a duration >= base (${fmt(b.base)})`, b.max))
  }
  if (b.kind === "constant" && b.max !== undefined) {
    issues.push(at("max", `no max: a constant backoff always waits base`, b.max))
  }
  if ((b.kind === "constant" || b.kind === "decorrelated") && b.jitter !== undefined && b.jitter !== "none") {
    issues.push(at("jitter", `"none" (a ${b.kind} backoff takes no jitter)`, b.jitter))
  }
  if (b.kind === "linear" && b.jitter === "decorrelated") {
    issues.push(at("jitter", `"none", "full" or "equal" for a linear backoff`, b.jitter))
  }
  if (b.kind === "decorrelated") {
    if (millis(b.base) <= 0) issues.push(at("base", "a duration > 0 for a decorrelated backoff", b.base))
    if (b.max === undefined) {
      issues.push({ path: ["max"], issue: new SchemaIssue.MissingKey({ expected: "a duration >= base (a decorrelated backoff needs a cap)" }) })
    }
  }
  return issues
}))

export const Retry = Schema.Struct({
  maxAttempts: PositiveInt,
  backoff: Backoff,
  maxRetryAfter: Schema.optionalKey(NonNegativeDuration)
})

const HttpStatus = number("an HTTP status, an integer in [100, 599]", (n) => Number.isInteger(n) && n >= 100 && n <= 599)
const ErrorTag = Schema.String.check(
  Schema.makeFilter((s: string) => s.length > 0, { expected: "a non-empty string (an error's _tag)" })
)

/** Overrides of the default classification (see `Retry.classifier`), for the whole policy. */
export const Classify = Schema.Struct({
  transientStatus: Schema.optionalKey(Schema.Array(HttpStatus)),
  permanentStatus: Schema.optionalKey(Schema.Array(HttpStatus)),
  transientTags: Schema.optionalKey(Schema.Array(ErrorTag)),
  permanentTags: Schema.optionalKey(Schema.Array(ErrorTag)),
  ignoredTags: Schema.optionalKey(Schema.Array(ErrorTag))
}).check(structCheck((c) => {
  const issues: Array<Schema.FilterIssue> = []
  const twice = (a: "transientStatus" | "transientTags" | "permanentTags", b: "permanentStatus" | "permanentTags" | "ignoredTags") => {
    const other = new Set<unknown>(c[b] ?? [])
    const both = (c[a] ?? [] as ReadonlyArray<unknown>).filter((v: unknown) => other.has(v))
    if (both.length > 0) issues.push(at(b, `no value also in ${a}`, both))
  }
  twice("transientStatus", "permanentStatus")
  twice("transientTags", "permanentTags")
  twice("transientTags", "ignoredTags")
  twice("permanentTags", "ignoredTags")
  return issues
}))

const Consecutive = Schema.Struct({
  kind: Schema.Literal("consecutive"),
  failures: PositiveInt
})

const CountWindow = Schema.Struct({
  kind: Schema.Literal("countWindow"),
  size: PositiveIntUpTo(limits.countWindowSize),
  failureRate: Rate,
  minimumCalls: PositiveInt
}).check(structCheck((p) =>
  p.minimumCalls > p.size ? [at("minimumCalls", `an integer in [1, size] (size is ${p.size})`, p.minimumCalls)] : []
))

const TimeWindow = Schema.Struct({
  kind: Schema.Literal("timeWindow"),
  window: PositiveDuration,
  buckets: PositiveIntUpTo(limits.timeWindowBuckets),
  failureRate: Rate,
  minimumCalls: PositiveInt
})

export const tripPolicyKinds = ["consecutive", "countWindow", "timeWindow"] as const

export const TripPolicy = Schema.Union([Consecutive, CountWindow, TimeWindow]).annotate({
  expected: `an object with kind ${quoted(tripPolicyKinds)}`
})

export const SlowCall = Schema.Struct({
  threshold: PositiveDuration,
  rate: Rate
})

export const CircuitBreaker = Schema.Struct({
  policy: TripPolicy,
  resetTimeout: PositiveDuration,
  maxResetTimeout: Schema.optionalKey(PositiveDuration),
  successThreshold: PositiveInt,
  halfOpenMaxCalls: PositiveInt,
  slowCall: Schema.optionalKey(SlowCall)
}).check(structCheck((b) => {
  const issues: Array<Schema.FilterIssue> = []
  if (b.maxResetTimeout !== undefined && millis(b.maxResetTimeout) < millis(b.resetTimeout)) {
    issues.push(at("maxResetTimeout", `a duration >= resetTimeout (${fmt(b.resetTimeout)})`, b.maxResetTimeout))
  }
  if (b.slowCall !== undefined && b.policy.kind === "consecutive") {
    issues.push(
      at("slowCall", `no slowCall with a "consecutive" policy (slow-call rates need "countWindow" or "timeWindow")`, b.slowCall)
    )
  }
  return issues
}))

export const Bulkhead = Schema.Struct({
  maxConcurrent: PositiveInt,
  maxQueue: NonNegativeInt,
  queueTimeout: Schema.optionalKey(PositiveDuration)
})

export const Hedge = Schema.Struct({
  delay: NonNegativeDuration,
  maxAttempts: PositiveIntUpTo(limits.hedgeMaxAttempts)
})

export const rateLimitAlgorithms = ["token-bucket", "fixed-window"] as const

export const RateLimit = Schema.Struct({
  algorithm: literals(rateLimitAlgorithms),
  limit: PositiveInt,
  window: PositiveDuration
})

/** The blocks a policy may hold, in the composition order of docs/composition.md. */
export const blockKeys = ["retry", "circuitBreaker", "bulkhead", "hedge", "rateLimit"] as const
export type BlockKey = typeof blockKeys[number]

/** A native policy after its profile and the block defaults are merged in. */
export const NativePolicy = Schema.Struct({
  timeout: Schema.optionalKey(PositiveDuration),
  totalTimeout: Schema.optionalKey(PositiveDuration),
  classify: Schema.optionalKey(Classify),
  retry: Schema.optionalKey(Retry),
  circuitBreaker: Schema.optionalKey(CircuitBreaker),
  bulkhead: Schema.optionalKey(Bulkhead),
  hedge: Schema.optionalKey(Hedge),
  rateLimit: Schema.optionalKey(RateLimit)
}).check(structCheck((p) =>
  p.timeout !== undefined && p.totalTimeout !== undefined && millis(p.totalTimeout) < millis(p.timeout)
    ? [at("totalTimeout", `a duration >= timeout (${fmt(p.timeout)})`, p.totalTimeout)]
    : []
))

/** The keys a native policy accepts as written (before merging). */
export const nativePolicyKeys = ["profile", "timeout", "totalTimeout", "classify", ...blockKeys] as const

// -----------------------------------------------------------------------------
// legacy (seed) sections
// -----------------------------------------------------------------------------

export const LegacyBreaker = Schema.Struct({
  failure_threshold: Schema.optionalKey(PositiveInt),
  success_threshold: Schema.optionalKey(PositiveInt),
  timeout: Schema.optionalKey(PositiveSeconds)
})

export const LegacyRetry = Schema.Struct({
  max_retries: Schema.optionalKey(NonNegativeInt),
  initial_delay: Schema.optionalKey(NonNegativeSeconds),
  backoff_factor: Schema.optionalKey(Factor),
  max_delay: Schema.optionalKey(NonNegativeSeconds)
}).check(structCheck((r) => {
  const initial = r.initial_delay ?? Duration.millis(defaults.retry.backoffBaseMillis)
  return r.max_delay !== undefined && millis(r.max_delay) < millis(initial)
    ? [at("max_delay", `a duration >= initial_delay (${fmt(initial)})`, r.max_delay)]
    : []
}))


// -----------------------------------------------------------------------------
// document
// -----------------------------------------------------------------------------

/**
 * The top level of a document. Native policies are decoded one by one after
 * their profile is merged in (see configDecode.ts), so here they are only
 * required to be a map.
 */
export const DocumentShape = Schema.Struct({
  profile: Schema.optionalKey(ProfileNameSchema),
  policies: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  circuit_breakers: Schema.optionalKey(Schema.Record(Schema.String, LegacyBreaker)),
  retry_policies: Schema.optionalKey(Schema.Record(Schema.String, LegacyRetry)),
  timeouts: Schema.optionalKey(Schema.Record(Schema.String, PositiveSeconds))
})

export const parseOptions = {
  onExcessProperty: "error",
  errors: "all",
  reportInput: true
} as const

/**
 * The Schemas of a config document: structure only (types, keys, kinds, the
 * fields a kind takes). A policy decodes into `Policy.PolicyOptions`, its
 * backoff and trip policy built by their constructors, which check the ranges
 * (validate.ts). The legacy dialect is one transformation into native policies.
 */
import { Duration, Effect, Option, Schema, SchemaGetter, SchemaIssue } from "effect"
import * as Backoff from "../Backoff.ts"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import { InvalidConfigError } from "../Errors.ts"
import * as defaults from "./defaults.ts"
import { limits } from "./validate.ts"

export const parseOptions = { onExcessProperty: "error", errors: "all", reportInput: true } as const

/** A number; `expected` is the range its constructor checks, quoted when the value is not a number at all. */
const num = (expected: string) => Schema.Number.annotate({ expected })
const positiveInt = num("an integer >= 1")
const rate = num("a number in (0, 1]")
const opt = Schema.optionalKey

export const quoted = (values: ReadonlyArray<string>): string => {
  const q = values.map((v) => JSON.stringify(v))
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`
}

const literals = <const L extends ReadonlyArray<string>>(values: L) =>
  Schema.Literals(values).annotate({ expected: `one of ${quoted(values)}` })

export type ProfileName = keyof typeof defaults.resilienceConfig.profiles
export const profileNames = Object.keys(defaults.resilienceConfig.profiles) as ReadonlyArray<ProfileName>
export const ProfileNameSchema = literals(profileNames as readonly [ProfileName, ...Array<ProfileName>])

/** A config is decoded, never encoded back. */
const oneWay = <T, E, R>(decode: SchemaGetter.Getter<T, E, R>) => ({ decode, encode: SchemaGetter.forbiddenEncoding })

const UNITS: Readonly<Record<string, string>> = { ms: "millis", s: "seconds", m: "minutes", h: "hours", d: "days" }

/** Effect's "5 seconds" or a short "5s"; never negative or `Infinity`; infinite when a 400-digit number overflows. */
const toDuration = (u: string | number): Duration.Duration | undefined => {
  if (typeof u === "number") return Number.isFinite(u) && u >= 0 ? Duration.millis(u * 1000) : undefined
  const text = u.trim().replace(/^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/, (_, n, unit: string) => `${n} ${UNITS[unit]}`)
  return text === "Infinity" || text.startsWith("-") ? undefined : Option.getOrUndefined(Duration.fromInput(text as Duration.Input))
}

/** A duration as written: with its unit, or (legacy) a number of seconds. Its range is the constructor's. */
const duration = (positive: boolean, seconds: boolean) => {
  const range = positive ? "> 0" : ">= 0"
  const expected = seconds
    ? `a number of seconds ${range} or a duration such as "5 seconds"`
    : `a duration ${range} with a unit, such as "5 seconds" or "250 millis"`
  const written: Schema.Codec<string | number> = seconds ? Schema.Union([Schema.Number, Schema.String]) : Schema.String
  return written.annotate({ expected }).pipe(Schema.decodeTo(Schema.Duration, oneWay(SchemaGetter.transformEffect((u: string | number) => {
    const d = toDuration(u)
    if (d !== undefined && Duration.isFinite(d)) return Effect.succeed(d)
    const why = d === undefined ? expected : "a duration that fits in milliseconds (this one overflows to Infinity)"
    return Effect.fail(new SchemaIssue.InvalidValue({ expected: why }, u, { reportInput: true }))
  }))))
}

const PositiveDuration = duration(true, false)
const NonNegativeDuration = duration(false, false)

/** `"classify.transientStatus[0]"` → `["classify", "transientStatus", 0]`. */
export const fieldSegments = (field: string): Array<PropertyKey> =>
  field.replace(/\[(\d+)\]/g, ".$1").split(".").filter((s) => s !== "").map((s) => (/^\d+$/.test(s) ? Number(s) : s))

/** Decodes options into the value their code constructor builds; its `InvalidConfigError` is an issue at its field. */
const built = <S extends Schema.Top, T>(from: S, build: (options: S["Type"]) => T) =>
  from.pipe(Schema.decodeTo(Schema.declare((_u: unknown): _u is T => true), oneWay(SchemaGetter.transformEffect((options: S["Type"]) => {
    try {
      return Effect.succeed(build(options))
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error
      const issue = new SchemaIssue.InvalidValue({ expected: error.expected }, error.value, { reportInput: true })
      return Effect.fail(new SchemaIssue.Pointer(fieldSegments(error.field), issue))
    }
  }))))

const BackoffFields = Schema.Struct({
  kind: literals(["exponential", "linear", "constant", "decorrelated"]),
  base: NonNegativeDuration,
  factor: opt(num("a finite number >= 1")),
  increment: opt(NonNegativeDuration),
  max: opt(NonNegativeDuration),
  jitter: opt(literals(["none", "full", "equal", "decorrelated"]))
})

/** Which fields each kind takes (structure): a field another kind uses would be silently ignored. */
const misplacedFields = (b: typeof BackoffFields.Type): Array<Schema.FilterIssue> => {
  const misplaced = (field: "factor" | "increment" | "max" | "jitter", wrong: boolean, expected: string) =>
    wrong ? [{ path: [field], issue: new SchemaIssue.InvalidValue({ expected }, b[field], { reportInput: true }) }] : []
  const only = (field: "factor" | "increment", kind: string) =>
    misplaced(field, b[field] !== undefined && b.kind !== kind, `no ${field}: it applies to kind "${kind}" only, this backoff is "${b.kind}"`)
  const noJitter = (b.kind === "constant" || b.kind === "decorrelated") && (b.jitter ?? "none") !== "none"
  const cap = { path: ["max"], issue: new SchemaIssue.MissingKey({ expected: "a duration >= base (a decorrelated backoff needs a cap)" }) }
  return [
    ...only("factor", "exponential"),
    ...only("increment", "linear"),
    ...misplaced("max", b.kind === "constant" && b.max !== undefined, "no max: a constant backoff always waits base"),
    ...misplaced("jitter", noJitter, `"none" (a ${b.kind} backoff takes no jitter)`),
    ...(b.kind === "decorrelated" && b.max === undefined ? [cap] : [])
  ]
}

const BackoffSchema = built(
  BackoffFields.check(Schema.makeFilter(misplacedFields)),
  (b): Backoff.Backoff =>
    b.kind === "exponential"
      ? Backoff.exponential({ base: b.base, factor: b.factor, max: b.max, jitter: b.jitter })
      : b.kind === "linear"
      ? Backoff.linear({ base: b.base, increment: b.increment, max: b.max, jitter: b.jitter as "none" })
      : b.kind === "constant"
      ? Backoff.constant(b.base)
      : Backoff.decorrelated({ base: b.base, max: b.max! })
)

const window = { failureRate: rate, minimumCalls: positiveInt }

const TripPolicy = built(
  Schema.Union([
    Schema.Struct({ kind: Schema.Literal("consecutive"), failures: positiveInt }),
    Schema.Struct({ kind: Schema.Literal("countWindow"), size: num(`an integer in [1, ${limits.countWindowSize}]`), ...window }),
    Schema.Struct({
      kind: Schema.Literal("timeWindow"),
      window: PositiveDuration,
      buckets: num(`an integer in [1, ${limits.timeWindowBuckets}]`),
      ...window
    })
  ]),
  ({ kind, ...p }): CircuitBreaker.TripPolicy =>
    kind === "consecutive"
      ? CircuitBreaker.consecutive((p as { failures: number }).failures)
      : kind === "countWindow"
      ? CircuitBreaker.countWindow(p as Parameters<typeof CircuitBreaker.countWindow>[0])
      : CircuitBreaker.timeWindow(p as Parameters<typeof CircuitBreaker.timeWindow>[0])
)

const statuses = opt(Schema.Array(num("an HTTP status, an integer in [100, 599]")))
const tags = opt(Schema.Array(Schema.String))

/** One policy, in the shape of `Policy.PolicyOptions` (without its name). */
export const PolicySchema = Schema.Struct({
  timeout: opt(PositiveDuration),
  totalTimeout: opt(PositiveDuration),
  classify: opt(Schema.Struct({
    transientStatus: statuses,
    permanentStatus: statuses,
    transientTags: tags,
    permanentTags: tags,
    ignoredTags: tags
  })),
  retry: opt(Schema.Struct({ maxAttempts: positiveInt, backoff: BackoffSchema, maxRetryAfter: opt(NonNegativeDuration) })),
  // one block for both kinds of budget: `Retry.makeBudget` tells them apart and refuses a mix
  budget: opt(Schema.Struct({
    ratio: opt(num("a number in [0, 1]")),
    minPerSecond: opt(num("a finite number >= 0")),
    window: opt(PositiveDuration),
    maxTokens: opt(num("a number in (0, 1000] with at most 3 decimals")),
    tokenRatio: opt(num("a finite number > 0 with at most 3 decimals"))
  })),
  throttle: opt(Schema.Struct({ k: opt(num("a finite number >= 1")), window: opt(PositiveDuration), buckets: opt(positiveInt) })),
  circuitBreaker: opt(Schema.Struct({
    policy: TripPolicy,
    resetTimeout: PositiveDuration,
    maxResetTimeout: opt(PositiveDuration),
    successThreshold: positiveInt,
    halfOpenMaxCalls: positiveInt,
    slowCall: opt(Schema.Struct({ threshold: PositiveDuration, rate }))
  })),
  bulkhead: opt(Schema.Struct({ maxConcurrent: positiveInt, maxQueue: num("an integer >= 0"), queueTimeout: opt(PositiveDuration) })),
  hedge: opt(Schema.Struct({ delay: NonNegativeDuration, maxAttempts: num(`an integer in [1, ${limits.hedgeMaxAttempts}]`) })),
  rateLimit: opt(Schema.Struct({ algorithm: literals(["token-bucket", "fixed-window"]), limit: positiveInt, window: PositiveDuration }))
})

/** The blocks a profile may fill, in the composition order of docs/composition.md. */
export const blockKeys = ["retry", "circuitBreaker", "bulkhead", "hedge", "rateLimit"] as const
export type BlockKey = typeof blockKeys[number]

const PositiveSeconds = duration(true, true)
const NonNegativeSeconds = duration(false, true)

const WrittenTopLevel = Schema.Struct({
  // profile and policies are decoded one by one (configDecode.ts), so that every mistake is reported
  profile: opt(Schema.Unknown),
  policies: opt(Schema.Record(Schema.String, Schema.Unknown)),
  circuit_breakers: opt(Schema.Record(
    Schema.String,
    Schema.Struct({ failure_threshold: opt(positiveInt), success_threshold: opt(positiveInt), timeout: opt(PositiveSeconds) })
  )),
  retry_policies: opt(Schema.Record(
    Schema.String,
    Schema.Struct({
      // the one range kept here: `max_retries + 1` is a translation, not a constructor's field
      max_retries: opt(
        Schema.Number.check(Schema.makeFilter((n: number) => (Number.isInteger(n) && n >= 0) || "an integer >= 0"))
      ),
      initial_delay: opt(NonNegativeSeconds),
      backoff_factor: opt(num("a finite number >= 1")),
      max_delay: opt(NonNegativeSeconds)
    })
  )),
  timeouts: opt(Schema.Record(Schema.String, PositiveSeconds))
})

export const legacyKeys = ["circuit_breakers", "retry_policies", "timeouts"] as const

/** Where each native field of a legacy policy was written: the path an error names. */
export const legacyFields: Readonly<Record<string, readonly [section: string, key?: string]>> = {
  "circuitBreaker.policy.failures": ["circuit_breakers", "failure_threshold"],
  "circuitBreaker.successThreshold": ["circuit_breakers", "success_threshold"],
  "circuitBreaker.resetTimeout": ["circuit_breakers", "timeout"],
  "retry.maxAttempts": ["retry_policies", "max_retries"],
  "retry.backoff.base": ["retry_policies", "initial_delay"],
  "retry.backoff.factor": ["retry_policies", "backoff_factor"],
  "retry.backoff.max": ["retry_policies", "max_delay"],
  "timeout": ["timeouts"]
}

const written = (d: Duration.Duration | undefined, defaultMillis?: number): string | undefined =>
  d === undefined && defaultMillis === undefined ? undefined : `${d === undefined ? defaultMillis : Duration.toMillis(d)} millis`

/**
 * The top level, its legacy sections as native policies written as a user
 * would (profile `none`, `undefined` for a key left out): the breaker's
 * required fields come from defaults.ts, the rest from the block defaults.
 */
export const TopLevel = WrittenTopLevel.pipe(Schema.decodeTo(Schema.Record(Schema.String, Schema.Unknown), oneWay(SchemaGetter.transform(
  (shape: typeof WrittenTopLevel.Type) => {
    const out: Record<string, Record<string, unknown>> = {}
    const entry = (name: string) => (out[name] ??= { profile: "none" })
    for (const [name, b] of Object.entries(shape.circuit_breakers ?? {})) {
      entry(name).circuitBreaker = {
        policy: { kind: "consecutive", failures: b.failure_threshold ?? defaults.circuitBreaker.consecutiveFailures },
        resetTimeout: written(b.timeout, defaults.circuitBreaker.resetTimeoutMillis),
        successThreshold: b.success_threshold
      }
    }
    for (const [name, r] of Object.entries(shape.retry_policies ?? {})) {
      const delays = r.initial_delay !== undefined || r.backoff_factor !== undefined || r.max_delay !== undefined
      entry(name).retry = {
        maxAttempts: r.max_retries === undefined ? undefined : r.max_retries + 1,
        backoff: delays
          ? {
            kind: "exponential",
            base: written(r.initial_delay, defaults.retry.backoffBaseMillis),
            factor: r.backoff_factor,
            max: written(r.max_delay)
          }
          : undefined
      }
    }
    for (const [name, timeout] of Object.entries(shape.timeouts ?? {})) entry(name).timeout = written(timeout)
    return out
  }
))))

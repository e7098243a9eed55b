/**
 * The Schemas of a config document. They check structure only: types, keys,
 * kinds and which fields a kind takes. Each policy block decodes straight into
 * the options of its code constructor (`Policy.PolicyOptions`); the backoff and
 * the trip policy are built by their constructors while decoding, so ranges
 * and cross-field rules are checked once, in validate.ts, and a constructor's
 * error lands at the path of the field it names.
 */
import { Duration, Effect, Schema, type SchemaAST, SchemaIssue, SchemaTransformation } from "effect"
import * as Backoff from "../Backoff.ts"
import * as CircuitBreaker from "../CircuitBreaker.ts"
import { InvalidConfigError } from "../Errors.ts"
import * as defaults from "./defaults.ts"
import { limits } from "./validate.ts"

/** A number. `expected` is the range its constructor checks, quoted when the value is not a number at all. */
const num = (expected: string) => Schema.Number.annotate({ expected })
const positiveInt = num("an integer >= 1")
const nonNegativeInt = num("an integer >= 0")
const rate = num("a number in (0, 1]")

// -----------------------------------------------------------------------------
// durations
// -----------------------------------------------------------------------------

const SHORT_DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/
const SHORT_UNIT_MILLIS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/**
 * A duration string: Effect's `"<n> <unit>"` form ("5 seconds", "1.5 minutes")
 * or a short form ("250ms", "5s", "2m", "1h", "1d"); never negative. The result
 * may be infinite when the number overflows once in milliseconds ("1e400d").
 */
const parseDuration = (input: string): Duration.Duration | undefined => {
  const text = input.trim()
  const short = SHORT_DURATION.exec(text)
  if (short !== null) return Duration.millis(Number(short[1]) * SHORT_UNIT_MILLIS[short[2] as keyof typeof SHORT_UNIT_MILLIS])
  if (text === "Infinity" || text.startsWith("-")) return undefined
  const decoded = Duration.fromInput(text as Duration.Input)
  return decoded._tag === "Some" ? decoded.value : undefined
}

const toDuration = (input: unknown, seconds: boolean): Duration.Duration | undefined =>
  typeof input === "string"
    ? parseDuration(input)
    : seconds && typeof input === "number" && Number.isFinite(input) && input >= 0
    ? Duration.millis(input * 1000)
    : undefined

const overflow = "a duration that fits in milliseconds (this one overflows to Infinity)"

/** A duration as written: with its unit, or (legacy) a number of seconds. Its range is the constructor's. */
const duration = (positive: boolean, seconds: boolean) => {
  const range = positive ? "> 0" : ">= 0"
  const expected = seconds
    ? `a number of seconds ${range} or a duration such as "5 seconds"`
    : `a duration ${range} with a unit, such as "5 seconds" or "250 millis"`
  const written: Schema.Codec<string | number> = seconds ? Schema.Union([Schema.Number, Schema.String]) : Schema.String
  return written.annotate({ expected }).check(Schema.makeFilter((u, _: SchemaAST.AST, options: SchemaAST.ParseOptions) => {
    const d = toDuration(u, seconds)
    return d === undefined ? false : Duration.isFinite(d) || new SchemaIssue.InvalidValue({ expected: overflow }, u, options)
  }, { expected })).pipe(Schema.decodeTo(
    Schema.Duration,
    SchemaTransformation.transform<Duration.Duration, string | number>({
      decode: (u) => toDuration(u, seconds)!,
      encode: (d) => `${Duration.toMillis(d)} millis`
    })
  ))
}

export const PositiveDuration = duration(true, false)
export const NonNegativeDuration = duration(false, false)
const PositiveSeconds = duration(true, true)
const NonNegativeSeconds = duration(false, true)

// -----------------------------------------------------------------------------
// building with the code constructors
// -----------------------------------------------------------------------------

/** `"classify.transientStatus[0]"` → `["classify", "transientStatus", 0]`. */
export const fieldSegments = (field: string): Array<PropertyKey> =>
  field.replace(/\[(\d+)\]/g, ".$1").split(".").filter((s) => s !== "").map((s) => (/^\d+$/.test(s) ? Number(s) : s))

/** An `InvalidConfigError` as a Schema issue at the field it names. */
export const issueOf = (error: InvalidConfigError): SchemaIssue.Issue =>
  new SchemaIssue.Pointer(
    fieldSegments(error.field),
    new SchemaIssue.InvalidValue({ expected: error.expected }, error.value, { reportInput: true })
  )

/** Decodes options into the value their code constructor builds; its `InvalidConfigError` becomes an issue. */
const built = <S extends Schema.Top, T>(from: S, build: (options: S["Type"]) => T) =>
  from.pipe(Schema.decodeTo(
    Schema.declare((_u: unknown): _u is T => true),
    SchemaTransformation.transformEffect<T, S["Type"]>({
      decode: (options) => {
        try {
          return Effect.succeed(build(options))
        } catch (error) {
          if (error instanceof InvalidConfigError) return Effect.fail(issueOf(error))
          throw error
        }
      },
      encode: (value) => Effect.fail(new SchemaIssue.InvalidValue({ expected: "config data (a built value does not encode)" }, value))
    })
  ))

// -----------------------------------------------------------------------------
// blocks
// -----------------------------------------------------------------------------

const quoted = (values: ReadonlyArray<string>): string => {
  const q = values.map((v) => JSON.stringify(v))
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`
}

const literals = <const L extends ReadonlyArray<string>>(values: L) =>
  Schema.Literals(values).annotate({ expected: `one of ${quoted(values)}` })

export type ProfileName = keyof typeof defaults.resilienceConfig.profiles
export const profileNames = Object.keys(defaults.resilienceConfig.profiles) as ReadonlyArray<ProfileName>
export const ProfileNameSchema = literals(profileNames as readonly [ProfileName, ...Array<ProfileName>])

/** A failure at a field of the checked struct, with the value found there. */
const at = (path: string, expected: string, value: unknown): Schema.FilterIssue => ({
  path: [path],
  issue: new SchemaIssue.InvalidValue({ expected }, value, { reportInput: true })
})

interface BackoffData {
  readonly kind: "exponential" | "linear" | "constant" | "decorrelated"
  readonly base: Duration.Duration
  readonly factor?: number
  readonly increment?: Duration.Duration
  readonly max?: Duration.Duration
  readonly jitter?: "none" | "full" | "equal" | "decorrelated"
}

/** Which fields each kind takes (structure): a field another kind uses would be silently ignored. */
const backoffFields = (b: BackoffData): Array<Schema.FilterIssue> => {
  const issues: Array<Schema.FilterIssue> = []
  for (const [field, kind] of [["factor", "exponential"], ["increment", "linear"]] as const) {
    if (b[field] !== undefined && b.kind !== kind) {
      issues.push(at(field, `no ${field}: it applies to kind "${kind}" only, this backoff is "${b.kind}"`, b[field]))
    }
  }
  if (b.kind === "constant" && b.max !== undefined) issues.push(at("max", `no max: a constant backoff always waits base`, b.max))
  if ((b.kind === "constant" || b.kind === "decorrelated") && b.jitter !== undefined && b.jitter !== "none") {
    issues.push(at("jitter", `"none" (a ${b.kind} backoff takes no jitter)`, b.jitter))
  }
  if (b.kind === "decorrelated" && b.max === undefined) {
    issues.push({ path: ["max"], issue: new SchemaIssue.MissingKey({ expected: "a duration >= base (a decorrelated backoff needs a cap)" }) })
  }
  return issues
}

const buildBackoff = (b: BackoffData): Backoff.Backoff => {
  switch (b.kind) {
    case "exponential":
      return Backoff.exponential({ base: b.base, factor: b.factor, max: b.max, jitter: b.jitter })
    case "linear":
      return Backoff.linear({ base: b.base, increment: b.increment, max: b.max, jitter: b.jitter as "none" })
    case "constant":
      return Backoff.constant(b.base)
    case "decorrelated":
      return Backoff.decorrelated({ base: b.base, max: b.max! })
  }
}

export const BackoffSchema = built(Schema.Struct({
  kind: literals(["exponential", "linear", "constant", "decorrelated"]),
  base: NonNegativeDuration,
  factor: Schema.optionalKey(num("a finite number >= 1")),
  increment: Schema.optionalKey(NonNegativeDuration),
  max: Schema.optionalKey(NonNegativeDuration),
  jitter: Schema.optionalKey(literals(["none", "full", "equal", "decorrelated"]))
}).check(Schema.makeFilter((b) => {
  const issues = backoffFields(b)
  return issues.length === 0 ? undefined : issues
})), buildBackoff)

const window = { failureRate: rate, minimumCalls: positiveInt }

/** The trip policy, built by `CircuitBreaker.consecutive`, `countWindow` or `timeWindow`. */
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
  ]).annotate({ expected: `an object with kind ${quoted(["consecutive", "countWindow", "timeWindow"])}` }),
  ({ kind, ...options }): CircuitBreaker.TripPolicy =>
    kind === "consecutive"
      ? CircuitBreaker.consecutive((options as { failures: number }).failures)
      : kind === "countWindow"
      ? CircuitBreaker.countWindow(options as Parameters<typeof CircuitBreaker.countWindow>[0])
      : CircuitBreaker.timeWindow(options as Parameters<typeof CircuitBreaker.timeWindow>[0])
)

const statuses = Schema.optionalKey(Schema.Array(num("an HTTP status, an integer in [100, 599]")))
const tags = Schema.optionalKey(Schema.Array(Schema.String))

/** One policy, in the shape of `Policy.PolicyOptions` (without its name). */
export const PolicySchema = Schema.Struct({
  timeout: Schema.optionalKey(PositiveDuration),
  totalTimeout: Schema.optionalKey(PositiveDuration),
  classify: Schema.optionalKey(Schema.Struct({
    transientStatus: statuses,
    permanentStatus: statuses,
    transientTags: tags,
    permanentTags: tags,
    ignoredTags: tags
  })),
  retry: Schema.optionalKey(Schema.Struct({
    maxAttempts: positiveInt,
    backoff: BackoffSchema,
    maxRetryAfter: Schema.optionalKey(NonNegativeDuration)
  })),
  circuitBreaker: Schema.optionalKey(Schema.Struct({
    policy: TripPolicy,
    resetTimeout: PositiveDuration,
    maxResetTimeout: Schema.optionalKey(PositiveDuration),
    successThreshold: positiveInt,
    halfOpenMaxCalls: positiveInt,
    slowCall: Schema.optionalKey(Schema.Struct({ threshold: PositiveDuration, rate }))
  })),
  bulkhead: Schema.optionalKey(Schema.Struct({
    maxConcurrent: positiveInt,
    maxQueue: nonNegativeInt,
    queueTimeout: Schema.optionalKey(PositiveDuration)
  })),
  hedge: Schema.optionalKey(Schema.Struct({
    delay: NonNegativeDuration,
    maxAttempts: num(`an integer in [1, ${limits.hedgeMaxAttempts}]`)
  })),
  rateLimit: Schema.optionalKey(Schema.Struct({
    algorithm: literals(["token-bucket", "fixed-window"]),
    limit: positiveInt,
    window: PositiveDuration
  }))
})

/** The blocks a profile may fill, in the composition order of docs/composition.md. */
export const blockKeys = ["retry", "circuitBreaker", "bulkhead", "hedge", "rateLimit"] as const
export type BlockKey = typeof blockKeys[number]

// -----------------------------------------------------------------------------
// document, legacy sections included
// -----------------------------------------------------------------------------

/**
 * The top level. Native policies are decoded one by one once merged over
 * their profile (configDecode.ts), so here they are only a map. The legacy
 * sections are read here; `fromLegacy` turns them into native policies.
 */
export const DocumentShape = Schema.Struct({
  profile: Schema.optionalKey(ProfileNameSchema),
  policies: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  circuit_breakers: Schema.optionalKey(Schema.Record(
    Schema.String,
    Schema.Struct({
      failure_threshold: Schema.optionalKey(positiveInt),
      success_threshold: Schema.optionalKey(positiveInt),
      timeout: Schema.optionalKey(PositiveSeconds)
    })
  )),
  retry_policies: Schema.optionalKey(Schema.Record(
    Schema.String,
    Schema.Struct({
      // the one range kept here: `max_retries + 1` is a translation, not a constructor's field
      max_retries: Schema.optionalKey(
        Schema.Number.check(Schema.makeFilter((n: number) => Number.isInteger(n) && n >= 0, { expected: "an integer >= 0" }))
      ),
      initial_delay: Schema.optionalKey(NonNegativeSeconds),
      backoff_factor: Schema.optionalKey(num("a finite number >= 1")),
      max_delay: Schema.optionalKey(NonNegativeSeconds)
    })
  )),
  timeouts: Schema.optionalKey(Schema.Record(Schema.String, PositiveSeconds))
})

type Shape = typeof DocumentShape.Type

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

const encode = (d: Duration.Duration): string => `${Duration.toMillis(d)} millis`

/**
 * The legacy dialect as native policies (profile `none`, as written). A key
 * left out takes the code default: the breaker's required fields are filled
 * from defaults.ts, the rest by the block defaults as for any native policy.
 */
export const fromLegacy = (shape: Shape): Record<string, Record<string, unknown>> => {
  const out: Record<string, Record<string, unknown>> = {}
  const entry = (name: string) => (out[name] ??= {})
  const d = defaults.circuitBreaker
  for (const [name, b] of Object.entries(shape.circuit_breakers ?? {})) {
    entry(name).circuitBreaker = {
      policy: { kind: "consecutive", failures: b.failure_threshold ?? d.consecutiveFailures },
      resetTimeout: b.timeout === undefined ? `${d.resetTimeoutMillis} millis` : encode(b.timeout),
      ...(b.success_threshold === undefined ? {} : { successThreshold: b.success_threshold })
    }
  }
  for (const [name, r] of Object.entries(shape.retry_policies ?? {})) {
    const written = r.initial_delay !== undefined || r.backoff_factor !== undefined || r.max_delay !== undefined
    entry(name).retry = {
      ...(r.max_retries === undefined ? {} : { maxAttempts: r.max_retries + 1 }),
      ...(written
        ? {
          backoff: {
            kind: "exponential",
            base: r.initial_delay === undefined ? `${defaults.retry.backoffBaseMillis} millis` : encode(r.initial_delay),
            ...(r.backoff_factor === undefined ? {} : { factor: r.backoff_factor }),
            ...(r.max_delay === undefined ? {} : { max: encode(r.max_delay) })
          }
        }
        : {})
    }
  }
  for (const [name, timeout] of Object.entries(shape.timeouts ?? {})) entry(name).timeout = encode(timeout)
  return out
}

export const parseOptions = { onExcessProperty: "error", errors: "all", reportInput: true } as const

/**
 * Named policies from a config file (YAML or JSON), an object or environment
 * variables. An `effect/Schema` checks the structure and decodes each policy
 * straight into `Policy.PolicyOptions`, the options `Policy.make` takes; the
 * constructors check every range, and their errors name the config path.
 *
 * Two shapes are accepted, in the same document if need be:
 *
 * - the **native** shape: `profile` + `policies: { <name>: { timeout, retry,
 *   circuitBreaker, bulkhead, hedge, rateLimit } }`, durations written with
 *   their unit ("5 seconds");
 * - the **legacy** (seed) shape: `circuit_breakers`, `retry_policies` and
 *   `timeouts` sections keyed by name, durations in seconds.
 *
 * A native policy starts from a built-in profile (`balanced` unless the
 * document or the policy names another) and overrides it field by field.
 * Every mistake (wrong type, out-of-range value, unknown key, unparsable
 * duration, unknown profile, bad syntax) fails with a
 * {@link ResilienceConfigError} naming the path, the value found and what is
 * allowed; all mistakes of a document are reported at once.
 *
 * See docs/configuration.md.
 *
 * @since 0.1.0
 */
import { ConfigProvider, Context, Effect, Layer, Predicate, Result } from "effect"
import type { InvalidConfigError } from "./Errors.ts"
import * as decoding from "./internal/configDecode.ts"
import * as env from "./internal/configEnv.ts"
import type { IssueKind as InternalIssueKind, RawIssue } from "./internal/configIssues.ts"
import { describeValue, formatPath, suggest } from "./internal/configIssues.ts"
import type { Format as InternalFormat } from "./internal/configParse.ts"
import { parseText } from "./internal/configParse.ts"
import * as schema from "./internal/configSchema.ts"
import * as defaults from "./internal/defaults.ts"
import { TaggedError } from "./internal/errors.ts"
import * as Policy from "./Policy.ts"

// -----------------------------------------------------------------------------
// models
// -----------------------------------------------------------------------------

/**
 * The name of a built-in profile (their numbers: docs/configuration.md,
 * "Profiles"). `none` adds no blocks: a policy has only what it writes.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const profile: ResilienceConfig.ProfileName = "aggressive"
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type ProfileName = schema.ProfileName

/**
 * Every profile name, the default (`balanced`) included.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * ResilienceConfig.profileNames // ["conservative", "balanced", "aggressive", "cost-optimized", "none"]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export const profileNames: ReadonlyArray<ProfileName> = schema.profileNames

const DocumentTypeId = decoding.DocumentTypeId

/**
 * A decoded config: the profile in force and every policy by name. Build one
 * with {@link decode}, {@link parse}, {@link load} or {@link fromEnv}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const names = ResilienceConfig.decode({ timeouts: { database_query: 10 } }).pipe(
 *   Effect.map((document) => Object.keys(document.policies)) // ["database_query"]
 * )
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Document = decoding.Document

/**
 * One configured policy, decoded: `Policy.PolicyOptions` whose blocks are
 * options (a built `Backoff` and trip policy inside, durations as
 * `Duration`), ready for `Policy.make`. Profile and block defaults are
 * merged in; an absent block is not applied.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, ResilienceConfig } from "effect-resilience"
 *
 * const scoring = ResilienceConfig.decode({ policies: { scoring: { timeout: "2 seconds" } } }).pipe(
 *   Effect.flatMap((document) => Policy.make(document.policies["scoring"]!)),
 *   Effect.scoped
 * )
 * ```
 *
 * @category models
 * @since 0.3.0
 */
export type Entry = decoding.Entry

/**
 * Checks whether a value is a decoded {@link Document}.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * ResilienceConfig.isDocument({ policies: {} }) // false: not decoded yet
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isDocument = (u: unknown): u is Document => Predicate.hasProperty(u, DocumentTypeId)

/** The written form of a block: every field optional (the profile and block defaults fill the rest). */
type Written<T> = T extends ReadonlyArray<any> ? T : T extends object ? { readonly [K in keyof T]?: Written<T[K]> } : T

type PolicyEncoded = typeof schema.PolicySchema.Encoded

/**
 * A native policy as written: every field optional (the profile fills the
 * blocks it has), durations as strings with a unit, `false` to drop a block
 * the profile would add.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const scoring: ResilienceConfig.PolicyInput = {
 *   profile: "aggressive",
 *   timeout: "2 seconds",
 *   retry: { maxAttempts: 4 },
 *   bulkhead: false
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type PolicyInput =
  & { readonly profile?: ProfileName }
  & { readonly [K in Exclude<keyof PolicyEncoded, schema.BlockKey>]?: PolicyEncoded[K] }
  & { readonly [K in schema.BlockKey]?: false | Written<PolicyEncoded[K]> }

/**
 * A config document as written, in the native shape, the legacy shape, or
 * both. Legacy durations are numbers of seconds (or duration strings).
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const input: ResilienceConfig.DocumentInput = {
 *   circuit_breakers: { kafka_producer: { failure_threshold: 5, success_threshold: 2, timeout: 60 } },
 *   retry_policies: { kafka: { max_retries: 3, initial_delay: 1.0, backoff_factor: 2.0, max_delay: 30.0 } },
 *   timeouts: { database_query: 10 }
 * }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type DocumentInput =
  & Omit<typeof schema.DocumentShape.Encoded, "policies">
  & { readonly policies?: Readonly<Record<string, PolicyInput>> }

// -----------------------------------------------------------------------------
// errors
// -----------------------------------------------------------------------------

/**
 * What went wrong: `type`, `value` (out of range, unparsable, not allowed),
 * `missing`, `unknown-key` (with a "did you mean"), `unknown-policy`,
 * `conflict` (a name both native and legacy), `syntax`, `read`, `source`
 * (the `ConfigProvider` failed). See docs/configuration.md, "Errors".
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const kind: ResilienceConfig.IssueKind = "unknown-key"
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export type IssueKind = InternalIssueKind

/**
 * One problem in a config: where (`path`, e.g.
 * `circuit_breakers.kafka_producer.failure_threshold`, or the environment
 * variable name), the value found there (`undefined` when missing) and what
 * is allowed.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const issue: ResilienceConfig.ConfigIssue = {
 *   kind: "value",
 *   path: "circuit_breakers.kafka_producer.failure_threshold",
 *   value: -1,
 *   expected: "an integer >= 1"
 * }
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export interface ConfigIssue {
  readonly kind: IssueKind
  readonly path: string
  readonly value: unknown
  readonly expected: string
}

/**
 * The config is invalid (or cannot be read). `issues` lists every problem
 * found; `kind`, `path`, `value` and `expected` repeat the first one, and
 * `source` names the file or `"environment"` when there is one.
 *
 * **Example** (Reporting a typo)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const program = ResilienceConfig.decode({
 *   circuit_breakers: { kafka_producer: { failure_treshold: 5 } }
 * }).pipe(
 *   Effect.catchTag("ResilienceConfigError", (error) => Effect.succeed(error.message))
 * )
 * // "circuit_breakers.kafka_producer.failure_treshold: unknown key, expected one of
 * //  failure_threshold, success_threshold, timeout (did you mean "failure_threshold"?)"
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class ResilienceConfigError extends TaggedError("ResilienceConfigError")<{
  readonly kind: IssueKind
  readonly path: string
  readonly value: unknown
  readonly expected: string
  readonly issues: ReadonlyArray<ConfigIssue>
  readonly source: string | undefined
}> {
  override get message(): string {
    const where = this.source === undefined ? "" : `${this.source}: `
    const lines = this.issues.map(formatIssue)
    return lines.length === 1
      ? `${where}${lines[0]}`
      : `${where}${lines.length} problems in the resilience config:\n  - ${lines.join("\n  - ")}`
  }
}

const formatIssue = (issue: ConfigIssue): string => {
  const at = issue.path === "" ? "" : `${issue.path}: `
  switch (issue.kind) {
    case "missing":
      return `${at}missing, expected ${issue.expected}`
    case "unknown-key":
      return `${at}unknown key, expected ${issue.expected}`
    case "unknown-policy":
      return `${at}no such policy, expected ${issue.expected}`
    case "conflict":
      return `${at}defined twice, expected ${issue.expected}`
    case "read":
      return `${at}cannot read the file, expected ${issue.expected}`
    default:
      return issue.value === undefined
        ? `${at}expected ${issue.expected}`
        : `${at}expected ${issue.expected}, got ${describeValue(issue.value)}`
  }
}

/**
 * Checks whether a value is a {@link ResilienceConfigError}.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * ResilienceConfig.isResilienceConfigError(new Error("x")) // false
 * ```
 *
 * @category guards
 * @since 0.1.0
 */
export const isResilienceConfigError = (u: unknown): u is ResilienceConfigError =>
  Predicate.isTagged(u, "ResilienceConfigError")

/** The error of a list of issues; `path` renders their segments (an environment variable, or `a.b[0]`). */
const fromRaw = (
  raw: ReadonlyArray<RawIssue>,
  source: string | undefined,
  path: (issue: RawIssue) => string = (issue) => formatPath(issue.segments)
): ResilienceConfigError => {
  const issues = raw.map((issue) => ({ kind: issue.kind, path: path(issue), value: issue.value, expected: issue.expected }))
  return new ResilienceConfigError({ ...issues[0]!, issues, source })
}

// -----------------------------------------------------------------------------
// decoding
// -----------------------------------------------------------------------------

/**
 * Validates and normalizes a config document already in memory (an object
 * from code, or the result of your own parser).
 *
 * **Details**
 *
 * `null` and `undefined` are an empty document. Native policies are merged
 * over their profile; legacy entries are mapped as they are
 * (`max_retries: 3` means `maxAttempts: 4`). Every problem is reported in one
 * `ResilienceConfigError`.
 *
 * **Example** (The seed shape)
 *
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.decode({
 *   circuit_breakers: { kafka_producer: { failure_threshold: 5, success_threshold: 2, timeout: 60 } },
 *   retry_policies: { kafka: { max_retries: 3, initial_delay: 1.0, backoff_factor: 2.0, max_delay: 30.0 } },
 *   timeouts: { database_query: 10 }
 * })
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decode = (input: unknown): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.suspend(() => decodeWith(input, undefined))

const decodeWith = (input: unknown, source: string | undefined): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.flatMap(decoding.decode(input), (result) =>
    Result.isSuccess(result) ? Effect.succeed(result.success) : Effect.fail(fromRaw(result.failure, source)))

/**
 * The text formats {@link parse} and {@link load} read. YAML is a superset of
 * JSON, so `"yaml"` reads JSON too; `"json"` is strict.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const format: ResilienceConfig.Format = "json"
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export type Format = InternalFormat

/**
 * Parses YAML (default) or JSON text, then {@link decode}s it. A syntax error
 * is a `ResilienceConfigError` of kind `syntax` with the line and column.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.parse(`
 * profile: balanced
 * policies:
 *   scoring:
 *     timeout: 2 seconds
 *     retry: { maxAttempts: 4 }
 * `)
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const parse = (text: string, format: Format = "yaml"): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.suspend(() => parseWith(text, format, undefined))

const parseWith = (
  text: string,
  format: Format,
  source: string | undefined
): Effect.Effect<Document, ResilienceConfigError> => {
  const parsed = parseText(text, format)
  return Result.isSuccess(parsed) ? decodeWith(parsed.success, source) : Effect.fail(fromRaw(parsed.failure, source))
}

const formatOf = (path: string): Format => (path.toLowerCase().endsWith(".json") ? "json" : "yaml")

/**
 * Reads a config file and decodes it. The format comes from the extension
 * (`.json` is JSON, anything else YAML) unless given. Errors name the file in
 * `source`; a file that cannot be read is an error of kind `read`.
 *
 * **Details**
 *
 * Uses `node:fs/promises` (loaded on first use), so it needs Node (>= 20) or
 * a runtime that provides that module; {@link parse} works anywhere.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.load("config/resilience.yaml")
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const load = (
  path: string,
  options?: { readonly format?: Format | undefined }
): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.tryPromise({
    try: () => import("node:fs/promises").then((fs) => fs.readFile(path, "utf8")),
    catch: (cause) =>
      fromRaw([{
        kind: "read",
        segments: [],
        value: path,
        expected: `a readable file (${cause instanceof Error ? cause.message : String(cause)})`
      }], path)
  }).pipe(Effect.flatMap((text) => parseWith(text, options?.format ?? formatOf(path), path)))

/**
 * Reads a native config from environment variables, through the current
 * `ConfigProvider` (by default `process.env`): `RESILIENCE_PROFILE` and
 * `RESILIENCE_POLICIES_<NAME>_<FIELD>`, FIELD the field path in CONSTANT_CASE
 * as the policy Schema defines it (`..._KAFKA_PRODUCER_RETRY_MAX_ATTEMPTS=4`,
 * `..._BULKHEAD=false`). Any other variable under the prefix is an error,
 * whose `path` is the variable. See docs/configuration.md.
 *
 * **Example** (From an explicit environment)
 *
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.fromEnv().pipe(
 *   Effect.provideService(
 *     ConfigProvider.ConfigProvider,
 *     ConfigProvider.fromEnv({ env: { RESILIENCE_POLICIES_SCORING_TIMEOUT: "2 seconds" } })
 *   )
 * )
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const fromEnv = (
  options?: { readonly prefix?: string | undefined }
): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.gen(function*() {
    const prefix = options?.prefix ?? defaults.resilienceConfig.envPrefix
    const source = "environment"
    const provider = yield* ConfigProvider.ConfigProvider
    const read = yield* env.read(provider, prefix).pipe(
      Effect.mapError((error) =>
        fromRaw([{ kind: "source", segments: [], value: undefined, expected: `a readable config source (${error.message})` }], source)
      )
    )
    const decoded = yield* decoding.decode(read.raw)
    const issues = [...read.issues, ...(Result.isFailure(decoded) ? decoded.failure : [])]
    if (Result.isFailure(decoded) || issues.length > 0) {
      // an unknown variable is its own path; a document path is the variable that sets it
      return yield* Effect.fail(fromRaw(issues, source, (issue) =>
        read.issues.includes(issue) ? String(issue.segments[0]) : env.variableOf(prefix, issue.segments)))
    }
    return decoded.success
  })

// -----------------------------------------------------------------------------
// service
// -----------------------------------------------------------------------------

/**
 * What the {@link ResilienceConfig} service offers.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const describe = (config: ResilienceConfig.Service) => config.names.join(", ")
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Service {
  readonly document: Document
  /** The configured policy names, sorted. */
  readonly names: ReadonlyArray<string>
  /** The policy of that name, or a `ResilienceConfigError` of kind `unknown-policy`. */
  readonly policy: (name: string) => Effect.Effect<Entry, ResilienceConfigError>
}

/**
 * The config of the running program, provided by {@link layer},
 * {@link layerFile} or {@link layerEnv}; `Policy.layerFromConfig` reads it.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const timeout = Effect.gen(function*() {
 *   const config = yield* ResilienceConfig.ResilienceConfig
 *   const scoring = yield* config.policy("scoring")
 *   return scoring.timeout
 * })
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class ResilienceConfig extends Context.Service<ResilienceConfig, Service>()(
  "effect-resilience/ResilienceConfig"
) {}

/**
 * The service over a decoded document.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const service = Effect.map(ResilienceConfig.decode({ timeouts: { db: 10 } }), ResilienceConfig.make)
 * ```
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (document: Document): Service => {
  const names = Object.keys(document.policies).sort()
  return {
    document,
    names,
    policy: (name) =>
      Effect.suspend(() => {
        const spec = Object.hasOwn(document.policies, name) ? document.policies[name] : undefined
        if (spec !== undefined) return Effect.succeed(spec)
        const hint = suggest(name, names)
        const expected = names.length === 0
          ? "a configured policy name (this config defines none)"
          : `one of ${names.map((n) => JSON.stringify(n)).join(", ")}` +
            (hint === undefined ? "" : ` (did you mean "${hint}"?)`)
        return Effect.fail(fromRaw([{ kind: "unknown-policy", segments: ["policies", name], value: name, expected }], undefined))
      })
  }
}

/**
 * Provides the config from a decoded {@link Document} or from an object in
 * the config's own shape (decoded when the layer is built).
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const ConfigTest = ResilienceConfig.layer({
 *   profile: "none",
 *   policies: { scoring: { timeout: "100 millis" } }
 * })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (input: Document | DocumentInput): Layer.Layer<ResilienceConfig, ResilienceConfigError> =>
  Layer.effect(ResilienceConfig, Effect.map(isDocument(input) ? Effect.succeed(input) : decode(input), make))

/**
 * Provides the config read from a file (see {@link load}).
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const ConfigLive = ResilienceConfig.layerFile("config/resilience.yaml")
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerFile = (
  path: string,
  options?: { readonly format?: Format | undefined }
): Layer.Layer<ResilienceConfig, ResilienceConfigError> => Layer.effect(ResilienceConfig, Effect.map(load(path, options), make))

/**
 * Provides the config read from environment variables (see {@link fromEnv}).
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const ConfigFromEnv = ResilienceConfig.layerEnv()
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerEnv = (
  options?: { readonly prefix?: string | undefined }
): Layer.Layer<ResilienceConfig, ResilienceConfigError> => Layer.effect(ResilienceConfig, Effect.map(fromEnv(options), make))

/**
 * The policy of that name from the current {@link ResilienceConfig}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const scoring = ResilienceConfig.policy("scoring").pipe(
 *   Effect.provide(ResilienceConfig.layer({ policies: { scoring: { timeout: "2 seconds" } } }))
 * )
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const policy = (name: string): Effect.Effect<Entry, ResilienceConfigError, ResilienceConfig> =>
  Effect.flatMap(Effect.service(ResilienceConfig), (config) => config.policy(name))

/**
 * Provides a policy built from the named entry of the current
 * {@link ResilienceConfig}, for the life of the layer. The entry is already
 * `Policy.PolicyOptions`: this is `Policy.make` on it, and a constructor's
 * error names the config path (`policies.payments.circuitBreaker.successThreshold`).
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import { Policy, ResilienceConfig } from "effect-resilience"
 *
 * class ScoringPolicy extends Context.Service<ScoringPolicy, Policy.Policy>()("app/ScoringPolicy") {}
 *
 * const ScoringFromConfig = ResilienceConfig.layerPolicy(ScoringPolicy, "scoring").pipe(
 *   Layer.provide(ResilienceConfig.layerFile("config/resilience.yaml"))
 * )
 * ```
 *
 * @category layers
 * @since 0.3.0
 */
export const layerPolicy = <I>(
  tag: Context.Key<I, Policy.Policy>,
  name: string
): Layer.Layer<I, ResilienceConfigError, ResilienceConfig> =>
  Layer.effect(
    tag,
    Effect.flatMap(policy(name), (options) =>
      Effect.mapError(Policy.make(options), (error: InvalidConfigError) =>
        {
        const issue = decoding.constructorIssue(error)
        return fromRaw([{ ...issue, segments: ["policies", name, ...issue.segments] }], undefined)
      }))
  )

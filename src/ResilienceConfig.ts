/**
 * Named policies from a file (YAML or JSON), an object or environment
 * variables, decoded into `Policy.PolicyOptions`. See docs/configuration.md.
 *
 * @since 0.1.0
 */
import { ConfigProvider, Context, Effect, Formatter, Layer, Predicate } from "effect"
import * as decoding from "./internal/configDecode.ts"
import * as env from "./internal/configEnv.ts"
import type { IssueKind, RawIssue } from "./internal/configIssues.ts"
import { didYouMean, formatPath } from "./internal/configIssues.ts"
import * as schema from "./internal/configSchema.ts"
import * as defaults from "./internal/defaults.ts"
import * as errors from "./internal/errors.ts"
import * as Policy from "./Policy.ts"

/**
 * The name of a built-in profile; `none` adds no blocks.
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

/**
 * A decoded config: the profile in force and every policy by name.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const names = Effect.map(ResilienceConfig.decode({ timeouts: { db: 10 } }), (d) => Object.keys(d.policies)) // ["db"]
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Document = decoding.Document

/**
 * One configured policy: the `Policy.PolicyOptions` that `Policy.make` takes, defaults merged in.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy, ResilienceConfig } from "effect-resilience"
 *
 * const scoring = Effect.flatMap(ResilienceConfig.decode({ policies: { scoring: {} } }), (d) => Policy.make(d.policies["scoring"]!))
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Entry = decoding.Entry

/** The written form of a block: every field optional (the profile and block defaults fill the rest). */
type Written<T> = T extends ReadonlyArray<any> ? T : T extends object ? { readonly [K in keyof T]?: Written<T[K]> } : T

type PolicyEncoded = typeof schema.PolicySchema.Encoded

/**
 * A native policy as written: every field optional, durations with a unit, `false` to drop a block.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const scoring: ResilienceConfig.PolicyInput = { profile: "aggressive", retry: { maxAttempts: 4 }, bulkhead: false }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type PolicyInput = { readonly profile?: ProfileName } & {
  readonly [K in keyof PolicyEncoded]?: K extends schema.BlockKey ? false | Written<PolicyEncoded[K]> : PolicyEncoded[K]
}

/**
 * A config document as written, native, legacy (durations in seconds) or both.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const input: ResilienceConfig.DocumentInput = { timeouts: { db: 10 }, policies: { scoring: { timeout: "2 seconds" } } }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type DocumentInput = Omit<typeof schema.TopLevel.Encoded, "profile" | "policies"> & {
  readonly profile?: ProfileName
  readonly policies?: Readonly<Record<string, PolicyInput>>
}

/**
 * One problem: what went wrong (`kind`: `type`, `value`, `unknown-key`, …; see docs/configuration.md), where
 * (`path`, or the environment variable), the value found there and what is allowed.
 *
 * @example
 * ```ts
 * import type { ResilienceConfig } from "effect-resilience"
 *
 * const issue: ResilienceConfig.ConfigIssue = { kind: "value", path: "timeouts.db", value: -1, expected: "> 0" }
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export interface ConfigIssue extends Omit<RawIssue, "segments"> {
  readonly path: string
}

/**
 * The config is invalid or cannot be read: every problem in `issues`, the first one repeated at the top.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const message = ResilienceConfig.decode({ circuit_breakers: { kafka: { failure_treshold: 5 } } }).pipe(
 *   Effect.catchTag("ResilienceConfigError", (error) => Effect.succeed(error.message))
 * ) // "circuit_breakers.kafka.failure_treshold: unknown key, ... (did you mean "failure_threshold"?)"
 * ```
 *
 * @category errors
 * @since 0.1.0
 */
export class ResilienceConfigError extends errors.TaggedError("ResilienceConfigError")<ConfigIssue & {
  readonly issues: ReadonlyArray<ConfigIssue>
  readonly source: string | undefined
}> {
  override get message(): string {
    const lines = this.issues.map(({ expected, kind, path, value }) => {
      const label = labels[kind]
      const got = value === undefined || label !== undefined ? "" : `, got ${Formatter.format(value)}`
      return `${path === "" ? "" : `${path}: `}${label === undefined ? "" : `${label}, `}expected ${expected}${got}`
    })
    return (this.source === undefined ? "" : `${this.source}: `) +
      (lines.length === 1 ? lines[0] : `${lines.length} problems in the resilience config:\n  - ${lines.join("\n  - ")}`)
  }
}

const labels: Partial<Record<IssueKind, string>> = {
  missing: "missing",
  "unknown-key": "unknown key",
  "unknown-policy": "no such policy",
  conflict: "defined twice",
  read: "cannot read the file"
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
export const isResilienceConfigError: (u: unknown) => u is ResilienceConfigError = errors.guard("ResilienceConfigError")

/** The error of the issues; `path` renders their segments (`a.b[0]`, or an environment variable). */
const toError = (source: string | undefined, path = (issue: RawIssue) => formatPath(issue.segments)) =>
(raw: ReadonlyArray<RawIssue>): ResilienceConfigError => {
  const issues = raw.map((issue) => ({ kind: issue.kind, path: path(issue), value: issue.value, expected: issue.expected }))
  return new ResilienceConfigError({ ...issues[0]!, issues, source })
}

/**
 * Decodes a config document in memory, reporting every problem in one error.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.decode({ retry_policies: { kafka: { max_retries: 3, initial_delay: 1.0 } } })
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const decode = (input: unknown): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.mapError(decoding.decode(input), toError(undefined))

/**
 * Parses YAML (the default; it reads JSON too) or strict JSON, then {@link decode}s it; `source`
 * (the file the text came from) is named in the error.
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.parse("policies:\n  scoring:\n    timeout: 2 seconds\n")
 * ```
 *
 * @category decoding
 * @since 0.1.0
 */
export const parse = (
  text: string,
  format: "yaml" | "json" = "yaml",
  source?: string
): Effect.Effect<Document, ResilienceConfigError> => Effect.mapError(decoding.decodeText(text, format), toError(source))

/**
 * Reads a config file and decodes it: `.json` is JSON, anything else YAML, unless `format` says.
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
  options?: { readonly format?: "yaml" | "json" | undefined }
): Effect.Effect<Document, ResilienceConfigError> =>
  Effect.tryPromise(() => import("node:fs/promises").then((fs) => fs.readFile(path, "utf8"))).pipe(
    Effect.mapError(({ cause }) => toError(path)([{ kind: "read", segments: [], value: path, expected: `a readable file (${(cause as Error).message})` }])),
    Effect.flatMap((text) => parse(text, decoding.formatOf(path, options?.format), path))
  )

/**
 * Reads a native config from `RESILIENCE_*` variables of the current `ConfigProvider` (docs/configuration.md).
 *
 * @example
 * ```ts
 * import { ConfigProvider, Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const document = ResilienceConfig.fromEnv().pipe(Effect.provideService(
 *   ConfigProvider.ConfigProvider,
 *   ConfigProvider.fromEnv({ env: { RESILIENCE_POLICIES_SCORING_TIMEOUT: "2 seconds" } })
 * ))
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
    const read = yield* env.read(yield* ConfigProvider.ConfigProvider, prefix).pipe(Effect.mapError((error) =>
      toError("environment")([{ kind: "source", segments: [], value: undefined, expected: `a readable config source (${error.message})` }])
    ))
    // an unknown variable is its own path; a document path is the variable that sets it
    return yield* Effect.mapError(decoding.decode(read.raw, read.issues), toError("environment", (issue) =>
      read.issues.includes(issue) ? String(issue.segments[0]) : env.variableOf([prefix, ...issue.segments])))
  })

/**
 * The {@link ResilienceConfig} service: the document, its policy names (sorted), a policy by name.
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
  readonly names: ReadonlyArray<string>
  readonly policy: (name: string) => Effect.Effect<Entry, ResilienceConfigError>
}

/**
 * The config of the running program, provided by {@link layer}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const names = Effect.map(Effect.service(ResilienceConfig.ResilienceConfig), (config) => config.names)
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class ResilienceConfig extends Context.Service<ResilienceConfig, Service>()(
  "effect-resilience/ResilienceConfig"
) {}

/** The service over a decoded document. */
const make = (document: Document): Service => {
  const names = Object.keys(document.policies).sort()
  const policy = (name: string) => {
    if (Object.hasOwn(document.policies, name)) return Effect.succeed(document.policies[name]!)
    const expected = names.length === 0
      ? "a configured policy name (this config defines none)"
      : `one of ${names.map((n) => JSON.stringify(n)).join(", ")}${didYouMean(name, names)}`
    return Effect.fail(toError(undefined)([{ kind: "unknown-policy", segments: ["policies", name], value: name, expected }]))
  }
  return { document, names, policy }
}

/**
 * Provides the config: a decoded {@link Document}, an object in the config's shape, or an effect
 * that reads one ({@link load} a file, {@link fromEnv}).
 *
 * @example
 * ```ts
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const ConfigLive = ResilienceConfig.layer(ResilienceConfig.load("config/resilience.yaml"))
 * const ConfigTest = ResilienceConfig.layer({ profile: "none", policies: { scoring: { timeout: "100 millis" } } })
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (
  source: Document | DocumentInput | Effect.Effect<Document, ResilienceConfigError>
): Layer.Layer<ResilienceConfig, ResilienceConfigError> =>
  Layer.effect(ResilienceConfig, Effect.map(
    Effect.isEffect(source)
      ? source
      : Predicate.hasProperty(source, decoding.DocumentTypeId)
      ? Effect.succeed(source as Document)
      : decode(source),
    make
  ))

/**
 * The policy of that name from the current {@link ResilienceConfig}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ResilienceConfig } from "effect-resilience"
 *
 * const ConfigLive = ResilienceConfig.layer(ResilienceConfig.load("resilience.yaml"))
 * const scoring = ResilienceConfig.policy("scoring").pipe(Effect.provide(ConfigLive))
 * ```
 *
 * @category accessors
 * @since 0.1.0
 */
export const policy = (name: string): Effect.Effect<Entry, ResilienceConfigError, ResilienceConfig> =>
  Effect.flatMap(Effect.service(ResilienceConfig), (config) => config.policy(name))

/**
 * Provides the policy `Policy.make` builds from the named entry; only an unknown name fails.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import { Policy, ResilienceConfig } from "effect-resilience"
 *
 * class Scoring extends Context.Service<Scoring, Policy.Policy>()("app/Scoring") {}
 * const ConfigEnv = ResilienceConfig.layer(ResilienceConfig.fromEnv())
 * const ScoringLive = ResilienceConfig.layerPolicy(Scoring, "scoring").pipe(Layer.provide(ConfigEnv))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerPolicy = <I>(tag: Context.Key<I, Policy.Policy>, name: string): Layer.Layer<I, ResilienceConfigError, ResilienceConfig> =>
  Layer.effect(tag, Effect.flatMap(policy(name), (options) => Effect.orDie(Policy.make(options))))

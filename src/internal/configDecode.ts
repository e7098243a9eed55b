/**
 * Text to a document: parse; decode the top level, the profile and the legacy
 * sections on their own; merge each policy over its profile and the block
 * defaults; decode it with `PolicySchema`; build it once with `Policy.make`.
 * Every issue of every step is collected, so one run reports them all.
 */
import { Context, Effect, Result, Schema } from "effect"
import { isReadonlyObject as isObject } from "effect/Predicate"
import { parseDocument } from "yaml"
import * as Policy from "../Policy.ts"
import * as Registry from "../Registry.ts"
import type { RawIssue } from "./configIssues.ts"
import { fromSchemaIssue, lookup } from "./configIssues.ts"
import * as schema from "./configSchema.ts"
import type { ProfileName } from "./configSchema.ts"
import * as defaults from "./defaults.ts"

export const DocumentTypeId = "~effect-resilience/ResilienceConfig/Document" as const

/** A decoded policy: `Policy.PolicyOptions` whose blocks are options (`check` takes one: the compiler proves it). */
export type Entry = { readonly name: string } & typeof schema.PolicySchema.Type

export interface Document {
  readonly [DocumentTypeId]: typeof DocumentTypeId
  readonly profile: ProfileName
  readonly policies: Readonly<Record<string, Entry>>
}

const decodeTopLevel = Schema.decodeUnknownResult(schema.TopLevel, schema.parseOptions)
const decodeProfile = Schema.decodeUnknownResult(schema.ProfileNameSchema, schema.parseOptions)
const decodePolicy = Schema.decodeUnknownResult(schema.PolicySchema, schema.parseOptions)

/** Objects merge key by key, `undefined` writing nothing; another `kind` replaces (a constant backoff takes no factor). */
export const mergeDeep = (base: unknown, over: unknown): unknown => {
  if (over === undefined) return base
  if (!isObject(base) || !isObject(over)) return over
  const out: Record<string, unknown> = "kind" in base && "kind" in over && base.kind !== over.kind ? {} : { ...base }
  for (const [key, value] of Object.entries(over)) if (value !== undefined) out[key] = mergeDeep(out[key], value)
  return out
}

/**
 * Block defaults < profile < policy; a block exists when the profile or the policy has it, `false` drops it.
 * A written backoff takes only its `kind` from the block defaults: the rest are the constructors' defaults, as in code.
 */
const resolvePolicy = (raw: unknown, profile: ProfileName): unknown => {
  if (!isObject(raw)) return raw
  const { profile: _, ...out }: Record<string, unknown> = raw
  const fromProfile: Readonly<Record<string, unknown>> = defaults.resilienceConfig.profiles[profile]
  for (const block of schema.blockKeys) {
    const written = mergeDeep(fromProfile[block], raw[block])
    const base: Record<string, any> = defaults.resilienceConfig.blocks[block]
    const under = isObject(written) && isObject(written.backoff)
      ? { ...base, backoff: { kind: base.backoff.kind } }
      : base
    if (written === undefined || written === false) delete out[block]
    else out[block] = mergeDeep(under, written)
  }
  return out
}

/** An issue of a policy at the path and with the value written (not the decoded `Duration`): `policies.<name>.<field>`, or a legacy key. */
const place = (issue: RawIssue, name: string, legacy: boolean, resolved: unknown, document: unknown): RawIssue => {
  const where = legacy ? schema.legacyFields[issue.segments.join(".")] : undefined
  const segments = where === undefined ? ["policies", name, ...issue.segments] : [where[0], name, ...where.slice(1) as Array<string>]
  const written = where === undefined ? lookup(resolved, issue.segments) : lookup(document, segments)
  return { ...issue, segments, value: written === undefined || issue.kind === "unknown-key" ? issue.value : written }
}

/** Builds a policy with `Policy.make`, thrown away at once and kept out of any `PolicyRegistry`: its error, at its field. */
const check = (options: Policy.PolicyOptions): Effect.Effect<Array<RawIssue>> =>
  Policy.make(options).pipe(
    Effect.scoped,
    Effect.updateContext((context: Context.Context<never>) => Context.omit(Registry.PolicyRegistry)(context)),
    Effect.match({
      onFailure: (error) => [{ kind: "value", segments: schema.fieldSegments(error.field), value: error.value, expected: error.expected }],
      onSuccess: () => []
    })
  )

/** The brand is not enumerable: a document logs and serializes as plain data. */
const makeDocument = (profile: ProfileName, policies: Readonly<Record<string, Entry>>): Document =>
  Object.defineProperty({ profile, policies }, DocumentTypeId, { value: DocumentTypeId, enumerable: false }) as Document

/** Decodes a document; `found` are issues found before (unknown environment variables), reported with the rest. */
export const decode = Effect.fnUntraced(function*(input: unknown, found: ReadonlyArray<RawIssue> = []) {
  const document = input ?? {}
  const issues: Array<RawIssue> = [...found]
  const decoded = <A>(result: Result.Result<A, Schema.SchemaError>, prefix: ReadonlyArray<PropertyKey>): A | undefined => {
    if (Result.isFailure(result)) issues.push(...fromSchemaIssue(result.failure.issue, prefix))
    return Result.getOrUndefined(result)
  }
  const legacy = decoded(decodeTopLevel(document), []) ?? {}
  const top = isObject(document) ? document : {}
  const profile = decoded(decodeProfile(top.profile ?? defaults.resilienceConfig.profile), ["profile"]) ?? defaults.resilienceConfig.profile
  const native = isObject(top.policies) ? top.policies : {}
  const policies: Record<string, Entry> = {}
  const entries = [
    ...Object.entries(native).map(([name, raw]) => [name, raw, false] as const),
    ...Object.entries(legacy).map(([name, raw]) => [name, raw, true] as const)
  ]
  for (const [name, raw, isLegacy] of entries) {
    if (isLegacy && Object.hasOwn(native, name)) {
      const where = schema.legacyKeys.filter((s) => isObject(top[s]) && Object.hasOwn(top[s], name))
      issues.push({
        kind: "conflict",
        segments: ["policies", name],
        value: name,
        expected: `a name not also used in ${where.join(", ")} (one policy, one definition)`
      })
      continue
    }
    const own = isObject(raw) && Object.hasOwn(raw, "profile")
      ? decoded(decodeProfile(raw.profile), ["policies", name, "profile"]) ?? profile
      : profile
    const resolved = resolvePolicy(raw, own)
    const result = decodePolicy(resolved)
    const found = Result.isFailure(result) ? fromSchemaIssue(result.failure.issue) : yield* check({ name, ...result.success })
    if (Result.isSuccess(result) && found.length === 0) policies[name] = { name, ...result.success }
    issues.push(...found.map((issue) => place(issue, name, isLegacy, resolved, document)))
  }
  return issues.length > 0 ? yield* Effect.fail(issues) : makeDocument(profile, policies)
})

// Text to plain data: YAML (a superset of JSON) or strict JSON; a syntax error is an issue with its line and column.
export type Format = "yaml" | "json"

/** `.json` is JSON, anything else YAML, unless `format` says. */
export const formatOf = (path: string, format: Format | undefined): Format =>
  format ?? (path.toLowerCase().endsWith(".json") ? "json" : "yaml")

const syntax = (text: string, error: unknown, offset: number | undefined, format: Format): RawIssue => {
  const message = error instanceof Error ? error.message : String(error)
  const before = offset === undefined ? undefined : text.slice(0, offset).split("\n")
  const line = before === undefined ? "" : text.split("\n")[before.length - 1]?.trim() ?? ""
  const where = before === undefined ? "" : ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}`
  return {
    kind: "syntax",
    segments: [],
    value: line === "" ? undefined : line,
    expected: `valid ${format === "json" ? "JSON" : "YAML"}${where} (${message})`
  }
}

export const decodeText = (text: string, format: Format): Effect.Effect<Document, ReadonlyArray<RawIssue>> =>
  Effect.suspend(() => {
    try {
      if (format === "json") return decode(JSON.parse(text))
      const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true })
      if (document.errors.length > 0) return Effect.fail(document.errors.map((e) => syntax(text, e, e.pos[0], format)))
      return decode(document.toJS({ maxAliasCount: 100 }))
    } catch (error) {
      // Node's JSON.parse names the offset: "... at position 12 ..."
      const position = /position (\d+)/.exec(String(error))
      return Effect.fail([syntax(text, error, position === null ? undefined : Number(position[1]), format)])
    }
  })

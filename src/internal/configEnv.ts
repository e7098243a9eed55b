/**
 * Environment variables, read through the `ConfigProvider`, to a native document: `<PREFIX>_PROFILE`,
 * `<PREFIX>_POLICIES_<NAME>_<FIELD>`, FIELD a field path of `PolicySchema` in CONSTANT_CASE and NAME
 * what the longest FIELD ending the variable leaves, lower-cased. Other variables are issues.
 */
import { type ConfigProvider, Effect, SchemaAST, String as Str } from "effect"
import { mergeDeep } from "./configDecode.ts"
import type { RawIssue } from "./configIssues.ts"
import { didYouMean } from "./configIssues.ts"
import { PolicySchema } from "./configSchema.ts"

type Field = readonly [path: ReadonlyArray<string>, leaf: "number" | "string" | "block"]

/** The fields of the Schema's written side: a struct (or union of structs) is a block; lists are not settable. */
const fieldsOf = (ast: SchemaAST.AST, path: ReadonlyArray<string>): Array<Field> => {
  const structs = SchemaAST.isObjects(ast) ? [ast] : SchemaAST.isUnion(ast) && ast.types.every(SchemaAST.isObjects) ? ast.types : []
  if (structs.length === 0) return SchemaAST.isArrays(ast) ? [] : [[path, ast._tag === "Number" ? "number" : "string"]]
  const children = structs.flatMap((s) => s.propertySignatures.flatMap((p) => fieldsOf(p.type, [...path, String(p.name)])))
  return children.length === 0 ? [] : [[path, "block"], ...children]
}

export const variableOf = (segments: ReadonlyArray<PropertyKey>): string => segments.map((s) => Str.constantCase(String(s))).join("_")

/** By variable, longest first. */
const fields = new Map(
  [[["profile"], "string"] as Field, ...fieldsOf(SchemaAST.toEncoded(PolicySchema.ast), []).slice(1)]
    .map((field) => [variableOf(field[0]), field] as const)
    .sort(([a], [b]) => b.length - a.length)
)

const coerce = (value: string, leaf: Field[1]): unknown => {
  const text = value.trim()
  if (leaf === "number" && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) return Number(text)
  return leaf === "block" && text.toLowerCase() === "false" ? false : value
}

/** Every variable under `path`, as its words after the prefix and its value. */
const collect = Effect.fnUntraced(function*(
  provider: ConfigProvider.ConfigProvider,
  path: ReadonlyArray<string>,
  out: Array<readonly [ReadonlyArray<string>, string]>
): Effect.fn.Return<void, ConfigProvider.SourceError> {
  const node = yield* provider.load(path)
  if (node === undefined || path.length > 24) return
  if (node.value !== undefined && path.length > 1) out.push([path.slice(1).map(Str.constantCase), node.value])
  if (node._tag === "Value") return
  const keys = node._tag === "Record" ? [...node.keys] : Array.from({ length: node.length }, (_, i) => String(i))
  for (const key of keys.sort()) yield* collect(provider, [...path, key], out)
})

/** Reads every variable under `prefix` into a native document, and the issues of the variables it does not know. */
export const read = Effect.fnUntraced(function*(provider: ConfigProvider.ConfigProvider, prefix: string) {
  const variables: Array<readonly [ReadonlyArray<string>, string]> = []
  yield* collect(provider, [prefix], variables)
  let raw: unknown = {}
  const issues: Array<RawIssue> = []
  for (const [tokens, value] of variables) {
    if (tokens.join("_") === "PROFILE") {
      raw = mergeDeep(raw, { profile: value })
      continue
    }
    const rest = tokens[0] === "POLICIES" ? tokens.slice(1).join("_") : ""
    const found = [...fields].find(([name]) => rest.endsWith(`_${name}`))
    if (found !== undefined) {
      const [name, [field, leaf]] = found
      // variables come sorted, so a block's `false` comes before its fields, which then win
      const path = ["policies", rest.slice(0, -name.length - 1).toLowerCase(), ...field]
      raw = mergeDeep(raw, path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), coerce(value, leaf)))
      continue
    }
    issues.push({
      kind: "unknown-key",
      segments: [[prefix, ...tokens].join("_")],
      value,
      expected: tokens[0] === "POLICIES" && tokens.length > 2
        ? `${prefix}_POLICIES_<NAME>_<FIELD> with a known FIELD such as TIMEOUT or RETRY_MAX_ATTEMPTS` +
          didYouMean(tokens.slice(2).join("_"), [...fields.keys()], (f) => `${prefix}_POLICIES_${tokens[1]}_${f}`)
        : `${prefix}_PROFILE or ${prefix}_POLICIES_<NAME>_<FIELD>`
    })
  }
  return { raw, issues }
})

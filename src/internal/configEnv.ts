/**
 * Environment variables (through Effect's `ConfigProvider`) to a native
 * config document, the variable names derived from the policy Schema.
 *
 * Names: `<PREFIX>_PROFILE` and `<PREFIX>_POLICIES_<NAME>_<FIELD>`, where
 * FIELD is the field path in CONSTANT_CASE (`RETRY_MAX_ATTEMPTS`,
 * `CIRCUIT_BREAKER_POLICY_KIND`). The policy name is the shortest run of
 * words after `POLICIES` that leaves a valid field path, lower-cased
 * (`KAFKA_PRODUCER_TIMEOUT` → policy `kafka_producer`, field `timeout`).
 * Numeric fields are parsed from their text; a block set to `false` removes
 * it. Any other variable under the prefix is an error (typos are caught).
 */
import { type ConfigProvider, Effect, SchemaAST } from "effect"
import type { RawIssue } from "./configIssues.ts"
import { suggest } from "./configIssues.ts"
import { PolicySchema } from "./configSchema.ts"

type Leaf = "number" | "string"
interface Tree {
  readonly [key: string]: Leaf | Tree
}

/**
 * The variables a policy takes, read off the written (encoded) side of
 * `PolicySchema`: a struct is a subtree (the members of a union of structs
 * merge: every trip-policy kind's fields), a number is parsed, anything else
 * is text. Lists (`classify`) are not settable from the environment.
 */
const treeOf = (ast: SchemaAST.AST): Leaf | Tree | undefined => {
  if (SchemaAST.isObjects(ast)) {
    const tree: Record<string, Leaf | Tree> = {}
    for (const p of ast.propertySignatures) {
      const child = treeOf(p.type)
      if (child !== undefined) tree[String(p.name)] = child
    }
    return Object.keys(tree).length === 0 ? undefined : tree
  }
  if (SchemaAST.isUnion(ast) && ast.types.every(SchemaAST.isObjects)) {
    return Object.assign({}, ...ast.types.map(treeOf)) as Tree
  }
  if (SchemaAST.isArrays(ast)) return undefined
  return ast._tag === "Number" ? "number" : "string"
}

const policyTree: Tree = { profile: "string", ...treeOf(SchemaAST.toEncoded(PolicySchema.ast)) as Tree }

/** `maxAttempts` → `["MAX", "ATTEMPTS"]`; `kafka_producer` → `["KAFKA", "PRODUCER"]`. */
export const words = (key: string): Array<string> =>
  key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").split(/[_\s]+/).filter((w) => w !== "").map((w) => w.toUpperCase())

export const constantCase = (key: string): string => words(key).join("_")

interface Match {
  readonly path: ReadonlyArray<string>
  readonly leaf: Leaf | "block"
}

const matchField = (tokens: ReadonlyArray<string>, tree: Tree, i: number, path: ReadonlyArray<string>): Match | undefined => {
  for (const key of Object.keys(tree)) {
    const keyWords = words(key)
    if (!keyWords.every((w, j) => tokens[i + j] === w)) continue
    const next = i + keyWords.length
    const child = tree[key]!
    if (next === tokens.length) {
      // a whole block (`..._BULKHEAD=false`) or a leaf
      return { path: [...path, key], leaf: typeof child === "string" ? child : "block" }
    }
    if (typeof child !== "string") {
      const found = matchField(tokens, child, next, [...path, key])
      if (found !== undefined) return found
    }
  }
  return undefined
}

const allFields = (tree: Tree, prefix: ReadonlyArray<string> = []): Array<string> =>
  Object.keys(tree).flatMap((key) => {
    const child = tree[key]!
    const here = [...prefix, constantCase(key)]
    return typeof child === "string" ? [here.join("_")] : [here.join("_"), ...allFields(child, here)]
  })

const fieldNames = allFields(policyTree)

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i

const coerce = (value: string, leaf: Leaf | "block"): unknown => {
  const text = value.trim()
  if (leaf === "number") return NUMBER.test(text) ? Number(text) : value
  if (leaf === "block") return text.toLowerCase() === "false" ? false : value
  return value
}

const setIn = (target: Record<string, unknown>, path: ReadonlyArray<string>, value: unknown): void => {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (typeof next === "object" && next !== null) node = next as Record<string, unknown>
    else node = node[key] = {}
  }
  const last = path[path.length - 1]!
  const existing = node[last]
  // a block given both as `false` and with fields keeps the fields
  if (typeof existing === "object" && existing !== null && value === false) return
  node[last] = value
}

interface Leafed {
  readonly tokens: ReadonlyArray<string>
  readonly value: string
}

const MAX_DEPTH = 24

const collect = Effect.fnUntraced(function*(
  provider: ConfigProvider.ConfigProvider,
  path: ReadonlyArray<string>,
  out: Array<Leafed>,
  depth: number
): Effect.fn.Return<void, ConfigProvider.SourceError> {
  const node = yield* provider.load(path)
  if (node === undefined || depth > MAX_DEPTH) return
  const tokens = path.slice(1).flatMap(words)
  if (node._tag === "Value") {
    out.push({ tokens, value: node.value })
    return
  }
  if (node.value !== undefined && path.length > 1) out.push({ tokens, value: node.value })
  const keys = node._tag === "Record" ? [...node.keys] : Array.from({ length: node.length }, (_, i) => String(i))
  for (const key of keys.sort()) yield* collect(provider, [...path, key], out, depth + 1)
})

export interface EnvDocument {
  readonly raw: Record<string, unknown>
  readonly issues: ReadonlyArray<RawIssue>
}

/** Reads every variable under `prefix` and builds a native document from them. */
export const read = Effect.fnUntraced(function*(
  provider: ConfigProvider.ConfigProvider,
  prefix: string
): Effect.fn.Return<EnvDocument, ConfigProvider.SourceError> {
  const leaves: Array<Leafed> = []
  yield* collect(provider, [prefix], leaves, 0)
  const raw: Record<string, unknown> = {}
  const issues: Array<RawIssue> = []
  for (const { tokens, value } of leaves) {
    const variable = [prefix, ...tokens].join("_")
    if (tokens.length === 1 && tokens[0] === "PROFILE") {
      raw.profile = value
      continue
    }
    let matched = false
    if (tokens[0] === "POLICIES") {
      const rest = tokens.slice(1)
      for (let k = 1; k < rest.length && !matched; k++) {
        const found = matchField(rest, policyTree, k, [])
        if (found !== undefined) {
          const name = rest.slice(0, k).join("_").toLowerCase()
          setIn(raw, ["policies", name, ...found.path], coerce(value, found.leaf))
          matched = true
        }
      }
      if (!matched && rest.length > 1) {
        const hint = suggest(rest.slice(1).join("_"), fieldNames)
        issues.push({
          kind: "unknown-key",
          segments: [variable],
          value,
          expected: `${prefix}_POLICIES_<NAME>_<FIELD> with a known FIELD such as TIMEOUT or RETRY_MAX_ATTEMPTS` +
            (hint === undefined ? "" : ` (did you mean ${prefix}_POLICIES_${rest[0]}_${hint}?)`)
        })
        continue
      }
    }
    if (!matched) {
      issues.push({
        kind: "unknown-key",
        segments: [variable],
        value,
        expected: `${prefix}_PROFILE or ${prefix}_POLICIES_<NAME>_<FIELD>`
      })
    }
  }
  return { raw, issues }
})

/** The variable that sets a document path: `["policies", "scoring", "retry", "maxAttempts"]` → `RESILIENCE_POLICIES_SCORING_RETRY_MAX_ATTEMPTS`. */
export const variableOf = (prefix: string, segments: ReadonlyArray<PropertyKey>): string =>
  [prefix, ...segments.map((s) => constantCase(String(s)))].join("_")

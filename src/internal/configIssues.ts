/** Config issues (a path, the value found there, what is allowed), flattened from Schema issues. */
import { Predicate, SchemaAST, type SchemaIssue } from "effect"
import { quoted } from "./configSchema.ts"

export type IssueKind = "type" | "value" | "missing" | "unknown-key" | "unknown-policy" | "conflict" | "syntax" | "read" | "source"

/** An issue before its path is rendered. */
export interface RawIssue {
  readonly kind: IssueKind
  readonly segments: ReadonlyArray<PropertyKey>
  readonly value: unknown
  readonly expected: string
}

/** `["circuit_breakers", "kafka_producer", "timeout"]` → `circuit_breakers.kafka_producer.timeout`. */
export const formatPath = (segments: ReadonlyArray<PropertyKey>): string =>
  segments.reduce<string>((out, s) =>
    typeof s === "number"
      ? `${out}[${s}]`
      : typeof s === "string" && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)
      ? out === "" ? s : `${out}.${s}`
      : `${out}[${JSON.stringify(String(s))}]`, "")

const normalizeKey = (key: string): string => key.replace(/[_\-\s]/g, "").toLowerCase()

const distance = (a: string, b: string): number => {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

/** ` (did you mean <closest allowed key>?)` when one is close enough to the typo, else nothing. */
export const didYouMean = (key: string, allowed: ReadonlyArray<string>, show = (k: string) => `"${k}"`): string => {
  const target = normalizeKey(key)
  const [best] = allowed.map((c) => [c, distance(target, normalizeKey(c))] as const).sort((a, b) => a[1] - b[1])
  const close = best !== undefined && best[1] <= Math.max(2, Math.floor(target.length / 3))
  return close ? ` (did you mean ${show(best[0])}?)` : ""
}

const expectedOf = (annotations: { readonly [x: string]: unknown } | undefined): string | undefined =>
  typeof annotations?.expected === "string" ? annotations.expected : undefined

const NAMES: Readonly<Record<string, string>> = { Number: "a number", String: "a string", Boolean: "a boolean", Arrays: "a list" }

/** What a schema accepts, in words: its `expected` annotation, or its kind. */
const describeAst = (ast: SchemaAST.AST): string =>
  expectedOf(ast.annotations) ??
    (SchemaAST.isObjects(ast)
      ? ast.propertySignatures.length === 0
        ? "an object (a map of names to entries)"
        : `an object with keys ${ast.propertySignatures.map((p) => String(p.name)).join(", ")}`
      : NAMES[ast._tag] ?? ast._tag.toLowerCase())

const inputOf = (issue: SchemaIssue.Issue): unknown => ("input" in issue ? issue.input : undefined)

/** Flattens a Schema issue into config issues under `segments`. */
export const fromSchemaIssue = (
  issue: SchemaIssue.Issue,
  segments: ReadonlyArray<PropertyKey> = [],
  parent?: SchemaAST.AST
): Array<RawIssue> => {
  const one = (kind: IssueKind, expected: string, at = segments, value = inputOf(issue)): Array<RawIssue> => [
    { kind, segments: at, value, expected }
  ]
  switch (issue._tag) {
    case "Pointer":
      return fromSchemaIssue(issue.issue, [...segments, ...issue.path], parent)
    case "Composite":
      return issue.issues.flatMap((child) => fromSchemaIssue(child, segments, issue.ast))
    case "Encoding":
    case "Filter":
      return fromSchemaIssue(issue.issue, segments, parent)
    case "InvalidValue":
      return one("value", expectedOf(issue.annotations) ?? String(issue.annotations?.message ?? "a valid value"))
    case "InvalidType":
      return one("type", describeAst(issue.ast))
    case "MissingKey": {
      const key = segments[segments.length - 1]
      const property = parent !== undefined && SchemaAST.isObjects(parent) ? parent.propertySignatures.find((p) => p.name === key) : undefined
      const fromParent = property === undefined ? undefined : describeAst(SchemaAST.toEncoded(property.type))
      return one("missing", expectedOf(issue.annotations) ?? fromParent ?? "a value", segments, undefined)
    }
    case "UnexpectedKey": {
      const allowed = SchemaAST.isObjects(issue.ast) ? issue.ast.propertySignatures.map((p) => String(p.name)) : []
      const hint = didYouMean(String(segments[segments.length - 1]), allowed)
      return one("unknown-key", `one of ${allowed.join(", ")}${hint}`)
    }
    case "AnyOf": {
      if (issue.issues.length > 0) return issue.issues.flatMap((child) => fromSchemaIssue(child, segments, parent))
      // a union of structs told apart by `kind`: the kind is what is wrong
      const kinds = issue.ast.types.map((t) =>
        SchemaAST.isObjects(t) ? t.propertySignatures.find((p) => p.name === "kind")?.type : undefined
      )
      const input = inputOf(issue)
      if (kinds.every((k) => k !== undefined && SchemaAST.isLiteral(k)) && Predicate.isReadonlyObject(input)) {
        const expected = `one of ${quoted(kinds.map((k) => String((k as SchemaAST.Literal).literal)))}`
        const at = [...segments, "kind"]
        return Object.hasOwn(input, "kind")
          ? one("value", expected, at, input.kind)
          : one("missing", expected, at, undefined)
      }
      return one(issue.ast.types.every(SchemaAST.isLiteral) ? "value" : "type", describeAst(issue.ast))
    }
    default: // OneOf and Forbidden, which decoding these schemas does not raise
      return one("value", "a valid value")
  }
}

export const lookup = (root: unknown, segments: ReadonlyArray<PropertyKey>): unknown =>
  segments.reduce<unknown>((node, s) => (Predicate.isReadonlyObject(node) ? node[s as string] : undefined), root)

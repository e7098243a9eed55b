/**
 * Turns a Schema issue tree into flat config issues: each one a path in the
 * document, the value found there and what is allowed. Also formats paths,
 * values and "did you mean" suggestions.
 */
import { Duration, SchemaAST, SchemaIssue } from "effect"

export type IssueKind =
  | "type"
  | "value"
  | "missing"
  | "unknown-key"
  | "unknown-policy"
  | "conflict"
  | "syntax"
  | "read"
  | "source"

/** An issue before its path is rendered. */
export interface RawIssue {
  readonly kind: IssueKind
  readonly segments: ReadonlyArray<PropertyKey>
  readonly value: unknown
  readonly expected: string
}

// -----------------------------------------------------------------------------
// paths and values
// -----------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/

/** `["circuit_breakers", "kafka_producer", "timeout"]` → `circuit_breakers.kafka_producer.timeout`. */
export const formatPath = (segments: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`
    else out += `[${JSON.stringify(String(segment))}]`
  }
  return out
}

export const describeValue = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (Duration.isDuration(value)) return Duration.format(value)
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "object" && value !== null) {
    let json: string
    try {
      json = JSON.stringify(value)
    } catch {
      return "an object"
    }
    return json.length > 80 ? `${json.slice(0, 77)}...` : json
  }
  return String(value)
}

// -----------------------------------------------------------------------------
// suggestions
// -----------------------------------------------------------------------------

const normalizeKey = (key: string): string => key.replace(/[_\-\s]/g, "").toLowerCase()

const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}

/** The closest allowed key to a typo, if one is close enough. */
export const suggest = (key: string, allowed: ReadonlyArray<string>): string | undefined => {
  const target = normalizeKey(key)
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of allowed) {
    const d = distance(target, normalizeKey(candidate))
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(2, Math.floor(target.length / 3)) ? best : undefined
}

export const unknownKeyExpected = (key: string, allowed: ReadonlyArray<string>): string => {
  const hint = suggest(key, allowed)
  const list = allowed.length === 0 ? "no keys here" : `one of ${allowed.join(", ")}`
  return hint === undefined ? list : `${list} (did you mean "${hint}"?)`
}

// -----------------------------------------------------------------------------
// describing schemas
// -----------------------------------------------------------------------------

const expectedAnnotation = (annotations: { readonly [x: string]: unknown } | undefined): string | undefined => {
  const expected = annotations?.expected
  return typeof expected === "string" ? expected : undefined
}

const checkExpectations = (checks: SchemaAST.AST["checks"]): Array<string> => {
  const out: Array<string> = []
  for (const check of checks ?? []) {
    const own = expectedAnnotation(check.annotations)
    if (own !== undefined) out.push(own)
    else if (check._tag === "FilterGroup") out.push(...checkExpectations(check.checks))
  }
  return out
}

const joinOr = (items: ReadonlyArray<string>): string =>
  items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`

const propertyNames = (ast: SchemaAST.Objects): Array<string> =>
  ast.propertySignatures.map((p) => String(p.name))

/** What a schema accepts, in words. */
export const describeAst = (ast: SchemaAST.AST): string => {
  const own = expectedAnnotation(ast.annotations)
  if (own !== undefined) return own
  const checks = checkExpectations(ast.checks)
  if (checks.length > 0) return checks.join(" and ")
  switch (ast._tag) {
    case "Number":
      return "a number"
    case "String":
      return "a string"
    case "Boolean":
      return "a boolean"
    case "Literal":
      return JSON.stringify(ast.literal)
    case "Union":
      return ast.types.every(SchemaAST.isLiteral)
        ? `one of ${joinOr(ast.types.map((t) => JSON.stringify(t.literal)))}`
        : joinOr(ast.types.map(describeAst))
    case "Objects":
      return ast.propertySignatures.length > 0
        ? `an object with keys ${propertyNames(ast).join(", ")}`
        : "an object (a map of names to entries)"
    case "Declaration":
      return "a duration"
    default:
      return ast._tag.toLowerCase()
  }
}

// -----------------------------------------------------------------------------
// walking issues
// -----------------------------------------------------------------------------

const inputOf = (issue: SchemaIssue.Issue): unknown => (SchemaIssue.hasInput(issue) ? issue.input : undefined)

const isRecordLike = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Members of a union of structs that all carry a literal `kind`: the literal values. */
const discriminatorKinds = (ast: SchemaAST.Union): Array<string> | undefined => {
  const kinds: Array<string> = []
  for (const member of ast.types) {
    if (!SchemaAST.isObjects(member)) return undefined
    const kind = member.propertySignatures.find((p) => p.name === "kind")
    if (kind === undefined || !SchemaAST.isLiteral(kind.type)) return undefined
    kinds.push(String(kind.type.literal))
  }
  return kinds
}

const walk = (
  issue: SchemaIssue.Issue,
  segments: ReadonlyArray<PropertyKey>,
  parent: SchemaAST.AST | undefined,
  out: Array<RawIssue>
): void => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...segments, ...issue.path], parent, out)
    case "Composite":
      for (const child of issue.issues) walk(child, segments, issue.ast, out)
      return
    case "Encoding":
      return walk(issue.issue, segments, parent, out)
    case "Filter": {
      const inner = issue.issue
      const own = expectedAnnotation(issue.filter.annotations)
      if (inner._tag === "InvalidValue" && own !== undefined && expectedAnnotation(inner.annotations) === undefined) {
        out.push({ kind: "value", segments, value: inputOf(issue), expected: own })
        return
      }
      return walk(inner, segments, parent, out)
    }
    case "InvalidValue":
      out.push({
        kind: "value",
        segments,
        value: inputOf(issue),
        expected: expectedAnnotation(issue.annotations) ??
          (typeof issue.annotations?.message === "string" ? issue.annotations.message : "a valid value")
      })
      return
    case "InvalidType":
      out.push({ kind: "type", segments, value: inputOf(issue), expected: describeAst(issue.ast) })
      return
    case "MissingKey": {
      let expected = expectedAnnotation(issue.annotations)
      const key = segments[segments.length - 1]
      if (expected === undefined && parent !== undefined && SchemaAST.isObjects(parent)) {
        const property = parent.propertySignatures.find((p) => p.name === key)
        if (property !== undefined) expected = describeAst(SchemaAST.toEncoded(property.type))
      }
      out.push({ kind: "missing", segments, value: undefined, expected: expected ?? "a value" })
      return
    }
    case "UnexpectedKey": {
      const key = String(segments[segments.length - 1])
      const allowed = SchemaAST.isObjects(issue.ast) ? propertyNames(issue.ast) : []
      out.push({ kind: "unknown-key", segments, value: inputOf(issue), expected: unknownKeyExpected(key, allowed) })
      return
    }
    case "AnyOf": {
      if (issue.issues.length > 0) {
        for (const child of issue.issues) walk(child, segments, parent, out)
        return
      }
      const input = inputOf(issue)
      const kinds = discriminatorKinds(issue.ast)
      if (kinds !== undefined && isRecordLike(input)) {
        const expected = `one of ${joinOr(kinds.map((k) => JSON.stringify(k)))}`
        out.push(
          Object.hasOwn(input, "kind")
            ? { kind: "value", segments: [...segments, "kind"], value: input.kind, expected }
            : { kind: "missing", segments: [...segments, "kind"], value: undefined, expected }
        )
        return
      }
      const literal = issue.ast.types.every(SchemaAST.isLiteral)
      out.push({ kind: literal ? "value" : "type", segments, value: input, expected: describeAst(issue.ast) })
      return
    }
    case "OneOf":
    case "Forbidden":
      out.push({ kind: "value", segments, value: inputOf(issue), expected: "a valid value" })
      return
  }
}

export const lookup = (root: unknown, segments: ReadonlyArray<PropertyKey>): unknown => {
  let node = root
  for (const segment of segments) {
    if (!isRecordLike(node)) return undefined
    node = node[segment as string]
  }
  return node
}

/**
 * Flattens a Schema issue into config issues, each path prefixed with
 * `prefix`. Cross-field checks see decoded values (a `Duration`); the value
 * reported is the one written, looked up in `input` (what was decoded).
 */
export const fromSchemaIssue = (
  issue: SchemaIssue.Issue,
  prefix: ReadonlyArray<PropertyKey> = [],
  input?: unknown
): Array<RawIssue> => {
  const out: Array<RawIssue> = []
  walk(issue, [], undefined, out)
  return out.map((raw) => {
    const value = Duration.isDuration(raw.value) ? lookup(input, raw.segments) ?? raw.value : raw.value
    return { ...raw, segments: [...prefix, ...raw.segments], value }
  })
}

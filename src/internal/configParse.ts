/** Text to plain data: YAML (the default; a superset of JSON) or strict JSON; a syntax error is an issue with its line and column. */
import { Result } from "effect"
import { parseDocument } from "yaml"
import type { RawIssue } from "./configIssues.ts"

export type Format = "yaml" | "json"

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

export const parseText = (text: string, format: Format): Result.Result<unknown, ReadonlyArray<RawIssue>> => {
  try {
    if (format === "json") return Result.succeed(JSON.parse(text) as unknown)
    const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true })
    if (document.errors.length > 0) return Result.fail(document.errors.map((e) => syntax(text, e, e.pos[0], format)))
    return Result.succeed(document.toJS({ maxAliasCount: 100 }) as unknown)
  } catch (error) {
    // Node's JSON.parse names the offset: "... at position 12 ..."
    const position = /position (\d+)/.exec(String(error))
    return Result.fail([syntax(text, error, position === null ? undefined : Number(position[1]), format)])
  }
}

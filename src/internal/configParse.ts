/**
 * Text to plain data: YAML (the default; a superset of JSON) or strict JSON.
 * Syntax errors become config issues with the line and column.
 */
import { Result } from "effect"
import { parseDocument } from "yaml"
import type { RawIssue } from "./configIssues.ts"

export type Format = "yaml" | "json"

const syntax = (text: string, message: string, offset: number | undefined, format: Format): RawIssue => {
  let where = ""
  let line = ""
  if (offset !== undefined) {
    const before = text.slice(0, offset).split("\n")
    const lineNumber = before.length
    const column = before[before.length - 1]!.length + 1
    where = ` at line ${lineNumber}, column ${column}`
    line = text.split("\n")[lineNumber - 1]?.trim() ?? ""
  }
  return {
    kind: "syntax",
    segments: [],
    value: line === "" ? undefined : line,
    expected: `valid ${format === "json" ? "JSON" : "YAML"}${where} (${message})`
  }
}

/** The offset of a `JSON.parse` error, from Node's "... at position 12 ..." message. */
const jsonOffset = (message: string): number | undefined => {
  const match = /position (\d+)/.exec(message)
  return match === null ? undefined : Number(match[1])
}

export const parseText = (text: string, format: Format = "yaml"): Result.Result<unknown, ReadonlyArray<RawIssue>> => {
  if (format === "json") {
    try {
      return Result.succeed(JSON.parse(text) as unknown)
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      return Result.fail([syntax(text, message, jsonOffset(message), format)])
    }
  }
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true })
  if (document.errors.length > 0) {
    return Result.fail(document.errors.map((e) => syntax(text, e.message, e.pos[0], format)))
  }
  try {
    return Result.succeed(document.toJS({ maxAliasCount: 100 }) as unknown)
  } catch (error) {
    return Result.fail([syntax(text, error instanceof Error ? error.message : String(error), undefined, format)])
  }
}

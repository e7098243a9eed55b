/**
 * Finds the ```ts examples of the docs: in the JSDoc of src/ (the public API
 * docs) and in README.md and docs/*.md. One reader for both, so that a rule
 * (which fences count, where a block starts) cannot differ between them.
 * Pseudo-code goes in a fence of another language (```text), which is not read.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

/** A ```ts block: the file it is in, the line of its opening fence (1-based) and its code. */
export interface Example {
  readonly file: string
  readonly line: number
  readonly code: string
}

/** The files whose examples are checked: public src/ modules (not internal/), README.md, docs/*.md. */
export const documentedFiles = (root: string): Array<string> => {
  const sources = (dir: string): Array<string> =>
    readdirSync(dir).sort().flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return name === "internal" ? [] : sources(path)
      return name.endsWith(".ts") ? [path] : []
    })
  const docs = readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).sort()
  return [...sources(join(root, "src")), join(root, "README.md"), ...docs.map((name) => join(root, "docs", name))]
}

/**
 * The ```ts blocks of one file. In a .ts file only fences inside a JSDoc comment
 * count and the leading ` * ` is dropped; in markdown a fence starts its line.
 */
export const examplesIn = (file: string, text: string = readFileSync(file, "utf8")): Array<Example> => {
  const jsdoc = file.endsWith(".ts")
  const examples: Array<Example> = []
  let block: Array<string> | undefined
  let line = 0
  text.split("\n").forEach((raw, i) => {
    if (jsdoc && !/^\s*\*/.test(raw)) {
      block = undefined
      return
    }
    const content = jsdoc ? raw.replace(/^\s*\*\s?/, "") : raw
    if (block === undefined) {
      if (/^```ts\s*$/.test(content)) {
        block = []
        line = i + 1
      }
    } else if (content.startsWith("```")) {
      examples.push({ file, line, code: block.join("\n") })
      block = undefined
    } else {
      block.push(content)
    }
  })
  return examples
}

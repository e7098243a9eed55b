/**
 * Runs the documentation's examples that say what they compute. `npm run
 * typecheck` compiles every ```ts block; a block that also states a result —
 * `console.log(expr) // => expected`, on one line, as Effect's own docs do —
 * is run here and each stated result compared (deep equality) with what the
 * expression gives (awaited when it is a Promise). Blocks that name the
 * reader's own values with `declare` cannot run and state no results.
 */
import { assert, describe, it } from "@effect/vitest"
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import ts from "typescript"
import { documentedFiles, type Example, examplesIn } from "../scripts/doc-examples.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const out = join(root, ".doc-examples-run")
const stated = /^(\s*)console\.log\((.*)\)\s*\/\/ => (.+)$/

const withResults = documentedFiles(root).flatMap((file) => examplesIn(file)).filter((e) => e.code.includes("// =>"))

type Check = (actual: unknown, expected: unknown, where: string) => Promise<void>

/** The example as a module whose default export runs its body, checking each stated result. */
const runnable = ({ code, file, line }: Example): string => {
  const imports: Array<string> = []
  const body: Array<string> = []
  code.split("\n").forEach((text, i) => {
    const source = text
      .replace(/from "effect-resilience"/, `from "${join(root, "src/index.ts")}"`)
      .replace(/from "effect-resilience\/(\w+)"/, (_, module) => `from "${join(root, "src", `${module}.ts`)}"`)
    if (/^import /.test(source)) return imports.push(source)
    if (source.includes("// =>")) {
      const match = stated.exec(source)
      if (match === null) throw new Error(`${relative(root, file)}:${line + i + 1}: state a result as console.log(expr) // => expected`)
      const [, indent, actual, expected] = match
      return body.push(`${indent}await check(${actual}, ${expected}, "${relative(root, file)}:${line + i + 1}")`)
    }
    body.push(source)
  })
  return `${imports.join("\n")}\nexport default async (check) => {\n${body.join("\n")}\n}\n`
}

describe("documentation examples that state their results", () => {
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out)

  it("there are some, and none names undeclared values", () => {
    assert.isAbove(withResults.length, 0)
    for (const example of withResults) assert.notMatch(example.code, /^declare /m, `${example.file}:${example.line}`)
  })

  for (const example of withResults) {
    it(`${relative(root, example.file)}:${example.line}`, async () => {
      const path = join(out, `${relative(root, example.file).replace(/[/.]/g, "_")}_L${example.line}.ts`)
      writeFileSync(path, runnable(example))
      const module = (await import(pathToFileURL(path).href)) as { default: (check: Check) => Promise<void> }
      let checked = 0
      await module.default(async (actual, expected, where) => {
        assert.deepStrictEqual(await actual, expected, where)
        checked++
      })
      assert.isAbove(checked, 0)
    })
  }
})

/**
 * The exports of `src/X.ts` whose JSDoc lacks an example, `@since` or
 * `@category`. A type alias sharing its name with a documented value (an
 * error class's type) is covered by the value's doc.
 */
const undocumentedExports = (): Array<string> =>
  readdirSync(join(root, "src")).filter((name) => name.endsWith(".ts")).flatMap((name) => {
    const file = ts.createSourceFile(name, readFileSync(join(root, "src", name), "utf8"), ts.ScriptTarget.Latest, true)
    const values = new Set(file.statements.filter(ts.isVariableStatement).map((s) => s.declarationList.declarations[0]!.name.getText()))
    return file.statements.flatMap((statement) => {
      const exported = ts.canHaveModifiers(statement) &&
        (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      if (!exported) return []
      const exportName = ts.isVariableStatement(statement)
        ? statement.declarationList.declarations[0]!.name.getText()
        : (statement as ts.DeclarationStatement).name?.getText() ?? "?"
      if ((ts.isTypeAliasDeclaration(statement) || ts.isModuleDeclaration(statement)) && values.has(exportName)) return []
      const doc = statement.getFullText().slice(0, statement.getLeadingTriviaWidth())
      const missing = [/```ts/, /@since /, /@category /].filter((tag) => !tag.test(doc))
      return missing.length === 0 ? [] : [`src/${name}: ${exportName}`]
    })
  })

describe("the public API's JSDoc", () => {
  it("every export has an example, @since and @category", () => {
    assert.deepStrictEqual(undocumentedExports(), [])
  })
})

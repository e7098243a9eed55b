/**
 * Type-checks every ```ts example of the docs (JSDoc of src/, README.md,
 * docs/*.md), so that an example cannot drift from the API it documents. Each
 * example is written to .doc-examples/ as a module importing "effect-resilience"
 * (mapped to src/index.ts) and the lot is checked with the project's compiler
 * options. A block names the reader's own values and types with `declare` lines
 * at its top (`declare const callApi: Effect.Effect<string, HttpError>`).
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { documentedFiles, examplesIn } from "./doc-examples.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const out = join(root, ".doc-examples")

rmSync(out, { recursive: true, force: true })
mkdirSync(out)
let count = 0
for (const file of documentedFiles(root)) {
  for (const { code, line } of examplesIn(file)) {
    const name = `${relative(root, file).replace(/[/.]/g, "_")}_L${line}.ts`
    writeFileSync(join(out, name), `// ${relative(root, file)}:${line}\n${code}\nexport {}\n`)
    count++
  }
}

writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify({
    extends: "../tsconfig.json",
    compilerOptions: { noUnusedLocals: false, noUnusedParameters: false, paths: { "effect-resilience": ["../src/index.ts"], "effect-resilience/*": ["../src/*.ts"] } },
    include: ["./*.ts"]
  })
)
const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
const result = spawnSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json")], { encoding: "utf8" })
process.stdout.write(result.stdout)
process.stderr.write(result.stderr)
console.log(`doc examples: ${count} checked, ${result.status === 0 ? "all compile" : "some do not compile"}`)
process.exit(result.status ?? 1)

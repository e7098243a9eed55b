/**
 * Type-checks every ```ts example in the JSDoc of src/ (the public API docs),
 * so that an example cannot drift from the API it documents. Each example is
 * written to .jsdoc-examples/ as a module importing "effect-resilience" (mapped
 * to src/index.ts) and the lot is checked with the project's compiler options.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const out = join(root, ".jsdoc-examples")

const sources = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === "internal" ? [] : sources(path)
    return name.endsWith(".ts") ? [path] : []
  })

rmSync(out, { recursive: true, force: true })
mkdirSync(out)
let count = 0
for (const file of sources(join(root, "src"))) {
  const lines = readFileSync(file, "utf8").split("\n")
  let block: Array<string> | undefined
  let start = 0
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.replace(/^\s*\*\s?/, "")
    if (block === undefined && /^```ts\b/.test(text) && /^\s*\*/.test(lines[i]!)) {
      block = []
      start = i + 1
    } else if (block !== undefined && text.startsWith("```")) {
      const name = `${relative(join(root, "src"), file).replace(/[/.]/g, "_")}_L${start}.ts`
      writeFileSync(join(out, name), `// ${relative(root, file)}:${start}\n${block.join("\n")}\nexport {}\n`)
      count++
      block = undefined
    } else if (block !== undefined) {
      block.push(text)
    }
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
console.log(`jsdoc examples: ${count} checked, ${result.status === 0 ? "all compile" : "some do not compile"}`)
process.exit(result.status ?? 1)

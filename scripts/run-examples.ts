/**
 * Runs every program under examples/ (one process each) and fails if any
 * exits non-zero. CI runs this after the build.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const dir = join(root, "examples")
const programs = readdirSync(dir).filter((f) => f.endsWith(".ts")).sort()
const failed: Array<string> = []
for (const program of programs) {
  const started = performance.now()
  const result = spawnSync(process.execPath, ["--import", "tsx", join(dir, program)], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000
  })
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  if (result.status === 0) {
    console.log(`ok   examples/${program} (${seconds}s)`)
  } else {
    failed.push(program)
    console.log(`FAIL examples/${program} (exit ${result.status ?? result.signal}, ${seconds}s)`)
    console.log(result.stdout)
    console.log(result.stderr)
  }
}
console.log(`examples: ${programs.length - failed.length} ok, ${failed.length} failing`)
if (failed.length > 0) process.exit(1)

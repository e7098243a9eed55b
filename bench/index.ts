/**
 * `npm run bench [filter]`: runs every bench/*.bench.ts (or those whose file
 * name contains `filter`), prints the tables and the targets, and exits
 * non-zero when a target is missed.
 */
import { readdirSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { failures } from "./harness.ts"

const here = dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2]
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts") && (filter === undefined || f.includes(filter)))
  .sort()

console.log(`# effect-resilience benchmarks — node ${process.version}, ${new Date().toISOString()}`)
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<void> }
  await mod.run()
}
if (failures.length > 0) {
  console.log(`\n${failures.length} target(s) missed: ${failures.join("; ")}`)
  process.exitCode = 1
}

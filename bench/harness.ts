/**
 * One benchmark harness for the project: tinybench underneath, figures as a
 * table, ratios against a baseline measured in the same run.
 */
import { Effect } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { Bench } from "tinybench"

export interface Case {
  readonly name: string
  /** One iteration. */
  readonly fn: () => unknown
  /** Work units per iteration (e.g. calls in a loop), to report per-unit cost. */
  readonly units?: number
}

export interface Row {
  readonly name: string
  readonly nsPerUnit: number
  readonly rme: number
}

export interface SuiteOptions {
  /** Name of the case the ratios are computed against. */
  readonly baseline?: string
  readonly time?: number
}

const quick = process.env.BENCH_QUICK === "1"

export const suite = async (title: string, cases: ReadonlyArray<Case>, options: SuiteOptions = {}): Promise<Array<Row>> => {
  const bench = new Bench({ time: options.time ?? (quick ? 100 : 700), warmup: true, warmupTime: quick ? 50 : 200 })
  for (const c of cases) bench.add(c.name, c.fn)
  await bench.run()
  const rows: Array<Row> = bench.tasks.map((task, i) => {
    const result = task.result as { latency?: { mean: number; rme: number } } | undefined
    const mean = result?.latency?.mean ?? NaN
    return { name: task.name, nsPerUnit: (mean * 1e6) / (cases[i]!.units ?? 1), rme: result?.latency?.rme ?? NaN }
  })
  print(title, rows, options.baseline)
  return rows
}

export const ratio = (rows: ReadonlyArray<Row>, name: string, baseline: string): number =>
  byName(rows, name).nsPerUnit / byName(rows, baseline).nsPerUnit

export const byName = (rows: ReadonlyArray<Row>, name: string): Row => {
  const row = rows.find((r) => r.name === name)
  if (row === undefined) throw new Error(`no benchmark row named ${name}`)
  return row
}

const print = (title: string, rows: ReadonlyArray<Row>, baseline: string | undefined) => {
  const base = baseline === undefined ? undefined : byName(rows, baseline)
  console.log(`\n## ${title}\n`)
  console.log(`| case | ns/call | ±% |${base ? ` × ${base.name} |` : ""}`)
  console.log(`|---|---:|---:|${base ? "---:|" : ""}`)
  for (const r of rows) {
    const cells = [r.name, r.nsPerUnit.toFixed(1), r.rme.toFixed(1)]
    if (base) cells.push((r.nsPerUnit / base.nsPerUnit).toFixed(3))
    console.log(`| ${cells.join(" | ")} |`)
  }
}

export interface TargetOptions {
  /**
   * A target whose work is scheduled later: checked and printed as
   * `PENDING PASS`/`PENDING MISS` with this reason, never failing the run.
   */
  readonly pending?: string | undefined
  /** A lower bound too (for a ratio that must stay within a band). */
  readonly min?: number | undefined
}

/** Checks a target, prints PASS/FAIL and records failures so `npm run bench` exits non-zero on a miss. */
export const target = (label: string, value: number, max: number, unit = "×", options: TargetOptions = {}): void => {
  const ok = value <= max && (options.min === undefined || value >= options.min)
  const range = options.min === undefined ? `<= ${max}${unit}` : `${options.min}${unit} to ${max}${unit}`
  if (options.pending !== undefined) {
    console.log(`PENDING ${ok ? "PASS" : "MISS"} ${label}: ${value.toFixed(3)}${unit} (target ${range}; ${options.pending})`)
    return
  }
  if (!ok) failures.push(label)
  console.log(`${ok ? "PASS" : "FAIL"} ${label}: ${value.toFixed(3)}${unit} (target ${range})`)
}

export const failures: Array<string> = []

/** A full garbage collection (exposing `gc` when node was started without `--expose-gc`). */
export const gc: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed !== undefined) return exposed
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
})()

/**
 * Memory in use: the JavaScript heap plus `external` (typed arrays' and
 * buffers' backing stores live outside the heap, and `heapUsed` alone misses
 * them).
 */
export const memoryInUse = (): number => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.external
}

/** {@link memoryInUse} after full collections, for what is retained. */
export const retainedMemory = (): number => {
  for (let i = 0; i < 4; i++) gc()
  return memoryInUse()
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A program that runs `effect` `n` times in a row, for per-call costs without runtime start-up. */
export const loop = <A, E>(effect: Effect.Effect<A, E>, n: number): Effect.Effect<void, E> =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* effect
  })

export const CALLS_PER_ITERATION = 1000

/**
 * Best CPU time (user + system of the process) per unit over `rounds` rounds
 * of each program, the programs alternating: on a machine shared with other
 * work, wall-time means move with the load while the best CPU time of a
 * round barely does (other processes' time is not counted).
 */
export const bestCpuTime = async (
  cases: Record<string, () => unknown>,
  units: number,
  rounds = 30
): Promise<Record<string, number>> => {
  const best: Record<string, number> = {}
  for (const name in cases) best[name] = Infinity
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      const start = process.cpuUsage()
      await fn()
      const spent = process.cpuUsage(start)
      best[name] = Math.min(best[name]!, ((spent.user + spent.system) * 1000) / units)
    }
  }
  return best
}

/**
 * The scenarios' figures as text tables (for the console) and as one
 * self-contained HTML page with inline SVG charts (no script, no network):
 * per scenario, error rate and p95 latency over time without and with
 * resilience, and the breaker's state over time.
 */
import type { PhaseSummary, Row as LimitRow } from "./adaptiveLimit.ts"
import type { BreakerSample, ScenarioResult, Summary, Threshold, Variant } from "./common.ts"
import { buckets, summarize } from "./common.ts"

// -----------------------------------------------------------------------------
// text
// -----------------------------------------------------------------------------

const ms = (n: number | undefined) =>
  n === undefined ? "—" : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`

const pct = (n: number) => (n >= 99.995 && n < 100 ? `${n.toFixed(3)} %` : `${n.toFixed(2)} %`)

const figure = (t: Threshold) => {
  const v = t.unit === "%" ? pct(t.actual) : t.unit === "ms" ? ms(t.actual) : Number.isInteger(t.actual) ? String(t.actual) : t.actual.toFixed(3)
  const l = t.unit === "%" ? pct(t.limit) : t.unit === "ms" ? ms(t.limit) : Number.isInteger(t.limit) ? String(t.limit) : t.limit.toFixed(3)
  return { v, l }
}

const rows = (s: Summary): Array<string> => [
  `${s.requests}`,
  pct(s.successRate),
  ms(s.p50),
  ms(s.p95),
  ms(s.p99),
  `${s.dependencyCalls}`,
  ms(s.recoveryMs),
  `${s.deadLettered}`
]

const columns = ["requests", "success", "p50", "p95", "p99", "dependency calls", "recovery", "DLQ"]

/** One scenario as a console table: without vs with, then the thresholds. */
export const table = (result: ScenarioResult): string => {
  const lines: Array<Array<string>> = [
    ["", ...columns],
    ["without", ...rows(summarize(result.without))],
    ["with", ...rows(summarize(result.with))]
  ]
  const widths = columns.map((_, i) => Math.max(...lines.map((l) => l[i + 1]!.length)))
  const first = Math.max(...lines.map((l) => l[0]!.length))
  const out = [`${result.title}  (${result.source}; Random seed ${result.seed})`, `  claim: ${result.claim}`]
  for (const l of lines) out.push(`  ${l[0]!.padEnd(first)}  ${l.slice(1).map((c, i) => c.padStart(widths[i]!)).join("  ")}`)
  for (const t of result.thresholds) {
    const { l, v } = figure(t)
    out.push(`  ${t.pass ? "✓" : "✗"} ${t.name}: ${v} (${t.op} ${l})`)
  }
  return out.join("\n")
}

// -----------------------------------------------------------------------------
// SVG
// -----------------------------------------------------------------------------

const escape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const W = 520
const H = 170
const M = { left: 52, right: 12, top: 12, bottom: 26 }
const plotW = W - M.left - M.right
const plotH = H - M.top - M.bottom

const COLORS = { without: "#d1495b", with: "#2e86ab" } as const

interface Series {
  readonly name: string
  readonly color: string
  readonly points: ReadonlyArray<readonly [number, number]>
}

/** The smallest of 1, 2, 2.5, 5 × a power of ten at or above v: five even ticks divide it. */
const niceMax = (v: number) => {
  if (!(v > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v - 1e-9) return m * p
  return 10 * p
}

const lineChart = (options: {
  readonly id: string
  readonly title: string
  readonly series: ReadonlyArray<Series>
  readonly xMax: number
  readonly yFormat: (y: number) => string
  readonly incident: { readonly from: number; readonly until: number } | undefined
  /** A log scale (powers of ten from 1), for latencies that span orders of magnitude. */
  readonly log?: boolean | undefined
}): string => {
  const top = Math.max(0, ...options.series.flatMap((s) => s.points.map((p) => p[1])))
  const log = options.log === true && top > 0
  const yMax = log ? 10 ** Math.max(1, Math.ceil(Math.log10(top))) : niceMax(top)
  const x = (t: number) => M.left + (plotW * t) / options.xMax
  const y = log
    ? (v: number) => M.top + plotH - (plotH * Math.log10(Math.max(1, v))) / Math.log10(yMax)
    : (v: number) => M.top + plotH - (plotH * v) / yMax
  const ticks = log
    ? Array.from({ length: Math.log10(yMax) + 1 }, (_, i) => 10 ** i)
    : Array.from({ length: 6 }, (_, i) => (yMax * i) / 5)
  const parts: Array<string> = []
  if (options.incident !== undefined) {
    parts.push(
      `<rect class="incident" x="${x(options.incident.from).toFixed(1)}" y="${M.top}" width="${
        (x(options.incident.until) - x(options.incident.from)).toFixed(1)
      }" height="${plotH}" fill="#f4d35e" fill-opacity="0.25"/>`
    )
  }
  for (const v of ticks) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/>`)
    parts.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${escape(options.yFormat(v))}</text>`)
  }
  const step = niceMax(options.xMax / 6)
  for (let t = 0; t <= options.xMax; t += step) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - 8}" text-anchor="middle">${Math.round(t / 1000)} s</text>`)
  }
  for (const s of options.series) {
    const d = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ")
    parts.push(`<polyline class="series" data-series="${escape(s.name)}" fill="none" stroke="${s.color}" stroke-width="1.8" points="${d}"/>`)
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`)
  return `<figure><figcaption>${escape(options.title)}</figcaption><svg class="chart" data-chart="${
    escape(options.id)
  }" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escape(options.title)}">${
    parts.join("")
  }</svg></figure>`
}

const STATE_COLORS: Record<string, string> = {
  Closed: "#3bb273",
  HalfOpen: "#f4a261",
  Open: "#d1495b",
  ForcedOpen: "#7b2d26",
  Disabled: "#999999"
}

const breakerChart = (id: string, samples: ReadonlyArray<BreakerSample>, xMax: number): string => {
  const h = 46
  const x = (t: number) => M.left + (plotW * t) / xMax
  const parts: Array<string> = []
  if (samples.length === 0) {
    parts.push(`<text x="${M.left}" y="26">no circuit breaker in this scenario</text>`)
  }
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!
    const end = samples[i + 1]?.t ?? xMax
    parts.push(
      `<rect class="state" data-state="${s.state}" x="${x(s.t).toFixed(1)}" y="6" width="${
        Math.max(0.5, x(end) - x(s.t)).toFixed(1)
      }" height="18" fill="${STATE_COLORS[s.state] ?? "#555"}"><title>${s.state} from ${(s.t / 1000).toFixed(1)} s</title></rect>`
    )
  }
  const legend = Object.entries(STATE_COLORS).slice(0, 3).map(([state, color], i) =>
    `<rect x="${M.left + i * 90}" y="32" width="10" height="10" fill="${color}"/><text x="${M.left + 14 + i * 90}" y="41">${state}</text>`
  )
  return `<figure><figcaption>Circuit breaker state (with resilience)</figcaption><svg class="chart breaker" data-chart="${
    escape(id)
  }-breaker" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="breaker state">${parts.join("")}${
    samples.length > 0 ? legend.join("") : ""
  }</svg></figure>`
}

const bucketSize = (xMax: number) => Math.max(250, niceMax(xMax / 80))

const charts = (result: ScenarioResult): string => {
  const end = (v: Variant) => Math.max(0, ...v.records.map((r) => r.start))
  const xMax = Math.max(end(result.without), end(result.with), 1)
  const size = bucketSize(xMax)
  const series = (pick: (b: { errorRate: number; p95: number }) => number) =>
    (["without", "with"] as const).map((k): Series => ({
      name: k === "without" ? "without resilience" : "with resilience",
      color: COLORS[k],
      points: buckets(result[k].records, size).filter((b) => b.requests > 0).map((b) => [b.t + size / 2, pick(b)] as const)
    }))
  return [
    lineChart({
      id: `${result.id}-errors`,
      title: `Error rate (per ${size / 1000} s)`,
      series: series((b) => 100 * b.errorRate),
      xMax,
      yFormat: (v) => `${Number.isInteger(v) ? v : v.toFixed(1)}%`,
      incident: result.incident
    }),
    lineChart({
      id: `${result.id}-latency`,
      title: `p95 latency (per ${size / 1000} s, log scale)`,
      series: series((b) => b.p95),
      xMax,
      log: true,
      yFormat: (v) => (v >= 1000 ? `${v / 1000}s` : `${v}ms`),
      incident: result.incident
    }),
    breakerChart(result.id, result.with.breaker, xMax)
  ].join("")
}

const htmlTable = (result: ScenarioResult): string => {
  const head = `<tr><th></th>${columns.map((c) => `<th>${escape(c)}</th>`).join("")}</tr>`
  const body = (["without", "with"] as const).map((k) =>
    `<tr class="${k}"><th>${k === "without" ? "without resilience" : "with resilience"}</th>${
      rows(summarize(result[k])).map((c) => `<td>${escape(c)}</td>`).join("")
    }</tr>`
  ).join("")
  const checks = result.thresholds.map((t) => {
    const { l, v } = figure(t)
    return `<li class="${t.pass ? "pass" : "fail"}">${t.pass ? "✓" : "✗"} ${escape(t.name)}: <b>${escape(v)}</b> (${escape(t.op)} ${escape(l)})</li>`
  }).join("")
  return `<table>${head}${body}</table><ul class="thresholds">${checks}</ul>`
}

/** The adaptive limiter's simulation (scenarios/adaptiveLimit.ts): what the report shows of it. */
export interface LimitSimulation {
  readonly rows: ReadonlyArray<LimitRow>
  readonly summaries: ReadonlyArray<PhaseSummary>
}

/** The limit over time against the dependency's capacity, a chart and the table of docs/adaptive-limit.md. */
const limitSection = (sim: LimitSimulation): string => {
  const xMax = Math.max(1, ...sim.rows.map((r) => r.atMillis))
  const halved = sim.rows.filter((r) => r.capacity < (sim.rows[0]?.capacity ?? 0)).map((r) => r.atMillis)
  const chart = lineChart({
    id: "adaptive-limit",
    title: "Concurrency limit and the dependency's capacity",
    series: [
      { name: "limit", color: COLORS.with, points: sim.rows.map((r) => [r.atMillis, r.limit] as const) },
      { name: "capacity", color: "#888888", points: sim.rows.map((r) => [r.atMillis, r.capacity] as const) },
      { name: "in flight", color: "#f4a261", points: sim.rows.map((r) => [r.atMillis, r.inFlight] as const) }
    ],
    xMax,
    yFormat: (v) => String(Math.round(v)),
    incident: halved.length === 0 ? undefined : { from: Math.min(...halved), until: Math.max(...halved) + 5_000 }
  })
  const head = ["t (s)", "phase", "capacity", "limit", "in flight"].map((c) => `<th>${c}</th>`).join("")
  const body = sim.rows.map((r) =>
    `<tr><td>${r.atMillis / 1000}</td><td>${escape(r.phase)}</td><td>${r.capacity}</td><td>${r.limit}</td><td>${r.inFlight}</td></tr>`
  ).join("")
  const phaseHead = ["phase", "admitted", "rejected", "p50", "p95", "slowest rejection", "limit at end"].map((c) => `<th>${c}</th>`).join("")
  const phases = sim.summaries.map((p) =>
    `<tr><td>${escape(p.phase)} (${p.capacity})</td><td>${p.admitted}</td><td>${p.rejected}</td><td>${ms(p.p50)}</td><td>${
      ms(p.p95)
    }</td><td>${ms(p.maxRejectMillis)}</td><td>${p.endLimit}</td></tr>`
  ).join("")
  return `<section id="adaptive-limit" data-simulation="adaptive-limit"><h2>Adaptive concurrency limit</h2><p class="claim">AdaptiveLimit (Gradient2, rttTolerance 1) in front of a dependency of 40 workers at 200 ms per call, offered twice its capacity; the capacity halves at 30 s and recovers at 60 s. The limit follows it; admitted calls keep near-base latency, excess calls fail at once (docs/adaptive-limit.md). <span class="legend"><span style="background:${COLORS.with}"></span>limit<span style="background:#888888"></span>capacity<span style="background:#f4a261"></span>in flight<span style="background:#f4d35e;height:10px"></span>capacity halved</span></p><div class="charts">${chart}<table>${head}${body}</table></div><table>${phaseHead}${phases}</table></section>`
}

/** The whole report as one self-contained HTML page. */
export const html = (
  results: ReadonlyArray<ScenarioResult>,
  meta: { readonly generated: string; readonly adaptiveLimit?: LimitSimulation | undefined }
): string => {
  const passed = results.every((r) => r.thresholds.every((t) => t.pass))
  const sections = results.map((r) =>
    `<section id="${escape(r.id)}" data-scenario="${escape(r.id)}"><h2>${escape(r.title)}</h2><p class="claim">${
      escape(r.source)
    } · Random seed ${r.seed} · claim: ${escape(r.claim)} · ${(r.simulatedMs / 1000).toFixed(0)} s simulated in ${
      (r.wallMs / 1000).toFixed(1)
    } s</p>${htmlTable(r)}<div class="charts">${charts(r)}</div></section>`
  ).join("")
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>effect-resilience: resilience report</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1120px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 4px;border-top:1px solid #ddd;padding-top:16px}
.claim{color:#555;margin:0 0 8px}.summary{margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0}th,td{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}th:first-child{text-align:left}
tr.without th{color:${COLORS.without}}tr.with th{color:${COLORS.with}}
.thresholds{list-style:none;padding:0;margin:6px 0;columns:2}.pass{color:#1d7a46}.fail{color:#b00020;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:4px 20px}figure{margin:4px 0}figcaption{font-size:12px;color:#444}
svg text{font-size:10px;fill:#444}.legend span{display:inline-block;width:12px;height:3px;margin:0 4px 3px 12px;vertical-align:middle}
</style></head><body>
<h1>effect-resilience — resilience report</h1>
<p class="summary">Six scenarios from the seeds' claims, each run twice on the same seeded, simulated dependencies: without and with resilience.
${passed ? "Every threshold holds." : "<b class=\"fail\">Some thresholds do not hold.</b>"} Generated ${escape(meta.generated)}.
<span class="legend"><span style="background:${COLORS.without}"></span>without resilience<span style="background:${COLORS.with}"></span>with resilience<span style="background:#f4d35e;height:10px"></span>incident window</span></p>
${sections}
${meta.adaptiveLimit === undefined ? "" : limitSection(meta.adaptiveLimit)}
</body></html>
`
}

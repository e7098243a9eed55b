/**
 * The demo's HTML report, rendered in headless Chromium (Debian's
 * `chromium`): the charts are drawn, nothing failed to load, no script
 * error, no network request. A screenshot is saved under the test's temp
 * directory. Without Chromium the test is skipped, loudly; with
 * REQUIRE_CHROMIUM=1 (set by .ci/run) a missing Chromium fails it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import {
  analyticsPipeline,
  outageRecovery,
  paymentSystem,
  ragClient,
  Report,
  trafficSpike,
  transientBurst
} from "../scenarios/index.ts"

// the page's globals, inside tab.evaluate (the project compiles without the DOM library)
declare const document: any

// CHROMIUM_PATH, when set, is the only place looked at
const candidates = process.env.CHROMIUM_PATH !== undefined && process.env.CHROMIUM_PATH !== ""
  ? [process.env.CHROMIUM_PATH]
  : ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
const chromium = candidates.find((p) => existsSync(p))
const required = process.env.REQUIRE_CHROMIUM === "1"

if (chromium === undefined && !required) {
  console.warn(
    "\n" + "!".repeat(78) + "\n" +
      "!! SKIPPED: test/report.test.ts needs Chromium to render the demo report.\n" +
      "!! Install it (apt-get install -y chromium) or set CHROMIUM_PATH; CI sets REQUIRE_CHROMIUM=1.\n" +
      "!".repeat(78) + "\n"
  )
}

/** Small runs of the six scenarios: the page's shape, not the claims, is under test here. */
const smallResults = Effect.all([
  ragClient({ requests: 500 }),
  transientBurst({ rate: 10 }),
  outageRecovery({ rate: 5 }),
  trafficSpike({ capacity: 1 }),
  paymentSystem({ perMinute: 3_000, duration: 9_000 }),
  analyticsPipeline({ events: 500 })
])

describe("resilience report", () => {
  it("Chromium is available when REQUIRE_CHROMIUM=1", () => {
    if (required) assert.isDefined(chromium, `REQUIRE_CHROMIUM=1 but no Chromium at ${candidates.join(", ")}`)
  })

  it.skipIf(chromium === undefined)("renders in headless Chromium: every chart drawn, nothing failed to load", async () => {
    const { chromium: playwright } = await import("playwright-core")
    const results = await Effect.runPromise(smallResults)
    const dir = mkdtempSync(join(tmpdir(), "resilience-report-"))
    const page = join(dir, "resilience-report.html")
    writeFileSync(page, Report.html(results, { generated: "test" }))

    const context = await playwright.launchPersistentContext(mkdtempSync(join(tmpdir(), "chromium-profile-")), {
      executablePath: chromium!,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync"
      ],
      viewport: { width: 1200, height: 900 }
    })
    try {
      const tab = await context.newPage()
      const problems: Array<string> = []
      const requests: Array<string> = []
      tab.on("request", (r) => void requests.push(r.url()))
      tab.on("requestfailed", (r) => void problems.push(`failed to load ${r.url()}: ${r.failure()?.errorText}`))
      tab.on("response", (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`)
      })
      tab.on("pageerror", (e) => void problems.push(`page error: ${e.message}`))
      tab.on("console", (m) => {
        if (m.type() === "error") problems.push(`console error: ${m.text()}`)
      })
      await tab.goto(pathToFileURL(page).href, { waitUntil: "load" })

      const shape = await tab.evaluate(() => {
        const sections: Array<any> = [...document.querySelectorAll("section[data-scenario]")]
        return sections.map((s) => ({
          id: s.getAttribute("data-scenario") as string,
          charts: ([...s.querySelectorAll("svg.chart")] as Array<any>).map((svg) => {
            const box = svg.getBoundingClientRect()
            return {
              chart: svg.getAttribute("data-chart") as string,
              width: box.width as number,
              height: box.height as number,
              series: ([...svg.querySelectorAll("polyline.series")] as Array<any>).map((p): number =>
                p.getAttribute("points")?.split(" ").length ?? 0
              ),
              states: svg.querySelectorAll("rect.state").length as number
            }
          })
        }))
      })
      assert.deepStrictEqual(shape.map((s) => s.id), results.map((r) => r.id))
      for (const section of shape) {
        assert.strictEqual(section.charts.length, 3, `${section.id}: error rate, latency and breaker charts`)
        for (const chart of section.charts) {
          assert.isAbove(chart.width, 100, `${chart.chart} is laid out`)
          assert.isAbove(chart.height, 20, `${chart.chart} is laid out`)
        }
        const [errors, latency] = section.charts
        for (const chart of [errors!, latency!]) {
          assert.strictEqual(chart.series.length, 2, `${chart.chart}: without and with resilience`)
          assert.isTrue(chart.series.every((n) => n > 5), `${chart.chart}: every series has points`)
        }
      }
      // the scenarios with a breaker show its states
      for (const id of ["outage-recovery", "payment-system"]) {
        const breaker = shape.find((s) => s.id === id)!.charts[2]!
        assert.isAbove(breaker.states, 1, `${id}: breaker states drawn`)
      }
      assert.deepStrictEqual(problems, [])
      assert.deepStrictEqual(requests.filter((u) => !u.startsWith("file://")), [], "no network request")

      const screenshot = join(dir, "resilience-report.png")
      await tab.screenshot({ path: screenshot, fullPage: true })
      assert.isAbove(statSync(screenshot).size, 20_000)
      console.log(`report screenshot: ${screenshot}`)
    } finally {
      await context.close()
    }
  }, 120_000)
})

/**
 * `node --import tsx examples/bulkhead.ts`: a checkout service with three
 * dependencies, each behind its own bulkhead, and a load shedder in front.
 *
 * For 10 seconds a request arrives every 10 ms, three at a time during a
 * spike from 3 s to 6 s; each one charges a card (payments, critical), checks
 * stock (inventory, normal) and sends an e-mail (notifications, sheddable).
 * Inventory is slow (5 s per call): its bulkhead fills up and rejects, and
 * stock checks fall back to a cached answer. The slow dependency never takes
 * payments down with it, and during the spike the load shedder drops e-mails
 * first (and the page drops its recommendations), never a payment.
 *
 * The traffic runs on simulated time (`TestClock`): 10 seconds of it take a
 * fraction of a second, and every run prints the same figures.
 */
import { Effect, Exit } from "effect"
import { TestClock } from "effect/testing"
import { Bulkhead, Events, LoadShedder } from "../src/index.ts"

const TICKS = 1_000
const EVERY_MILLIS = 10
/** Requests per tick: 1, or 3 during the spike (ticks 300 to 599, 3 s to 6 s). */
const arrivals = (tick: number) => (tick >= 300 && tick < 600 ? 3 : 1)
const REQUESTS = Array.from({ length: TICKS }, (_, tick) => arrivals(tick)).reduce((a, b) => a + b, 0)

type Outcome = "ok" | "fallback: bulkhead full" | "fallback: queue timeout" | "fallback: shed"

const program = Effect.gen(function*() {
  const payments = yield* Bulkhead.make({ name: "payments", maxConcurrent: 60, maxQueue: 60 })
  const inventory = yield* Bulkhead.make({ name: "inventory", maxConcurrent: 5, maxQueue: 5, queueTimeout: "1 second" })
  const notifications = yield* Bulkhead.make({ name: "notifications", maxConcurrent: 10, maxQueue: 50 })
  const shedder = yield* LoadShedder.make({ name: "checkout-api", maxInFlight: 100 })

  const outcomes = new Map<string, Map<Outcome, number>>()
  const record = (dependency: string, outcome: Outcome) => {
    const counts = outcomes.get(dependency) ?? new Map<Outcome, number>()
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
    outcomes.set(dependency, counts)
  }

  /** Calls a dependency through its bulkhead and the shedder; a rejection is answered by `fallback`. */
  const call = (
    dependency: Bulkhead.Bulkhead,
    priority: LoadShedder.Priority,
    latency: number,
    fallback: string
  ) =>
    Effect.sleep(latency).pipe(
      Effect.as("live"),
      dependency.execute,
      shedder.execute({ priority }),
      Effect.exit,
      Effect.map((exit) => {
        if (Exit.isSuccess(exit)) {
          record(dependency.name, "ok")
          return exit.value
        }
        const error = exit.cause.reasons.find((r) => r._tag === "Fail")?.error
        record(
          dependency.name,
          Bulkhead.isBulkheadRejectedError(error)
            ? (error.reason === "full" ? "fallback: bulkhead full" : "fallback: queue timeout")
            : "fallback: shed"
        )
        return fallback
      })
    )

  const request = Effect.all([
    call(payments, "critical", 200, "payment pending"),
    call(inventory, "normal", 5_000, "cached stock level"),
    call(notifications, "sheddable", 50, "e-mail queued for later"),
    // the product page drops recommendations while the shedder is overloaded
    LoadShedder.degrade({
      name: "recommendations",
      full: Effect.succeed("with recommendations"),
      degraded: Effect.succeed("without recommendations"),
      when: shedder.overloaded
    })
  ], { concurrency: "unbounded" })

  const events = new Map<string, number>()
  const countEvent: Events.Listener = (event) =>
    Effect.sync(() => void events.set(`${event._tag} ${event.name}`, (events.get(`${event._tag} ${event.name}`) ?? 0) + 1))

  yield* Effect.gen(function*() {
    for (let tick = 0; tick < TICKS; tick++) {
      for (let i = 0; i < arrivals(tick); i++) yield* Effect.forkChild(request)
      yield* TestClock.adjust(EVERY_MILLIS)
    }
    yield* TestClock.adjust("10 seconds") // let the last calls finish
  }).pipe(Events.withListener(countEvent))

  console.log(`${REQUESTS} requests over 10 s (simulated time): one every ${EVERY_MILLIS} ms, three during a spike from 3 s to 6 s\n`)
  const columns: ReadonlyArray<Outcome> = ["ok", "fallback: bulkhead full", "fallback: queue timeout", "fallback: shed"]
  console.log(`| dependency    | ${columns.map((c) => c.padStart(23)).join(" | ")} |`)
  for (const [name, counts] of outcomes) {
    console.log(`| ${name.padEnd(13)} | ${columns.map((c) => String(counts.get(c) ?? 0).padStart(23)).join(" | ")} |`)
  }
  console.log("\nbulkhead stats after the run")
  for (const bulkhead of [payments, inventory, notifications]) {
    const s = yield* bulkhead.stats
    console.log(
      `  ${bulkhead.name.padEnd(13)} active ${s.active}, queued ${s.queued}, available ${s.available}/${s.maxConcurrent}, rejected ${s.rejected}`
    )
  }
  const shed = (yield* shedder.stats).shed
  console.log(`  checkout-api shed: critical ${shed.critical}, normal ${shed.normal}, sheddable ${shed.sheddable}`)
  console.log("\nevents")
  for (const [key, n] of [...events].sort()) console.log(`  ${key}: ${n}`)

  // the point of the bulkheads: the slow inventory never cost a single payment
  const paymentsOk = outcomes.get("payments")?.get("ok") ?? 0
  if (paymentsOk !== REQUESTS) return yield* Effect.die(`only ${paymentsOk} of ${REQUESTS} payments went through`)
  for (const bulkhead of [payments, inventory, notifications]) {
    const s = yield* bulkhead.stats
    if (s.active !== 0 || s.queued !== 0 || s.available !== s.maxConcurrent) {
      return yield* Effect.die(`${bulkhead.name} did not return to idle`)
    }
  }
  console.log(`\nall ${REQUESTS} payments went through while inventory was saturated`)
})

Effect.runPromise(program.pipe(Effect.provide(TestClock.layer()))).catch((error) => {
  console.error(error)
  process.exit(1)
})

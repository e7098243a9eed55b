/**
 * Keep answering while a dependency is slow or down, in simulated time
 * (TestClock, so the program takes milliseconds):
 *
 * 1. a user profile read from cache → database → remote API (`Fallback.chain`);
 * 2. exchange rates that survive an outage, shown with their age
 *    (`Fallback.lastKnownGood`: "[Cached: 12s old]");
 * 3. recommendations with a default for outages only (`Fallback.orElse` with `when`);
 * 4. a search whose slow primary is overtaken by a hedge (`Hedge.hedge`), and a
 *    profile raced across two regions (`Hedge.race`).
 *
 * Every decision is printed from the event channel. Exits non-zero if an
 * outcome is not the expected one.
 */
import { Data, Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Events, Fallback, Hedge } from "../src/index.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly service: string }> {}
class NotFound extends Data.TaggedError("NotFound")<{ readonly id: string }> {}

const check = (ok: boolean, what: string) => {
  if (!ok) throw new Error(`unexpected outcome: ${what}`)
}

const printEvents = Events.layer((event) =>
  Effect.sync(() => {
    const details = event._tag === "FallbackUsed"
      ? `source=${event.source}`
      : event._tag === "HedgeLaunched" || event._tag === "HedgeWon"
      ? `attempt=${event.attempt}`
      : ""
    console.log(`    [event @${event.timestamp}ms] ${event._tag} ${event.name} ${details}`)
  })
)

/** Runs `effect` in a fiber and advances the test clock until it is done. */
const inSimulatedTime = <A, E>(effect: Effect.Effect<A, E>, advance: Duration.Input) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

const program = Effect.gen(function*() {
  console.log("1. Profile: cache → database → remote API")
  const cache = Effect.fail(new NotFound({ id: "u1" }))
  const database = Effect.fail(new Unavailable({ service: "db" }))
  const api = Effect.succeed({ id: "u1", name: "Ada" })
  const profile = yield* Fallback.chain([cache, database, api], { name: "profile" })
  console.log(`    answered by the API: ${profile.name}`)
  check(profile.name === "Ada", "profile from the API")
  const allDown = yield* Effect.flip(Fallback.chain([cache, database], { name: "profile" }))
  console.log(`    when all fail: ${allDown.message} (${allDown.failures.map((e) => e._tag).join(", ")})`)

  console.log("\n2. Exchange rates through an outage")
  const rates = yield* Fallback.lastKnownGood<number>({ name: "fx", ttl: "1 minute", capacity: 100 })
  const fetchRate = (up: boolean) => up ? Effect.succeed(1.0842) : Effect.fail(new Unavailable({ service: "fx-api" }))
  const live = yield* rates.execute(fetchRate(true), "EUR/USD")
  console.log(`    EUR/USD ${live.value} (${live.source})`)
  yield* TestClock.adjust("12 seconds")
  const stale = yield* rates.execute(fetchRate(false), "EUR/USD")
  console.log(`    EUR/USD ${stale.value} [Cached: ${Duration.format(stale.age)} old]`)
  check(stale.source === "cache" && Duration.toMillis(stale.age) === 12_000, "rate served from cache, 12s old")
  yield* TestClock.adjust("1 minute")
  const expired = yield* Effect.flip(rates.execute(fetchRate(false), "EUR/USD"))
  console.log(`    past the ttl the outage shows: ${expired._tag}(${expired.service})`)

  console.log("\n3. Recommendations: a default during outages, but bad requests stay errors")
  const recommend = (error: Unavailable | NotFound) =>
    Effect.fail(error).pipe(
      Fallback.orElse({
        name: "recommendations",
        when: (e): e is Unavailable => e._tag === "Unavailable",
        fallback: () => Effect.succeed(["bestsellers"])
      })
    )
  const defaults = yield* recommend(new Unavailable({ service: "recs" }))
  console.log(`    outage → ${defaults.join(", ")}`)
  const notFound = yield* Effect.flip(recommend(new NotFound({ id: "u404" })))
  console.log(`    unknown user → still ${notFound._tag}`)
  check(notFound._tag === "NotFound", "NotFound passes through")

  console.log("\n4. Search with a hedge at 50 ms: the primary hangs for 1 s, the hedge answers in 10 ms")
  let calls = 0
  const search = Effect.suspend(() => {
    const call = ++calls
    const latency = call === 1 ? 1000 : 10
    return Effect.sleep(latency).pipe(
      Effect.as(`results from call ${call} (${latency} ms)`),
      Effect.onInterrupt(() => Effect.sync(() => console.log(`    call ${call} interrupted (its finalizers ran)`)))
    )
  })
  const searched = yield* inSimulatedTime(
    search.pipe(Hedge.hedgeWithWinner({ name: "search", delay: "50 millis", maxAttempts: 2 })),
    "1 second"
  )
  console.log(`    ${searched.value}, won by attempt ${searched.attempt}`)
  check(searched.attempt === 2, "the hedge wins")

  const region = (name: string, latency: number) => Effect.sleep(latency).pipe(Effect.as(name))
  const raced = yield* inSimulatedTime(
    Hedge.raceWithWinner([region("eu-west", 400), region("us-east", 30)], { name: "profile-region", delay: 100 }),
    "1 second"
  )
  console.log(`    region race: ${raced.value} (attempt ${raced.attempt}) answered at 130 ms instead of 400 ms`)
  check(raced.value === "us-east", "the second region wins")
})

Effect.runPromise(program.pipe(Effect.provide(printEvents), Effect.provide(TestClock.layer()))).then(
  () => console.log("\ndone"),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)

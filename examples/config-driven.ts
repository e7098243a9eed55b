/**
 * One business function, three environments chosen by `APP_ENV`:
 * - `production`: the `scoring` policy from examples/resilience.yaml;
 * - `test`: a passthrough policy (business logic alone);
 * - `chaos`: the production policy with faults injected under it (seeded).
 * The business code never changes; only the layer does.
 *
 * `APP_ENV=chaos node --import tsx examples/config-driven.ts` runs one; with no APP_ENV it runs
 * all three (as `npm run examples` does).
 */
import { Context, Data, Effect, Layer, Random } from "effect"
import { fileURLToPath } from "node:url"
import { Events, Policy, ResilienceConfig } from "../src/index.ts"

export class ScoringPolicy extends Context.Service<ScoringPolicy, Policy.Policy>()("example/ScoringPolicy") {}

export class ScoringUnavailable extends Data.TaggedError("ScoringUnavailable")<{ readonly status: number }> {}

/** The dependency: a scoring service (here a pure function of the event). */
const callScoringService = (event: number) => Effect.succeed(event % 7 === 0 ? 0.9 : 0.1)

/** Business logic: scores a batch of events under whatever ScoringPolicy is provided. */
export const scoreBatch = (events: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const policy = yield* ScoringPolicy
    let scored = 0
    let failed = 0
    for (const event of events) {
      const result = yield* Effect.result(callScoringService(event).pipe(policy.execute))
      if (result._tag === "Success") scored++
      else failed++
    }
    return { scored, failed }
  })

const configFile = fileURLToPath(new URL("./resilience.yaml", import.meta.url))

const production = ResilienceConfig.layerPolicy(ScoringPolicy, "scoring").pipe(
  Layer.provide(ResilienceConfig.layer(ResilienceConfig.load(configFile)))
)

const test = Layer.succeed(ScoringPolicy, Policy.passthrough)

/** Chaos: under the real policy, 30% of attempts fail with a transient 503 (seeded Random). */
const chaos = Layer.effect(
  ScoringPolicy,
  Effect.gen(function*() {
    const config = yield* ResilienceConfig.ResilienceConfig
    const options = yield* config.policy("scoring") // already Policy.make's options
    const real = yield* Policy.make({ ...options, retry: { ...options.retry!, maxAttempts: 4 } })
    // An injected fault stands in for the dependency's own transient failure, so it keeps the call's type.
    const injectFault = <A, E, R>(call: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.flatMap(Random.next, (r) =>
        r < 0.3 ? Effect.fail(new ScoringUnavailable({ status: 503 }) as E) : call)
    const policy: Policy.Policy = { ...real, execute: (call) => real.execute(injectFault(call)) }
    return policy
  })
).pipe(Layer.provide(ResilienceConfig.layer(ResilienceConfig.load(configFile))))

export const environments = { production, test, chaos } as const
export type Environment = keyof typeof environments

const main = Effect.gen(function*() {
  const selected = process.env.APP_ENV as Environment | undefined
  if (selected !== undefined && !(selected in environments)) {
    return yield* Effect.fail(new Error(`APP_ENV must be one of ${Object.keys(environments).join(", ")}, got ${selected}`))
  }
  const events = Array.from({ length: 500 }, (_, i) => i)
  for (const env of selected ? [selected] : (Object.keys(environments) as Array<Environment>)) {
    const [result, decisions] = yield* Events.collect(
      scoreBatch(events).pipe(Effect.provide(environments[env]), Random.withSeed(7))
    )
    const retries = decisions.filter((e) => e._tag === "RetryScheduled").length
    console.log(`${env.padEnd(10)} scored ${result.scored}/${events.length}, failed ${result.failed}, retries ${retries}`)
  }
})

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  Effect.runPromise(main).catch((error) => {
    console.error(error)
    process.exit(1)
  })
}

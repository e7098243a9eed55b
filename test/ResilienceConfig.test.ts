import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Random } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Backoff, CircuitBreaker, Policy, ResilienceConfig } from "../src/index.ts"
import * as defaults from "../src/internal/defaults.ts"

const ms = (d: Duration.Duration | undefined): number | undefined => (d === undefined ? undefined : Duration.toMillis(d))

const policyOf = (document: ResilienceConfig.Document, name: string): ResilienceConfig.Entry => {
  const spec = document.policies[name]
  assert.isDefined(spec, `policy ${name}`)
  return spec!
}

/** A backoff's first delays (seeded): a built Schedule compares by what it does. */
const delaysOf = (backoff: unknown) =>
  Backoff.delays(backoff as Backoff.Backoff, 6).pipe(Random.withSeed(7), Effect.map((ds) => ds.map(Duration.toMillis)))

/** A decoded policy with its backoff as delays, for deepStrictEqual. */
const plain = (policy: ResilienceConfig.Entry) =>
  policy.retry?.backoff === undefined
    ? Effect.succeed(policy as unknown)
    : Effect.map(delaysOf(policy.retry.backoff), (backoff) => ({ ...policy, retry: { ...policy.retry, backoff } }) as unknown)

const env = (vars: Record<string, string>) =>
  Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env: vars }))

const seedYaml = `
circuit_breakers:
  kafka_producer: { failure_threshold: 5, success_threshold: 2, timeout: 60 }
retry_policies:
  kafka: { max_retries: 3, initial_delay: 1.0, backoff_factor: 2.0, max_delay: 30.0 }
timeouts:
  database_query: 10
`

describe("ResilienceConfig", () => {
  describe("legacy (seed) shape", () => {
    it.effect("maps each named entry to a policy spec, durations in seconds, maxAttempts = max_retries + 1", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.parse(seedYaml)
        assert.strictEqual(document.profile, "balanced")
        assert.deepStrictEqual(Object.keys(document.policies).sort(), ["database_query", "kafka", "kafka_producer"])
        assert.deepStrictEqual(policyOf(document, "kafka_producer"), {
          name: "kafka_producer",
          circuitBreaker: {
            policy: CircuitBreaker.consecutive(5),
            resetTimeout: Duration.seconds(60),
            successThreshold: 2,
            halfOpenMaxCalls: 1
          }
        })
        assert.deepStrictEqual(yield* plain(policyOf(document, "kafka")), {
          name: "kafka",
          retry: {
            maxAttempts: 4,
            backoff: yield* delaysOf(Backoff.exponential({ base: "1 second", factor: 2, max: "30 seconds" }))
          }
        })
        assert.deepStrictEqual(policyOf(document, "database_query"), {
          name: "database_query",
          timeout: Duration.seconds(10)
        })
      }))

    it.effect("entries of the same name in several sections form one policy; missing keys take the code defaults", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({
          circuit_breakers: { db: {} },
          retry_policies: { db: { max_retries: 0 } },
          timeouts: { db: "1.5 seconds" }
        })
        const db = policyOf(document, "db")
        assert.strictEqual(ms(db.timeout), 1500)
        assert.strictEqual(db.retry?.maxAttempts, 1)
        // no delay written: the default backoff, as `Retry.make` gives
        assert.deepStrictEqual(
          yield* delaysOf(db.retry?.backoff),
          yield* delaysOf(Backoff.exponential({ base: "100 millis", factor: 2, max: "10 seconds", jitter: "full" }))
        )
        assert.deepStrictEqual(db.circuitBreaker?.policy, CircuitBreaker.consecutive(5))
        assert.strictEqual(ms(db.circuitBreaker?.resetTimeout), 60_000)
        assert.strictEqual(db.circuitBreaker?.successThreshold, 1)
      }))

    it.effect("examples/resilience-legacy.yaml decodes", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.load("examples/resilience-legacy.yaml")
        assert.isAbove(Object.keys(document.policies).length, 2)
      }))
  })

  describe("native shape and profiles", () => {
    it.effect("a policy takes the missing blocks from the default profile (balanced)", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({ policies: { scoring: { timeout: "2 seconds" } } })
        assert.deepStrictEqual(yield* plain(policyOf(document, "scoring")), {
          name: "scoring",
          timeout: Duration.seconds(2),
          retry: {
            maxAttempts: 4,
            backoff: yield* delaysOf(Backoff.exponential({ base: "1 second", factor: 2, max: "30 seconds", jitter: "full" }))
          },
          circuitBreaker: {
            policy: CircuitBreaker.consecutive(5),
            resetTimeout: Duration.seconds(60),
            successThreshold: 2,
            halfOpenMaxCalls: 1
          },
          bulkhead: { maxConcurrent: 100, maxQueue: 1000 }
        })
      }))

    it.effect("each built-in profile has the seed's numbers", () =>
      Effect.gen(function*() {
        const expected = {
          conservative: [6, 2000, 3, 120_000, 500],
          balanced: [4, 1000, 5, 60_000, 1000],
          aggressive: [3, 500, 10, 30_000, 2000],
          "cost-optimized": [2, 2000, 5, 60_000, 500]
        } as const
        for (const [profile, [attempts, delay, failures, recovery, queue]] of Object.entries(expected)) {
          const document = yield* ResilienceConfig.decode({ profile, policies: { p: {} } })
          const p = policyOf(document, "p")
          assert.strictEqual(document.profile, profile)
          assert.strictEqual(p.retry?.maxAttempts, attempts, profile)
          assert.deepStrictEqual(
            yield* delaysOf(p.retry?.backoff),
            yield* delaysOf(Backoff.exponential({ base: delay, max: "30 seconds", jitter: "full" })),
            profile
          )
          assert.deepStrictEqual(p.circuitBreaker?.policy, CircuitBreaker.consecutive(failures), profile)
          assert.strictEqual(ms(p.circuitBreaker?.resetTimeout), recovery, profile)
          assert.strictEqual(p.bulkhead?.maxQueue, queue, profile)
        }
        assert.deepStrictEqual(ResilienceConfig.profileNames, ["conservative", "balanced", "aggressive", "cost-optimized", "none"])
      }))

    it.effect("overrides merge field by field; a block set to false is dropped; a new kind replaces", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({
          profile: "conservative",
          policies: {
            a: { retry: { maxAttempts: 2 }, bulkhead: false, circuitBreaker: { resetTimeout: "10 seconds" } },
            b: { retry: { backoff: { kind: "constant", base: "250 millis" } } },
            c: { retry: { backoff: { base: "50 millis" } } }
          }
        })
        const a = policyOf(document, "a")
        assert.strictEqual(a.retry?.maxAttempts, 2)
        assert.deepStrictEqual(
          yield* delaysOf(a.retry?.backoff),
          yield* delaysOf(Backoff.exponential({ base: "2 seconds", max: "30 seconds", jitter: "full" })),
          "backoff kept from the profile"
        )
        assert.isUndefined(a.bulkhead)
        assert.strictEqual(ms(a.circuitBreaker?.resetTimeout), 10_000)
        assert.deepStrictEqual(a.circuitBreaker?.policy, CircuitBreaker.consecutive(3))
        assert.deepStrictEqual(yield* delaysOf(policyOf(document, "b").retry?.backoff), [250, 250, 250, 250, 250, 250])
        assert.deepStrictEqual(
          yield* delaysOf(policyOf(document, "c").retry?.backoff),
          yield* delaysOf(Backoff.exponential({ base: "50 millis", max: "30 seconds", jitter: "full" }))
        )
      }))

    it.effect("a policy can name its own profile; `none` gives only the written blocks plus block defaults", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({
          profile: "none",
          policies: {
            bare: { timeout: "1 second" },
            own: { profile: "aggressive" },
            blocks: {
              retry: {},
              circuitBreaker: { policy: { kind: "countWindow", size: 20, failureRate: 0.5, minimumCalls: 10 }, resetTimeout: "5s" },
              bulkhead: { maxConcurrent: 8 },
              hedge: { delay: "50ms" },
              rateLimit: { limit: 100, window: "1 second" }
            }
          }
        })
        assert.deepStrictEqual(policyOf(document, "bare"), { name: "bare", timeout: Duration.seconds(1) })
        assert.strictEqual(policyOf(document, "own").retry?.maxAttempts, 3)
        assert.strictEqual(policyOf(document, "own").bulkhead?.maxQueue, 2000)
        const blocks = policyOf(document, "blocks")
        assert.strictEqual(blocks.retry?.maxAttempts, 3)
        assert.deepStrictEqual(yield* delaysOf(blocks.retry?.backoff), yield* delaysOf(Backoff.exponential({ base: 100, max: "10 seconds", jitter: "full" })))
        assert.strictEqual(blocks.circuitBreaker?.successThreshold, 1)
        assert.strictEqual(blocks.circuitBreaker?.halfOpenMaxCalls, 1)
        assert.deepStrictEqual(blocks.bulkhead, { maxConcurrent: 8, maxQueue: 0 })
        assert.deepStrictEqual(blocks.hedge, { delay: Duration.millis(50), maxAttempts: 2 })
        assert.deepStrictEqual(blocks.rateLimit, { algorithm: "token-bucket", limit: 100, window: Duration.seconds(1) })
      }))

    it.effect("every field of the native shape decodes, and native and legacy policies can share a document", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({
          profile: "none",
          policies: {
            full: {
              timeout: "2 seconds",
              totalTimeout: "10 seconds",
              retry: { maxAttempts: 5, backoff: { kind: "linear", base: "100 millis", increment: "50 millis", max: "1 second", jitter: "equal" } },
              circuitBreaker: {
                policy: { kind: "timeWindow", window: "30 seconds", buckets: 10, failureRate: 0.5, minimumCalls: 20 },
                resetTimeout: "5 seconds",
                maxResetTimeout: "1 minute",
                successThreshold: 3,
                halfOpenMaxCalls: 2,
                slowCall: { threshold: "1 second", rate: 0.8 }
              },
              bulkhead: { maxConcurrent: 4, maxQueue: 16, queueTimeout: "250 millis" },
              hedge: { delay: "0 millis", maxAttempts: 3 },
              rateLimit: { algorithm: "fixed-window", limit: 10, window: "1 second" }
            }
          },
          timeouts: { legacy_db: 3 }
        })
        const full = policyOf(document, "full")
        assert.strictEqual(ms(full.totalTimeout), 10_000)
        assert.deepStrictEqual(
          yield* delaysOf(full.retry?.backoff),
          yield* delaysOf(Backoff.linear({ base: 100, increment: 50, max: "1 second", jitter: "equal" }))
        )
        assert.deepStrictEqual(
          full.circuitBreaker?.policy,
          CircuitBreaker.timeWindow({ window: "30 seconds", buckets: 10, failureRate: 0.5, minimumCalls: 20 })
        )
        assert.strictEqual(ms(full.circuitBreaker?.maxResetTimeout), 60_000)
        assert.deepStrictEqual(full.circuitBreaker?.slowCall, { threshold: Duration.seconds(1), rate: 0.8 })
        assert.strictEqual(ms(full.bulkhead?.queueTimeout), 250)
        assert.strictEqual(ms(full.hedge?.delay), 0)
        assert.strictEqual(full.rateLimit?.algorithm, "fixed-window")
        assert.strictEqual(ms(policyOf(document, "legacy_db").timeout), 3000)
      }))

    it.effect("an empty document (or empty YAML) is the default profile with no policies", () =>
      Effect.gen(function*() {
        const empty = yield* ResilienceConfig.parse("# nothing yet\n")
        assert.strictEqual(empty.profile, "balanced")
        assert.deepStrictEqual(empty.policies, {})
        assert.deepStrictEqual((yield* ResilienceConfig.decode(undefined)).policies, {})
      }))

    it.effect("JSON text, and examples/resilience.yaml", () =>
      Effect.gen(function*() {
        const json = yield* ResilienceConfig.parse(`{"policies": {"a": {"timeout": "1 second"}}}`, "json")
        assert.strictEqual(ms(policyOf(json, "a").timeout), 1000)
        const example = yield* ResilienceConfig.load("examples/resilience.yaml")
        assert.isAbove(Object.keys(example.policies).length, 2)
      }))

    it("pins the profile and block defaults", () => {
      assert.strictEqual(defaults.resilienceConfig.profile, "balanced")
      assert.strictEqual(defaults.resilienceConfig.envPrefix, "RESILIENCE")
      assert.deepStrictEqual(defaults.resilienceConfig.blocks, {
        retry: {
          maxAttempts: 3,
          backoff: { kind: "exponential", base: "100 millis", factor: 2, max: "10000 millis", jitter: "full" }
        },
        circuitBreaker: { successThreshold: 1, halfOpenMaxCalls: 1 },
        bulkhead: { maxQueue: 0 },
        hedge: { maxAttempts: 2 },
        rateLimit: { algorithm: "token-bucket" }
      })
      assert.deepStrictEqual(defaults.resilienceConfig.profiles.balanced, {
        retry: { maxAttempts: 4, backoff: { kind: "exponential", base: "1 second", factor: 2, max: "30 seconds", jitter: "full" } },
        circuitBreaker: {
          policy: { kind: "consecutive", failures: 5 },
          resetTimeout: "60 seconds",
          successThreshold: 2,
          halfOpenMaxCalls: 1
        },
        bulkhead: { maxConcurrent: 100, maxQueue: 1000 }
      })
      assert.deepStrictEqual(defaults.resilienceConfig.profiles.none, {})
    })
  })

  describe("files", () => {
    const dir = mkdtempSync(join(tmpdir(), "resilience-config-"))

    it.effect("load infers the format from the extension and names the file in errors", () =>
      Effect.gen(function*() {
        const json = join(dir, "config.json")
        writeFileSync(json, JSON.stringify({ timeouts: { db: 2 } }))
        assert.strictEqual(ms(policyOf(yield* ResilienceConfig.load(json), "db").timeout), 2000)
        const bad = join(dir, "bad.yaml")
        writeFileSync(bad, "timeouts:\n  db: -2\n")
        const error = yield* Effect.flip(ResilienceConfig.load(bad))
        assert.strictEqual(error.source, bad)
        assert.strictEqual(error.path, "timeouts.db")
        assert.isTrue(error.message.startsWith(`${bad}: timeouts.db: expected a number of seconds > 0`))
      }))

    it.effect("layer(load(path)) provides the service", () =>
      Effect.gen(function*() {
        const file = join(dir, "layer.yml")
        writeFileSync(file, "policies:\n  scoring:\n    timeout: 3 seconds\n")
        const spec = yield* ResilienceConfig.policy("scoring").pipe(Effect.provide(ResilienceConfig.layer(ResilienceConfig.load(file))))
        assert.strictEqual(ms(spec.timeout), 3000)
        const missing = ResilienceConfig.layer(ResilienceConfig.load(join(dir, "missing.yaml")))
        const error = yield* Effect.flip(ResilienceConfig.policy("scoring").pipe(Effect.provide(missing)))
        assert.strictEqual(error.kind, "read")
      }))
  })

  describe("environment variables", () => {
    it.effect("RESILIENCE_PROFILE and RESILIENCE_POLICIES_<NAME>_<FIELD>, numbers parsed, blocks dropped with false", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.fromEnv().pipe(env({
          RESILIENCE_PROFILE: "aggressive",
          RESILIENCE_POLICIES_KAFKA_PRODUCER_TIMEOUT: "2 seconds",
          RESILIENCE_POLICIES_KAFKA_PRODUCER_RETRY_MAX_ATTEMPTS: "7",
          RESILIENCE_POLICIES_KAFKA_PRODUCER_RETRY_BACKOFF_BASE: "10 millis",
          RESILIENCE_POLICIES_KAFKA_PRODUCER_BULKHEAD: "false",
          RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_POLICY_KIND: "countWindow",
          RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_POLICY_SIZE: "20",
          RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_POLICY_FAILURE_RATE: "0.5",
          RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_POLICY_MINIMUM_CALLS: "10",
          UNRELATED_VARIABLE: "ignored"
        }))
        assert.strictEqual(document.profile, "aggressive")
        const kafka = policyOf(document, "kafka_producer")
        assert.strictEqual(ms(kafka.timeout), 2000)
        assert.strictEqual(kafka.retry?.maxAttempts, 7)
        assert.deepStrictEqual(
          yield* delaysOf(kafka.retry?.backoff),
          yield* delaysOf(Backoff.exponential({ base: 10, max: "30 seconds", jitter: "full" }))
        )
        assert.isUndefined(kafka.bulkhead)
        assert.deepStrictEqual(
          policyOf(document, "scoring").circuitBreaker?.policy,
          CircuitBreaker.countWindow({ size: 20, failureRate: 0.5, minimumCalls: 10 })
        )
      }))

    it.effect("a custom prefix, and layer(fromEnv())", () =>
      Effect.gen(function*() {
        const spec = yield* ResilienceConfig.policy("db").pipe(
          Effect.provide(ResilienceConfig.layer(ResilienceConfig.fromEnv({ prefix: "APP" }))),
          env({ APP_POLICIES_DB_TIMEOUT: "5 seconds", RESILIENCE_PROFILE: "nonsense" })
        )
        assert.strictEqual(ms(spec.timeout), 5000)
      }))

    it.effect("no variables: the default profile, no policies", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.fromEnv().pipe(env({}))
        assert.strictEqual(document.profile, "balanced")
        assert.deepStrictEqual(document.policies, {})
      }))
  })

  describe("service", () => {
    it.effect("layer from a decoded document or from an object; policy(name); names sorted", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({ timeouts: { b: 1, a: 2 } })
        const fromDocument = yield* Effect.service(ResilienceConfig.ResilienceConfig).pipe(
          Effect.provide(ResilienceConfig.layer(document))
        )
        assert.deepStrictEqual(fromDocument.names, ["a", "b"])
        assert.strictEqual(fromDocument.document, document)
        const spec = yield* ResilienceConfig.policy("scoring").pipe(
          Effect.provide(ResilienceConfig.layer({ policies: { scoring: { timeout: "2 seconds" } } }))
        )
        assert.strictEqual(spec.name, "scoring")
        assert.strictEqual(ms(spec.timeout), 2000)
      }))

    it.effect("a layer over a bad object fails when built", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          Effect.service(ResilienceConfig.ResilienceConfig).pipe(
            Effect.provide(ResilienceConfig.layer({ timeouts: { db: -1 } }))
          )
        )
        assert.strictEqual(error.path, "timeouts.db")
      }))
  })

  describe("budget and throttle (Policy.PolicyOptions' newest blocks)", () => {
    const api = { budget: { maxTokens: 20, tokenRatio: 0.5 }, throttle: { k: 1.5, window: "1 minute", buckets: 6 } } as const
    const apiEntry = { name: "api", ...api, throttle: { ...api.throttle, window: Duration.minutes(1) } }

    it.effect("decode into the options Retry.makeBudget and Throttle.make take, and build like the same policy in code", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.decode({
          profile: "none",
          policies: { api, batch: { budget: { ratio: 0.1, minPerSecond: 2, window: "30 seconds" } } }
        })
        const entry = policyOf(document, "api")
        assert.deepStrictEqual(entry, apiEntry)
        assert.deepStrictEqual(policyOf(document, "batch").budget, { ratio: 0.1, minPerSecond: 2, window: Duration.seconds(30) })
        const fromConfig = yield* Policy.make(entry)
        const inCode = yield* Policy.make({ name: "api", ...api })
        assert.deepStrictEqual(Policy.describe(fromConfig), Policy.describe(inCode))
        assert.deepStrictEqual(Policy.describe(fromConfig), ["throttle"])
      }).pipe(Effect.scoped))

    it.effect("a bad value names its config path; a budget of both kinds is refused", () =>
      Effect.gen(function*() {
        const decodeError = (policy: unknown) => Effect.flip(ResilienceConfig.decode({ policies: { p: policy } }))
        const k = yield* decodeError({ throttle: { k: 0.5 } })
        assert.strictEqual(k.message, "policies.p.throttle.k: expected a finite number >= 1, got 0.5")
        const tokens = yield* decodeError({ budget: { maxTokens: 2000 } })
        assert.strictEqual(tokens.path, "policies.p.budget.maxTokens")
        assert.strictEqual(tokens.value, 2000)
        const window = yield* decodeError({ throttle: { window: "soon" } })
        assert.strictEqual(window.path, "policies.p.throttle.window")
        const mixed = yield* decodeError({ budget: { ratio: 0.1, maxTokens: 10 } })
        assert.strictEqual(mixed.path, "policies.p.budget")
        assert.include(mixed.message, "not both")
      }))

    it.effect("from environment variables", () =>
      Effect.gen(function*() {
        const document = yield* ResilienceConfig.fromEnv().pipe(env({
          RESILIENCE_PROFILE: "none",
          RESILIENCE_POLICIES_API_BUDGET_MAX_TOKENS: "20",
          RESILIENCE_POLICIES_API_BUDGET_TOKEN_RATIO: "0.5",
          RESILIENCE_POLICIES_API_THROTTLE_K: "1.5",
          RESILIENCE_POLICIES_API_THROTTLE_WINDOW: "1 minute",
          RESILIENCE_POLICIES_API_THROTTLE_BUCKETS: "6"
        }))
        assert.deepStrictEqual(policyOf(document, "api"), apiEntry)
      }))
  })

  describe("bad input: each error names the path, the value and what is allowed", () => {
    const failsWith = (
      input: unknown,
      path: string,
      kind: ResilienceConfig.ConfigIssue["kind"],
      ...fragments: ReadonlyArray<string>
    ) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.decode(input))
        assert.isTrue(ResilienceConfig.isResilienceConfigError(error))
        assert.strictEqual(error._tag, "ResilienceConfigError")
        const issue = error.issues.find((i) => i.path === path)
        assert.isDefined(issue, `no issue at ${path}; got: ${error.message}`)
        assert.strictEqual(issue!.kind, kind, error.message)
        for (const fragment of fragments) assert.include(error.message, fragment)
        return error
      })

    const breaker = (b: Record<string, unknown>) => ({ circuit_breakers: { kafka_producer: b } })
    const native = (policy: unknown, profile = "balanced") => ({ profile, policies: { p: policy } })

    it.effect("1. a wrong type", () =>
      Effect.gen(function*() {
        const error = yield* failsWith(
          breaker({ failure_threshold: "five" }),
          "circuit_breakers.kafka_producer.failure_threshold",
          "type",
          `circuit_breakers.kafka_producer.failure_threshold: expected an integer >= 1, got "five"`
        )
        assert.strictEqual(error.kind, "type")
        assert.strictEqual(error.value, "five")
        assert.strictEqual(error.expected, "an integer >= 1")
        assert.isUndefined(error.source)
      }))

    it.effect("2. a negative threshold", () =>
      failsWith(
        breaker({ failure_threshold: -1 }),
        "circuit_breakers.kafka_producer.failure_threshold",
        "value",
        "circuit_breakers.kafka_producer.failure_threshold: expected an integer >= 1, got -1"
      ))

    it.effect("3. a fractional threshold", () =>
      failsWith(breaker({ success_threshold: 2.5 }), "circuit_breakers.kafka_producer.success_threshold", "value", "got 2.5"))

    it.effect("4. an unknown key (typo), with the closest known key", () =>
      failsWith(
        breaker({ failure_treshold: 5 }),
        "circuit_breakers.kafka_producer.failure_treshold",
        "unknown-key",
        "unknown key, expected one of failure_threshold, success_threshold, timeout",
        `did you mean "failure_threshold"?`
      ))

    it.effect("5. an unknown key in a native block, snake_case for camelCase", () =>
      failsWith(native({ retry: { max_attempts: 3 } }), "policies.p.retry.max_attempts", "unknown-key", `did you mean "maxAttempts"?`))

    it.effect("6. an unknown top-level key", () =>
      failsWith({ polices: {} }, "polices", "unknown-key", `did you mean "policies"?`))

    it.effect("7. an unparsable duration (native)", () =>
      failsWith(
        native({ circuitBreaker: { resetTimeout: "30 secs" } }),
        "policies.p.circuitBreaker.resetTimeout",
        "value",
        `expected a duration > 0 with a unit, such as "5 seconds" or "250 millis", got "30 secs"`
      ))

    it.effect("8. a unitless number where the native shape wants a duration", () =>
      failsWith(native({ timeout: 5 }), "policies.p.timeout", "type", "with a unit", "got 5"))

    it.effect("9. an unparsable or negative legacy duration", () =>
      Effect.gen(function*() {
        yield* failsWith(breaker({ timeout: "soon" }), "circuit_breakers.kafka_producer.timeout", "value", `got "soon"`)
        yield* failsWith({ timeouts: { db: -5 } }, "timeouts.db", "value", "a number of seconds > 0", "got -5")
        yield* failsWith({ timeouts: { db: 0 } }, "timeouts.db", "value", "got 0")
      }))

    it.effect("10. a profile that does not exist", () =>
      failsWith(
        { profile: "balancd" },
        "profile",
        "value",
        `profile: expected one of "conservative", "balanced", "aggressive", "cost-optimized" or "none", got "balancd"`
      ))

    it.effect("11. a policy's own profile that does not exist", () =>
      failsWith(native({ profile: "fast" }), "policies.p.profile", "value", `got "fast"`))

    it.effect("12. failureRate out of (0, 1]", () =>
      Effect.gen(function*() {
        const trip = (failureRate: number) =>
          native({ circuitBreaker: { policy: { kind: "countWindow", size: 10, failureRate, minimumCalls: 5 } } })
        yield* failsWith(trip(0), "policies.p.circuitBreaker.policy.failureRate", "value", "a number in (0, 1], got 0")
        yield* failsWith(trip(1.5), "policies.p.circuitBreaker.policy.failureRate", "value", "got 1.5")
      }))

    it.effect("13. minimumCalls larger than the count window", () =>
      failsWith(
        native({ circuitBreaker: { policy: { kind: "countWindow", size: 5, failureRate: 0.5, minimumCalls: 10 } } }),
        "policies.p.circuitBreaker.policy.minimumCalls",
        "value",
        "an integer in [1, size] (size is 5), got 10"
      ))

    it.effect("14. an unknown or missing trip policy kind", () =>
      Effect.gen(function*() {
        yield* failsWith(
          native({ circuitBreaker: { policy: { kind: "sliding" } } }),
          "policies.p.circuitBreaker.policy.kind",
          "value",
          `one of "consecutive", "countWindow" or "timeWindow", got "sliding"`
        )
        yield* failsWith(
          native({ circuitBreaker: { policy: { failures: 3 }, resetTimeout: "1 second" } }, "none"),
          "policies.p.circuitBreaker.policy.kind",
          "missing"
        )
      }))

    it.effect("15. a missing required field when no profile provides it", () =>
      failsWith(
        native({ circuitBreaker: { policy: { kind: "consecutive", failures: 3 } } }, "none"),
        "policies.p.circuitBreaker.resetTimeout",
        "missing",
        "policies.p.circuitBreaker.resetTimeout: missing, expected a duration > 0"
      ))

    it.effect("16. backoff max below base, and a factor on a constant backoff", () =>
      Effect.gen(function*() {
        yield* failsWith(
          native({ retry: { backoff: { base: "2 seconds", max: "1 second" } } }),
          "policies.p.retry.backoff.max",
          "value",
          `>= base (2000 ms), got "1 second"`
        )
        yield* failsWith(
          native({ retry: { backoff: { kind: "constant", base: "1 second", factor: 3 } } }),
          "policies.p.retry.backoff.factor",
          "value",
          `it applies to kind "exponential" only`
        )
      }))

    it.effect("17. a decorrelated backoff without max; a linear one with decorrelated jitter; an unknown jitter", () =>
      Effect.gen(function*() {
        yield* failsWith(
          native({ retry: { backoff: { kind: "decorrelated", base: "100 millis" } } }),
          "policies.p.retry.backoff.max",
          "missing",
          "needs a cap"
        )
        yield* failsWith(
          native({ retry: { backoff: { kind: "linear", base: "100 millis", jitter: "decorrelated" } } }),
          "policies.p.retry.backoff.jitter",
          "value"
        )
        yield* failsWith(native({ retry: { backoff: { jitter: "ful" } } }), "policies.p.retry.backoff.jitter", "value", `got "ful"`)
      }))

    it.effect("18. maxResetTimeout below resetTimeout; slowCall on a consecutive policy", () =>
      Effect.gen(function*() {
        yield* failsWith(
          native({ circuitBreaker: { resetTimeout: "30 seconds", maxResetTimeout: "10 seconds" } }),
          "policies.p.circuitBreaker.maxResetTimeout",
          "value",
          `a duration >= resetTimeout (30000 ms), got "10 seconds"`
        )
        yield* failsWith(
          native({ circuitBreaker: { slowCall: { threshold: "1 second", rate: 0.5 } } }),
          "policies.p.circuitBreaker.slowCall",
          "value",
          "slow-call rates need"
        )
      }))

    it.effect("19. totalTimeout below the attempt timeout", () =>
      failsWith(
        native({ timeout: "5 seconds", totalTimeout: "2 seconds" }),
        "policies.p.totalTimeout",
        "value",
        `a duration >= timeout (5000 ms), got "2 seconds"`
      ))

    it.effect("20. legacy retry: max_delay below initial_delay, backoff_factor < 1, negative max_retries", () =>
      Effect.gen(function*() {
        yield* failsWith(
          { retry_policies: { kafka: { initial_delay: 2, max_delay: 1 } } },
          "retry_policies.kafka.max_delay",
          "value",
          ">= base (2000 ms), got 1"
        )
        yield* failsWith({ retry_policies: { kafka: { backoff_factor: 0.5 } } }, "retry_policies.kafka.backoff_factor", "value", "a finite number >= 1")
        yield* failsWith({ retry_policies: { kafka: { max_retries: -1 } } }, "retry_policies.kafka.max_retries", "value", "an integer >= 0")
      }))

    it.effect("21. bulkhead, hedge and rate limit ranges", () =>
      Effect.gen(function*() {
        yield* failsWith(native({ bulkhead: { maxQueue: -1 } }), "policies.p.bulkhead.maxQueue", "value", "an integer >= 0, got -1")
        yield* failsWith(native({ bulkhead: { maxConcurrent: 0 } }), "policies.p.bulkhead.maxConcurrent", "value", "got 0")
        yield* failsWith(native({ hedge: { delay: "10 millis", maxAttempts: 0 } }), "policies.p.hedge.maxAttempts", "value")
        yield* failsWith(
          native({ rateLimit: { algorithm: "leaky-bucket", limit: 1, window: "1 second" } }),
          "policies.p.rateLimit.algorithm",
          "value",
          `one of "token-bucket" or "fixed-window", got "leaky-bucket"`
        )
      }))

    it.effect("22. a policy that is not an object; a block of the wrong type", () =>
      Effect.gen(function*() {
        yield* failsWith(native("fast"), "policies.p", "type", "an object with keys timeout")
        yield* failsWith(native({ retry: 3 }), "policies.p.retry", "type", "got 3")
      }))

    it.effect("23. a name defined both natively and in a legacy section", () =>
      failsWith(
        { policies: { kafka: { timeout: "1 second" } }, timeouts: { kafka: 2 } },
        "policies.kafka",
        "conflict",
        "defined twice",
        "timeouts"
      ))

    it.effect("24. every problem is reported at once", () =>
      Effect.gen(function*() {
        const error = yield* failsWith(
          {
            profile: "fast",
            circuit_breakers: { a: { failure_threshold: 0 } },
            policies: { p: { timeout: "x" }, q: { retry: { maxAttempts: 0 } } }
          },
          "profile",
          "value",
          "4 problems in the resilience config"
        )
        assert.deepStrictEqual(error.issues.map((i) => i.path).sort(), [
          "circuit_breakers.a.failure_threshold",
          "policies.p.timeout",
          "policies.q.retry.maxAttempts",
          "profile"
        ])
      }))

    it.effect("25. bad YAML syntax, with the line", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.parse("timeouts:\n  db: 1\n bad: [1, 2\n"))
        assert.strictEqual(error.kind, "syntax")
        assert.strictEqual(error.path, "")
        assert.include(error.message, "expected valid YAML at line")
      }))

    it.effect("26. a duplicate YAML key", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.parse("timeouts:\n  db: 1\n  db: 2\n"))
        assert.strictEqual(error.kind, "syntax")
        assert.include(error.message, "line 3")
        assert.include(error.message, "unique")
      }))

    it.effect("27. bad JSON syntax", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.parse(`{"timeouts": {"db": 1,}}`, "json"))
        assert.strictEqual(error.kind, "syntax")
        assert.include(error.message, "expected valid JSON at line 1")
        assert.strictEqual(error.source, undefined)
        const named = yield* Effect.flip(ResilienceConfig.parse(`{"timeouts": {"db": -1}}`, "json", "conf/app.json"))
        assert.strictEqual(named.source, "conf/app.json")
        assert.isTrue(named.message.startsWith("conf/app.json: timeouts.db: "), named.message)
      }))

    it.effect("28. a file that cannot be read", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.load("does/not/exist.yaml"))
        assert.strictEqual(error.kind, "read")
        assert.strictEqual(error.source, "does/not/exist.yaml")
        assert.include(error.message, "does/not/exist.yaml: cannot read the file, expected a readable file (ENOENT")
      }))

    it.effect("29. a policy name the config does not define", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          ResilienceConfig.policy("kafak").pipe(Effect.provide(ResilienceConfig.layer({ timeouts: { kafka: 1, db: 2 } })))
        )
        assert.strictEqual(error.kind, "unknown-policy")
        assert.strictEqual(error.path, "policies.kafak")
        assert.strictEqual(error.value, "kafak")
        assert.strictEqual(
          error.message,
          `policies.kafak: no such policy, expected one of "db", "kafka" (did you mean "kafka"?)`
        )
        const none = yield* Effect.flip(
          ResilienceConfig.policy("x").pipe(Effect.provide(ResilienceConfig.layer({})))
        )
        assert.include(none.message, "this config defines none")
      }))

    it.effect("30. environment: an unknown variable (typo) and a non-numeric number, each named by its variable", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.fromEnv().pipe(env({
          RESILIENCE_POLICIES_SCORING_RETRY_MAX_ATEMPTS: "7",
          RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_SUCCESS_THRESHOLD: "abc",
          RESILIENCE_PROFILE: "fastest"
        })))
        assert.strictEqual(error.source, "environment")
        const byPath = new Map(error.issues.map((i) => [i.path, i]))
        assert.strictEqual(byPath.get("RESILIENCE_POLICIES_SCORING_RETRY_MAX_ATEMPTS")?.kind, "unknown-key")
        assert.include(error.message, "did you mean RESILIENCE_POLICIES_SCORING_RETRY_MAX_ATTEMPTS?")
        assert.strictEqual(byPath.get("RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_SUCCESS_THRESHOLD")?.value, "abc")
        assert.include(error.message, `RESILIENCE_POLICIES_SCORING_CIRCUIT_BREAKER_SUCCESS_THRESHOLD: expected an integer >= 1, got "abc"`)
        assert.strictEqual(byPath.get("RESILIENCE_PROFILE")?.kind, "value")
      }))

    it.effect("31. environment: a missing required field names the variable to set", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(ResilienceConfig.fromEnv().pipe(env({
          RESILIENCE_PROFILE: "none",
          RESILIENCE_POLICIES_DB_BULKHEAD_MAX_QUEUE: "3"
        })))
        assert.strictEqual(error.path, "RESILIENCE_POLICIES_DB_BULKHEAD_MAX_CONCURRENT")
        assert.strictEqual(error.kind, "missing")
      }))
  })
})

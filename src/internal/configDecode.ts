/**
 * The decoding pipeline of a config document:
 *
 * 1. the top level (profile, legacy sections, `policies` as a map), strict;
 * 2. each native policy: its profile resolved, merged over profile and block
 *    defaults (configMerge.ts), then decoded strictly;
 * 3. legacy entries mapped to policy specs (entries of the same name in
 *    several sections form one policy);
 * 4. a name defined both natively and by a legacy section is a conflict.
 *
 * Every issue of every step is collected, so one run reports them all.
 */
import { Duration, Result, Schema } from "effect"
import type { Document, PolicySpec } from "../ResilienceConfig.ts"
import type { RawIssue } from "./configIssues.ts"
import { fromSchemaIssue } from "./configIssues.ts"
import { isPlainObject, resolvePolicy } from "./configMerge.ts"
import * as schema from "./configSchema.ts"
import type { ProfileName } from "./configSchema.ts"
import * as defaults from "./defaults.ts"

export const DocumentTypeId = "~effect-resilience/ResilienceConfig/Document" as const

const decodeShape = Schema.decodeUnknownResult(schema.DocumentShape, schema.parseOptions)
const decodePolicy = Schema.decodeUnknownResult(schema.NativePolicy, schema.parseOptions)
const decodeProfile = Schema.decodeUnknownResult(schema.ProfileNameSchema, schema.parseOptions)

const isProfileName = (u: unknown): u is ProfileName =>
  typeof u === "string" && (schema.profileNames as ReadonlyArray<string>).includes(u)

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** The brand is not enumerable: a document logs and serializes as plain data. */
export const makeDocument = (profile: ProfileName, policies: Readonly<Record<string, PolicySpec>>): Document =>
  Object.defineProperty({ profile, policies }, DocumentTypeId, { value: DocumentTypeId, enumerable: false }) as Document

export const decode = (input: unknown): Result.Result<Document, ReadonlyArray<RawIssue>> => {
  const document = input === null || input === undefined ? {} : input
  const issues: Array<RawIssue> = []

  // 1. top level
  const shape = decodeShape(document)
  if (Result.isFailure(shape)) issues.push(...fromSchemaIssue(shape.failure.issue, [], document))
  const top = isPlainObject(document) ? document : {}
  const profile: ProfileName = isProfileName(top.profile) ? top.profile : defaults.resilienceConfig.profile

  // 2. native policies
  const native: Record<string, PolicySpec> = {}
  const rawPolicies = isPlainObject(top.policies) ? top.policies : {}
  for (const name of Object.keys(rawPolicies)) {
    const raw = rawPolicies[name]
    let own = profile
    if (isPlainObject(raw) && Object.hasOwn(raw, "profile")) {
      const decoded = decodeProfile(raw.profile)
      if (Result.isFailure(decoded)) issues.push(...fromSchemaIssue(decoded.failure.issue, ["policies", name, "profile"]))
      else own = decoded.success
    }
    const resolved = resolvePolicy(raw, own)
    const decoded = decodePolicy(resolved)
    if (Result.isFailure(decoded)) issues.push(...fromSchemaIssue(decoded.failure.issue, ["policies", name], resolved))
    else native[name] = { name, ...decoded.success }
  }

  // 3. legacy sections
  const legacy: Record<string, Mutable<PolicySpec>> = {}
  if (Result.isSuccess(shape)) {
    const entry = (name: string) => (legacy[name] ??= { name })
    for (const [name, b] of Object.entries(shape.success.circuit_breakers ?? {})) {
      // A key left out takes the code default, as in `CircuitBreaker.make`.
      const d = defaults.circuitBreaker
      entry(name).circuitBreaker = {
        policy: { kind: "consecutive", failures: b.failure_threshold ?? d.consecutiveFailures },
        resetTimeout: b.timeout ?? Duration.millis(d.resetTimeoutMillis),
        successThreshold: b.success_threshold ?? d.successThreshold,
        halfOpenMaxCalls: d.halfOpenMaxCalls
      }
    }
    for (const [name, r] of Object.entries(shape.success.retry_policies ?? {})) {
      // As in code: no delay written, the default backoff; some written, `Backoff.exponential` fills the rest.
      const d = defaults.retry
      const written = r.initial_delay !== undefined || r.backoff_factor !== undefined || r.max_delay !== undefined
      entry(name).retry = {
        maxAttempts: r.max_retries === undefined ? d.maxAttempts : r.max_retries + 1,
        backoff: written
          ? {
            kind: "exponential",
            base: r.initial_delay ?? Duration.millis(d.backoffBaseMillis),
            ...(r.backoff_factor === undefined ? {} : { factor: r.backoff_factor }),
            ...(r.max_delay === undefined ? {} : { max: r.max_delay })
          }
          : {
            kind: "exponential",
            base: Duration.millis(d.backoffBaseMillis),
            factor: d.backoffFactor,
            max: Duration.millis(d.backoffMaxMillis),
            jitter: d.backoffJitter
          }
      }
    }
    for (const [name, timeout] of Object.entries(shape.success.timeouts ?? {})) {
      entry(name).timeout = timeout
    }
  }

  // 4. conflicts
  for (const name of Object.keys(legacy)) {
    if (Object.hasOwn(rawPolicies, name)) {
      const sections = ["circuit_breakers", "retry_policies", "timeouts"].filter((section) => {
        const entries = top[section]
        return isPlainObject(entries) && Object.hasOwn(entries, name)
      })
      issues.push({
        kind: "conflict",
        segments: ["policies", name],
        value: name,
        expected: `a name not also used in ${sections.join(", ")} (one policy, one definition)`
      })
    }
  }

  if (issues.length > 0) return Result.fail(issues)
  return Result.succeed(makeDocument(profile, { ...legacy, ...native }))
}

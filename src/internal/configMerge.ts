/**
 * Layers a native policy over its profile and the block defaults, in the
 * config's own (encoded) form, before the policy is decoded. Merging first
 * means every error is reported once, by the Schema, at the path the user
 * wrote (a profile value is valid by construction).
 *
 * Rules:
 * - Objects merge key by key, recursively; any other value replaces.
 * - An object whose `kind` differs from the one below replaces it whole
 *   (a `constant` backoff does not inherit an exponential `factor`).
 * - A block set to `false` is removed, even if the profile has it.
 * - A block comes from: block defaults < profile < policy; it exists only
 *   when the profile or the policy has it.
 * - The block defaults are the code defaults. A backoff written by the
 *   profile or the policy takes only its `kind` from them (exponential when
 *   left out): the fields it leaves out get the `Backoff` constructors' own
 *   defaults, exactly as in code. A profile's backoff is completed by the
 *   policy's fields, as any profile value.
 */
import { blockKeys } from "./configSchema.ts"
import type { ProfileName } from "./configSchema.ts"
import * as defaults from "./defaults.ts"

export const isPlainObject = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

export const mergeDeep = (base: unknown, over: unknown): unknown => {
  if (!isPlainObject(base) || !isPlainObject(over)) return over
  if ("kind" in base && "kind" in over && base.kind !== over.kind) return over
  const out: Record<string, unknown> = { ...base }
  for (const key of Object.keys(over)) {
    out[key] = Object.hasOwn(base, key) ? mergeDeep(base[key], over[key]) : over[key]
  }
  return out
}

const withBlockDefaults = (blockDefault: unknown, written: unknown): unknown => {
  if (!isPlainObject(blockDefault) || !isPlainObject(written)) return mergeDeep(blockDefault, written)
  const backoff = blockDefault.backoff
  if (!isPlainObject(backoff) || !isPlainObject(written.backoff)) return mergeDeep(blockDefault, written)
  return mergeDeep({ ...blockDefault, backoff: { kind: backoff.kind } }, written)
}

/**
 * The policy as the Schema will see it. A policy that is not an object is
 * returned as is (the Schema reports its type); its `profile` key is dropped
 * (it is validated and resolved before this).
 */
export const resolvePolicy = (raw: unknown, profile: ProfileName): unknown => {
  if (!isPlainObject(raw)) return raw
  const profileBlocks: Readonly<Record<string, unknown>> = defaults.resilienceConfig.profiles[profile]
  const blockDefaults: Readonly<Record<string, unknown>> = defaults.resilienceConfig.blocks
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(raw)) {
    if (key !== "profile" && !(blockKeys as ReadonlyArray<string>).includes(key)) out[key] = raw[key]
  }
  for (const block of blockKeys) {
    const own = raw[block]
    if (own === false) continue
    const fromProfile = profileBlocks[block]
    if (own === undefined && fromProfile === undefined) continue
    const written = fromProfile === undefined ? own : own === undefined ? fromProfile : mergeDeep(fromProfile, own)
    out[block] = withBlockDefaults(blockDefaults[block], written)
  }
  return out
}

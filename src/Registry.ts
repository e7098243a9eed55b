/**
 * The registry of live policies: every policy built while a registry is
 * provided registers itself (name, kind, a live snapshot of its state) and
 * leaves when the scope that built it closes. Health views and telemetry
 * read it; without a registry, policies register nowhere and pay nothing.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { Scope } from "effect/Scope"

/**
 * One live policy.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Registry } from "effect-resilience"
 *
 * const entry: Registry.Entry = { name: "nightly-export", kind: "job", snapshot: Effect.succeed({ running: false }) }
 * const registered = Registry.register(entry) // for the life of the scope
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface Entry {
  readonly name: string
  /** e.g. `"policy"`, `"circuit-breaker"`, `"bulkhead"`. */
  readonly kind: string
  /** The policy's current state as plain data (JSON-friendly). */
  readonly snapshot: Effect.Effect<unknown>
}

/**
 * The registry service.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Registry } from "effect-resilience"
 *
 * const names = Effect.gen(function*() {
 *   const registry = yield* Registry.PolicyRegistry
 *   return (yield* registry.entries).map((entry) => entry.name)
 * })
 * ```
 *
 * @category services
 * @since 0.1.0
 */
export class PolicyRegistry extends Context.Service<PolicyRegistry, {
  /** Adds an entry for the life of the current scope. */
  readonly register: (entry: Entry) => Effect.Effect<void, never, Scope>
  /** The live entries, in registration order. */
  readonly entries: Effect.Effect<ReadonlyArray<Entry>>
}>()("effect-resilience/Registry") {}

/**
 * An in-memory registry.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Registry } from "effect-resilience"
 *
 * declare const PoliciesLive: Layer.Layer<never, never, Registry.PolicyRegistry>
 *
 * const App = PoliciesLive.pipe(Layer.provideMerge(Registry.layer))
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<PolicyRegistry> = Layer.sync(PolicyRegistry, () => {
  const live = new Set<Entry>()
  return PolicyRegistry.of({
    register: (entry) =>
      Effect.acquireRelease(Effect.sync(() => void live.add(entry)), () => Effect.sync(() => void live.delete(entry))),
    entries: Effect.sync(() => Array.from(live))
  })
})

/**
 * Registers an entry in the registry if one is provided; does nothing
 * otherwise.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Registry } from "effect-resilience"
 *
 * const program = Registry.register({ name: "db", kind: "custom", snapshot: Effect.succeed({ ok: true }) })
 * ```
 *
 * @category registration
 * @since 0.1.0
 */
export const register = (entry: Entry): Effect.Effect<void, never, Scope> =>
  Effect.flatMap(Effect.serviceOption(PolicyRegistry), (registry) =>
    registry._tag === "Some" ? registry.value.register(entry) : Effect.void)

/**
 * Snapshots of every live policy, as `{ name, kind, state }`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Registry } from "effect-resilience"
 *
 * const health = Registry.snapshot.pipe(Effect.map((entries) => JSON.stringify(entries)))
 * ```
 *
 * @category registration
 * @since 0.1.0
 */
export const snapshot: Effect.Effect<
  ReadonlyArray<{ readonly name: string; readonly kind: string; readonly state: unknown }>,
  never,
  PolicyRegistry
> = Effect.flatMap(
  Effect.flatMap(Effect.service(PolicyRegistry), (registry) => registry.entries),
  (entries) =>
    Effect.forEach(entries, (entry) => Effect.map(entry.snapshot, (state) => ({ name: entry.name, kind: entry.kind, state })))
)

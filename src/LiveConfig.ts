/**
 * Policies that follow their config file: edit the file and the running
 * policy takes the new thresholds, timeouts and limits in place
 * (`Policy.reconfigure`), keeping its breaker state and bulkhead occupancy.
 * A change that does not decode, or that `Policy.reconfigure` refuses, is
 * logged and reported (`ReconfigureRefused`), and the last good settings stay
 * in force.
 *
 * The file is read and watched through Effect's `FileSystem` service: on Node,
 * provide `NodeFileSystem.layer` from `@effect/platform-node` (an optional
 * peer dependency this module does not import). See docs/configuration.md,
 * "Live reload".
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, FileSystem, Layer } from "effect"
import type { PlatformError } from "effect/PlatformError"
import type { Stream } from "effect"
import type { InvalidConfigError } from "./Errors.ts"
import { formatOf } from "./internal/configDecode.ts"
import * as internal from "./internal/liveConfig.ts"
import * as validate from "./internal/validate.ts"
import type * as Policy from "./Policy.ts"
import * as ResilienceConfig from "./ResilienceConfig.ts"

/**
 * Options of {@link watch} and {@link layerPolicy}.
 *
 * @example
 * ```ts
 * import type { LiveConfig } from "effect-resilience"
 *
 * const options: LiveConfig.WatchOptions = { format: "yaml", debounce: "250 millis" }
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export interface WatchOptions {
  /** `yaml` or `json`; by default from the extension (`.json` is JSON, anything else YAML). */
  readonly format?: "yaml" | "json" | undefined
  /** Quiet time after a file event before the file is read (one save is often several events). Default 100 ms. */
  readonly debounce?: Duration.Input | undefined
}

/**
 * One reading of the file: its decoded document, or why it could not be read
 * or decoded.
 *
 * @example
 * ```ts
 * import { Result } from "effect"
 * import type { LiveConfig } from "effect-resilience"
 *
 * const describe = (reading: LiveConfig.Reading): string =>
 *   Result.isSuccess(reading) ? `${Object.keys(reading.success.policies).length} policies` : String(reading.failure)
 * ```
 *
 * @category models
 * @since 0.1.0
 */
export type Reading = internal.Reading

/**
 * The config file as a stream of readings: the file as it is once the watch
 * is installed, then the file after each change (a text equal to the last one
 * read is skipped). Reading errors are elements, not failures: the stream
 * fails only if the watch itself does (or with `InvalidConfigError` for bad
 * options).
 *
 * **Details**
 *
 * Watches the file's directory and keeps the events of the file's name, so a
 * file replaced by a rename (as editors and deploy tools do) stays watched.
 *
 * @example
 * ```ts
 * import { Effect, Result, Stream } from "effect"
 * import { LiveConfig } from "effect-resilience"
 *
 * const names = LiveConfig.watch("config/resilience.yaml").pipe(
 *   Stream.map((reading) => Result.isSuccess(reading) ? Object.keys(reading.success.policies) : [])
 * )
 * ```
 *
 * @category watching
 * @since 0.1.0
 */
export const watch = (
  path: string,
  options?: WatchOptions
): Stream.Stream<Reading, PlatformError | InvalidConfigError, FileSystem.FileSystem> => internal.readings(path, options, undefined)

/**
 * Keeps `policy` in step with the entry `name` of each reading: each good one
 * is applied with `Policy.reconfigure`; a bad one (unreadable, undecodable,
 * no entry `name`, or refused by `Policy.reconfigure`) is logged and reported
 * as `ReconfigureRefused`, and the settings in force stay. Runs until the
 * stream ends.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { LiveConfig, Policy } from "effect-resilience"
 *
 * declare const policy: Policy.Policy
 *
 * const following = LiveConfig.follow(policy, "scoring", LiveConfig.watch("config/resilience.yaml")).pipe(Effect.forkScoped)
 * ```
 *
 * @category watching
 * @since 0.1.0
 */
export const follow: <E, R>(
  policy: Policy.Policy<any>,
  name: string,
  readings: Stream.Stream<Reading, E, R>
) => Effect.Effect<void, E, R> = internal.follow

/**
 * Provides the policy `name` of a config file, built as
 * `ResilienceConfig.layerPolicy` builds it, and kept in step with the file for
 * the life of the layer ({@link follow}). The layer fails if the file cannot
 * be read or decoded at start; later bad changes are only refused.
 *
 * **Example** (Scoring's policy follows its file)
 *
 * ```ts
 * import { Context, type FileSystem, Layer } from "effect"
 * import { LiveConfig, Policy } from "effect-resilience"
 *
 * declare const NodeFileSystemLayer: Layer.Layer<FileSystem.FileSystem> // NodeFileSystem.layer from @effect/platform-node
 *
 * class ScoringPolicy extends Context.Service<ScoringPolicy, Policy.Policy>()("app/ScoringPolicy") {}
 *
 * const ScoringLive = LiveConfig.layerPolicy(ScoringPolicy, "scoring", "config/resilience.yaml").pipe(
 *   Layer.provide(NodeFileSystemLayer)
 * )
 * ```
 *
 * @category layers
 * @since 0.1.0
 */
export const layerPolicy = <I>(
  tag: Context.Key<I, Policy.Policy>,
  name: string,
  path: string,
  options?: WatchOptions
): Layer.Layer<I, ResilienceConfig.ResilienceConfigError | InvalidConfigError, FileSystem.FileSystem> =>
  Layer.effect(
    tag,
    Effect.gen(function*() {
      yield* validate.attempt(() => internal.debounceMillis("LiveConfig.layerPolicy", options))
      const fs = yield* FileSystem.FileSystem
      const text = yield* Effect.mapError(fs.readFileString(path), (error) => readError(path, error))
      const document = yield* ResilienceConfig.parse(text, formatOf(path, options?.format), path)
      const built = yield* Layer.build(ResilienceConfig.layerPolicy(tag, name).pipe(Layer.provide(ResilienceConfig.layer(document))))
      const policy = Context.get(built, tag)
      yield* internal.follow(policy, name, internal.readings(path, options, text)).pipe(
        Effect.catchCause((cause) => Effect.logError(`"${name}" no longer follows ${path}: the watch ended`, cause)),
        Effect.forkScoped
      )
      return policy
    })
  )

const readError = (path: string, error: PlatformError): ResilienceConfig.ResilienceConfigError => {
  const issue = { kind: "read" as const, path: "", value: path, expected: `a readable file (${error.message})` }
  return new ResilienceConfig.ResilienceConfigError({ ...issue, issues: [issue], source: path })
}

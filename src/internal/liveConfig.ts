/**
 * A config file as a stream of documents, and a policy kept in step with it.
 *
 * The file is watched through Effect's `FileSystem` service (Node's comes
 * from `@effect/platform-node`'s `NodeFileSystem.layer`; tests give their
 * own), so this module imports no platform. The watch is on the file's
 * directory, filtered by the file's name: editors and deploy tools that
 * replace the file (write a temporary one, rename it over) would end a watch
 * on the file itself. A burst of events (one save is often several) is read
 * once, after `debounce` of quiet; a text equal to the last one read is not
 * decoded again. The first read happens once the watcher is installed, so no
 * change between the first read and the watch can be missed.
 */
import { Deferred, Duration, Effect, Exit, FileSystem, Result, Stream } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { ResilienceEvent } from "../Events.ts"
import * as Errors from "../Errors.ts"
import * as Policy from "../Policy.ts"
import * as ResilienceConfig from "../ResilienceConfig.ts"
import { type Format, formatOf } from "./configDecode.ts"
import * as defaults from "./defaults.ts"
import { emit } from "./events.ts"
import * as validate from "./validate.ts"

export interface WatchOptions {
  readonly format?: Format | undefined
  readonly debounce?: Duration.Input | undefined
}

export type Reading = Result.Result<ResilienceConfig.Document, ResilienceConfig.ResilienceConfigError | PlatformError>

const separator = (path: string): number => Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"))

const directoryOf = (path: string): string => {
  const at = separator(path)
  return at < 0 ? "." : at === 0 ? path.slice(0, 1) : path.slice(0, at)
}

const baseName = (path: string): string => path.slice(separator(path) + 1)

export const debounceMillis = (source: string, options: WatchOptions | undefined): number =>
  validate.durationMillisOr(source, "debounce", options?.debounce, defaults.liveConfig.debounceMillis)

/**
 * The file's document now (once the watcher is installed) and after each
 * change; `seed`, the text already in force, is not read as a change.
 */
export const readings = (
  path: string,
  options: WatchOptions | undefined,
  seed: string | undefined
): Stream.Stream<Reading, PlatformError | Errors.InvalidConfigError, FileSystem.FileSystem> =>
  Stream.unwrap(Effect.gen(function*() {
    const debounce = yield* validate.attempt(() => debounceMillis("LiveConfig.watch", options))
    const fs = yield* FileSystem.FileSystem
    const ready = yield* Deferred.make<void>()
    const name = baseName(path)
    const format = formatOf(path, options?.format)
    const changes = fs.watch(directoryOf(path), { onReady: () => void Deferred.doneUnsafe(ready, Exit.void) }).pipe(
      Stream.filter((event) => baseName(event.path) === name)
    )
    return Stream.merge(Stream.fromEffect(Deferred.await(ready)), changes).pipe(
      Stream.debounce(debounce),
      Stream.mapEffect(() => Effect.result(fs.readFileString(path))),
      Stream.mapAccum(
        () => seed,
        (last, read): readonly [string | undefined, ReadonlyArray<Result.Result<string, PlatformError>>] =>
          Result.isFailure(read) ? [last, [read]] : read.success === last ? [last, []] : [read.success, [read]]
      ),
      Stream.mapEffect((read): Effect.Effect<Reading> =>
        Result.isFailure(read) ? Effect.succeed(Result.fail(read.failure)) : Effect.result(ResilienceConfig.parse(read.success, format, path))
      )
    )
  }))

/**
 * Applies each reading to `policy` (its entry `name`); a bad one is logged and
 * reported (`ReconfigureRefused`), and the settings in force stay.
 */
export const follow = <E, R>(
  policy: Policy.Policy<any>,
  name: string,
  readings: Stream.Stream<Reading, E, R>
): Effect.Effect<void, E, R> =>
  Stream.runForEach(readings, (reading) => {
    const applied = Result.isFailure(reading)
      ? Effect.fail(reading.failure)
      : Effect.flatMap(
        Effect.provide(ResilienceConfig.policy(name), ResilienceConfig.layer(reading.success)),
        (entry) => Policy.reconfigure(policy, entry)
      )
    return Effect.catch(applied, (error: unknown) => {
      const logged = Effect.logWarning(`"${policy.name}" keeps its settings: the new config was refused: ${String(error)}`)
      // Policy.reconfigure reports its own refusals
      return Errors.isInvalidConfigError(error)
        ? logged
        : Effect.andThen(emit((timestamp) => ResilienceEvent.ReconfigureRefused({ name: policy.name, timestamp, error })), logged)
    })
  })

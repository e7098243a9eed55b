import { Data } from "effect"

/**
 * `Data.TaggedError` for the library's own errors. Two differences, both for
 * the reader of a log:
 *
 * - no stack trace is captured: a rejection is raised inside the fiber loop, so
 *   its frames only point into the library, and capturing them costs more than
 *   the rejection itself; `stack` still reads `Tag: message`;
 * - `toJSON` (what `Effect.logError` and `util.inspect` print) carries the
 *   message first, then the fields.
 */
export const TaggedError = <Tag extends string>(tag: Tag): ReturnType<typeof Data.TaggedError<Tag>> => {
  class Base extends Data.TaggedError(tag)<Record<string, unknown>> {
    constructor(args: Record<string, unknown>) {
      const limit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
      try {
        super(args)
      } finally {
        Error.stackTraceLimit = limit
      }
    }
    override toJSON(): unknown {
      return Object.assign({ _tag: this._tag, message: this.message }, this)
    }
  }
  return Base as unknown as ReturnType<typeof Data.TaggedError<Tag>>
}

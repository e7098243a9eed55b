/**
 * The dead-letter queue's errors, and the one-line descriptions their
 * messages and the entries use. They live here, not in the public module,
 * so that the machinery can raise them without importing the public module
 * by value (src/DeadLetterQueue.ts re-exports them with their docs).
 */
import { Cause, Predicate } from "effect"
import { guard, TaggedError } from "./errors.ts"

export class DeadLetterQueueFullError extends TaggedError("DeadLetterQueueFullError")<{
  readonly policy: string
  readonly capacity: number
}> {
  override get message(): string {
    return `dead-letter queue "${this.policy}" is full (capacity ${this.capacity})`
  }
}

export const isDeadLetterQueueFullError = guard<DeadLetterQueueFullError>("DeadLetterQueueFullError")

export class DeadLetterStoreError extends TaggedError("DeadLetterStoreError")<{
  readonly policy: string
  readonly operation: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `dead-letter store of "${this.policy}" failed to ${this.operation}: ${describe(this.cause)}`
  }
}

export const isDeadLetterStoreError = guard<DeadLetterStoreError>("DeadLetterStoreError")

/** One line per reason: the typed failure, the defect (`"defect: ..."`) or `"interrupted"`. */
export const describeCause = (cause: Cause.Cause<unknown>): string => {
  const parts: Array<string> = []
  for (const reason of cause.reasons) {
    if (Cause.isFailReason(reason)) parts.push(describe(reason.error))
    else if (Cause.isDieReason(reason)) parts.push(`defect: ${describe(reason.defect)}`)
    else parts.push("interrupted")
  }
  return parts.length === 0 ? "no error" : parts.join("; ")
}

/** A readable one-line description of any error value. */
export const describe = (error: unknown): string => {
  if (typeof error === "string") return error
  if (error instanceof Error) {
    const label = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : error.name
    if (error.message !== "") return `${label}: ${error.message}`
    const fields = ownFields(error)
    return fields === undefined ? label : `${label} ${fields}`
  }
  if (Predicate.isObject(error)) {
    const label = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : undefined
    const fields = ownFields(error)
    return [label, fields].filter((s) => s !== undefined).join(" ") || String(error)
  }
  return String(error)
}

const ownFields = (value: object): string | undefined => {
  const fields = Object.entries(value).filter(([key]) => key !== "_tag" && key !== "stack")
  if (fields.length === 0) return undefined
  try {
    return JSON.stringify(Object.fromEntries(fields))
  } catch {
    return undefined
  }
}

/**
 * The `Clock` of a fiber, looked up once per context. A context lookup costs
 * about half a clock read, and a policy that reads the time on every call
 * (a time window, a latency sample) runs in the same context call after
 * call. Contexts are immutable, so the same context means the same `Clock`.
 * Each policy instance owns its cache (no module-level state); a fiber in
 * another context just looks its clock up again.
 */
import { Clock, type Fiber } from "effect"

export class ClockCache {
  private context: unknown = undefined
  private clock: Clock.Clock | undefined = undefined

  of(fiber: Fiber.Fiber<unknown, unknown>): Clock.Clock {
    const context = fiber.context
    if (context === this.context) return this.clock!
    const clock = fiber.getRef(Clock.Clock)
    this.context = context
    this.clock = clock
    return clock
  }
}

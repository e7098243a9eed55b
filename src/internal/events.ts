/**
 * Emission side of the event channel. A policy hands a builder, not an
 * event: when nobody listens the builder never runs, so no event object and
 * no clock read are paid for.
 */
import { Clock, Effect } from "effect"
import { type ResilienceEvent, ResilienceEvents } from "../Events.ts"

export const emit = (build: (timestamp: number) => ResilienceEvent): Effect.Effect<void> =>
  Effect.flatMap(Effect.service(ResilienceEvents), (listener) =>
    listener === undefined
      ? Effect.void
      : Effect.flatMap(Clock.currentTimeMillis, (now) => listener(build(now))))

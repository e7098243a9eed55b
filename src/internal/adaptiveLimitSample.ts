/** What a finished call tells an adaptive limit algorithm. */
export interface Sample {
  /** How long the call took, in milliseconds (from `Clock`). */
  readonly rttMillis: number
  /** Calls in flight when this one was admitted, itself included. */
  readonly inFlight: number
  /** The call failed in a way that signals overload (see `isDropped`). */
  readonly dropped: boolean
  /** When the call ended, in milliseconds (from `Clock`). */
  readonly atMillis: number
}

/**
 * The in-memory circuit breaker store, and the contract every store keeps.
 *
 * A store owns the state of the circuits of one breaker (a `Table`). The
 * breaker never writes a state itself: it reads a circuit's local view
 * (`Cell.state`, synchronously, on every call) and asks the table to admit,
 * record and update, all synchronously, so the Closed-state success path
 * makes no Effect round trip. Decisions come from the pure machine
 * (`circuitBreakerMachine.ts`); the memory store applies them in place.
 *
 * A remote store (Redis) keeps the same synchronous surface local-first: its
 * cells are a local view of the shared state, `record` steps the local view
 * and queues the outcome for a batched write, and a background fiber of the
 * store's layer merges the shared state back into the views (docs/circuit-breaker.md,
 * "Stores").
 */
import { Context, Effect } from "effect"
import * as machine from "./circuitBreakerMachine.ts"
import type { Window } from "./circuitBreakerWindow.ts"

/** One circuit as its store keeps it. */
export class Cell {
  /** Calls rejected by this circuit (`stats.rejected`). */
  rejected = 0
  constructor(
    /** `undefined` for the single circuit of a plain breaker. */
    readonly key: string | undefined,
    /** The local view: the breaker reads it; only the store writes it. */
    public state: machine.State,
    /**
     * The calls of the state's generation, updated in place by the store
     * (`machine.complete`) and started afresh on each transition
     * (`machine.carry`); replaced by one of the new shape when a
     * reconfiguration changes it (`Table.reconfigure`).
     */
    public window: Window,
    /**
     * Last use, in ms since the store's table was made: a small integer,
     * which V8 keeps in the object instead of a boxed double per circuit.
     */
    public lastUsed: number
  ) {}
}

export interface TableOptions {
  /** The breaker's name (keys of a keyed breaker are its circuits). */
  readonly name: string
  readonly config: machine.Config
  /** Keyed breakers: a circuit unused this long may be dropped. `Infinity` for a plain breaker. */
  readonly idleMillis: number
  readonly now: number
  /**
   * The length of the `openings`-th consecutive opening begun at `since` (the
   * breaker's reset schedule): for a remote store that learns of an opening
   * it did not decide itself. The memory store never needs it.
   */
  readonly openMillis?: ((openings: number, since: number) => Effect.Effect<number>) | undefined
  /**
   * Reports a change of a circuit's local view that the store made on its own
   * (a remote store merging the shared state): the breaker's events and
   * `changes`, as for its own transitions.
   */
  readonly onChange?: ((cell: Cell, from: machine.State, to: machine.State) => Effect.Effect<void>) | undefined
}

/** The circuits of one breaker in a store. Every operation is synchronous. */
export interface Table {
  /** The circuit of `key`, made on first use and marked used at `now`. */
  readonly circuit: (key: string | undefined, now: number) => Cell
  /** The circuit of `key` if there is one; marks nothing. */
  readonly find: (key: string | undefined) => Cell | undefined
  /** Admits or rejects a call on a circuit that is not Closed or Disabled; the cell's state is the state after. */
  readonly admit: (cell: Cell, now: number) => machine.Admission
  /** Records the outcome of a call admitted in `generation`; returns the state after. */
  readonly record: (
    cell: Cell,
    generation: number,
    outcome: machine.Outcome,
    slow: boolean,
    time: machine.Time
  ) => machine.State
  /** Applies a change decided by the breaker (admin, the length of an opening); returns the state after. */
  readonly update: (cell: Cell, f: (state: machine.State) => machine.State) => machine.State
  readonly keys: () => Array<string>
  /** Drops circuits idle since `now - idleMillis` whose dropping lets no traffic through early; returns how many. */
  readonly sweep: (now: number) => number
  /**
   * Puts a new decision config in force for every circuit, keeping each
   * one's state; a window of another shape (`machine.sameWindow`) starts
   * empty. Optional: a store without it refuses `Policy.reconfigure` of its
   * breakers' thresholds.
   */
  readonly reconfigure?: ((config: machine.Config) => void) | undefined
}

/**
 * A circuit idle since `limit` may be dropped unless it runs probes, is
 * forced open or disabled, or stays open past `limit`: dropping it would let
 * traffic through (or lose an admin decision) early.
 */
export const droppable = (state: machine.State, limit: number): boolean =>
  !(state._tag === "ForcedOpen" || state._tag === "Disabled" ||
    (state._tag === "HalfOpen" && state.probes > 0) ||
    (state._tag === "Open" && state.openUntil > limit))

export const makeMemoryTable = (options: TableOptions): Table => {
  const idleMillis = options.idleMillis
  let config = options.config
  const circuits = new Map<string, Cell>()
  let single: Cell | undefined
  const base = options.now
  // States are immutable, so every circuit starts from this one: a circuit of
  // a keyed breaker is Closed since the breaker was made until its first
  // transition, and an idle circuit carries no state of its own.
  const fresh = machine.initial(config, base)
  const make = (key: string | undefined, now: number) => new Cell(key, fresh, machine.makeWindow(config.trip), now - base)
  let lastSweep = base
  const sweepEvery = idleMillis / 4
  const sweep = (now: number): number => {
    lastSweep = now
    const limit = now - idleMillis
    const limitUsed = limit - base
    let evicted = 0
    for (const [key, cell] of circuits) {
      if (cell.lastUsed > limitUsed || !droppable(cell.state, limit)) continue
      circuits.delete(key)
      evicted++
    }
    return evicted
  }
  return {
    circuit: (key, now) => {
      if (key === undefined) {
        if (single === undefined) single = make(undefined, now)
        return single
      }
      if (now - lastSweep >= sweepEvery) sweep(now)
      let cell = circuits.get(key)
      if (cell === undefined) {
        cell = make(key, now)
        circuits.set(key, cell)
      } else {
        cell.lastUsed = now - base
      }
      return cell
    },
    find: (key) => key === undefined ? single : circuits.get(key),
    admit: (cell, now) => {
      const state = cell.state
      const [next, admission] = machine.admit(config, state, now)
      cell.state = machine.carry(cell.window, state, next)
      return admission
    },
    record: (cell, generation, outcome, slow, time) => {
      const state = cell.state
      return cell.state = machine.carry(
        cell.window,
        state,
        machine.complete(config, state, cell.window, generation, outcome, slow, time)
      )
    },
    update: (cell, f) => {
      const state = cell.state
      return cell.state = machine.carry(cell.window, state, f(state))
    },
    keys: () => Array.from(circuits.keys()),
    sweep,
    reconfigure: (next) => {
      const reshaped = !machine.sameWindow(config.trip, next.trip)
      config = next
      if (!reshaped) return
      if (single !== undefined) single.window = machine.makeWindow(next.trip)
      for (const cell of circuits.values()) cell.window = machine.makeWindow(next.trip)
    }
  }
}

/** The memory store's service: a fresh table per breaker. */
export const memory = {
  table: (options: TableOptions): Effect.Effect<Table> => Effect.sync(() => makeMemoryTable(options))
}

/** The store service, here so that the breaker reads it without importing the public module (which re-exports it). */
export class CircuitBreakerStore extends Context.Service<CircuitBreakerStore, {
  readonly table: (options: TableOptions) => Effect.Effect<Table>
}>()("effect-resilience/CircuitBreaker/Store") {}

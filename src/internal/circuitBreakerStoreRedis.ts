/**
 * The circuit breaker store on Redis, behind `CircuitBreaker.layerStoreRedis`.
 *
 * Local-first: a circuit's `state` is a local view stepped by the pure
 * machine on every call, synchronously, as in the memory store. What crosses
 * to Redis goes through one background fiber of the store's layer:
 *
 * - Outcomes of Closed calls are counted on the cell and sent every
 *   `flushInterval`, one script call per circuit that had calls (`shared`
 *   mode); the script adds them to the shared window and judges it with the
 *   machine's rules. A replica that tripped on its own outcomes says so in
 *   the same call (in `quorum` mode that is all it sends).
 * - Every shared transition is published on `<prefix>changes`; each replica
 *   merges it into its view (and reports it as a transition of its own
 *   breaker). Script answers carry the shared state too, so a lost message
 *   is repaired by the next flush.
 * - Shared half-open: the shared state stays `Open` past its end, and a
 *   probe needs a lease (a member of `<key>:leases`, scored by its expiry)
 *   taken by the script: at most `halfOpenMaxCalls` over every replica. A
 *   replica asks for one lease as soon as it sees a shared opening, so the
 *   first probe starts without a round trip; a replica that wanted to probe
 *   and held none asks on the next flush. Leases are renewed while their
 *   probe runs and expire when their holder dies.
 * - Every Redis command is bounded by `timeout` on real time (node-redis
 *   queues commands while Redis is away). When one fails, the store falls
 *   back to its local views (counts dropped, no leases needed), logs a
 *   warning, counts it in `resilience_circuit_breaker_store_unavailable_total`,
 *   and asks Redis again every `retryInterval`, merging the shared state back
 *   when it answers.
 *
 * The background work is paced on real time (it paces real I/O); every time
 * it sends comes from the callers' `Clock`, as the machine's do.
 */
import { Clock, type Duration, Effect, Metric, Option, Queue, Scope } from "effect"
import { Redis } from "effect/persistence"
import * as defaults from "./defaults.ts"
import * as machine from "./circuitBreakerMachine.ts"
import { Cell, droppable, type Table, type TableOptions } from "./circuitBreakerStore.ts"
import type { Window } from "./circuitBreakerWindow.ts"
import { stepScript } from "./circuitBreakerStoreRedisScript.ts"
import * as realTime from "./realTime.ts"
import * as validate from "./validate.ts"

export interface RedisStoreOptions {
  /** Prefix of every key and of the pub/sub channel. Default `"effect-resilience:breaker:"`. */
  readonly prefix?: string | undefined
  /** `"shared"` (default): one circuit for every replica; `{ quorum: n }`: every replica opens once `n` replicas have tripped. */
  readonly mode?: "shared" | { readonly quorum: number } | undefined
  /** The longest one Redis command may take. Default 500 ms. */
  readonly timeout?: Duration.Input | undefined
  /** How often outcomes are sent and leases asked for. Default 50 ms. */
  readonly flushInterval?: Duration.Input | undefined
  /** How often Redis is asked again while it does not answer. Default 1 s. */
  readonly retryInterval?: Duration.Input | undefined
  /** How long a probe lease lasts past the opening's end unless renewed. Default 10 s. */
  readonly leaseTimeout?: Duration.Input | undefined
}

interface Config {
  readonly prefix: string
  /** 0 in `shared` mode. */
  readonly quorum: number
  readonly timeoutMillis: number
  readonly flushMillis: number
  readonly retryMillis: number
  readonly leaseMillis: number
}

const source = "CircuitBreaker.layerStoreRedis"

const decode = (options: RedisStoreOptions) =>
  validate.attempt((): Config => {
    validate.options(source, "options", options, true)
    const d = defaults.redisCircuitBreakerStore
    const prefix = options.prefix ?? d.prefix
    if (typeof prefix !== "string") throw validate.invalid(source, "prefix", "a string", prefix)
    const mode = options.mode ?? d.mode
    let quorum = 0
    if (mode !== "shared") {
      if (mode === null || typeof mode !== "object") throw validate.invalid(source, "mode", `"shared" or { quorum: n }`, mode)
      quorum = validate.positiveInt(source, "mode.quorum", mode.quorum)
    }
    return {
      prefix,
      quorum,
      timeoutMillis: validate.positiveDurationMillisOr(source, "timeout", options.timeout, d.timeoutMillis),
      flushMillis: validate.positiveDurationMillisOr(
        source,
        "flushInterval",
        options.flushInterval,
        d.flushIntervalMillis
      ),
      retryMillis: validate.positiveDurationMillisOr(
        source,
        "retryInterval",
        options.retryInterval,
        d.retryIntervalMillis
      ),
      leaseMillis: validate.positiveDurationMillisOr(source, "leaseTimeout", options.leaseTimeout, d.leaseMillis)
    }
  })

/** Counted once per outage, by every store: Redis did not answer and the store fell back to local state. */
export const unavailableTotal = Metric.counter("resilience_circuit_breaker_store_unavailable_total", {
  description: "Times a shared circuit breaker store fell back to local state because Redis did not answer",
  incremental: true
})

/** A circuit of the Redis store: the local view, and what it owes Redis. */
class RedisCell extends Cell {
  /** The shared generation the view reflects. */
  sharedGen = 0
  /** The view's opening is the shared one: probes need leases. */
  shared = false
  // Closed outcomes since the last flush, counted for `sharedGen`.
  calls = 0
  failures = 0
  slowCalls = 0
  /** Failures since the last success. */
  tail = 0
  allFailed = true
  /** This replica tripped on its own outcomes at this time (-1: it did not). */
  tripAt = -1
  /** In the flush list. */
  queued = false
  /** Probe leases held and not used yet, and those of probes running. */
  leases: Array<string> = []
  probing: Array<string> = []
  wantLease = false
  /** The leases held were taken ahead of any call (on learning of the opening), not for a call rejected without one. */
  leaseAhead = false
  /** Real time of the last lease renewal. */
  renewedAt = 0
  constructor(key: string | undefined, state: machine.State, window: Window, lastUsed: number, readonly id: string) {
    super(key, state, window, lastUsed)
  }
  clearCounts(): void {
    this.calls = this.failures = this.slowCalls = this.tail = 0
    this.allFailed = true
    this.tripAt = -1
  }
}

/** Work for the next flush that the synchronous table operations cannot do themselves. */
type Pending =
  | { readonly op: "admin"; readonly cell: RedisCell; readonly tag: machine.Tag }
  | { readonly op: "probed"; readonly cell: RedisCell; readonly gen: number; readonly member: string; readonly outcome: number }

interface Snapshot {
  readonly tag: machine.Tag
  readonly gen: number
  readonly since: number
  readonly until: number
  readonly openings: number
}

interface Breaker {
  readonly options: TableOptions
  readonly cells: Map<string | undefined, RedisCell>
  /** Circuits with outcomes (or a first read) to send. */
  readonly active: Array<RedisCell>
  readonly pending: Array<Pending>
  /** The length of a first opening, until the one of the opening's own number is known. */
  readonly firstMillis: number
}

const encode = encodeURIComponent

/** The shared-window parameters of a trip policy, as the script reads them: kind, p1, rate, minimum, bucket. */
const tripArgs = (trip: machine.Trip): ReadonlyArray<number> => {
  switch (trip._tag) {
    case "Consecutive":
      return [0, trip.failures, 1, 1, 1]
    case "CountWindow":
      return [1, trip.size, trip.failureRate, trip.minimumCalls, 1]
    case "TimeWindow":
      return [2, trip.windowMillis, trip.failureRate, trip.minimumCalls, trip.windowMillis / trip.buckets]
  }
}

class StoreFailure {
  constructor(readonly message: string, readonly cause?: unknown) {}
}

export const make = (options: RedisStoreOptions = {}) =>
  Effect.gen(function*() {
    const config = yield* decode(options)
    const redis = yield* Redis.Redis
    const channel = `${config.prefix}changes`
    // Names this replica's leases and quorum trips (no `process`: the main entry runs outside Node too).
    const holder = globalThis.crypto.randomUUID()
    const step = redis.eval(stepScript)
    const breakers: Array<Breaker> = []
    const byId = new Map<string, { readonly breaker: Breaker; readonly cell: RedisCell }>()
    let available = true
    let retryAt = 0

    const bounded = <A>(what: string, effect: Effect.Effect<A, Redis.RedisError>): Effect.Effect<A, StoreFailure> =>
      realTime.timeout(
        Effect.mapError(effect, (error) => new StoreFailure(`Redis failed ${what}`, error.cause)),
        config.timeoutMillis,
        () => new StoreFailure(`Redis did not answer ${what} within ${config.timeoutMillis} ms`)
      )

    /** The shared state, merged into the view; reports the change through the breaker. */
    const merge = (breaker: Breaker, cell: RedisCell, snapshot: Snapshot): Effect.Effect<void> => {
      const from = cell.state
      if (snapshot.gen < cell.sharedGen) return Effect.void
      if (snapshot.gen === cell.sharedGen) {
        // The same opening with its length handed in by the replica that opened it.
        if (cell.shared && from._tag === "Open" && from.since === snapshot.since && from.openUntil !== snapshot.until) {
          cell.state = { ...from, openUntil: snapshot.until, openMillis: snapshot.until - snapshot.since }
        }
        return Effect.void
      }
      cell.sharedGen = snapshot.gen
      cell.clearCounts()
      cell.leases = []
      cell.probing = []
      const config = breaker.options.config
      let to: machine.State
      switch (snapshot.tag) {
        case "Closed":
          cell.shared = false
          to = from._tag === "Closed" ? from : machine.close(config, from, snapshot.since)
          break
        case "Open":
          cell.shared = true
          cell.wantLease = true
          cell.leaseAhead = true
          to = {
            ...from,
            _tag: "Open",
            since: snapshot.since,
            generation: from.generation + 1,
            openings: snapshot.openings,
            openUntil: snapshot.until,
            openMillis: snapshot.until - snapshot.since,
            probes: 0,
            successes: 0,
            streak: 0
          }
          break
        case "ForcedOpen":
          cell.shared = false
          to = machine.forceOpen(config, from, snapshot.since)
          break
        default:
          cell.shared = false
          to = machine.disable(config, from, snapshot.since)
      }
      cell.state = machine.carry(cell.window, from, to)
      const onChange = breaker.options.onChange
      return to._tag === from._tag || onChange === undefined ? Effect.void : onChange(cell, from, to)
    }

    /** One step of the script on `cell`; merges the answer, hands in an opening's length, keeps granted leases. */
    const run = (
      breaker: Breaker,
      cell: RedisCell,
      op: string,
      args: ReadonlyArray<string | number>
    ): Effect.Effect<void, StoreFailure> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        // One hash tag for the circuit's keys: on a Redis Cluster they live in one slot, as a script needs.
        const base = `${config.prefix}{${cell.id}}`
        const answer = yield* bounded(
          op,
          step([base, `${base}:window`, `${base}:leases`, `${base}:tripped`], [
            op,
            now,
            channel,
            cell.id,
            ...args,
            defaults.redisCircuitBreakerStore.keyTtlMillis
          ])
        )
        const [tag, gen, since, until, openings, opened, ...granted] = answer
        const snapshot: Snapshot = {
          tag: tag as machine.Tag,
          gen: Number(gen),
          since: Number(since),
          until: Number(until),
          openings: Number(openings)
        }
        yield* merge(breaker, cell, snapshot)
        if (snapshot.gen === cell.sharedGen) cell.leases.push(...granted)
        const openMillis = breaker.options.openMillis
        if (opened === "1" && openMillis !== undefined) {
          // This replica opened the shared circuit: the length comes from its reset schedule.
          const millis = yield* openMillis(snapshot.openings, snapshot.since)
          if (snapshot.since + millis !== snapshot.until) yield* run(breaker, cell, "length", [snapshot.gen, millis])
        }
      })

    const maxProbes = (breaker: Breaker) => breaker.options.config.halfOpenMaxCalls

    /** Hands a lease back with its probe's outcome (0 success, 1 failure, 2 none). */
    const probed = (breaker: Breaker, cell: RedisCell, gen: number, member: string, outcome: number) =>
      run(breaker, cell, "probed", [gen, member, outcome, breaker.options.config.successThreshold, breaker.firstMillis])

    /** Sends what one breaker owes Redis (`now`: the layer's clock, the callers' clock). */
    const flushBreaker = (breaker: Breaker, now: number) => {
      const work: Array<Effect.Effect<void, StoreFailure>> = []
      for (const item of breaker.pending.splice(0)) {
        work.push(
          item.op === "admin"
            ? run(breaker, item.cell, "admin", [item.tag])
            : probed(breaker, item.cell, item.gen, item.member, item.outcome)
        )
      }
      const config_ = breaker.options.config
      const trip = tripArgs(config_.trip)
      const slowRate = config_.slowCallMillis === Infinity ? 2 : config_.slowCallRate
      for (const cell of breaker.active.splice(0)) {
        cell.queued = false
        const state = cell.state
        const tripMillis = state._tag === "Open" && state.since === cell.tripAt && !machine.pending(state)
          ? state.openMillis
          : breaker.firstMillis
        // Quorum mode sends trips only; a circuit without one (a first read) goes on to a record of no calls.
        if (config.quorum > 0 && cell.tripAt >= 0) {
          if (state._tag === "Open" && machine.pending(state)) {
            // The opening's length is not handed in yet: next flush.
            cell.queued = true
            breaker.active.push(cell)
            continue
          }
          const until = state._tag === "Open" ? state.openUntil : cell.tripAt
          cell.tripAt = -1
          work.push(run(breaker, cell, "tripped", [holder, until, config.quorum, breaker.firstMillis, maxProbes(breaker), config.leaseMillis]))
          continue
        }
        const args = [
          cell.sharedGen,
          cell.calls,
          cell.failures,
          cell.slowCalls,
          cell.tail,
          cell.allFailed ? 1 : 0,
          cell.tripAt,
          tripMillis,
          ...trip,
          slowRate,
          maxProbes(breaker),
          config.leaseMillis,
          holder
        ]
        cell.clearCounts()
        work.push(run(breaker, cell, "record", args))
      }
      const real = Date.now()
      for (const cell of breaker.cells.values()) {
        if (cell.wantLease && cell.shared && cell.leases.length === 0) {
          cell.wantLease = false
          work.push(run(breaker, cell, "lease", [1, maxProbes(breaker), config.leaseMillis, holder]))
        }
        const state = cell.state
        if (cell.leaseAhead && cell.leases.length > 0 && state._tag === "Open" && now >= state.openUntil + 2 * config.flushMillis) {
          // Taken ahead for a probe that did not come: hand them to replicas that have calls.
          cell.leaseAhead = false
          for (const member of cell.leases.splice(0)) work.push(probed(breaker, cell, cell.sharedGen, member, 2))
        }
        if (cell.probing.length > 0 && real - cell.renewedAt >= config.leaseMillis / 3) {
          cell.renewedAt = real
          work.push(run(breaker, cell, "renew", [config.leaseMillis, ...cell.probing]))
        }
      }
      return work
    }

    const unavailable = (failure: StoreFailure) =>
      Effect.suspend(() => {
        const wasUp = available
        available = false
        retryAt = Date.now() + config.retryMillis
        for (const breaker of breakers) {
          breaker.active.length = 0
          breaker.pending.length = 0
          for (const cell of breaker.cells.values()) {
            // Local state from here on: counts dropped, probes admitted by the local machine.
            cell.clearCounts()
            cell.queued = false
            cell.shared = false
            cell.leases = []
            cell.probing = []
          }
        }
        if (!wasUp) return Effect.void
        return Effect.andThen(
          Effect.logWarning(
            `Redis circuit breaker store: ${failure.message}; breakers run on their local state, ` +
              `asking Redis again every ${config.retryMillis} ms`,
            failure.cause
          ),
          Metric.update(unavailableTotal, 1)
        )
      })

    /** Redis answers again: every circuit reads the shared state back. */
    const reconnect = Effect.gen(function*() {
      retryAt = Date.now() + config.retryMillis
      const reads: Array<Effect.Effect<void, StoreFailure>> = [Effect.asVoid(bounded("PING", redis.send("PING")))]
      for (const breaker of breakers) {
        for (const cell of breaker.cells.values()) {
          // The shared state wins, whatever its generation: a restarted Redis starts again from 0.
          cell.sharedGen = -1
          reads.push(run(breaker, cell, "record", [-1, 0, 0, 0, 0, 1, -1, breaker.firstMillis, ...tripArgs(breaker.options.config.trip), 2, maxProbes(breaker), config.leaseMillis, holder]))
        }
      }
      yield* Effect.all(reads, { concurrency: 16, discard: true })
      available = true
      yield* Effect.logInfo("Redis circuit breaker store: Redis answers again, circuits are shared again")
    })

    const tick = Effect.suspend(() => {
      if (!available) return Date.now() < retryAt ? Effect.void : reconnect
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const work = breakers.flatMap((breaker) => flushBreaker(breaker, now))
        return work.length === 0 ? Effect.void : Effect.all(work, { concurrency: 16, discard: true })
      })
    }).pipe(Effect.catch(unavailable))

    yield* Effect.forkScoped(Effect.forever(Effect.andThen(realTime.sleep(config.flushMillis), tick)))

    // Transitions published by other replicas; node-redis subscribers reconnect on their own, a failed one is made again.
    const listen = Effect.scoped(Effect.gen(function*() {
      const messages = yield* redis.subscribe(channel)
      while (true) {
        const { message } = yield* Queue.take(messages)
        const [id, rest] = message.split("\n")
        const entry = byId.get(id!)
        if (entry === undefined || rest === undefined || !available) continue
        const [tag, gen, since, until, openings] = rest.split(" ")
        yield* merge(entry.breaker, entry.cell, {
          tag: tag as machine.Tag,
          gen: Number(gen),
          since: Number(since),
          until: Number(until),
          openings: Number(openings)
        })
      }
    }))
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.ignore(listen), realTime.sleep(config.retryMillis))))

    const table = (options: TableOptions): Effect.Effect<Table> =>
      Effect.gen(function*() {
        const firstMillis = options.openMillis === undefined ? 0 : yield* options.openMillis(1, options.now)
        const breaker: Breaker = { options, cells: new Map(), active: [], pending: [], firstMillis }
        breakers.push(breaker)
        // A breaker made in a scope (a layer, a Policy) leaves the store with it.
        const scope = yield* Effect.serviceOption(Scope.Scope)
        if (Option.isSome(scope)) {
          yield* Scope.addFinalizer(
            scope.value,
            Effect.sync(() => {
              breakers.splice(breakers.indexOf(breaker), 1)
              for (const cell of breaker.cells.values()) byId.delete(cell.id)
            })
          )
        }
        const { config: machineConfig, idleMillis } = options
        const sharesCounts = config.quorum === 0
        const base = options.now
        const queue = (cell: RedisCell) => {
          if (cell.queued || !available) return
          cell.queued = true
          breaker.active.push(cell)
        }
        const sweep = (now: number): number => {
          const limit = now - idleMillis
          let evicted = 0
          for (const [key, cell] of breaker.cells) {
            if (key === undefined || cell.lastUsed > limit - base || !droppableCell(cell, limit)) continue
            breaker.cells.delete(key)
            byId.delete(cell.id)
            evicted++
          }
          return evicted
        }
        return {
          circuit: (key, now) => {
            let cell = breaker.cells.get(key)
            if (cell === undefined) {
              const id = key === undefined ? encode(options.name) : `${encode(options.name)}/${encode(key)}`
              cell = new RedisCell(key, machine.initial(machineConfig, now), machine.makeWindow(machineConfig.trip), now - base, id)
              breaker.cells.set(key, cell)
              byId.set(id, { breaker, cell })
              // A first flush reads the shared state (the circuit may be open elsewhere already).
              queue(cell)
            } else {
              cell.lastUsed = now - base
            }
            return cell
          },
          find: (key) => breaker.cells.get(key),
          admit: (c, now) => {
            const cell = c as RedisCell
            const state = cell.state
            if (cell.shared && available && !machine.rejects(machineConfig, state, now) && state._tag !== "Closed" && state._tag !== "Disabled") {
              // A probe of the shared circuit: only with a lease, at most halfOpenMaxCalls over every replica.
              const lease = cell.leases.pop()
              if (lease === undefined) {
                cell.wantLease = true
                cell.leaseAhead = false
                return machine.REJECT
              }
              cell.probing.push(lease)
            }
            const [next, admission] = machine.admit(machineConfig, state, now)
            cell.state = machine.carry(cell.window, state, next)
            return admission
          },
          record: (c, generation, outcome, slow, time) => {
            const cell = c as RedisCell
            const before = cell.state
            const after = machine.carry(
              cell.window,
              before,
              machine.complete(machineConfig, before, cell.window, generation, outcome, slow, time)
            )
            cell.state = after
            if (generation !== before.generation) return after
            if (before._tag === "Closed") {
              if (outcome === machine.IGNORED) return after
              if (sharesCounts) {
                cell.calls++
                if (outcome === machine.FAILURE) {
                  cell.failures++
                  cell.tail++
                } else {
                  cell.tail = 0
                  cell.allFailed = false
                }
                if (slow) cell.slowCalls++
              }
              if (after._tag === "Open") cell.tripAt = after.since
              if (sharesCounts || after._tag === "Open") queue(cell)
            } else if (before._tag === "HalfOpen" && cell.probing.length > 0) {
              const member = cell.probing.shift()!
              const code = outcome === machine.IGNORED ? 2 : outcome === machine.FAILURE || slow ? 1 : 0
              breaker.pending.push({ op: "probed", cell, gen: cell.sharedGen, member, outcome: code })
            }
            return after
          },
          update: (c, f) => {
            const cell = c as RedisCell
            const before = cell.state
            const after = machine.carry(cell.window, before, f(before))
            cell.state = after
            // A new generation is an admin decision (an opening's length keeps its generation): every replica takes it.
            if (after.generation !== before.generation && available) breaker.pending.push({ op: "admin", cell, tag: after._tag })
            return after
          },
          keys: () => Array.from(breaker.cells.keys()).filter((key): key is string => key !== undefined),
          sweep
        }
      })

    return { table }
  })

/** As the memory store: never drop a circuit whose dropping lets traffic through early, nor one holding leases. */
const droppableCell = (cell: RedisCell, limit: number): boolean =>
  droppable(cell.state, limit) && cell.probing.length === 0 && cell.leases.length === 0

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
    const millis = (field: string, input: Duration.Input | undefined, fallback: number) =>
      input === undefined ? fallback : validate.positiveDurationMillis(source, field, input)
    return {
      prefix,
      quorum,
      timeoutMillis: millis("timeout", options.timeout, d.timeoutMillis),
      flushMillis: millis("flushInterval", options.flushInterval, d.flushIntervalMillis),
      retryMillis: millis("retryInterval", options.retryInterval, d.retryIntervalMillis),
      leaseMillis: millis("leaseTimeout", options.leaseTimeout, d.leaseMillis)
    }
  })

/**
 * One script for every step, so that each is atomic in Redis. KEYS: the
 * circuit (hash: tag gen since until openings succ), its window (hash of
 * counts), its probe leases (zset, scored by expiry), its tripped replicas
 * (zset, quorum mode, scored by the end of their own opening). ARGV: op, now,
 * channel, circuit id, the op's own, and last the keys' time-to-live. Shared states are `Closed`,
 * `Open` (past `until` it is half-open: probes need a lease), `ForcedOpen`
 * and `Disabled`; every transition bumps `gen` and is published. Answers:
 * tag, gen, since, until, openings, whether this call opened the circuit,
 * then the leases granted.
 */
const stepScript = Redis.script(
  (keys: ReadonlyArray<string>, args: ReadonlyArray<string | number>) => [...keys, ...args],
  {
    numberOfKeys: 4,
    lua: `
local key, window, leases, tripped = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, now, channel, id = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local h = redis.call("HMGET", key, "tag", "gen", "since", "until", "openings", "succ")
local tag = h[1] or "Closed"
local gen = tonumber(h[2] or "0")
local since = tonumber(h[3] or "0")
local untl = tonumber(h[4] or "0")
local openings = tonumber(h[5] or "0")
local succ = tonumber(h[6] or "0")
local changed, opened = false, 0
local granted = {}
local function f(x) return string.format("%.17g", x) end
local function to(t, at, u)
  tag = t; gen = gen + 1; since = at; untl = u; succ = 0; changed = true
  redis.call("DEL", window, leases)
end
local function open(at, millis)
  openings = openings + 1
  opened = 1
  to("Open", at, at + millis)
end
local function grant(want, max, ttl, holder)
  redis.call("ZREMRANGEBYSCORE", leases, "-inf", now)
  local free = max - redis.call("ZCARD", leases)
  local expiry = math.max(now, untl) + ttl
  for i = 1, math.min(want, free) do
    local member = holder .. ":" .. redis.call("HINCRBY", key, "lease", 1)
    redis.call("ZADD", leases, expiry, member)
    granted[#granted + 1] = member
  end
end
if op == "record" then
  -- gen, calls, failures, slow, tail, allFailed, tripAt, tripMillis, kind, p1, rate, minimum, bucket, slowRate, max, ttl, holder
  local a = {}
  for i = 5, 20 do a[i - 4] = tonumber(ARGV[i]) end
  if tag == "Closed" and a[1] == gen then
    local trip = a[7] >= 0
    local kind, p1, rate, minimum, slowRate = a[9], a[10], a[11], a[12], a[14]
    if not trip and kind == 0 then
      local streak
      if a[6] == 1 then streak = redis.call("HINCRBY", window, "streak", a[3]) else
        streak = a[5]
        redis.call("HSET", window, "streak", streak)
      end
      trip = streak >= p1
    elseif not trip then
      local calls, fails, slow
      if kind == 1 then
        calls = tonumber(redis.call("HINCRBYFLOAT", window, "calls", a[2]))
        fails = tonumber(redis.call("HINCRBYFLOAT", window, "fails", a[3]))
        slow = tonumber(redis.call("HINCRBYFLOAT", window, "slow", a[4]))
        if calls > p1 then
          -- The last \`size\` calls, approximated: older calls weigh in proportion.
          fails = fails * p1 / calls; slow = slow * p1 / calls; calls = p1
          redis.call("HSET", window, "calls", f(calls), "fails", f(fails), "slow", f(slow))
        end
      else
        local bucket = a[13]
        local start = math.floor(now / bucket) * bucket
        redis.call("HINCRBY", window, "c" .. f(start), a[2])
        redis.call("HINCRBY", window, "f" .. f(start), a[3])
        redis.call("HINCRBY", window, "s" .. f(start), a[4])
        calls, fails, slow = 0, 0, 0
        local oldest = start - p1 + bucket
        local all = redis.call("HGETALL", window)
        for i = 1, #all, 2 do
          local at = tonumber(string.sub(all[i], 2))
          if at < oldest then redis.call("HDEL", window, all[i]) else
            local n = tonumber(all[i + 1])
            local c = string.sub(all[i], 1, 1)
            if c == "c" then calls = calls + n elseif c == "f" then fails = fails + n else slow = slow + n end
          end
        end
      end
      trip = calls >= minimum and calls > 0 and (fails / calls >= rate or slow / calls >= slowRate)
    end
    if trip then
      if a[7] >= 0 then open(a[7], a[8]) else open(now, a[8]) end
      grant(1, a[15], a[16], ARGV[21])
    end
  end
elseif op == "tripped" then
  -- holder, its opening's end, quorum, opening length, max, ttl
  redis.call("ZREMRANGEBYSCORE", tripped, "-inf", now)
  redis.call("ZADD", tripped, ARGV[6], ARGV[5])
  if tag == "Closed" and redis.call("ZCARD", tripped) >= tonumber(ARGV[7]) then
    open(now, tonumber(ARGV[8]))
    grant(1, tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[5])
  end
elseif op == "length" then
  -- gen, millis: the opening's length from the reset schedule of the replica that opened it
  if tag == "Open" and gen == tonumber(ARGV[5]) then
    untl = since + tonumber(ARGV[6])
    changed = true
  end
elseif op == "admin" then
  if ARGV[5] == "Closed" then openings = 0 end
  to(ARGV[5], now, 0)
  redis.call("DEL", tripped)
elseif op == "lease" then
  -- want, max, ttl, holder
  if tag == "Open" then grant(tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]) end
elseif op == "renew" then
  -- ttl, members...
  for i = 6, #ARGV - 1 do redis.call("ZADD", leases, "XX", now + tonumber(ARGV[5]), ARGV[i]) end
elseif op == "probed" then
  -- gen, member, outcome (0 success, 1 failure, 2 ignored), successThreshold, opening length
  redis.call("ZREM", leases, ARGV[6])
  if tag == "Open" and gen == tonumber(ARGV[5]) and now >= untl then
    if ARGV[7] == "1" then
      open(now, tonumber(ARGV[9]))
    elseif ARGV[7] == "0" then
      succ = succ + 1
      if succ >= tonumber(ARGV[8]) then
        openings = 0
        to("Closed", now, 0)
        redis.call("DEL", tripped)
      else
        redis.call("HSET", key, "succ", succ)
      end
    end
  end
end
if changed then
  redis.call("HSET", key, "tag", tag, "gen", gen, "since", f(since), "until", f(untl), "openings", openings, "succ", succ)
  redis.call("PUBLISH", channel, id .. "\\n" .. tag .. " " .. gen .. " " .. f(since) .. " " .. f(untl) .. " " .. openings)
end
for _, k in ipairs(KEYS) do redis.call("PEXPIRE", k, ARGV[#ARGV]) end
local answer = { tag, f(gen), f(since), f(untl), f(openings), tostring(opened) }
for i = 1, #granted do answer[#answer + 1] = granted[i] end
return answer
`
  }
).withReturnType<ReadonlyArray<string>>()

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

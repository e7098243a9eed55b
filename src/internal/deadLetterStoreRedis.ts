/**
 * The durable `DeadLetterStore` on Redis, behind `Redis.layerDeadLetterStore`.
 *
 * Keys of queue `name` (one hash tag, so a cluster keeps them on one slot):
 *
 * - `<prefix>{<name>}:entries`: a hash, id → the entry as JSON;
 * - `<prefix>{<name>}:order`: a sorted set of the ids, scored by position
 *   (`append` takes the next value of `<prefix>{<name>}:seq`, `putBack` goes
 *   below the lowest score), so `remove` of any entry is O(log n);
 * - `<prefix>{<name>}:removed:<id>:<token>`: a removed entry, kept until
 *   the remove's answer arrives (then deleted), at most `recoveryWindow`
 *   (see below).
 *
 * Every operation is one Lua script (or one read), hence atomic for every
 * replica. Every call is bounded by `timeout` and made interruptible: the
 * queue runs store I/O uninterruptibly, and node-redis queues commands while
 * Redis is away, so an unbounded call would hang its caller. A call that ran
 * out of time or lost its connection fails with `DeadLetterStoreError`, but
 * Redis may still run it (already sent, or replayed from node-redis' offline
 * queue after a reconnect). For `append` and `update` that is harmless (a
 * retried offer with its id is a no-op; an entry at worst counts one more
 * failure). A `remove` that runs after its caller gave up would lose an
 * entry the queue kept, so `remove` stores what it removed under a token, and
 * a `remove` that failed or was interrupted (a caller that did not wait for
 * the answer) is followed by a restore of that token: sent after
 * the remove on the same client, it runs after it, puts the entry back in
 * front when the remove did happen, and finds nothing when it did not. A
 * failed `putBack` is retried likewise (it skips ids that are stored). Both
 * are retried every `timeout` until they succeed or `recoveryWindow` passes.
 */
import { type Duration, Effect, Schedule } from "effect"
import { Redis } from "effect/persistence"
import type { DeadLetterEntryEncoded, DeadLetterStoreShape } from "../DeadLetterQueue.ts"
import { DeadLetterStoreError } from "./deadLetterErrors.ts"
import * as defaults from "./defaults.ts"
import * as realTime from "./realTime.ts"
import * as validate from "./validate.ts"

export interface RedisDeadLetterStoreOptions {
  /** Prefix of every key the store writes. Default `"effect-resilience:dlq:"`. */
  readonly prefix?: string | undefined
  /** The longest a call waits for Redis before it fails with `DeadLetterStoreError`. Default 2 s. */
  readonly timeout?: Duration.Input | undefined
  /**
   * How long a removed entry is kept, so that a `remove` that failed (and may
   * still run in Redis) can be undone, and how long the undo is retried.
   * Default 10 minutes.
   */
  readonly recoveryWindow?: Duration.Input | undefined
}

/** Keeps the entry unless its id is stored; answers the stored entry (nil when it stored this one). */
const appendScript = Redis.script(
  (entries: string, order: string, seq: string, id: string, json: string) => [entries, order, seq, id, json],
  {
    numberOfKeys: 3,
    lua: `
local held = redis.call("HGET", KEYS[1], ARGV[1])
if held then return held end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
redis.call("ZADD", KEYS[2], redis.call("INCR", KEYS[3]), ARGV[1])
return false
`
  }
).withReturnType<string | null>()

const updateScript = Redis.script(
  (entries: string, id: string, json: string) => [entries, id, json],
  {
    numberOfKeys: 1,
    lua: `
if redis.call("HEXISTS", KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
return 1
`
  }
).withReturnType<number>()

/** The first `limit` entries (-1: all), oldest first; HGET per id, as `unpack` of a long list overflows Lua's stack. */
const listScript = Redis.script(
  (entries: string, order: string, last: number) => [entries, order, last],
  {
    numberOfKeys: 2,
    lua: `
local ids = redis.call("ZRANGE", KEYS[2], 0, tonumber(ARGV[1]))
local out = {}
for i, id in ipairs(ids) do
  out[i] = redis.call("HGET", KEYS[1], id)
end
return out
`
  }
).withReturnType<ReadonlyArray<string>>()

/** Removes the entry, keeping it under `removed` for `ttl` ms; 1 when it was there. */
const removeScript = Redis.script(
  (entries: string, order: string, removed: string, id: string, ttl: number) => [entries, order, removed, id, ttl],
  {
    numberOfKeys: 3,
    lua: `
local json = redis.call("HGET", KEYS[1], ARGV[1])
if not json then return 0 end
redis.call("HDEL", KEYS[1], ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("SET", KEYS[3], json, "PX", ARGV[2])
return 1
`
  }
).withReturnType<number>()

/**
 * Puts entries (ARGV: id, json, id, json, ..., oldest first) in front of the others, skipping stored ids;
 * with a `removed` key instead (ARGV: id), puts back what it holds, if anything.
 */
const putBackLua = `
local first = redis.call("ZRANGE", KEYS[2], 0, 0, "WITHSCORES")
local score = tonumber(first[2] or "1")
local function front(id, json)
  if redis.call("HSETNX", KEYS[1], id, json) == 1 then
    score = score - 1
    redis.call("ZADD", KEYS[2], score, id)
  end
end
`

const putBackScript = Redis.script(
  (entries: string, order: string, pairs: ReadonlyArray<string>) => [entries, order, ...pairs],
  {
    numberOfKeys: 2,
    lua: `${putBackLua}
for i = #ARGV - 1, 1, -2 do front(ARGV[i], ARGV[i + 1]) end
return 1
`
  }
)

const restoreScript = Redis.script(
  (entries: string, order: string, removed: string, id: string) => [entries, order, removed, id],
  {
    numberOfKeys: 3,
    lua: `${putBackLua}
local json = redis.call("GET", KEYS[3])
if not json then return 0 end
redis.call("DEL", KEYS[3])
front(ARGV[1], json)
return 1
`
  }
).withReturnType<number>()

const decode = (options: RedisDeadLetterStoreOptions) =>
  validate.attempt(() => {
    const source = "Redis.layerDeadLetterStore"
    const config = defaults.redisDeadLetterStore
    const prefix = options.prefix ?? config.prefix
    if (typeof prefix !== "string") throw validate.invalid(source, "prefix", "a string", prefix)
    return {
      prefix,
      timeoutMillis: validate.positiveDurationMillisOr(source, "timeout", options.timeout, config.timeoutMillis),
      recoveryWindowMillis: validate.positiveDurationMillisOr(
        source,
        "recoveryWindow",
        options.recoveryWindow,
        config.recoveryWindowMillis
      )
    }
  })

export const make = Effect.fnUntraced(function*(options: RedisDeadLetterStoreOptions = {}) {
  const config = yield* decode(options)
  const redis = yield* Redis.Redis
  const scope = yield* Effect.scope
  const append = redis.eval(appendScript)
  const update = redis.eval(updateScript)
  const list = redis.eval(listScript)
  const remove = redis.eval(removeScript)
  const putBack = redis.eval(putBackScript)
  const restore = redis.eval(restoreScript)

  const keys = (name: string) => {
    const base = `${config.prefix}{${name}}:`
    return { entries: `${base}entries`, order: `${base}order`, seq: `${base}seq`, removed: `${base}removed:` }
  }
  // Tokens tell the removals of one id apart: a restore must never bring back an earlier, successful removal.
  let tokens = 0
  const token = globalThis.crypto.randomUUID()

  /** One Redis call, bounded (on real time, as every Redis store's: realTime.ts) and interruptible, its failures typed. */
  const call = <A>(name: string, operation: string, effect: Effect.Effect<A, Redis.RedisError>) =>
    realTime.timeout(
      Effect.interruptible(effect),
      config.timeoutMillis,
      () => `Redis did not answer within ${config.timeoutMillis} ms`
    ).pipe(
      // the client's own error says what happened ("The client is closed"); RedisError only wraps it
      Effect.mapError((error) =>
        new DeadLetterStoreError({ policy: name, operation, cause: typeof error === "string" ? error : error.cause })
      )
    )

  const parse = (name: string, operation: string, json: string) =>
    Effect.try({
      try: () => JSON.parse(json) as DeadLetterEntryEncoded,
      catch: (cause) => new DeadLetterStoreError({ policy: name, operation: "decode", cause: `${operation}: ${cause}` })
    })

  /** Runs `effect` in the background, in the store's scope. */
  const forget = (effect: Effect.Effect<unknown>) => Effect.asVoid(Effect.forkIn(effect, scope))

  /** Retries `undo` in the background until it succeeds or the recovery window passes. */
  const recover = (name: string, what: string, undo: Effect.Effect<unknown, DeadLetterStoreError>) =>
    forget(undo.pipe(
      Effect.retry(Schedule.spaced(config.timeoutMillis).pipe(Schedule.upTo({ duration: config.recoveryWindowMillis }))),
      Effect.tapError((error) =>
        Effect.logError(`Redis dead-letter store: could not ${what} of "${name}" within the recovery window`, error)
      ),
      Effect.ignore
    ))

  const store: DeadLetterStoreShape = {
    durable: true,
    append: (name, entry) => {
      const k = keys(name)
      return Effect.flatMap(
        call(name, "append", append(k.entries, k.order, k.seq, entry.id, JSON.stringify(entry))),
        (held) => held === null ? Effect.succeed(undefined) : parse(name, "append", held)
      )
    },
    update: (name, entry) =>
      Effect.map(call(name, "update", update(keys(name).entries, entry.id, JSON.stringify(entry))), (n) => n === 1),
    get: (name, id) =>
      Effect.flatMap(
        call(name, "get", redis.send<string | null>("HGET", keys(name).entries, id)),
        (json) => json === null ? Effect.succeed(undefined) : parse(name, "get", json)
      ),
    list: (name, options) => {
      const limit = options?.limit ?? Infinity
      if (limit <= 0) return Effect.succeed([])
      const k = keys(name)
      return Effect.flatMap(
        call(name, "list", list(k.entries, k.order, limit === Infinity ? -1 : limit - 1)),
        (all) => Effect.forEach(all, (json) => parse(name, "list", json))
      )
    },
    remove: (name, id) =>
      Effect.suspend(() => {
        const k = keys(name)
        const removed = `${k.removed}${id}:${token}-${++tokens}`
        return call(name, "remove", remove(k.entries, k.order, removed, id, config.recoveryWindowMillis)).pipe(
          // failed or interrupted, it may have run (or still run) in Redis: undo it, whatever happened
          Effect.onError(() =>
            recover(name, `undo a failed remove of "${id}"`, call(name, "restore", restore(k.entries, k.order, removed, id)))
          ),
          // answered: nothing to undo, so the kept copy goes at once (not awaited; its TTL covers a lost DEL)
          Effect.tap(() => forget(Effect.ignore(call(name, "remove", redis.send("DEL", removed))))),
          Effect.map((n) => n === 1)
        )
      }),
    putBack: (name, entries) => {
      if (entries.length === 0) return Effect.void
      const k = keys(name)
      const pairs = entries.flatMap((entry) => [entry.id, JSON.stringify(entry)])
      const once = call(name, "putBack", putBack(k.entries, k.order, pairs))
      return once.pipe(Effect.onError(() => recover(name, "put entries back", once)))
    },
    count: (name) => call(name, "count", redis.send<number>("ZCARD", keys(name).order))
  }
  return store
})

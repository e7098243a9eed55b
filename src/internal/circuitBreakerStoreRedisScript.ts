/**
 * The Lua side of the Redis circuit breaker store
 * (`internal/circuitBreakerStoreRedis.ts`): the pure machine's rules, run
 * atomically in Redis on the shared circuit.
 */
import { Redis } from "effect/persistence"

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
export const stepScript = Redis.script(
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

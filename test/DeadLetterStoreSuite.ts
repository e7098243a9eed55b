/**
 * The contract of a `DeadLetterStore`, run against every store:
 * `suite(name, layer)`. The memory and JSON stores run it in
 * DeadLetterQueue.test.ts; the Redis store in RedisDeadLetterStore.test.ts.
 *
 * Besides what each operation does, it checks the queue's promise on the
 * store: a `take`, `drain` or `offer` interrupted at any point of its store
 * I/O either handed its change over or undid it, so nothing is lost and
 * nothing is doubled. The points are the store's own: before and after each
 * operation the store makes (real I/O included), the test interrupts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Data, Deferred, Effect, Exit, Fiber, type Layer, Random, Scheduler, Schema } from "effect"
import { DeadLetterQueue, Events } from "../src/index.ts"

class Unavailable extends Data.TaggedError("Unavailable")<{ readonly status: number }> {}

export const input = (item: string, stage = "scoring") => ({ item, stage, cause: Cause.fail(new Unavailable({ status: 503 })) })

/** Wraps every operation of `store` in `around`. */
const wrap = (
  store: DeadLetterQueue.DeadLetterStoreShape,
  around: <X, E>(op: Effect.Effect<X, E>) => Effect.Effect<X, E>
): DeadLetterQueue.DeadLetterStoreShape => ({
  durable: store.durable,
  append: (name, entry) => around(store.append(name, entry)),
  update: (name, entry) => around(store.update(name, entry)),
  get: (name, id) => around(store.get(name, id)),
  list: (name, options) => around(store.list(name, options)),
  remove: (name, id) => around(store.remove(name, id)),
  putBack: (name, entries) => around(store.putBack(name, entries)),
  count: (name) => around(store.count(name))
})

/**
 * A store that works like one with I/O: every operation yields to other fibers
 * a seeded-random 0 to 2 times before and after it runs (run the test under
 * `Random.withSeed`).
 */
export const slowStore = (store: DeadLetterQueue.DeadLetterStoreShape = DeadLetterQueue.makeStoreMemory()) => {
  const pause = Effect.flatMap(Random.nextIntBetween(0, 3), (n) => Effect.repeat(Effect.yieldNow, { times: n }))
  return wrap(store, (op) => Effect.andThen(pause, Effect.tap(op, () => pause)))
}

/**
 * A store that keeps every entry as a JSON string, like a durable store
 * would: what it hands back is `JSON.parse` of what it holds. `raw` holds the
 * strings under `"<queue name>/<id>"`.
 */
export const jsonStore = (): DeadLetterQueue.DeadLetterStoreShape & { readonly raw: Map<string, string> } => {
  const memory = DeadLetterQueue.makeStoreMemory()
  const raw = new Map<string, string>()
  const save = (name: string, entry: DeadLetterQueue.DeadLetterEntryEncoded) => {
    raw.set(`${name}/${entry.id}`, JSON.stringify(entry))
    return entry
  }
  const load = (name: string) => (entry: DeadLetterQueue.DeadLetterEntryEncoded) =>
    JSON.parse(raw.get(`${name}/${entry.id}`)!) as DeadLetterQueue.DeadLetterEntryEncoded
  const loadOption = (name: string) => (entry: DeadLetterQueue.DeadLetterEntryEncoded | undefined) =>
    entry === undefined ? undefined : load(name)(entry)
  return {
    raw,
    durable: true,
    append: (name, entry) =>
      Effect.map(memory.append(name, entry), (held) => held === undefined ? void save(name, entry) : load(name)(held)),
    update: (name, entry) =>
      Effect.map(memory.update(name, entry), (updated) => {
        if (updated) save(name, entry)
        return updated
      }),
    get: (name, id) => Effect.map(memory.get(name, id), loadOption(name)),
    list: (name, options) => Effect.map(memory.list(name, options), (entries) => entries.map(load(name))),
    remove: (name, id) =>
      Effect.map(memory.remove(name, id), (removed) => {
        if (removed) raw.delete(`${name}/${id}`)
        return removed
      }),
    putBack: (name, entries) =>
      Effect.flatMap(Effect.forEach(entries, (entry) => memory.get(name, entry.id)), (held) => {
        const back = entries.filter((_, i) => held[i] === undefined)
        back.forEach((entry) => save(name, entry))
        return memory.putBack(name, back)
      }),
    count: (name) => memory.count(name)
  }
}

/**
 * The store in context, with interruption points: once armed, the `at`-th
 * time an operation starts or ends, `reached` is completed and the
 * operation's fiber yields, so the test's interruption lands right there.
 */
const pointed = (store: DeadLetterQueue.DeadLetterStoreShape, at: number) => {
  const reached = Deferred.makeUnsafe<void>()
  let armed = false
  let count = 0
  const tick = Effect.suspend(() => {
    if (!armed || ++count !== at) return Effect.void
    Deferred.doneUnsafe(reached, Exit.void)
    return Effect.yieldNow
  })
  return {
    store: wrap(store, (op) => Effect.andThen(tick, Effect.tap(op, () => tick))),
    reached,
    arm: Effect.sync(() => void (armed = true))
  }
}

const entry = (id: string, item: string, attempts = 1): DeadLetterQueue.DeadLetterEntryEncoded => ({
  id,
  item,
  stage: "s",
  error: { cause: [{ _tag: "Fail", error: "boom" }], message: "boom" },
  attempts,
  firstFailedAt: 1,
  lastFailedAt: 2
})

/**
 * Records what `effect` returns. The scheduler must not yield between its
 * return and the record, or the runtime itself could drop the value in
 * between (that gap is the caller's, not the queue's).
 */
const receive = <X>(effect: Effect.Effect<X, unknown>, record: (x: X) => void) =>
  Effect.onExit(effect, (exit) => Effect.sync(() => Exit.isSuccess(exit) && record(exit.value))).pipe(
    Effect.provideService(Scheduler.PreventSchedulerYield, true)
  )

export interface SuiteOptions {
  /** `it.live` for a store with real I/O and real timeouts; default `it.effect`. */
  readonly test?: typeof it.effect | undefined
}

/** Runs the contract against the store `layer` builds (built once per test; each test uses its own queue names). */
export const suite = (
  name: string,
  layer: () => Layer.Layer<DeadLetterQueue.DeadLetterStore, unknown>,
  options?: SuiteOptions
): void => {
  const test = options?.test ?? it.effect
  const withStore = <X>(
    body: (store: DeadLetterQueue.DeadLetterStoreShape) => Effect.Effect<X, unknown>
  ): Effect.Effect<void, unknown> =>
    Effect.gen(function*() {
      return yield* body(yield* DeadLetterQueue.DeadLetterStore)
    }).pipe(Effect.provide(layer()), Effect.asVoid)

  describe(`DeadLetterStore: ${name}`, () => {
    test("append keeps insertion order and is idempotent by id: a held id answers the held entry", () =>
      withStore((store) =>
        Effect.gen(function*() {
          assert.isUndefined(yield* store.append("q", entry("a", "A")))
          assert.isUndefined(yield* store.append("q", entry("b", "B")))
          assert.deepStrictEqual(yield* store.append("q", entry("a", "other")), entry("a", "A"))
          assert.deepStrictEqual(yield* store.list("q"), [entry("a", "A"), entry("b", "B")])
          assert.deepStrictEqual(yield* store.list("q", { limit: 1 }), [entry("a", "A")])
          assert.deepStrictEqual(yield* store.list("q", { limit: 0 }), [])
          assert.strictEqual(yield* store.count("q"), 2)
          assert.deepStrictEqual(yield* store.get("q", "b"), entry("b", "B"))
          assert.isUndefined(yield* store.get("q", "zz"))
        })
      ))

    test("update replaces in place; remove answers whether it removed; queues do not mix", () =>
      withStore((store) =>
        Effect.gen(function*() {
          for (const id of ["a", "b", "c"]) yield* store.append("q", entry(id, id))
          yield* store.append("other", entry("a", "x"))
          assert.isTrue(yield* store.update("q", entry("a", "a", 2)))
          assert.isFalse(yield* store.update("q", entry("zz", "zz")))
          assert.deepStrictEqual((yield* store.list("q")).map((e) => [e.id, e.attempts]), [["a", 2], ["b", 1], ["c", 1]])
          assert.isTrue(yield* store.remove("q", "b"))
          assert.isFalse(yield* store.remove("q", "b"))
          assert.deepStrictEqual((yield* store.list("q")).map((e) => e.id), ["a", "c"])
          assert.deepStrictEqual(yield* store.list("other"), [entry("a", "x")])
          assert.strictEqual(yield* store.count("other"), 1)
        })
      ))

    test("putBack puts entries in front, in the order given, skipping stored ids", () =>
      withStore((store) =>
        Effect.gen(function*() {
          for (const id of ["a", "b", "c", "d"]) yield* store.append("q", entry(id, id))
          yield* store.remove("q", "a")
          yield* store.remove("q", "b")
          yield* store.putBack("q", [entry("a", "a"), entry("b", "b"), entry("c", "stale")])
          assert.deepStrictEqual(yield* store.list("q"), ["a", "b", "c", "d"].map((id) => entry(id, id)))
          yield* store.putBack("q", [])
          yield* store.putBack("empty", [entry("x", "x")])
          assert.deepStrictEqual(yield* store.list("empty"), [entry("x", "x")])
          // appends still go last
          yield* store.append("q", entry("e", "e"))
          assert.deepStrictEqual((yield* store.list("q")).map((e) => e.id), ["a", "b", "c", "d", "e"])
        })
      ))

    test("a new queue adopts what the store holds, and counter ids go on after the highest", () =>
      withStore((store) =>
        Effect.gen(function*() {
          const make = DeadLetterQueue.make({ name: "adopt", capacity: 3, item: Schema.String }).pipe(
            Effect.provideService(DeadLetterQueue.DeadLetterStore, store)
          )
          const before = yield* make
          yield* before.offer(input("a"))
          yield* before.offer(input("b"))
          const after = yield* make
          assert.strictEqual(yield* after.size, 2)
          assert.strictEqual((yield* after.offer(input("c"))).id, "adopt#3")
          assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(after.offer(input("d")))))
          const result = yield* after.replay((item) => item === "b" ? Effect.fail("again") : Effect.void)
          assert.deepStrictEqual(result, { replayed: 2, failedAgain: 1 })
          const [left] = yield* after.entries
          assert.deepStrictEqual([left?.item, left?.attempts, left?.error.message], ["b", 2, "again"])
        })
      ))

    const offered = ["a", "b", "c", "d"]

    /**
     * For every store interruption point: `consume` runs against a queue
     * holding `offered`, reporting what it received, and is interrupted at
     * the point; then the queue and the receipts together hold each entry
     * exactly once, what is left is still in order, and the queue still
     * counts its slots right. Runs until a point past the consumer's last
     * store operation.
     */
    const everyPoint = (
      label: string,
      consume: (dlq: DeadLetterQueue.DeadLetterQueue<string>, received: Array<string>) => Effect.Effect<unknown, unknown>
    ) =>
      withStore((store) =>
        Effect.gen(function*() {
          let untouched = 0
          for (let at = 1;; at++) {
            assert.isBelow(at, 500, "the consumer never finished")
            const point = pointed(store, at)
            const dlq = yield* DeadLetterQueue.make({ name: `${label}-${at}`, capacity: offered.length, item: Schema.String })
              .pipe(Effect.provideService(DeadLetterQueue.DeadLetterStore, point.store))
            for (const item of offered) yield* dlq.offer(input(item))
            const received: Array<string> = []
            yield* point.arm
            const consumer = yield* Effect.forkChild(consume(dlq, received))
            const interrupted = yield* Effect.raceFirst(
              Effect.as(Deferred.await(point.reached), true),
              Effect.as(Fiber.await(consumer), false)
            )
            yield* Fiber.interrupt(consumer)
            const left = (yield* dlq.entries).map((e) => e.item)
            const where = `interrupted at store point ${at}: left ${left}, received ${received}`
            assert.deepStrictEqual([...received, ...left].sort(), offered, where)
            assert.deepStrictEqual(left, offered.filter((item) => !received.includes(item)), where)
            assert.strictEqual(yield* dlq.size, left.length, where)
            for (const item of left) assert.strictEqual((yield* dlq.take).item, item, where)
            for (const item of offered) yield* dlq.offer(input(item))
            assert.isTrue(DeadLetterQueue.isDeadLetterQueueFullError(yield* Effect.flip(dlq.offer(input("extra")))), where)
            if (received.length === 0) untouched++
            if (!interrupted) break
          }
          assert.isAbove(untouched, 0)
        })
      )

    test("take interrupted at every store point: each entry handed over or kept in place", () =>
      everyPoint("take", (dlq, received) =>
        Effect.repeat(receive(dlq.take, (e) => received.push(e.item)), { times: offered.length - 1 })))

    test("drain interrupted at every store point: every entry handed over or kept in place", () =>
      everyPoint("drain", (dlq, received) => receive(dlq.drain, (entries) => received.push(...entries.map((e) => e.item)))))

    test("an offer interrupted at every store point stored its entry and succeeded, or stored nothing", () =>
      withStore((store) =>
        Effect.gen(function*() {
          for (let at = 1;; at++) {
            assert.isBelow(at, 100, "the offer never finished")
            const point = pointed(store, at)
            const dlq = yield* DeadLetterQueue.make({ name: `offer-${at}`, capacity: 10, item: Schema.String }).pipe(
              Effect.provideService(DeadLetterQueue.DeadLetterStore, point.store)
            )
            let stored = false
            const events: Array<Events.ResilienceEvent> = []
            yield* point.arm
            const producer = yield* Effect.forkChild(
              Effect.onExit(dlq.offer({ ...input("a"), id: "msg-1" }), (exit) => Effect.sync(() => stored = Exit.isSuccess(exit)))
                .pipe(Events.withListener((event) => Effect.sync(() => void events.push(event))))
            )
            const interrupted = yield* Effect.raceFirst(
              Effect.as(Deferred.await(point.reached), true),
              Effect.as(Fiber.await(producer), false)
            )
            yield* Fiber.interrupt(producer)
            const where = `interrupted at store point ${at}`
            assert.strictEqual(yield* dlq.size, stored ? 1 : 0, where)
            assert.deepStrictEqual(events.map((e) => e._tag), stored ? ["DeadLettered"] : [], where)
            // the producer retries with its id: the entry is stored once
            yield* dlq.offer({ ...input("a"), id: "msg-1" })
            assert.deepStrictEqual((yield* dlq.entries).map((e) => e.id), ["msg-1"], where)
            if (!interrupted) break
          }
        })
      ))
  })
}

/**
 * One budget shared by retries and hedges. The outermost stage that holds a
 * budget counts the call (and, for a token budget, each attempt's outcome);
 * a stage inside it holding the same budget only asks it for permission to
 * start another attempt, so that a hedge inside a retry (a `Policy` with
 * both, or the two combinators with one budget) counts nothing twice.
 *
 * The outer stage marks the budget in the fiber's context; an inner stage
 * reads the mark once per call. Stages without a budget never look.
 */
import { Context, Effect } from "effect"
import type { RetryBudget } from "../Retry.ts"

/** The budget an outer stage already counts the current call against. */
export const CountedBy = Context.Reference<RetryBudget<unknown> | undefined>("effect-resilience/budget/CountedBy", {
  defaultValue: () => undefined
})

/**
 * Runs `f(counting)`: `counting` is true when no outer stage counts this call
 * against `budget`; then the call is recorded first, and inner stages see the
 * mark.
 */
export const holding = <A, E, R>(
  budget: RetryBudget<unknown>,
  f: (counting: boolean) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) =>
    fiber.getRef(CountedBy) === budget
      ? f(false)
      : Effect.andThen(budget.recordCall, Effect.provideService(f(true), CountedBy, budget))
  )

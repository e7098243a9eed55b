/**
 * Effect's `dual` for combinators that take options, with one difference: the
 * options are validated and prepared once, when the data-last form is applied
 * to them, not on every effect it later wraps. (`dual`'s data-last form calls
 * the body again for each effect, so it cannot keep this property.) Bad
 * options throw where they are written and the per-call path does no
 * validation work.
 *
 * `isDataFirst` has `dual`'s meaning: the data-first form is recognised by its
 * argument count (2 by default), or by a predicate over the arguments where
 * optional arguments make the count ambiguous. The caller states the public
 * overloads; this only dispatches.
 */
export const dualPrepared = (
  prepare: (options: any) => (self: any) => any,
  isDataFirst: (args: IArguments) => boolean = (args) => args.length >= 2
): any =>
  function(self: unknown, options?: unknown) {
    return isDataFirst(arguments) ? prepare(options)(self) : prepare(self)
  }

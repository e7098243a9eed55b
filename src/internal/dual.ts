/**
 * `dual` for combinators that take options: the options are validated and
 * prepared once — when the data-last form is applied to them, not on every
 * effect it later wraps — so bad options throw where they are written and the
 * per-call path does no validation work. The caller states the public
 * overloads; this only dispatches.
 */
export const dualPrepared = (prepare: (options: any) => (self: any) => any): any =>
  function(self: unknown, options?: unknown) {
    return arguments.length >= 2 ? prepare(options)(self) : prepare(self)
  }

/**
 * A value attached to an object under a private symbol: how `Policy.reconfigure`
 * finds the machinery behind a policy, a breaker or a bulkhead it is given.
 * It lives on the object (not in a module-level registry), is not enumerable
 * (a policy logs and serializes as its public fields) and is not copied by a
 * spread, so a hand-made copy of a policy is not mistaken for the original.
 */
export interface Attached<T> {
  readonly attach: <O extends object>(owner: O, value: T) => O
  readonly of: (owner: object) => T | undefined
}

export const attached = <T>(description: string): Attached<T> => {
  const key = Symbol(description)
  return {
    attach: (owner, value) => Object.defineProperty(owner, key, { value }),
    of: (owner) => (owner as { readonly [key]?: T })[key]
  }
}

/**
 * A frozen shallow copy of `value`'s own enumerable string-keyed properties,
 * as `Object.freeze({ ...value })` makes them (an own `__proto__` key stays a
 * property), without that expression's cost on Node 20: there, V8 gives each
 * frozen spread copy made by optimized code a map of its own, allocated in
 * old space, so one made per stream left a map per stream behind until the
 * next full GC. A copy built by `Object.fromEntries` keeps the shared map.
 * (Node 24 shares it either way.)
 */
export function frozenCopy<T extends object>(value: T): Readonly<T> {
  return Object.freeze(Object.fromEntries(Object.entries(value))) as T
}

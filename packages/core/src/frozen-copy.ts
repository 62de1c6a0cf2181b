/**
 * A frozen shallow copy of `value`'s own enumerable string-keyed properties,
 * as `Object.freeze({ ...value })` makes them (an own `__proto__` key stays a
 * property), without that expression's cost on Node 20: there, V8 gives each
 * frozen spread copy made by optimized code a map of its own, allocated in
 * old space, so one made per stream left a map per stream behind until the
 * next full GC. A copy filled key by key keeps the shared map, and takes
 * half the time of the spread (`Object.fromEntries` takes five times as long).
 */
export function frozenCopy<T extends object>(value: T): Readonly<T> {
  const copy: Record<string, unknown> = {}
  const source = value as Record<string, unknown>
  for (const key of Object.keys(source)) {
    if (key === '__proto__') {
      Object.defineProperty(copy, key, {
        value: source[key],
        enumerable: true,
        writable: true,
        configurable: true,
      })
    } else {
      copy[key] = source[key]
    }
  }
  return Object.freeze(copy) as T
}

/**
 * The objects reachable from both `left` and `right` through own properties
 * (arrays, plain objects, class instances, errors; functions are leaves).
 * An empty list proves the two share nothing a caller could change.
 */
export function sharedObjects(left: unknown, right: unknown): object[] {
  const fromLeft = reachable(left, new Set())
  return [...reachable(right, new Set())].filter((object) => fromLeft.has(object))
}

function reachable(value: unknown, into: Set<object>): Set<object> {
  if (typeof value !== 'object' || value === null || into.has(value)) return into
  into.add(value)
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)
    if (descriptor !== undefined && 'value' in descriptor) reachable(descriptor.value, into)
  }
  return into
}

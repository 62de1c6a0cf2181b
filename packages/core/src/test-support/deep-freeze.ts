/**
 * Freezes `value` and every array and plain object inside it, so a test
 * proves the code under test never writes its inputs. Functions, signals,
 * byte buffers and other class instances are left as they are.
 */
export function deepFreeze<T>(value: T): T {
  freeze(value, new WeakSet())
  return value
}

function freeze(value: unknown, seen: WeakSet<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return
  const prototype = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) return
  seen.add(value)
  Object.freeze(value)
  for (const key of Reflect.ownKeys(value)) freeze(Reflect.get(value, key), seen)
}

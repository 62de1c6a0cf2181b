import type { HookName, Hooks } from './hooks.js'

type Observed = Exclude<HookName, 'health'>
type HookArgument<N extends Observed> = Parameters<NonNullable<Hooks[N]>>[0]

/**
 * Calls hook `name` of each hooks object, without waiting for it. What a
 * hook throws or rejects goes to `onHookError`; what that throws is dropped.
 * Either way the call goes on as if the hook were not there.
 */
export function emitHook<N extends Observed>(
  hooks: readonly Hooks[],
  name: N,
  argument: HookArgument<N>,
): void {
  for (const observer of hooks) {
    const hook = observer[name] as ((value: HookArgument<N>) => unknown) | undefined
    if (hook === undefined) continue
    try {
      const result = hook.call(observer, argument)
      if (isThenable(result))
        result.then(undefined, (error: unknown) => reportHookError(hooks, error, name))
    } catch (error) {
      reportHookError(hooks, error, name)
    }
  }
}

/** Hands `error` to every `onHookError`, dropping what they throw. */
export function reportHookError(hooks: readonly Hooks[], error: unknown, name: HookName): void {
  for (const observer of hooks) {
    const onHookError = observer.onHookError
    if (onHookError === undefined) continue
    try {
      const result: unknown = onHookError.call(observer, error, name)
      if (isThenable(result)) result.then(undefined, ignore)
    } catch {
      // An error handler that fails has nowhere left to report to.
    }
  }
}

function ignore(): void {}

/** Anything with a `then` method, as `await` sees it. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof Reflect.get(value, 'then') === 'function'
  )
}

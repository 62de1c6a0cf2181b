import type { ErrorKind } from './errors.js'

/** What one kind of failure does: retry the same target, and/or fall back to the next. */
export interface KindRule {
  readonly retry: boolean
  readonly fallback: boolean
}

/** The kinds whose rule a caller may override. The others always stop the call. */
export type PolicyKind = Exclude<ErrorKind, 'deadline' | 'aborted' | 'config' | 'all_failed'>

/** The rule for each kind a caller may override. */
export type Policy = Readonly<Record<PolicyKind, KindRule>>

/** Per-kind overrides of {@link defaultPolicy}: `{ invalid_request: { fallback: true } }`. */
export type PolicyOverrides = { readonly [K in PolicyKind]?: Partial<KindRule> }

const rule = (retry: boolean, fallback: boolean): KindRule => Object.freeze({ retry, fallback })

/** DESIGN.md's policy table. */
export const defaultPolicy: Policy = Object.freeze({
  rate_limit: rule(true, true),
  overloaded: rule(true, true),
  server: rule(true, true),
  timeout: rule(true, true),
  network: rule(true, true),
  quota: rule(false, true),
  auth: rule(false, true),
  not_found: rule(false, true),
  context_window: rule(false, true),
  content_policy: rule(false, true),
  invalid_request: rule(false, false),
  unsupported: rule(false, true),
  empty: rule(false, true),
  incomplete: rule(true, true),
  stream_interrupted: rule(false, false),
  unknown: rule(false, true),
})

/** The kinds that count against a target's health: failures of the target, not of the request. */
const healthKinds: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  'rate_limit',
  'overloaded',
  'server',
  'timeout',
  'network',
  'quota',
  'auth',
  'not_found',
  'incomplete',
  'unknown',
])

/** Tells whether a failure of this kind counts against the target's health. */
export function countsAgainstHealth(kind: ErrorKind): boolean {
  return healthKinds.has(kind)
}

/** The policy with `overrides` applied; {@link defaultPolicy} itself when there are none. */
export function resolvePolicy(overrides: PolicyOverrides | undefined): Policy {
  if (overrides === undefined) return defaultPolicy
  const policy: Record<string, KindRule> = { ...defaultPolicy }
  for (const [kind, override] of Object.entries(overrides)) {
    const base = policy[kind]
    if (base === undefined || override === undefined) continue
    policy[kind] = rule(override.retry ?? base.retry, override.fallback ?? base.fallback)
  }
  return Object.freeze(policy) as Policy
}

import { errorKinds } from './errors.js'
import { isPolicyKind, kinds, type PolicyKind } from './kinds.js'

export type { PolicyKind } from './kinds.js'

/** What one kind of failure does: retry the same target, and/or fall back to the next. */
export interface KindRule {
  readonly retry: boolean
  readonly fallback: boolean
}

/** The rule for each kind a caller may override. */
export type Policy = Readonly<Record<PolicyKind, KindRule>>

/** Per-kind overrides of {@link defaultPolicy}: `{ invalid_request: { fallback: true } }`. */
export type PolicyOverrides = { readonly [K in PolicyKind]?: Partial<KindRule> }

const rule = (retry: boolean, fallback: boolean): KindRule => Object.freeze({ retry, fallback })

/** Every kind a caller may override, in the order of DESIGN.md's policy table. */
export const policyKinds: readonly PolicyKind[] = Object.freeze(errorKinds.filter(isPolicyKind))

/** DESIGN.md's policy table, as read from the table of kinds. */
export const defaultPolicy: Policy = Object.freeze(
  Object.fromEntries(
    policyKinds.map((kind) => [kind, rule(kinds[kind].retry, kinds[kind].fallback)]),
  ) as Record<PolicyKind, KindRule>,
)

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

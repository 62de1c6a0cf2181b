import type { ErrorKind } from './errors.js'

/** What one kind of failure does by default. */
export interface KindSpec {
  /** Retry the same target (while it has attempts left and the wait fits). */
  readonly retry: boolean
  /** Move on to the next target. */
  readonly fallback: boolean
  /** The chain a fallback moves to, when the caller gave one; else the call's own. */
  readonly chain?: 'context_window' | 'content_policy'
  /** A failure of the target, not of the request or the caller: it counts towards a cooldown. */
  readonly health: boolean
  /** Ends the call whatever the policy says: the caller's own doing, or the call's verdict. */
  readonly final?: true
}

/**
 * DESIGN.md's policy table, the one place it is written: every kind of
 * failure and what it does. The `ErrorKind` list, the default policy, the
 * kinds a caller may override and the kinds that count against health are
 * all read from here.
 */
export const kinds: KindTable = Object.freeze({
  rate_limit: { retry: true, fallback: true, health: true },
  overloaded: { retry: true, fallback: true, health: true },
  server: { retry: true, fallback: true, health: true },
  timeout: { retry: true, fallback: true, health: true },
  network: { retry: true, fallback: true, health: true },
  quota: { retry: false, fallback: true, health: true },
  auth: { retry: false, fallback: true, health: true },
  not_found: { retry: false, fallback: true, health: true },
  context_window: { retry: false, fallback: true, chain: 'context_window', health: false },
  content_policy: { retry: false, fallback: true, chain: 'content_policy', health: false },
  invalid_request: { retry: false, fallback: false, health: false },
  unsupported: { retry: false, fallback: true, health: false },
  empty: { retry: false, fallback: true, health: false },
  incomplete: { retry: true, fallback: true, health: true },
  // Counts as its cause does: the cause's kind is what the health store hears.
  stream_interrupted: { retry: false, fallback: false, health: false },
  deadline: { retry: false, fallback: false, health: false, final: true },
  aborted: { retry: false, fallback: false, health: false, final: true },
  unknown: { retry: false, fallback: true, health: true },
  config: { retry: false, fallback: false, health: false, final: true },
  all_failed: { retry: false, fallback: false, health: false, final: true },
})

/** The kinds that end a call whatever the policy says; the table's type holds it to them. */
type FinalKind = 'deadline' | 'aborted' | 'config' | 'all_failed'

/** A spec for every kind, `final` exactly for the final ones. */
type KindTable = {
  readonly [K in ErrorKind]: K extends FinalKind
    ? KindSpec & { readonly final: true }
    : KindSpec & { readonly final?: undefined }
}

/** The kinds whose rule a caller may override: all but the final ones. */
export type PolicyKind = Exclude<ErrorKind, FinalKind>

/** Tells whether a failure of this kind counts against the target's health. */
export function countsAgainstHealth(kind: ErrorKind): boolean {
  return kindSpec(kind).health
}

/** Tells whether the policy decides what a failure of this kind does (it is not final). */
export function isPolicyKind(kind: ErrorKind): kind is PolicyKind {
  return kindSpec(kind).final !== true
}

/** What a failure of this kind does by default. */
export function kindSpec(kind: ErrorKind): KindSpec {
  return kinds[kind]
}

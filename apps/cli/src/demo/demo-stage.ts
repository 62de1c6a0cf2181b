import { type Client, createClient, type Target } from '@understudy/core'
import type { FakeServer, Reply } from '@understudy/testkit'
import { type DemoVendor, targetOf } from './demo-vendors.js'

/** The fake vendors of one act, running, and a client of the real providers pointed at them. */
export interface DemoStage {
  readonly client: Client
  /** The primary: the first vendor's target. */
  readonly primary: string
  /** Every other vendor's target, in order: the fallbacks. */
  readonly fallbacks: readonly Target[]
  /** What each vendor received as its credential, request by request, by target. */
  seen(): ReadonlyMap<string, readonly string[]>
  /** Closes every server. */
  close(): Promise<void>
}

/**
 * Starts one fake server per vendor, each answering its entry of `replies`
 * (a successful answer when there is none), and a client with each
 * vendor's real provider and key. Retries back off 20 ms, so an act takes
 * milliseconds; the health settings are the library's defaults.
 */
export async function setDemoStage(
  vendors: readonly DemoVendor[],
  replies: readonly (Reply | undefined)[],
): Promise<DemoStage> {
  const servers: FakeServer[] = []
  try {
    for (const [i, vendor] of vendors.entries()) {
      const reply = replies[i]
      servers.push(await vendor.start(reply === undefined ? {} : { respond: reply }))
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.close()))
    throw error
  }
  const client = createClient({
    providers: vendors.map((vendor, i) => vendor.provider(servers[i] as FakeServer, vendor.key)),
    retries: 1,
    backoff: { initialDelayMs: 20 },
  })
  const [first, ...rest] = vendors
  if (first === undefined) throw new TypeError('the demo needs at least one vendor')
  return {
    client,
    primary: targetOf(first),
    fallbacks: rest.map(targetOf),
    seen: () =>
      new Map(
        vendors.map((vendor, i) => [
          targetOf(vendor),
          (servers[i]?.requests ?? []).map((request) => vendor.credential(request) ?? '(none)'),
        ]),
      ),
    close: async () => {
      await Promise.all(servers.map((server) => server.close()))
    },
  }
}

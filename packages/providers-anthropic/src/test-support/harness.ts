import type { ProviderContext } from '@understudy/core'
import { type FakeServer, type FakeServerOptions, startFakeAnthropic } from '@understudy/testkit'
import { closedAtEnd, context as sharedContext } from '../../../../test-support/provider-harness.js'

export { collect, env, rejection, thrownBy } from '../../../../test-support/provider-harness.js'

/** A provider context as the client would make it, with `overrides`. */
export const context: (overrides?: Partial<ProviderContext>) => ProviderContext = sharedContext

/** A fake Anthropic server on 127.0.0.1, closed when the test ends. */
export function server(options?: FakeServerOptions): Promise<FakeServer> {
  return closedAtEnd(startFakeAnthropic(options))
}

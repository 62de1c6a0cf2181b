import { startFakeAnthropic } from '@understudy/testkit'
import { streamFallbackSuite } from '@understudy/testkit/vitest'
import { anthropic } from './anthropic-provider.js'

// The streaming suite: `client.stream()` over real sockets to the fake
// Anthropic server, `anthropic()` as primary and fallback, on the default
// version. The Messages API takes no assistant prefix through this
// provider, so the suite checks that continuation is refused with the
// reason in the trace.
streamFallbackSuite('anthropic()', {
  provider: ({ baseURL, apiKey }) => anthropic({ baseURL, apiKey }),
  startServer: startFakeAnthropic,
  baseURL: (server) => server.url,
})

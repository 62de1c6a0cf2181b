import { startFakeAnthropic } from '@understudy/testkit'
import { streamFallbackSuite } from '@understudy/testkit/vitest'
import { anthropic } from './anthropic-provider.js'

// The streaming suite: `client.stream()` over real sockets to the fake
// Anthropic server, `anthropic()` as primary and fallback, on the default
// version. The Messages API continues a final assistant turn (prefill), so
// the suite checks that continuation is handed to the fallback, the
// delivered text sent as its prefix.
streamFallbackSuite('anthropic()', {
  provider: ({ baseURL, apiKey }) => anthropic({ baseURL, apiKey }),
  startServer: startFakeAnthropic,
  baseURL: (server) => server.url,
})

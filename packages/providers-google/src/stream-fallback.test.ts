import { startFakeGemini } from '@understudy/testkit'
import { streamFallbackSuite } from '@understudy/testkit/vitest'
import { google } from './google-provider.js'

// The dialect-wide streaming suite: `client.stream()` over real sockets to the
// fake Gemini server, google() as primary and fallback. Gemini takes no
// assistant prefix, so the suite checks that continuation is refused with
// the reason in the trace.

streamFallbackSuite('google()', {
  provider: ({ baseURL, apiKey }) => google({ baseURL, apiKey }),
  startServer: startFakeGemini,
  baseURL: (server) => `${server.url}/v1beta`,
})

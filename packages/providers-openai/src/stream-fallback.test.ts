import { startFakeOpenAI } from '@understudy/testkit'
import { streamFallbackSuite } from '@understudy/testkit/vitest'
import { azure } from './azure-provider.js'
import { mistral, openaiCompatible } from './openai-compatible.js'
import { openai } from './openai-provider.js'

// The dialect-wide streaming suite: `client.stream()` over real sockets to the
// fake OpenAI server, each provider as primary and fallback. None of these
// providers takes an assistant prefix, so the suite checks that continuation
// is refused with the reason in the trace.

streamFallbackSuite('openai()', {
  provider: ({ baseURL, apiKey }) => openai({ baseURL, apiKey }),
  startServer: startFakeOpenAI,
  baseURL: (server) => `${server.url}/v1`,
})

// A preset whose streams carry no usage chunk (Mistral rejects `stream_options`).
streamFallbackSuite('mistral(), an openaiCompatible() preset', {
  provider: ({ baseURL, apiKey }) => mistral({ baseURL, apiKey }),
  startServer: startFakeOpenAI,
  baseURL: (server) => `${server.url}/v1`,
})

streamFallbackSuite('azure()', {
  provider: ({ baseURL, apiKey }) => azure({ endpoint: baseURL, apiKey, apiVersion: '2024-10-21' }),
  startServer: startFakeOpenAI,
  // The endpoint is the origin: the provider adds `/openai/deployments/…`.
  baseURL: (server) => server.url,
})

// A server that continues an assistant prefix (DeepSeek's beta endpoint, a
// vLLM gateway): continuation is handed to the fallback over real sockets.
streamFallbackSuite('openaiCompatible({ assistantPrefix: true })', {
  provider: ({ baseURL, apiKey }) =>
    openaiCompatible({ id: 'prefixing', baseURL, apiKey, assistantPrefix: true }),
  startServer: startFakeOpenAI,
  baseURL: (server) => `${server.url}/v1`,
})

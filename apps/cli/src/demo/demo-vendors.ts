import type { Provider } from '@understudy/core'
import { anthropic } from '@understudy/providers-anthropic'
import { google } from '@understudy/providers-google'
import { openai } from '@understudy/providers-openai'
import {
  type FakeServer,
  type FakeServerOptions,
  type RecordedRequest,
  startFakeAnthropic,
  startFakeGemini,
  startFakeOpenAI,
} from '@understudy/testkit'

/**
 * One vendor of the demo: a fake server speaking its wire format on
 * 127.0.0.1, the real provider package pointed at it, and where its
 * requests carry the key. The demo's story is told over whichever vendors
 * this list holds: the first is the primary, the rest its fallbacks.
 */
export interface DemoVendor {
  /** The provider id: the prefix of its target. */
  readonly name: string
  /** The model its target names. */
  readonly model: string
  /** A made-up key, shown only to prove where each one went. */
  readonly key: string
  /** Starts the fake server: the testkit's, for the vendor's dialect. */
  readonly start: (options?: FakeServerOptions) => Promise<FakeServer>
  /** The real provider, pointed at `server` with `key`. */
  readonly provider: (server: FakeServer, key: string) => Provider
  /** The credential a request carried, as the vendor's dialect sends it. */
  readonly credential: (request: RecordedRequest) => string | undefined
}

/**
 * The vendors of `understudy demo`: OpenAI, Anthropic and Gemini, each a
 * fake server speaking its own wire format and the real provider package
 * pointed at it, each key in its own header.
 */
export const demoVendors: readonly DemoVendor[] = Object.freeze([
  {
    name: 'openai',
    model: 'gpt-4o',
    key: 'demo-key-openai',
    start: startFakeOpenAI,
    provider: (server, key) => openai({ baseURL: `${server.url}/v1`, apiKey: key }),
    credential: (request) => request.headers.authorization,
  },
  {
    name: 'anthropic',
    model: 'claude-sonnet-4-5',
    key: 'demo-key-anthropic',
    start: startFakeAnthropic,
    provider: (server, key) => anthropic({ baseURL: server.url, apiKey: key }),
    credential: (request) => request.headers['x-api-key'],
  },
  {
    name: 'google',
    model: 'gemini-2.5-flash',
    key: 'demo-key-google',
    start: startFakeGemini,
    provider: (server, key) => google({ baseURL: `${server.url}/v1beta`, apiKey: key }),
    credential: (request) => request.headers['x-goog-api-key'],
  },
])

/** A vendor's target: `"provider/model"`. */
export function targetOf(vendor: DemoVendor): string {
  return `${vendor.name}/${vendor.model}`
}

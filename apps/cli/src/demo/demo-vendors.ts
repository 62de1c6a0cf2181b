import type { Provider } from '@understudy/core'
import { groq, openai, together } from '@understudy/providers-openai'
import {
  type FakeServer,
  type FakeServerOptions,
  type RecordedRequest,
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

const bearer = (request: RecordedRequest): string | undefined => request.headers.authorization

/**
 * The vendors of `understudy demo`. Three servers that speak OpenAI's
 * dialect under three vendors' names today; a vendor with its own dialect
 * joins with its fake server (`startFakeAnthropic`, `startFakeGemini`) and
 * its provider package.
 */
export const demoVendors: readonly DemoVendor[] = Object.freeze([
  {
    name: 'openai',
    model: 'gpt-4o',
    key: 'demo-key-openai',
    start: startFakeOpenAI,
    provider: (server, key) => openai({ baseURL: `${server.url}/v1`, apiKey: key }),
    credential: bearer,
  },
  {
    name: 'groq',
    model: 'llama-3.3-70b',
    key: 'demo-key-groq',
    start: startFakeOpenAI,
    provider: (server, key) => groq({ baseURL: `${server.url}/v1`, apiKey: key }),
    credential: bearer,
  },
  {
    name: 'together',
    model: 'qwen3-235b',
    key: 'demo-key-together',
    start: startFakeOpenAI,
    provider: (server, key) => together({ baseURL: `${server.url}/v1`, apiKey: key }),
    credential: bearer,
  },
])

/** A vendor's target: `"provider/model"`. */
export function targetOf(vendor: DemoVendor): string {
  return `${vendor.name}/${vendor.model}`
}

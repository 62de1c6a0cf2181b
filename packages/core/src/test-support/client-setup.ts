import type { ChatRequest } from '../chat-request.js'
import type { ChatResponse } from '../chat-response.js'
import type { Clock } from '../clock.js'
import { type Client, createClient } from '../create-client.js'
import type { CallOptions, ClientOptions } from '../options.js'
import { deepFreeze } from './deep-freeze.js'
import { type MockProvider, mockProvider, type Script } from './mock-provider.js'
import { type Settled, settle } from './settle.js'
import { createTestClock, type TestClock } from './test-clock.js'

/** Scripts per model of one mock provider. */
export type Scripts = Readonly<Record<string, readonly Script[]>>

/** A mock provider that also notes when (ms after the test began) each attempt reached it. */
export interface TimedProvider extends MockProvider {
  readonly times: number[]
}

export function timed(provider: MockProvider, clock: Clock): TimedProvider {
  const times: number[] = []
  const start = clock.now()
  return {
    ...provider,
    times,
    complete(request, context) {
      times.push(clock.now() - start)
      return provider.complete(request, context)
    },
  }
}

export interface Setup {
  readonly clock: TestClock
  readonly a: TimedProvider
  readonly b: TimedProvider
  readonly c: TimedProvider
  readonly client: Client
  /** Runs one call to the end on the test clock and checks it left no timer behind. */
  call(options?: CallOptions, callRequest?: ChatRequest): Promise<Settled<ChatResponse>>
}

/** The request the setups call with unless told otherwise: primary `a/m1`. */
export const request: ChatRequest = deepFreeze({
  model: 'a/m1',
  messages: [{ role: 'user', content: 'hi' }],
})

/**
 * Three mock providers `a`, `b`, `c` on a test clock, a client over them
 * with `random: () => 0`, and `call()`, which drives one call to the end and
 * checks it left no timer behind.
 */
export function setup(
  scripts: { readonly a?: Scripts; readonly b?: Scripts; readonly c?: Scripts } = {},
  clientOptions: Omit<ClientOptions, 'providers' | 'clock'> = {},
): Setup {
  const clock = createTestClock()
  const a = timed(mockProvider('a', scripts.a, clock), clock)
  const b = timed(mockProvider('b', scripts.b, clock), clock)
  const c = timed(mockProvider('c', scripts.c, clock), clock)
  const client = createClient({
    providers: Object.freeze([a, b, c]),
    clock,
    random: () => 0,
    ...deepFreeze(clientOptions),
  })
  return {
    clock,
    a,
    b,
    c,
    client,
    async call(options, callRequest = request) {
      const settled = await settle(
        clock,
        client.complete(callRequest, options && deepFreeze(options)),
      )
      if (clock.pending() !== 0) throw new Error(`the call left ${clock.pending()} timer(s) behind`)
      return settled
    },
  }
}

import type { ChatRequest } from '../chat-request.js'
import type { ChatResponse } from '../chat-response.js'
import type { ChatStream } from '../chat-stream.js'
import { type Client, createClient } from '../create-client.js'
import { isUnderstudyError, type UnderstudyError } from '../errors.js'
import type { CallOptions, ClientOptions } from '../options.js'
import type { StreamEvent } from '../stream-event.js'
import { request } from './client-setup.js'
import { deepFreeze } from './deep-freeze.js'
import { drain, settle } from './settle.js'
import { type StreamProvider, type StreamScript, streamProvider } from './stream-provider.js'
import { createTestClock, type TestClock } from './test-clock.js'

type Scripts = Readonly<Record<string, readonly StreamScript[]>>

/** What one streamed call showed its caller. */
export interface StreamRun {
  readonly events: readonly StreamEvent[]
  /** The error the loop threw, if any. */
  readonly error: UnderstudyError | undefined
  /** How `response` settled. */
  readonly response: { readonly value?: ChatResponse; readonly reason?: unknown }
  /** The text the caller received. */
  readonly text: string
}

export interface StreamSetup {
  readonly clock: TestClock
  readonly a: StreamProvider
  readonly b: StreamProvider
  readonly c: StreamProvider
  readonly client: Client
  /** Reads one stream to its end on the test clock and checks it left no timer behind. */
  run(options?: CallOptions, callRequest?: ChatRequest): Promise<StreamRun>
  /** Reads `stream` to its end on the test clock, leaving the loop after `breakAfter` events. */
  read(stream: ChatStream, breakAfter?: number): Promise<StreamRun>
}

/**
 * Three streaming mock providers `a`, `b`, `c` on a test clock and a client
 * over them (`random: () => 0`). `prefix` names the providers that take an
 * assistant prefix.
 */
export function streamSetup(
  scripts: { readonly a?: Scripts; readonly b?: Scripts; readonly c?: Scripts } = {},
  clientOptions: Omit<ClientOptions, 'providers' | 'clock'> = {},
  prefix: readonly ('a' | 'b' | 'c')[] = [],
): StreamSetup {
  const clock = createTestClock()
  const make = (id: 'a' | 'b' | 'c'): StreamProvider =>
    streamProvider(id, scripts[id] ?? {}, clock, { assistantPrefix: prefix.includes(id) })
  const a = make('a')
  const b = make('b')
  const c = make('c')
  const client = createClient({
    providers: Object.freeze([a, b, c]),
    clock,
    random: () => 0,
    ...deepFreeze(clientOptions),
  })

  async function read(stream: ChatStream, breakAfter = Infinity): Promise<StreamRun> {
    const events: StreamEvent[] = []
    const reading = (async (): Promise<UnderstudyError | undefined> => {
      try {
        for await (const event of stream) {
          events.push(event)
          if (events.length >= breakAfter) break
        }
      } catch (error) {
        if (isUnderstudyError(error)) return error
        throw error
      }
      return undefined
    })()
    const settled = await settle(clock, reading)
    if (settled.status === 'rejected') throw settled.reason
    const response = await settle(clock, stream.response)
    await drain()
    if (clock.pending() !== 0) throw new Error(`the stream left ${clock.pending()} timer(s) behind`)
    return {
      events,
      error: settled.value,
      response:
        response.status === 'fulfilled' ? { value: response.value } : { reason: response.reason },
      text: events.map((event) => (event.type === 'text' ? event.text : '')).join(''),
    }
  }

  return {
    clock,
    a,
    b,
    c,
    client,
    read,
    run: (options, callRequest = request) =>
      read(client.stream(callRequest, options && deepFreeze(options))),
  }
}

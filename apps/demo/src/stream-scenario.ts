import {
  type ChatResponse,
  createClient,
  isUnderstudyError,
  type StreamEvent,
  type UnderstudyError,
} from '@understudy/core'
import { groq, openai } from '@understudy/providers-openai'
import { deepFreeze, type Reply, startFakeOpenAI } from '@understudy/testkit'
import { demoKeys } from './seed-scenario.js'

/** One streamed call: every event the caller saw, and how the stream ended. */
export interface StreamReport {
  readonly title: string
  readonly events: readonly StreamEvent[]
  /** The response when the stream finished; the error when it did not. */
  readonly response?: ChatResponse
  readonly error?: UnderstudyError
}

/** The fallback's answer, streamed a word at a time. */
export const fallbackAnswer = 'The understudy takes the stage, word by word.'

/**
 * One `client.stream()` call over real sockets: the primary (`openai/gpt-4o`)
 * answers `primaryReply`, the fallback (`groq/llama-3.3-70b`) streams
 * {@link fallbackAnswer}. `onEvent` sees each event as it arrives.
 */
export async function runStreamScenario(
  title: string,
  primaryReply: Reply,
  onEvent: (event: StreamEvent) => void = () => {},
): Promise<StreamReport> {
  const primary = await startFakeOpenAI({ respond: primaryReply })
  const backup = await startFakeOpenAI({ respond: { text: fallbackAnswer, chunkDelayMs: 15 } })
  try {
    const client = createClient({
      providers: [
        openai({ baseURL: `${primary.url}/v1`, apiKey: demoKeys.openai }),
        groq({ baseURL: `${backup.url}/v1`, apiKey: demoKeys.groq }),
      ],
      retries: 1,
      backoff: { initialDelayMs: 20 },
    })
    const stream = client.stream(
      { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Tell me a story.' }] },
      { fallbacks: deepFreeze(['groq/llama-3.3-70b']), timeoutMs: 10_000 },
    )
    const events: StreamEvent[] = []
    try {
      for await (const event of stream) {
        events.push(event)
        onEvent(event)
      }
      return { title, events, response: await stream.response }
    } catch (error) {
      if (!isUnderstudyError(error)) throw error
      return { title, events, error }
    }
  } finally {
    await Promise.all([primary.close(), backup.close()])
  }
}

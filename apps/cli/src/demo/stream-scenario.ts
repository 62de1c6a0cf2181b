import {
  type ChatResponse,
  isUnderstudyError,
  type StreamEvent,
  type UnderstudyError,
} from '@understudy/core'
import { deepFreeze, type Reply } from '@understudy/testkit'
import { setDemoStage } from './demo-stage.js'
import type { DemoVendor } from './demo-vendors.js'

/** One streamed call: every event the caller saw, and how the stream ended. */
export interface StreamReport {
  readonly title: string
  readonly events: readonly StreamEvent[]
  /** The response when the stream finished; the error when it did not. */
  readonly response?: ChatResponse
  readonly error?: UnderstudyError
}

/** What the vendors that answer stream, a word at a time. */
export const streamedAnswer = 'The understudy takes the stage, word by word.'

/**
 * One `client.stream()` call over real sockets: the first vendor is the
 * primary and answers `replies[0]`; each other vendor answers its entry, or
 * streams {@link streamedAnswer}. `onEvent` sees each event as it arrives.
 */
export async function runStreamScenario(
  title: string,
  vendors: readonly DemoVendor[],
  replies: readonly (Reply | undefined)[],
  onEvent: (event: StreamEvent) => void = () => {},
): Promise<StreamReport> {
  const answer: Reply = { text: streamedAnswer, chunkDelayMs: 15 }
  const stage = await setDemoStage(
    vendors,
    vendors.map((_, i) => replies[i] ?? answer),
  )
  try {
    const stream = stage.client.stream(
      { model: stage.primary, messages: [{ role: 'user', content: 'Tell me a story.' }] },
      { fallbacks: deepFreeze([...stage.fallbacks]), timeoutMs: 10_000 },
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
    await stage.close()
  }
}

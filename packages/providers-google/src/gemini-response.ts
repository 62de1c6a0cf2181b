import type { ProviderResponse } from '@understudy/core'
import type { ResponseInfo } from '@understudy/provider-kit'
import { type AnswerOrigin, GeminiAnswer } from './gemini-answer.js'

/**
 * The {@link ProviderResponse} of a 200 `generateContent` body: candidate
 * 0's text, reasoning (`thought: true` parts), function calls (as tool
 * calls, see `GeminiAnswer` for their ids), finish reason and usage, with
 * the answer's thought signatures as `message.providerState` (for
 * `origin` only). The request id is the upstream's header, else Gemini's
 * `responseId`.
 *
 * @throws UnderstudyError kind `content_policy` for a blocked prompt
 * (`promptFeedback.blockReason`), classified like the HTTP error it names
 * for an `{ error: … }` body, kind `server` for a body that is not a
 * `GenerateContentResponse`.
 */
export function parseGeminiResponse(
  body: unknown,
  info: ResponseInfo | undefined,
  origin: AnswerOrigin,
): ProviderResponse {
  const answer = new GeminiAnswer(origin)
  answer.add(body)
  const { text, toolCalls } = answer
  const providerState = answer.providerState()
  const message: {
    -readonly [K in keyof ProviderResponse['message']]: ProviderResponse['message'][K]
  } = { role: 'assistant', content: text }
  if (toolCalls.length > 0) message.toolCalls = toolCalls
  if (providerState !== undefined) message.providerState = providerState
  const response: { -readonly [K in keyof ProviderResponse]: ProviderResponse[K] } = {
    text,
    message,
    toolCalls,
    finishReason: answer.finish(),
    usage: answer.usage(),
  }
  if (answer.reasoning !== '') response.reasoning = answer.reasoning
  if (info !== undefined) response.status = info.status
  const requestId = info?.requestId ?? answer.responseId
  if (requestId !== undefined) response.requestId = requestId
  return response
}

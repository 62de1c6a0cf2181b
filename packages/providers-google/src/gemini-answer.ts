import {
  type FinishReason,
  type ProviderState,
  type ProviderStreamEvent,
  type ToolCall,
  UnderstudyError,
  type Usage,
} from '@understudy/core'
import { createGeminiInBandError, isGeminiErrorBody } from './gemini-errors.js'
import { SignatureCollector } from './gemini-state.js'
import { toUsage } from './gemini-usage.js'

type Json = Readonly<Record<string, unknown>>

/** Where an answer came from, for its tool-call ids and its `providerState`. */
export interface AnswerOrigin {
  /** The provider id that writes the state: `"google"`. */
  readonly provider: string
  /** The `stateOrigin()` of the attempt. */
  readonly origin: string
}

/**
 * One Gemini answer as its `GenerateContentResponse`s arrive — one for
 * `generateContent`, one per event for a stream: the text, reasoning, tool
 * calls, thought signatures, finish reason and usage so far. Each
 * response's candidate 0 adds to it; usage and the finish reason are the
 * latest given (Gemini reports the usage so far on every event).
 *
 * Tool calls get Gemini's `functionCall.id` when it sends one, else an id
 * made here, `call_<responseId>_<n>` (unique across a history, since
 * response ids are, and short enough for OpenAI's 40-character limit when
 * the history moves there); results are matched back by that id.
 */
export class GeminiAnswer {
  text = ''
  reasoning = ''
  readonly toolCalls: ToolCall[] = []
  /** Gemini's own finish reason, once a candidate carried one. */
  finishReason: string | undefined
  /** The latest `usageMetadata`, read into a `Usage` only once, by {@link usage}. */
  #usageMetadata: unknown
  /** The `responseId` of the first response that had one. */
  responseId: string | undefined
  readonly #signatures = new SignatureCollector()
  readonly #origin: AnswerOrigin
  #idPrefix: string | undefined

  constructor(origin: AnswerOrigin) {
    this.#origin = origin
  }

  /**
   * Adds one `GenerateContentResponse`; pushes the stream events it makes
   * onto `events` when given.
   *
   * @throws UnderstudyError classified like the HTTP error it names for an
   * `{ error: … }` body, kind `content_policy` for a prompt Gemini blocked
   * (`promptFeedback.blockReason`), kind `server` for anything that is not a
   * `GenerateContentResponse`.
   */
  add(response: unknown, events?: ProviderStreamEvent[]): void {
    if (!isRecord(response)) throw notAResponse('')
    if (response.error !== undefined && isGeminiErrorBody(response)) {
      throw createGeminiInBandError(response)
    }
    if (this.responseId === undefined && typeof response.responseId === 'string') {
      this.responseId = response.responseId
    }
    // Every stream event repeats the usage so far: kept as it came, read once at the end.
    if (response.usageMetadata !== undefined) this.#usageMetadata = response.usageMetadata
    const candidates = response.candidates
    if (candidates === undefined || (Array.isArray(candidates) && candidates.length === 0)) {
      const block = isRecord(response.promptFeedback)
        ? response.promptFeedback.blockReason
        : undefined
      if (typeof block === 'string') {
        throw new UnderstudyError({
          kind: 'content_policy',
          message: `Gemini blocked the prompt (promptFeedback.blockReason ${block})`,
        })
      }
      return
    }
    if (!Array.isArray(candidates)) throw notAResponse(' at candidates')
    const candidate: unknown = candidates[0]
    if (!isRecord(candidate)) throw notAResponse(' at candidates.0')
    const reason = candidate.finishReason
    if (typeof reason === 'string' && reason !== '') this.finishReason = reason
    const content = candidate.content
    if (content === undefined || content === null) return
    if (!isRecord(content)) throw notAResponse(' at candidates.0.content')
    const parts = content.parts
    if (parts === undefined || parts === null) return
    if (!Array.isArray(parts)) throw notAResponse(' at candidates.0.content.parts')
    for (let at = 0; at < parts.length; at++) this.#addPart(parts[at], at, events)
  }

  #addPart(part: unknown, at: number, events: ProviderStreamEvent[] | undefined): void {
    if (!isRecord(part)) throw notAResponse(` at candidates.0.content.parts.${at}`)
    const signature = typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined
    const call = part.functionCall
    if (call !== undefined && call !== null) {
      if (!isRecord(call) || typeof call.name !== 'string') {
        throw notAResponse(` at candidates.0.content.parts.${at}.functionCall`)
      }
      const args = call.args ?? {}
      if (!isRecord(args))
        throw notAResponse(` at candidates.0.content.parts.${at}.functionCall.args`)
      const index = this.toolCalls.length
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : this.#newId(index)
      const argumentsText = JSON.stringify(args)
      this.toolCalls.push({ id, name: call.name, arguments: argumentsText })
      this.#signatures.call(index, signature)
      events?.push({
        type: 'tool-call-delta',
        index,
        id,
        name: call.name,
        argumentsDelta: argumentsText,
      })
      return
    }
    const text = part.text
    if (text !== undefined && typeof text !== 'string') {
      throw notAResponse(` at candidates.0.content.parts.${at}.text`)
    }
    if (part.thought === true) {
      const thought = text ?? ''
      if (signature !== undefined) this.#signatures.thought(thought, signature)
      if (thought !== '') {
        this.reasoning += thought
        events?.push({ type: 'reasoning', text: thought })
      }
      return
    }
    if (signature !== undefined) this.#signatures.text(signature)
    if (text !== undefined && text !== '') {
      this.text += text
      events?.push({ type: 'text', text })
    }
    // Other parts (inlineData of an image answer, executableCode…) are not text: not read.
  }

  /** The usage of the latest `usageMetadata`; `{}` when none came. */
  usage(): Usage {
    return toUsage(this.#usageMetadata)
  }

  /** Core's finish reason: see {@link mapGeminiFinishReason}. */
  finish(): FinishReason {
    return mapGeminiFinishReason(this.finishReason, this.toolCalls.length > 0)
  }

  /** The answer's thought signatures as its `providerState`, when it was signed at all. */
  providerState(): ProviderState | undefined {
    const data = this.#signatures.data()
    if (data === undefined) return undefined
    return { provider: this.#origin.provider, origin: this.#origin.origin, data }
  }

  #newId(index: number): string {
    if (this.#idPrefix === undefined) {
      const base =
        this.responseId !== undefined && /^[\w-]{1,30}$/.test(this.responseId)
          ? this.responseId
          : Math.random().toString(36).slice(2, 14)
      this.#idPrefix = `call_${base}_`
    }
    return `${this.#idPrefix}${index}`
  }
}

/**
 * Core's {@link FinishReason} of a Gemini `finishReason`:
 *
 * - `STOP` → `stop`, or `tool_calls` when the candidate holds function
 *   calls (Gemini has no finish reason of its own for them), so a caller
 *   sees the same finish reason whichever vendor answered;
 * - `MAX_TOKENS` → `length`;
 * - `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`,
 *   `IMAGE_SAFETY`, `IMAGE_PROHIBITED_CONTENT`, `IMAGE_RECITATION` →
 *   `content_filter` (the call moves to the content-policy chain);
 * - `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `OTHER`, `LANGUAGE`
 *   and anything else → `other`. Gemini sends these with no usable content
 *   (a call it could not write, a call of a tool it was not given), so the
 *   client sees a 200 with nothing in it, kind `empty`, and falls back
 *   without retrying; whatever text did come is kept.
 */
export function mapGeminiFinishReason(
  reason: string | undefined,
  hasToolCalls: boolean,
): FinishReason {
  switch (reason) {
    case 'STOP':
      return hasToolCalls ? 'tool_calls' : 'stop'
    case 'MAX_TOKENS':
      return 'length'
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
      return 'content_filter'
    default:
      return 'other'
  }
}

function notAResponse(where: string): UnderstudyError {
  return new UnderstudyError({
    kind: 'server',
    message: `the upstream answered with a body that is not a GenerateContentResponse${where}`,
  })
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

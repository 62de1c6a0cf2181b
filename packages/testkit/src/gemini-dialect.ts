import { createHash, randomBytes } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Dialect, DialectRequest, DialectRoute, DialectStream } from './dialect.js'
import type { AnswerReply, ErrorReply, ReplyToolCall } from './reply.js'
import type { SseEvent } from './sse.js'

/** `/v1beta/models/gemini-2.5-flash:generateContent`, also under `/v1` and `/v1alpha`. */
const routePattern =
  /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/

/** Gemini's finish reasons, as far as a scripted answer can produce them. */
type GeminiFinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'OTHER'

/** One part of a candidate's content. */
type GeminiPart =
  | { readonly text: string; readonly thought?: true }
  | {
      readonly functionCall: {
        readonly id?: string
        readonly name: string
        readonly args: Readonly<Record<string, unknown>>
      }
      readonly thoughtSignature?: string
    }

/** The Gemini fields of a route the fake server hands back (it keeps the object `route()` made). */
interface GeminiRoute extends DialectRoute {
  /** The thought signature this request's key and model get on their function calls. */
  readonly signature: string
}

/**
 * The signatures Google documents for history Gemini did not sign (another
 * model's, another vendor's): accepted everywhere, as the real API does.
 * https://ai.google.dev/gemini-api/docs/thought-signatures
 */
const documentedDummySignatures: ReadonlySet<string> = new Set([
  'skip_thought_signature_validator',
  'context_engineering_is_the_way_to_go',
])

/** Token counts of one answer, in Gemini's terms. */
interface TokenCounts {
  readonly prompt: number
  readonly candidates: number
  readonly thoughts: number | undefined
}

/** What a prompt costs when the script gives no usage: the fake does not tokenize requests. */
const defaultPromptTokens = 8

/** The ratings of a candidate blocked for safety, as generate-content-finish-safety.json has them. */
const blockedSafetyRatings = [
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'LOW', blocked: true },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
]

/** google.rpc.Code names by HTTP status, as Google's JSON errors spell them in `status`. */
const statusNames: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
}

/** The retry delay of a 429 whose script names none, as error-429-resource-exhausted-retryinfo.json has it. */
const defaultRetryDelaySeconds = 36

/**
 * The Gemini API (`generativelanguage.googleapis.com`) as a fake server
 * speaks it, written from the recorded responses in `fixtures/gemini/`.
 *
 * Routes: `POST /v1beta/models/{model}:generateContent` and
 * `:streamGenerateContent` (also under `/v1` and `/v1alpha`); the model comes
 * from the path. Streams with `?alt=sse` (which the SDKs add) are SSE:
 * `data: {…}` events framed by `\r\n\r\n`, each a whole `GenerateContentResponse`,
 * the last carrying `finishReason` and the final `usageMetadata`, no `[DONE]`;
 * without it, as the real API, the same responses as one JSON array.
 *
 * Thought signatures: the first function call of an answer carries one,
 * made from the request's key and model; a request whose history carries a
 * signature made for another key or model (or any other that is not one of
 * Google's documented dummies) is refused with Gemini's 400 "Corrupted
 * thought signature.", whatever the script says.
 *
 * An answer's `usage.outputTokens` is `candidatesTokenCount`; reasoning
 * becomes a `thought: true` part and adds `thoughtsTokenCount`, estimated from
 * its length. Tool-call `arguments` become the `functionCall.args` object;
 * arguments that are not a JSON object become `{}`, as Gemini's wire carries
 * no other kind. `content_filter` is `finishReason: "SAFETY"` with blocked
 * `safetyRatings`.
 */
export const geminiDialect: Dialect = Object.freeze({
  name: 'gemini',
  sseLineEnding: '\r\n',

  route(request: DialectRequest): DialectRoute | undefined {
    if (request.method !== 'POST') return undefined
    const match = routePattern.exec(request.path)
    if (match === null) return undefined
    const [, rawModel = '', method] = match
    const model = decodeModel(rawModel)
    const stream = method === 'streamGenerateContent'
    const key = request.headers['x-goog-api-key'] ?? request.query.key ?? ''
    const route: GeminiRoute = {
      model,
      stream,
      // Without `alt=sse` the real API answers a stream as one JSON array.
      ...(stream && request.query.alt !== 'sse' && { streamFraming: 'json-array' as const }),
      signature: signatureFor(key, model),
    }
    return route
  },

  reject(request: DialectRequest, route: DialectRoute): ErrorReply | undefined {
    const own = signatureOf(route)
    if (own === undefined || foreignSignatureIn(request.body, own) === undefined) return undefined
    // What Gemini answers a thought signature another key or model wrote.
    return {
      status: 400,
      body: {
        error: { code: 400, message: 'Corrupted thought signature.', status: 'INVALID_ARGUMENT' },
      },
    }
  },

  answer(reply: AnswerReply, route: DialectRoute): unknown {
    const finishReason = finishReasonOf(reply)
    const counts = countsOf(reply)
    const parts: GeminiPart[] = []
    if (reply.reasoning !== undefined) parts.push({ text: reply.reasoning, thought: true })
    const text = textOf(reply)
    if (text !== '') parts.push({ text })
    for (const [index, call] of (reply.toolCalls ?? []).entries()) {
      parts.push(functionCallPart(call, index === 0 ? signatureOf(route) : undefined))
    }
    if (parts.length === 0 && finishReason !== 'SAFETY') parts.push({ text: '' })
    return {
      candidates: [candidate(parts, finishReason)],
      usageMetadata: usageMetadata(counts, counts.candidates),
      modelVersion: route.model ?? '',
      responseId: newResponseId(),
    }
  },

  stream(reply: AnswerReply, route: DialectRoute): DialectStream {
    const finishReason = finishReasonOf(reply)
    const counts = countsOf(reply)
    const responseId = newResponseId()
    const modelVersion = route.model ?? ''

    // Each entry is one chunk's parts; reasoning, text pieces and tool calls arrive in that order.
    const chunks: GeminiPart[][] = []
    if (reply.reasoning !== undefined) chunks.push([{ text: reply.reasoning, thought: true }])
    const pieces = reply.chunks ?? splitWords(reply.text ?? '')
    for (const piece of pieces) chunks.push([{ text: piece }])
    const toolCalls = reply.toolCalls ?? []
    if (toolCalls.length > 0) {
      chunks.push(
        toolCalls.map((call, index) =>
          functionCallPart(call, index === 0 ? signatureOf(route) : undefined),
        ),
      )
    }

    // stream-text.sse puts finishReason on the last text chunk; stream-function-call.sse
    // and a blocked answer end with a chunk of their own.
    const last = chunks.at(-1)
    const endsOnText =
      finishReason !== 'SAFETY' &&
      last !== undefined &&
      last.every((part) => 'text' in part && part.thought !== true)
    if (!endsOnText) chunks.push(finishReason === 'SAFETY' ? [] : [{ text: '' }])

    const weights = chunks.map((parts) => parts.reduce((sum, part) => sum + weightOf(part), 0))
    const totalWeight = weights.reduce((sum, weight) => sum + weight, 0)
    let sentWeight = 0
    const events = chunks.map((parts, index): SseEvent => {
      sentWeight += weights[index] ?? 0
      const isLast = index === chunks.length - 1
      // Gemini reports the usage so far on every chunk, growing to the final count.
      const candidatesSoFar =
        isLast || totalWeight === 0
          ? counts.candidates
          : Math.min(counts.candidates, Math.ceil((counts.candidates * sentWeight) / totalWeight))
      const body = {
        candidates: [candidate(parts, isLast ? finishReason : undefined)],
        usageMetadata: usageMetadata(counts, candidatesSoFar),
        modelVersion,
        responseId,
      }
      return { data: JSON.stringify(body) }
    })
    return { events, terminalEvents: 1 }
  },

  errorBody(status: number, route: DialectRoute | undefined, reply?: ErrorReply): unknown {
    const model = route?.model ?? 'gemini-2.5-flash'
    const error = {
      code: status,
      message: errorMessage(status, model),
      status: statusNames[status] ?? 'UNKNOWN',
    }
    if (status !== 429) return { error }
    const delaySeconds = retryDelaySecondsOf(reply)
    const retryIn =
      delaySeconds === undefined ? '' : `\nPlease retry in ${formatSeconds(delaySeconds)}.`
    return {
      error: {
        ...error,
        message: `${error.message} \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 20, model: ${model}${retryIn}`,
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric:
                  'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                // A scripted 429 is a rate limit: the per-minute quota of
                // error-429-resource-exhausted-short.json (a per-day one is a `quota` failure).
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                quotaDimensions: { location: 'global', model },
                quotaValue: '20',
              },
            ],
          },
          ...(delaySeconds === undefined
            ? []
            : [
                {
                  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
                  retryDelay: formatSeconds(delaySeconds),
                },
              ]),
        ],
      },
    }
  },

  inBandError(): SseEvent {
    // Gemini ends a failing 200 stream with a bare error object in a data event.
    const error = {
      code: 503,
      message: 'The model is overloaded. Please try again later.',
      status: 'UNAVAILABLE',
    }
    return { data: JSON.stringify({ error }) }
  },

  responseHeaders(): Readonly<Record<string, string>> {
    return responseHeaders
  },
})

/** The headers of generate-content-text.headers.json that say who answered. */
const responseHeaders: Readonly<Record<string, string>> = Object.freeze({
  server: 'scaffolding on HTTPServer2',
  vary: 'Origin, X-Origin, Referer',
  'x-gemini-service-tier': 'standard',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'x-xss-protection': '0',
})

function decodeModel(model: string): string {
  try {
    return decodeURIComponent(model)
  } catch {
    return model
  }
}

function finishReasonOf(reply: AnswerReply): GeminiFinishReason {
  const reason = reply.finishReason ?? 'stop'
  switch (reason) {
    case 'stop':
    case 'tool_calls':
      // Gemini has no tool-call finish reason: a function call ends with STOP.
      return 'STOP'
    case 'length':
      return 'MAX_TOKENS'
    case 'content_filter':
      return 'SAFETY'
    case 'other':
      return 'OTHER'
    default:
      return reason satisfies never
  }
}

function textOf(reply: AnswerReply): string {
  return reply.text ?? reply.chunks?.join('') ?? ''
}

/** A function call part; the first of an answer carries its thought signature, as Gemini 3 sends it. */
function functionCallPart(call: ReplyToolCall, signature: string | undefined): GeminiPart {
  return {
    functionCall: {
      ...(call.id !== undefined && { id: call.id }),
      name: call.name,
      args: argsOf(call.arguments),
    },
    ...(signature !== undefined && { thoughtSignature: signature }),
  }
}

/**
 * The thought signature the fake gives a key and model: opaque, and the
 * same for every answer to them, so history sent back to the same key and
 * model passes, and history signed for another is refused.
 */
function signatureFor(key: string, model: string): string {
  const digest = createHash('sha256').update(`${key}\u0000${model}`).digest('base64')
  return `Fk${digest.slice(0, 40)}`
}

function signatureOf(route: DialectRoute): string | undefined {
  return 'signature' in route && typeof route.signature === 'string' ? route.signature : undefined
}

/** The first thought signature in a request's `contents` that is neither `own` nor a documented dummy. */
function foreignSignatureIn(body: unknown, own: string): string | undefined {
  const contents = isRecord(body) && Array.isArray(body.contents) ? body.contents : []
  for (const content of contents) {
    const parts = isRecord(content) && Array.isArray(content.parts) ? content.parts : []
    for (const part of parts) {
      const signature = isRecord(part) ? part.thoughtSignature : undefined
      if (signature === undefined || signature === own) continue
      if (typeof signature === 'string' && documentedDummySignatures.has(signature)) continue
      return typeof signature === 'string' ? signature : String(signature)
    }
  }
  return undefined
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function argsOf(text: string): Readonly<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>
  } catch {
    // Not JSON: Gemini's args are always an object, so the fake sends an empty one.
  }
  return {}
}

function candidate(
  parts: readonly GeminiPart[],
  finishReason: GeminiFinishReason | undefined,
): unknown {
  if (finishReason === 'SAFETY') {
    // generate-content-finish-safety.json: no index, content `{}` when nothing was let through.
    return {
      content: parts.length === 0 ? {} : { parts, role: 'model' },
      finishReason,
      safetyRatings: blockedSafetyRatings,
    }
  }
  return {
    content: { parts, role: 'model' },
    ...(finishReason !== undefined && { finishReason }),
    index: 0,
  }
}

function countsOf(reply: AnswerReply): TokenCounts {
  const callsText = (reply.toolCalls ?? []).map((call) => call.name + call.arguments).join('')
  return {
    prompt: reply.usage?.inputTokens ?? defaultPromptTokens,
    candidates: reply.usage?.outputTokens ?? estimateTokens(textOf(reply) + callsText),
    thoughts: reply.reasoning === undefined ? undefined : estimateTokens(reply.reasoning),
  }
}

function usageMetadata(counts: TokenCounts, candidates: number): unknown {
  return {
    promptTokenCount: counts.prompt,
    // Gemini leaves the count out when no candidate token was produced (a blocked answer).
    ...(candidates > 0 && { candidatesTokenCount: candidates }),
    totalTokenCount: counts.prompt + candidates + (counts.thoughts ?? 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: counts.prompt }],
    ...(counts.thoughts !== undefined && { thoughtsTokenCount: counts.thoughts }),
    serviceTier: 'standard',
  }
}

/** About four characters a token, the usual rule of thumb; enough for a fake. */
function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

/** How much of the answer a part is, to grow `candidatesTokenCount` over a stream. */
function weightOf(part: GeminiPart): number {
  if ('functionCall' in part)
    return part.functionCall.name.length + JSON.stringify(part.functionCall.args).length
  return part.thought === true ? 0 : part.text.length
}

/** Splits text into words, each keeping the spaces after it, so the pieces join back to the text. */
function splitWords(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\s)(?=\S)/)
}

function newResponseId(): string {
  return randomBytes(17).toString('base64url')
}

function errorMessage(status: number, model: string): string {
  switch (status) {
    case 400:
      return 'Request contains an invalid argument.'
    case 401:
      return 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.'
    case 403:
      return "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
    case 404:
      return `models/${model} is not found for API version v1beta, or is not supported for generateContent. Call ModelService.ListModels to see the list of available models and their supported methods.`
    case 429:
      return 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit.'
    case 500:
      return 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'
    case 503:
      return 'The model is overloaded. Please try again later.'
    case 504:
      return 'Deadline expired before operation could complete.'
    default:
      return STATUS_CODES[status] ?? `HTTP ${status}`
  }
}

/**
 * The delay a 429 asks for, in seconds: the script's `retryAfterMs`, else its
 * `retryAfter` (seconds or an HTTP date), else the recorded 36 s. `undefined`
 * when `retryAfter` is neither, so the body carries no `RetryInfo`.
 */
function retryDelaySecondsOf(reply: ErrorReply | undefined): number | undefined {
  if (reply?.retryAfterMs !== undefined) return reply.retryAfterMs / 1000
  if (reply?.retryAfter === undefined) return defaultRetryDelaySeconds
  const text = reply.retryAfter.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

/** Seconds in Google's Duration JSON form: `36s`, `34.4s`, at most nanosecond digits. */
function formatSeconds(seconds: number): string {
  return `${Number(seconds.toFixed(9))}s`
}

import {
  type ChatRequest,
  type ErrorKind,
  type FinishReason,
  type Message,
  type Provider,
  type ProviderContext,
  type ProviderStreamEvent,
  redactSecrets,
  UnderstudyError,
  type UnderstudyErrorInit,
  type Usage,
} from '@understudy/core'
import { createParser } from 'eventsource-parser'

/** Options of {@link referenceOpenAIProvider}. */
export interface ReferenceOpenAIOptions {
  /** @default 'openai' */
  readonly id?: string
  /** Where requests go, up to `/v1`: `http://127.0.0.1:PORT/v1`. */
  readonly baseURL: string
  /** The configured key; it goes to `baseURL` only (DESIGN.md rule 2). */
  readonly apiKey?: string
  /** What sends each request. @default the global `fetch` (undici) */
  readonly fetch?: typeof fetch
}

type Json = Record<string, unknown>

const statusKinds: Readonly<Record<number, ErrorKind>> = {
  400: 'invalid_request',
  401: 'auth',
  403: 'auth',
  404: 'not_found',
  422: 'invalid_request',
  429: 'rate_limit',
  500: 'server',
  502: 'server',
  503: 'overloaded',
  504: 'server',
  529: 'overloaded',
}

/**
 * The testkit's own test fixture, not part of the package: a small but
 * correct OpenAI Chat Completions provider, so the suites are proven against
 * a real HTTP provider until `@understudy/providers-openai` exists.
 *
 * One HTTP request per call, never a retry. The target's key wins; a target
 * `baseURL` without a key of its own is sent no key. Every failure is an
 * `UnderstudyError` of its kind, with the keys redacted from it.
 */
export function referenceOpenAIProvider(options: ReferenceOpenAIOptions): Provider {
  const id = options.id ?? 'openai'
  const send = options.fetch ?? fetch

  /** Sends one request; resolves with a 200 of the expected content type, else throws a typed error. */
  async function post(request: ChatRequest, context: ProviderContext, stream: boolean) {
    const key = context.apiKey ?? (context.baseURL === undefined ? options.apiKey : undefined)
    const secrets = [key ?? '', options.apiKey ?? '']
    const fail = (kind: ErrorKind, message: string, extra: Partial<UnderstudyErrorInit> = {}) =>
      new UnderstudyError({
        ...extra,
        // Whatever broke after the caller aborted, the reason is the abort.
        kind: context.signal.aborted ? 'aborted' : kind,
        message: redactSecrets(`${id}/${request.model}: ${message}`, secrets),
        provider: id,
        model: request.model,
      })
    let response: Response
    try {
      response = await send(`${context.baseURL ?? options.baseURL}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...context.headers,
          ...(key !== undefined && { authorization: `Bearer ${key}` }),
        },
        body: JSON.stringify(toBody(request, id, stream)),
        signal: context.signal,
      })
    } catch (error) {
      // undici's fetch rejects with a TypeError for refused, reset and dropped connections.
      throw fail('network', `the request failed (${nameOf(error)})`, { cause: error })
    }
    const { status, headers } = response
    const extra = { status, requestId: headers.get('x-request-id') ?? undefined }
    const type = headers.get('content-type') ?? ''
    if (response.ok && type.includes(stream ? 'text/event-stream' : 'application/json'))
      return { response, fail, extra }
    const text = await response.text().catch(() => '')
    if (response.ok) throw fail('server', `HTTP ${status} with content type ${type}`, extra)
    const error = errorOf(parseJson(text))
    const retryAfterMs = retryAfterMsOf(headers)
    throw fail(kindOf(status, error.codes), `HTTP ${status}: ${error.message}`, {
      ...extra,
      retryAfterMs,
    })
  }

  return Object.freeze({
    id,
    async complete(request: ChatRequest, context: ProviderContext) {
      const { response, fail, extra } = await post(request, context, false)
      const text = await response.text().catch((error: unknown) => {
        throw fail('network', `the body was cut (${nameOf(error)})`, { ...extra, cause: error })
      })
      const body = parseJson(text)
      const choice = firstChoice(body)
      if (choice === undefined) throw fail('server', 'the body is not a chat completion', extra)
      const message = isRecord(choice.message) ? choice.message : {}
      const content = stringOf(message.content)
      const toolCalls = (Array.isArray(message.tool_calls) ? message.tool_calls : [])
        .filter(isRecord)
        .map((call) => {
          const fn = isRecord(call.function) ? call.function : {}
          return {
            id: stringOf(call.id),
            name: stringOf(fn.name),
            arguments: stringOf(fn.arguments),
          }
        })
      return {
        text: content,
        message: { role: 'assistant', content, ...(toolCalls.length > 0 && { toolCalls }) },
        toolCalls,
        ...(typeof message.reasoning === 'string' && { reasoning: message.reasoning }),
        finishReason: finishReasonOf(choice.finish_reason) ?? 'other',
        usage: usageOf(isRecord(body) ? body.usage : undefined),
        status: extra.status,
        ...(extra.requestId !== undefined && { requestId: extra.requestId }),
      } as const
    },
    async *stream(request: ChatRequest, context: ProviderContext) {
      const { response, fail, extra } = await post(request, context, true)
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      const frames: string[] = []
      const parser = createParser({ onEvent: (event) => frames.push(event.data) })
      let finishReason: FinishReason | undefined
      let usage: Usage = {}
      try {
        for (;;) {
          const read = await reader.read().catch((error: unknown) => {
            throw fail('network', `the stream was cut (${nameOf(error)})`, {
              ...extra,
              cause: error,
            })
          })
          if (read.done) break
          parser.feed(decoder.decode(read.value, { stream: true }))
          for (const data of frames.splice(0)) {
            if (data === '[DONE]') continue
            const chunk = parseJson(data)
            if (!isRecord(chunk)) throw fail('server', 'a stream event is not JSON', extra)
            if (chunk.error !== undefined) {
              const error = errorOf(chunk)
              throw fail(kindOf(error.status, error.codes), `error event: ${error.message}`, extra)
            }
            if (isRecord(chunk.usage)) usage = usageOf(chunk.usage)
            const choice = firstChoice(chunk)
            yield* eventsOf(isRecord(choice?.delta) ? choice.delta : {})
            finishReason = finishReasonOf(choice?.finish_reason) ?? finishReason
          }
        }
        // OpenAI's terminal signal is a `finish_reason` ([DONE] may be missing); none means cut short.
        if (finishReason === undefined)
          throw fail('incomplete', 'the stream ended without a finish_reason', extra)
        yield { type: 'finish', finishReason, usage } satisfies ProviderStreamEvent
      } finally {
        // Runs on `return()` too: a consumer that leaves early closes the connection.
        await reader.cancel().catch(() => undefined)
      }
    },
  })
}

/** The events of one streamed `delta`: reasoning, text, tool-call pieces; empty pieces are none. */
function eventsOf(delta: Json): ProviderStreamEvent[] {
  const events: ProviderStreamEvent[] = []
  const reasoning = stringOf(delta.reasoning ?? delta.reasoning_content)
  if (reasoning !== '') events.push({ type: 'reasoning', text: reasoning })
  if (stringOf(delta.content) !== '') events.push({ type: 'text', text: stringOf(delta.content) })
  for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) {
    const fn = isRecord(call.function) ? call.function : {}
    events.push({
      type: 'tool-call-delta',
      index: typeof call.index === 'number' ? call.index : 0,
      ...(typeof call.id === 'string' && { id: call.id }),
      ...(typeof fn.name === 'string' && { name: fn.name }),
      argumentsDelta: stringOf(fn.arguments),
    })
  }
  return events
}

/** The Chat Completions body for `request` (`undefined` fields vanish in JSON). */
function toBody(request: ChatRequest, id: string, stream: boolean): Json {
  const { responseFormat: format, toolChoice: choice } = request
  return {
    ...request.providerOptions?.[id],
    model: request.model,
    messages: request.messages.map(toMessage),
    temperature: request.temperature,
    top_p: request.topP,
    max_tokens: request.maxTokens,
    stop: request.stop,
    seed: request.seed,
    user: request.user,
    tools: request.tools?.map((tool) => ({ type: 'function', function: tool })),
    tool_choice: typeof choice === 'object' ? { type: 'function', function: choice } : choice,
    response_format:
      format?.type === 'json_schema'
        ? { type: 'json_schema', json_schema: { ...format, type: undefined } }
        : format && { type: format.type === 'json' ? 'json_object' : 'text' },
    ...(stream && { stream: true, stream_options: { include_usage: true } }),
  }
}

function toMessage(message: Message): Json {
  switch (message.role) {
    case 'system':
      return { ...message }
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content }
    case 'assistant': {
      const calls = message.toolCalls?.map(({ id, name, arguments: args }) => ({
        id,
        type: 'function',
        function: { name, arguments: args },
      }))
      return { role: 'assistant', content: message.content, tool_calls: calls }
    }
    case 'user': {
      if (typeof message.content === 'string') return { ...message }
      const content = message.content.map((part) => {
        if (part.type === 'text') return part
        const { image, mediaType = 'image/png' } = part
        const url =
          typeof image === 'string'
            ? image
            : `data:${mediaType};base64,${Buffer.from(image).toString('base64')}`
        return { type: 'image_url', image_url: { url } }
      })
      return { role: 'user', content }
    }
    default:
      return message satisfies never
  }
}

/**
 * The wait a 429 asks for, in ms: `retry-after-ms`, else `retry-after` in
 * seconds (fractions allowed), rounded up. The testkit depends on core only
 * (DESIGN.md), so this fixture reads the two forms the conformance suite
 * sends rather than import provider-kit's `parseRetryAfter`; an HTTP date is
 * left unread.
 */
function retryAfterMsOf(headers: Headers): number | undefined {
  const ms = plainNumber(headers.get('retry-after-ms'))
  if (ms !== undefined) return Math.ceil(ms)
  const seconds = plainNumber(headers.get('retry-after'))
  // `toFixed` drops the float noise of `1.1 * 1000`, which would round up a ms too many.
  return seconds === undefined ? undefined : Math.ceil(Number((seconds * 1000).toFixed(6)))
}

/** A number of 0 or more written as plain decimal text; `undefined` for anything else (`''` included). */
function plainNumber(text: string | null): number | undefined {
  const trimmed = text?.trim() ?? ''
  return /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) : undefined
}

/** The kind of an HTTP or in-band error: the body's `code`/`type` first, then the status. */
function kindOf(status: number | undefined, codes: readonly unknown[]): ErrorKind {
  if (codes.includes('context_length_exceeded')) return 'context_window'
  if (codes.includes('insufficient_quota')) return 'quota'
  const kind = status === undefined ? undefined : statusKinds[status]
  if (kind !== undefined) return kind
  if (codes.includes('rate_limit_exceeded')) return 'rate_limit'
  return (status ?? 0) >= 500 || codes.includes('server_error') ? 'server' : 'unknown'
}

/** The message, codes and status (in-band errors put it in a numeric `code`) of an `{ error }` body. */
function errorOf(body: unknown): { message: string; codes: unknown[]; status?: number } {
  const error = isRecord(body) && isRecord(body.error) ? body.error : {}
  return {
    message: stringOf(error.message).slice(0, 300) || 'no message',
    codes: [error.code, error.type],
    ...(typeof error.code === 'number' && { status: error.code }),
  }
}

function finishReasonOf(value: unknown): FinishReason | undefined {
  if (typeof value !== 'string') return undefined
  const named = ['stop', 'length', 'tool_calls', 'content_filter'] as const
  return named.find((reason) => reason === value) ?? 'other'
}

function usageOf(value: unknown): Usage {
  if (!isRecord(value)) return {}
  const details = (name: string): Json => {
    const inner = value[name]
    return isRecord(inner) ? inner : {}
  }
  const counts: [keyof Usage, unknown][] = [
    ['inputTokens', value.prompt_tokens],
    ['outputTokens', value.completion_tokens],
    ['totalTokens', value.total_tokens],
    ['cachedInputTokens', details('prompt_tokens_details').cached_tokens],
    ['reasoningTokens', details('completion_tokens_details').reasoning_tokens],
  ]
  return Object.fromEntries(counts.filter(([, count]) => typeof count === 'number'))
}

function firstChoice(body: unknown): Json | undefined {
  return isRecord(body) && Array.isArray(body.choices) ? body.choices.find(isRecord) : undefined
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

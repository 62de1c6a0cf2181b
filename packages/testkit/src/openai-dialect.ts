import { randomBytes } from 'node:crypto'
import type { FinishReason } from '@understudy/core'
import type { Dialect, DialectRequest, DialectRoute, DialectStream } from './dialect.js'
import type { AnswerReply } from './reply.js'
import type { SseEvent } from './sse.js'

/** What the OpenAI dialect reads from a request beyond model and stream. */
interface OpenAIRoute extends DialectRoute {
  /** An Azure OpenAI path: Azure's error bodies and content-filter annotations. */
  readonly azure: boolean
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  readonly includeUsage: boolean
  /** A rough count of the prompt's tokens, for a default `usage`. */
  readonly promptTokens: number
}

const chatPath = '/v1/chat/completions'
const azureV1Path = '/openai/v1/chat/completions'
const azureDeploymentPath = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/
const systemFingerprint = 'fp_f4ce5e4e7f'
const alphanumerics = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** The route of a request, or `undefined` when it is not a Chat Completions call. */
function route(request: DialectRequest): OpenAIRoute | undefined {
  if (request.method !== 'POST') return undefined
  const body = isRecord(request.body) ? request.body : {}
  const bodyModel = typeof body.model === 'string' ? body.model : undefined
  let model: string | undefined
  let azure: boolean
  if (request.path === chatPath) {
    model = bodyModel
    azure = false
  } else if (request.path === azureV1Path) {
    model = bodyModel
    azure = true
  } else {
    const match = azureDeploymentPath.exec(request.path)
    if (match === null) return undefined
    // Azure routes by deployment; the body's `model`, if any, is ignored.
    model = decodeURIComponent(match[1] ?? '')
    azure = true
  }
  const options = isRecord(body.stream_options) ? body.stream_options : {}
  return {
    model,
    stream: body.stream === true,
    azure,
    includeUsage: options.include_usage === true,
    promptTokens: estimateTokens(JSON.stringify(body.messages ?? '')),
  }
}

/** The OpenAI fields of a route the fake server hands back (it keeps the object `route()` made). */
function details(route: DialectRoute | undefined): OpenAIRoute {
  const azure = route !== undefined && 'azure' in route && route.azure === true
  const includeUsage = route !== undefined && 'includeUsage' in route && route.includeUsage === true
  const promptTokens =
    route !== undefined && 'promptTokens' in route && typeof route.promptTokens === 'number'
      ? route.promptTokens
      : 12
  return {
    model: route?.model,
    stream: route?.stream ?? false,
    azure,
    includeUsage,
    promptTokens,
  }
}

/** A non-streamed `chat.completion`, shaped like `fixtures/openai/chat-completion-*.json`. */
function answer(reply: AnswerReply, dialectRoute: DialectRoute): unknown {
  const openaiRoute = details(dialectRoute)
  const finishReason = finishReasonOf(reply)
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: textOf(reply) ?? null,
    refusal: null,
    annotations: [],
  }
  // OpenAI itself never returns reasoning text; OpenAI-compatible servers
  // (OpenRouter, Groq) put it in `reasoning`, as their recorded streams show.
  if (reply.reasoning !== undefined) message.reasoning = reply.reasoning
  if (reply.toolCalls !== undefined && reply.toolCalls.length > 0) {
    message.tool_calls = reply.toolCalls.map((call) => ({
      id: call.id ?? toolCallId(),
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }))
  }
  const choice: Record<string, unknown> = {
    index: 0,
    message,
    logprobs: null,
    finish_reason: finishReason,
  }
  if (openaiRoute.azure) choice.content_filter_results = contentFilterResults(finishReason)
  const body: Record<string, unknown> = {
    id: completionId(),
    object: 'chat.completion',
    created: nowSeconds(),
    model: modelOf(openaiRoute),
    choices: [choice],
    usage: usageOf(reply, openaiRoute),
    system_fingerprint: systemFingerprint,
  }
  // Azure sends no service tier, and annotates the prompt's filter verdicts instead.
  if (openaiRoute.azure) body.prompt_filter_results = promptFilterResults()
  else body.service_tier = 'default'
  return body
}

/**
 * A streamed answer, shaped like `fixtures/openai/stream-*.sse`: a first chunk
 * with `delta.role`, content deltas, tool-call deltas by index (id and name
 * first, then argument fragments), a chunk with `finish_reason`, a usage chunk
 * with `choices: []` when `stream_options.include_usage` is set, then `[DONE]`.
 * On Azure, a first chunk with empty `id` and `choices` carries
 * `prompt_filter_results`, and each choice has `content_filter_results`, as
 * `fixtures/azure/stream-model-router-with-filter-results.chunks.jsonl` shows.
 */
function stream(reply: AnswerReply, dialectRoute: DialectRoute): DialectStream {
  const openaiRoute = details(dialectRoute)
  const id = completionId()
  const created = nowSeconds()
  const model = modelOf(openaiRoute)
  const finishReason = finishReasonOf(reply)
  const chunk = (choices: readonly unknown[], usage: unknown): SseEvent => {
    const body: Record<string, unknown> = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      ...(openaiRoute.azure ? {} : { service_tier: 'default' }),
      system_fingerprint: systemFingerprint,
      choices,
    }
    // Without include_usage OpenAI leaves `usage` out of every chunk.
    if (openaiRoute.includeUsage) body.usage = usage
    body.obfuscation = obfuscation()
    return { data: JSON.stringify(body) }
  }
  const choice = (delta: Record<string, unknown>, finish: string | null = null): unknown => {
    const value: Record<string, unknown> = {
      index: 0,
      delta,
      logprobs: null,
      finish_reason: finish,
    }
    if (openaiRoute.azure) {
      value.content_filter_results = finish === null ? contentFilterResults(null) : {}
    }
    return value
  }

  const events: SseEvent[] = []
  if (openaiRoute.azure) {
    events.push({
      data: JSON.stringify({
        choices: [],
        created: 0,
        id: '',
        model: '',
        object: '',
        prompt_filter_results: promptFilterResults(),
      }),
    })
  }
  const text = textOf(reply)
  const pieces = reply.chunks ?? (text === undefined ? [] : splitWords(text))
  events.push(
    chunk(
      [choice({ role: 'assistant', content: text === undefined ? null : '', refusal: null })],
      null,
    ),
  )
  if (reply.reasoning !== undefined) {
    for (const piece of splitWords(reply.reasoning))
      events.push(chunk([choice({ reasoning: piece })], null))
  }
  for (const piece of pieces) events.push(chunk([choice({ content: piece })], null))
  reply.toolCalls?.forEach((call, index) => {
    events.push(
      chunk(
        [
          choice({
            tool_calls: [
              {
                index,
                id: call.id ?? toolCallId(),
                type: 'function',
                function: { name: call.name, arguments: '' },
              },
            ],
          }),
        ],
        null,
      ),
    )
    for (const fragment of splitArguments(call.arguments)) {
      events.push(
        chunk([choice({ tool_calls: [{ index, function: { arguments: fragment } }] })], null),
      )
    }
  })

  const terminal: SseEvent[] = [chunk([choice({}, finishReason)], null)]
  if (openaiRoute.includeUsage) terminal.push(chunk([], usageOf(reply, openaiRoute)))
  terminal.push({ data: '[DONE]' })
  return { events: [...events, ...terminal], terminalEvents: terminal.length }
}

/**
 * OpenAI's real error body for `status` (from `fixtures/openai/error-*.json`),
 * or Azure's where it differs (`fixtures/azure/error-*.json`).
 */
function errorBody(status: number, dialectRoute: DialectRoute | undefined): unknown {
  const openaiRoute = details(dialectRoute)
  const model = modelOf(openaiRoute)
  if (openaiRoute.azure) {
    switch (status) {
      case 401:
        return {
          error: {
            code: '401',
            message:
              'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          },
        }
      case 404:
        return {
          error: {
            code: 'DeploymentNotFound',
            message:
              'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
          },
        }
      case 429:
        return {
          error: { code: '429', message: 'Rate limit is exceeded. Try again in 50 seconds.' },
        }
    }
  }
  switch (status) {
    case 400:
      return openaiError(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
        'invalid_request_error',
        null,
      )
    case 401:
      return openaiError(
        'Incorrect API key provided: sk-XXXXX***************************************XXXX. You can find your API key at https://platform.openai.com/account/api-keys.',
        'invalid_request_error',
        'invalid_api_key',
      )
    case 403:
      return openaiError(
        'Country, region, or territory not supported',
        'request_forbidden',
        'unsupported_country_region_territory',
      )
    case 404:
      return openaiError(
        `The model \`${model}\` does not exist or you do not have access to it.`,
        'invalid_request_error',
        'model_not_found',
      )
    case 429:
      return openaiError(
        `Request too large for ${model} in organization org-REDACTED on tokens per min (TPM): Limit 30000, Requested 30601. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        'tokens',
        'rate_limit_exceeded',
      )
    case 500:
      return openaiError(serverErrorMessage(), 'server_error', null)
    case 502:
      return { error: { code: 502, message: 'Bad gateway.', param: null, type: 'cf_bad_gateway' } }
    case 503:
      return openaiError(
        `That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists. (Please include the request ID ${hex(32)} in your message.)`,
        'server_error',
        null,
      )
  }
  return status >= 500
    ? openaiError(serverErrorMessage(), 'server_error', null)
    : openaiError(`The request failed with status ${status}.`, 'invalid_request_error', null)
}

/**
 * The `data: {"error": …}` frame OpenAI and compatible servers send inside a
 * 200 stream (`fixtures/other/sglang-stream-context-length-error.sse`,
 * `fixtures/openai/stream-in-band-error-openrouter.sse`); the SDKs raise it.
 */
function inBandError(): SseEvent {
  return {
    data: JSON.stringify(
      openaiError(
        'The server had an error while processing your request. Sorry about that!',
        'server_error',
        null,
      ),
    ),
  }
}

/** Headers OpenAI sends on every response (`fixtures/openai/*.headers.json`). */
function responseHeaders(index: number): Readonly<Record<string, string>> {
  return {
    'x-request-id': `req_${hex(32)}`,
    'openai-processing-ms': String(100 + ((index * 37) % 400)),
    'openai-version': '2020-10-01',
    'openai-organization': 'org-slug-REDACTED',
    'access-control-expose-headers': 'X-Request-ID',
    'x-content-type-options': 'nosniff',
  }
}

/**
 * The OpenAI Chat Completions wire format, with the Azure OpenAI paths:
 * `POST /v1/chat/completions`, `POST /openai/deployments/{deployment}/chat/completions?api-version=…`
 * (the model is the deployment) and `POST /openai/v1/chat/completions`.
 */
export const openaiDialect: Dialect = Object.freeze({
  name: 'openai',
  route,
  answer,
  stream,
  errorBody,
  inBandError,
  responseHeaders,
})

function openaiError(message: string, type: string, code: string | null): unknown {
  return { error: { message, type, param: null, code } }
}

function serverErrorMessage(): string {
  return `The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error. (Please include the request ID req_${hex(32)} in your email.)`
}

/** The answer's text: `text`, or its `chunks` joined. */
function textOf(reply: AnswerReply): string | undefined {
  return reply.text ?? reply.chunks?.join('')
}

function finishReasonOf(reply: AnswerReply): string {
  const reason: FinishReason =
    reply.finishReason ??
    (reply.toolCalls !== undefined && reply.toolCalls.length > 0 ? 'tool_calls' : 'stop')
  // `function_call` is the one finish reason OpenAI has beyond the four we name.
  return reason === 'other' ? 'function_call' : reason
}

function usageOf(reply: AnswerReply, openaiRoute: OpenAIRoute): unknown {
  const outputText = [
    textOf(reply) ?? '',
    ...(reply.toolCalls ?? []).map((call) => call.name + call.arguments),
  ].join('')
  const promptTokens = reply.usage?.inputTokens ?? openaiRoute.promptTokens
  const completionTokens = reply.usage?.outputTokens ?? estimateTokens(outputText)
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }
}

function contentFilterResults(finishReason: string | null): unknown {
  const safe = { filtered: false, severity: 'safe' }
  return {
    hate: safe,
    self_harm: safe,
    sexual: safe,
    violence: finishReason === 'content_filter' ? { filtered: true, severity: 'medium' } : safe,
  }
}

function promptFilterResults(): unknown {
  const safe = { filtered: false, severity: 'safe' }
  return [
    {
      prompt_index: 0,
      content_filter_results: {
        hate: safe,
        jailbreak: { filtered: false, detected: false },
        self_harm: safe,
        sexual: safe,
        violence: safe,
      },
    },
  ]
}

function modelOf(openaiRoute: OpenAIRoute): string {
  return openaiRoute.model ?? 'gpt-4o-mini'
}

/** Word-sized pieces whose concatenation is `text`, each with its leading space, as OpenAI streams them. */
function splitWords(text: string): readonly string[] {
  return text.match(/\s*\S+|\s+$/g) ?? []
}

/** Argument fragments as OpenAI streams them: a few characters each. */
function splitArguments(text: string): readonly string[] {
  const size = 8
  const fragments: string[] = []
  for (let at = 0; at < text.length; at += size) fragments.push(text.slice(at, at + size))
  return fragments
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4))
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

function completionId(): string {
  return `chatcmpl-${randomText(29)}`
}

function toolCallId(): string {
  return `call_${randomText(24)}`
}

/** OpenAI pads each chunk with a random `obfuscation` string of varying length. */
function obfuscation(): string {
  return randomText(1 + ((randomBytes(1)[0] ?? 0) % 15))
}

function randomText(length: number): string {
  return Array.from(randomBytes(length), (byte) => alphanumerics[byte % alphanumerics.length]).join(
    '',
  )
}

function hex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

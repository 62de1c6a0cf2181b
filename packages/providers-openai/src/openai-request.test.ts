import { fc, it as prop } from '@fast-check/vitest'
import {
  type ChatRequest,
  isUnderstudyError,
  type JsonValue,
  type Message,
  type ResponseFormat,
  type ToolChoice,
} from '@understudy/core'
import { deepFreeze } from '@understudy/testkit'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import {
  buildOpenAIRequest,
  type OpenAIRequestOptions,
  usesMaxCompletionTokens,
} from './openai-request.js'

const complete: OpenAIRequestOptions = { stream: false, includeUsage: true }
const hi: readonly Message[] = [{ role: 'user', content: 'hi' }]

/** The body for `request` (deep-frozen first: the builder must not write it). */
function bodyOf(
  request: Omit<ChatRequest, 'model' | 'messages'> & Partial<ChatRequest>,
  options: OpenAIRequestOptions = complete,
): Record<string, unknown> {
  const spec = buildOpenAIRequest(
    deepFreeze({ model: 'gpt-4o', messages: hi, ...request }),
    options,
  )
  expect(spec.path).toBe('/chat/completions')
  return spec.body as Record<string, unknown>
}

const weather = {
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
} as const

/** A 1×1 PNG's first bytes: enough for its signature. */
const pngBytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])

describe('buildOpenAIRequest', () => {
  it('sends the model and messages only when nothing else is asked', () => {
    expect(bodyOf({})).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
  })

  it('maps system, user, assistant and tool messages', () => {
    const messages: Message[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      },
      { role: 'tool', toolCallId: 'call_1', content: '{"celsius":4}' },
      { role: 'assistant', content: 'It is 4 °C.' },
    ]
    expect(bodyOf({ messages }).messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":4}' },
      { role: 'assistant', content: 'It is 4 °C.' },
    ])
  })

  it('sends no tool_calls for an assistant message with an empty list', () => {
    const messages: Message[] = [{ role: 'assistant', content: 'ok', toolCalls: [] }]
    expect(bodyOf({ messages }).messages).toEqual([{ role: 'assistant', content: 'ok' }])
  })

  it('maps text parts and images given as a URL or a data URL', () => {
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo='
    const messages: Message[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image', image: 'https://example.com/cat.png' },
          { type: 'image', image: dataUrl, mediaType: 'image/png' },
        ],
      },
    ]
    expect(bodyOf({ messages }).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
          { type: 'image_url', image_url: { url: dataUrl } },
        ],
      },
    ])
  })

  it('sends image bytes as a base64 data URL of their media type', () => {
    // A view into a larger buffer: only its own bytes may be encoded.
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9])
    const bytes = backing.subarray(2, 5)
    const request: ChatRequest = {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: [{ type: 'image', image: bytes, mediaType: 'image/jpeg' }] },
      ],
    }
    const body = buildOpenAIRequest(request, complete).body as { messages: [{ content: unknown }] }
    expect(body.messages[0].content).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AQID' } },
    ])
    expect([...backing]).toEqual([9, 9, 1, 2, 3, 9])
  })

  it("encodes image bytes the same without Node's Buffer", () => {
    const bytes = new Uint8Array(100_000).map((_, index) => (index * 7) % 256)
    const request: ChatRequest = {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: [{ type: 'image', image: bytes, mediaType: 'image/png' }] },
      ],
    }
    const withBuffer = JSON.stringify(buildOpenAIRequest(request, complete).body)
    vi.stubGlobal('Buffer', undefined)
    onTestFinished(() => {
      vi.unstubAllGlobals()
    })
    expect(JSON.stringify(buildOpenAIRequest(request, complete).body)).toBe(withBuffer)
  })

  it('recognises PNG, JPEG, GIF and WebP bytes given without a media type', () => {
    const urlOf = (image: Uint8Array): string => {
      const request: ChatRequest = {
        model: 'gpt-4o',
        messages: [{ role: 'user', content: [{ type: 'image', image }] }],
      }
      const body = buildOpenAIRequest(request, complete).body as {
        messages: [{ content: [{ image_url: { url: string } }] }]
      }
      return body.messages[0].content[0].image_url.url
    }
    expect(urlOf(pngBytes)).toMatch(/^data:image\/png;base64,/)
    expect(urlOf(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]))).toMatch(/^data:image\/jpeg;/)
    expect(urlOf(new TextEncoder().encode('GIF89a'))).toMatch(/^data:image\/gif;/)
    expect(urlOf(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toMatch(/^data:image\/webp;/)
  })

  it('throws kind invalid_request for bytes of an unknown type without a media type', () => {
    const request: ChatRequest = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'image', image: new Uint8Array([1, 2, 3]) }] }],
    }
    let thrown: unknown
    try {
      buildOpenAIRequest(request, complete)
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'invalid_request')).toBe(true)
  })

  it('maps tools to functions', () => {
    const bare = { name: 'now', parameters: { type: 'object' } } as const
    expect(bodyOf({ tools: [weather, bare] }).tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'The weather in a city.',
          parameters: weather.parameters,
        },
      },
      { type: 'function', function: { name: 'now', parameters: { type: 'object' } } },
    ])
  })

  it.each([
    ['auto', 'auto'],
    ['none', 'none'],
    ['required', 'required'],
    [{ name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
  ] as [ToolChoice, unknown][])('maps the tool choice %o', (toolChoice, expected) => {
    expect(bodyOf({ tools: [weather], toolChoice }).tool_choice).toEqual(expected)
  })

  it('sends neither tools nor a tool choice when there are no tools', () => {
    const body = bodyOf({ tools: [], toolChoice: 'required' })
    expect('tools' in body).toBe(false)
    expect('tool_choice' in body).toBe(false)
  })

  it.each([
    [{ type: 'text' }, { type: 'text' }],
    [{ type: 'json' }, { type: 'json_object' }],
    [
      { type: 'json_schema', name: 'city', schema: { type: 'object' }, strict: true },
      {
        type: 'json_schema',
        json_schema: { name: 'city', schema: { type: 'object' }, strict: true },
      },
    ],
    [
      { type: 'json_schema', name: 'city', schema: { type: 'object' } },
      { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object' } } },
    ],
  ] as [ResponseFormat, unknown][])('maps the response format %o', (responseFormat, expected) => {
    expect(bodyOf({ responseFormat }).response_format).toEqual(expected)
  })

  it('maps the sampling fields, zero included', () => {
    const body = bodyOf({
      temperature: 0,
      topP: 0.9,
      maxTokens: 0,
      stop: ['\n\n', 'END'],
      seed: 0,
      user: 'user-42',
    })
    expect(body).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 0,
      top_p: 0.9,
      max_tokens: 0,
      stop: ['\n\n', 'END'],
      seed: 0,
      user: 'user-42',
    })
  })

  it('fails topK with kind unsupported, naming it, unless the server takes top_k', () => {
    let thrown: unknown
    try {
      bodyOf({ topK: 40 })
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'unsupported')).toBe(true)
    expect((thrown as Error).message).toContain('topK')
    expect(bodyOf({ topK: 0 }, { ...complete, topK: 'top_k' }).top_k).toBe(0)
  })

  it('sends no stop for an empty stop list', () => {
    expect('stop' in bodyOf({ stop: [] })).toBe(false)
  })

  it.each([
    ['o1', true],
    ['o1-mini', true],
    ['o3-mini-2025-01-31', true],
    ['o4-mini', true],
    ['gpt-5', true],
    ['gpt-5-mini', true],
    ['gpt-5.1', true],
    ['gpt-5-chat-latest', true],
    ['codex-mini-latest', true],
    ['gpt-4o', false],
    ['gpt-4.1-nano', false],
    ['gpt-3.5-turbo', false],
    ['omni-moderation-latest', false],
    ['llama-3.3-70b-versatile', false],
    ['openai/gpt-5', false],
  ])('sends maxTokens of %s as max_completion_tokens: %s', (model, completionTokens) => {
    expect(usesMaxCompletionTokens(model)).toBe(completionTokens)
    const body = bodyOf({ model, maxTokens: 100 })
    const field = completionTokens ? 'max_completion_tokens' : 'max_tokens'
    const other = completionTokens ? 'max_tokens' : 'max_completion_tokens'
    expect(body[field]).toBe(100)
    expect(other in body).toBe(false)
  })

  it('puts maxTokens where maxTokensField says, whatever the model', () => {
    const azure = bodyOf(
      { model: 'my-o3-deployment', maxTokens: 64 },
      { ...complete, maxTokensField: 'max_completion_tokens' },
    )
    expect(azure.max_completion_tokens).toBe(64)
    const old = bodyOf(
      { model: 'o1', maxTokens: 64 },
      { ...complete, maxTokensField: 'max_tokens' },
    )
    expect(old.max_tokens).toBe(64)
    expect('max_completion_tokens' in old).toBe(false)
  })

  it('asks for a stream with usage when streaming', () => {
    const body = bodyOf({}, { stream: true, includeUsage: true })
    expect(body.stream).toBe(true)
    expect(body.stream_options).toEqual({ include_usage: true })
  })

  it('asks for a stream without stream_options when usage is not wanted', () => {
    const body = bodyOf({}, { stream: true, includeUsage: false })
    expect(body.stream).toBe(true)
    expect('stream_options' in body).toBe(false)
  })

  it('marks a final assistant message as a prefix to continue, when the server takes one', () => {
    const messages = [
      { role: 'user', content: 'Count to five' },
      { role: 'assistant', content: 'One, two' },
    ] as const
    const marked = bodyOf({ messages }, { stream: true, includeUsage: true, assistantPrefix: true })
    expect(marked.messages).toEqual([
      { role: 'user', content: 'Count to five' },
      { role: 'assistant', content: 'One, two', prefix: true },
    ])
    const plain = bodyOf({ messages }, { stream: true, includeUsage: true })
    expect(plain.messages).toEqual(messages)
  })

  it('marks no prefix on a final assistant message with tool calls, nor on a final user message', () => {
    const withCalls = [
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'get', arguments: '{}' }] },
    ] as const
    const options = { stream: false, includeUsage: true, assistantPrefix: true }
    const last = (body: Record<string, unknown>): unknown => (body.messages as unknown[]).at(-1)
    expect(last(bodyOf({ messages: withCalls }, options))).not.toHaveProperty('prefix')
    expect(last(bodyOf({}, options))).not.toHaveProperty('prefix')
  })

  it('sends no stream field for a completion', () => {
    const body = bodyOf({})
    expect('stream' in body).toBe(false)
    expect('stream_options' in body).toBe(false)
  })

  it('merges providerOptions.openai last, over the mapped fields', () => {
    const body = bodyOf({
      temperature: 1,
      providerOptions: { openai: { logprobs: true, temperature: 0.2, reasoning_effort: 'low' } },
    })
    expect(body.temperature).toBe(0.2)
    expect(body.logprobs).toBe(true)
    expect(body.reasoning_effort).toBe('low')
  })

  it("merges the provider's own options after openai's, and no other provider's", () => {
    const providerOptions = {
      openai: { service_tier: 'flex', logprobs: true },
      groq: { service_tier: 'on_demand' },
      anthropic: { thinking: { type: 'enabled' } },
    }
    const groq = bodyOf({ providerOptions }, { ...complete, providerId: 'groq' })
    expect(groq.service_tier).toBe('on_demand')
    expect(groq.logprobs).toBe(true)
    expect('thinking' in groq).toBe(false)
    const openai = bodyOf({ providerOptions })
    expect(openai.service_tier).toBe('flex')
  })

  it('lets provider options replace neither the model, the messages nor stream', () => {
    const body = bodyOf(
      { providerOptions: { openai: { model: 'other', messages: [], stream: false, n: 1 } } },
      { stream: true, includeUsage: true },
    )
    expect(body.model).toBe('gpt-4o')
    expect(body.messages).toEqual([{ role: 'user', content: 'hi' }])
    expect(body.stream).toBe(true)
    expect(body.n).toBe(1)
  })

  it('leaves a deep-frozen request with every field unchanged', () => {
    const request: ChatRequest = {
      model: 'o3',
      messages: [
        { role: 'system', content: 's' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 't' },
            { type: 'image', image: 'https://example.com/a.png' },
          ],
        },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c', name: 'f', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c', content: 'r' },
      ],
      tools: [weather],
      toolChoice: { name: 'get_weather' },
      responseFormat: { type: 'json_schema', name: 'n', schema: { type: 'object' }, strict: true },
      temperature: 0.5,
      topP: 1,
      maxTokens: 10,
      stop: ['x'],
      seed: 1,
      user: 'u',
      providerOptions: { openai: { metadata: { a: '1' } }, azure: { x: [1] } },
    }
    const before = structuredClone(request)
    deepFreeze(request)
    const first = buildOpenAIRequest(request, {
      stream: true,
      includeUsage: true,
      providerId: 'azure',
    })
    const second = buildOpenAIRequest(request, {
      stream: true,
      includeUsage: true,
      providerId: 'azure',
    })
    expect(request).toEqual(before)
    expect(first).toEqual(second)
    expect(first.body).not.toBe(second.body)
  })

  prop.prop([requestArbitrary(), fc.boolean(), fc.boolean()], { numRuns: 200 })(
    'never writes a deep-frozen request and keeps every message',
    (request, stream, includeUsage) => {
      const before = structuredClone(request)
      deepFreeze(request)
      const body = buildOpenAIRequest(request, { stream, includeUsage }).body as {
        messages: unknown[]
      }
      expect(request).toEqual(before)
      expect(body.messages).toHaveLength(request.messages.length)
    },
  )
})

function requestArbitrary(): fc.Arbitrary<ChatRequest> {
  const json: fc.Arbitrary<JsonValue> = fc.jsonValue() as fc.Arbitrary<JsonValue>
  const message: fc.Arbitrary<Message> = fc.oneof(
    fc.record({ role: fc.constant('system' as const), content: fc.string() }),
    fc.record({
      role: fc.constant('user' as const),
      content: fc.oneof(
        fc.string(),
        fc.array(
          fc.oneof(
            fc.record({ type: fc.constant('text' as const), text: fc.string() }),
            fc.record({ type: fc.constant('image' as const), image: fc.webUrl() }),
          ),
        ),
      ),
    }),
    fc.record(
      {
        role: fc.constant('assistant' as const),
        content: fc.string(),
        toolCalls: fc.array(
          fc.record({ id: fc.string(), name: fc.string(), arguments: fc.json() }),
        ),
      },
      { requiredKeys: ['role', 'content'] },
    ),
    fc.record({
      role: fc.constant('tool' as const),
      toolCallId: fc.string(),
      content: fc.string(),
    }),
  )
  return fc.record(
    {
      model: fc.constantFrom('gpt-4o', 'o3', 'gpt-5-mini', 'llama'),
      messages: fc.array(message, { maxLength: 6 }),
      tools: fc.array(
        fc.record({ name: fc.string(), parameters: fc.dictionary(fc.string(), json) }),
        { maxLength: 2 },
      ),
      toolChoice: fc.oneof(
        fc.constantFrom('auto' as const, 'none' as const, 'required' as const),
        fc.record({ name: fc.string() }),
      ),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      maxTokens: fc.nat(),
      stop: fc.array(fc.string(), { maxLength: 3 }),
      providerOptions: fc.dictionary(
        fc.constantFrom('openai', 'azure', 'groq'),
        fc.dictionary(fc.string(), json),
      ),
    },
    { requiredKeys: ['model', 'messages'] },
  )
}

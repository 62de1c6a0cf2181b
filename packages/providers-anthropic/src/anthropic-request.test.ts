import { fc, test } from '@fast-check/vitest'
import { type ChatRequest, isUnderstudyError, type ProviderState } from '@understudy/core'
import type { AttemptTarget } from '@understudy/provider-kit'
import { deepFreeze } from '@understudy/testkit'
import { describe, expect, it } from 'vitest'
import {
  type AnthropicRequestOptions,
  buildAnthropicRequest,
  messagesPath,
} from './anthropic-request.js'
import { originOf } from './thinking-state.js'

const target: AttemptTarget = {
  model: 'claude-sonnet-4-5',
  baseURL: 'https://api.anthropic.com',
  apiKey: 'k',
}
const options: AnthropicRequestOptions = {
  stream: false,
  target,
  version: '2026-10-21',
  maxTokens: 4096,
}

function body(
  request: ChatRequest,
  overrides: Partial<AnthropicRequestOptions> = {},
): Record<string, unknown> {
  return buildAnthropicRequest(request, { ...options, ...overrides }).body as Record<
    string,
    unknown
  >
}

function thrown(build: () => unknown): unknown {
  try {
    build()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

const model = 'claude-sonnet-4-5'

describe('buildAnthropicRequest', () => {
  it('puts system messages at the top level and merges consecutive turns of one role', () => {
    const request: ChatRequest = {
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'One.' },
        { role: 'user', content: 'Two.' },
        { role: 'system', content: 'And kind.' },
        { role: 'assistant', content: 'Yes.' },
      ],
    }
    expect(body(request)).toEqual({
      model,
      max_tokens: 4096,
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'And kind.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'One.' },
            { type: 'text', text: 'Two.' },
          ],
        },
        { role: 'assistant', content: 'Yes.' },
      ],
    })
  })

  it('sends tool calls as tool_use and results as tool_result in a user turn, ids kept', () => {
    const request: ChatRequest = {
      model,
      messages: [
        { role: 'user', content: 'Weather in Paris and Oslo?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'toolu_a', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { id: 'toolu_b', name: 'get_weather', arguments: '' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_a', content: 'Sunny' },
        { role: 'tool', toolCallId: 'toolu_b', content: 'Snow' },
        { role: 'user', content: 'Thanks.' },
      ],
      tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }],
      toolChoice: { name: 'get_weather' },
    }
    const built = body(request)
    expect(built.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Oslo?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_b', name: 'get_weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: 'Sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: 'Snow' },
          { type: 'text', text: 'Thanks.' },
        ],
      },
    ])
    expect(built.tools).toEqual([
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } },
    ])
    expect(built.tool_choice).toEqual({ type: 'tool', name: 'get_weather' })
  })

  it.each([
    ['auto', { type: 'auto' }],
    ['none', { type: 'none' }],
    ['required', { type: 'any' }],
  ] as const)('maps toolChoice %s', (choice, wire) => {
    const tools = [{ name: 'f', parameters: { type: 'object' } }]
    expect(
      body({ model, messages: [{ role: 'user', content: 'x' }], tools, toolChoice: choice })
        .tool_choice,
    ).toEqual(wire)
  })

  it('sends images as url and base64 sources', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2])
    const built = body({
      model,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image', image: 'https://example.com/a.jpg' },
            { type: 'image', image: 'data:image/webp;base64,AAAA' },
            { type: 'image', image: png },
          ],
        },
      ],
    })
    expect(built.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
          { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'AAAA' } },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORwEC' } },
        ],
      },
    ])
  })

  it('maps maxTokens, stop, user and a JSON schema; stream asks for SSE', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } } }
    const built = body(
      {
        model,
        messages: [{ role: 'user', content: 'x' }],
        maxTokens: 10,
        stop: ['END'],
        user: 'u-1',
        responseFormat: { type: 'json_schema', name: 'a', schema },
      },
      { stream: true },
    )
    expect(built).toMatchObject({
      max_tokens: 10,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      output_config: { format: { type: 'json_schema', schema } },
      stream: true,
    })
  })

  it('merges providerOptions.anthropic over the body, but never model, messages or stream', () => {
    const built = body({
      model,
      messages: [{ role: 'user', content: 'x' }],
      providerOptions: {
        anthropic: {
          thinking: { type: 'enabled', budget_tokens: 1024 },
          model: 'other',
          stream: true,
        },
      },
    })
    expect(built.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 })
    expect(built.model).toBe(model)
    expect(built.stream).toBeUndefined()
  })

  it.each([
    [{ seed: 1 }, /seed/],
    [{ responseFormat: { type: 'json' } }, /JSON schema only/],
    [{ temperature: 0 }, /temperature \(temperature\)/],
    [{ topP: 0.5, topK: 3 }, /topP \(top_p\), topK \(top_k\)/],
  ] as const)('fails %j as unsupported under 2026-10-21', (params, message) => {
    const error = thrown(() =>
      body({ model, messages: [{ role: 'user', content: 'x' }], ...params }),
    )
    expect(isUnderstudyError(error, 'unsupported')).toBe(true)
    expect(String(error)).toMatch(message)
  })

  it('sends temperature, top_p and top_k under 2023-06-01', () => {
    const built = body(
      { model, messages: [{ role: 'user', content: 'x' }], temperature: 0, topP: 1, topK: 2 },
      { version: '2023-06-01' },
    )
    expect(built).toMatchObject({ temperature: 0, top_p: 1, top_k: 2 })
  })

  it('fails an image type or a tool argument the API cannot take as unsupported', () => {
    const gif = thrown(() =>
      body({
        model,
        messages: [
          { role: 'user', content: [{ type: 'image', image: 'data:image/bmp;base64,AA' }] },
        ],
      }),
    )
    expect(isUnderstudyError(gif, 'unsupported')).toBe(true)
    const args = thrown(() =>
      body({
        model,
        messages: [
          { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'f', arguments: '[1]' }] },
        ],
      }),
    )
    expect(isUnderstudyError(args, 'unsupported')).toBe(true)
  })

  it('sends signed thinking back only to the origin that wrote it', () => {
    const state: ProviderState = {
      provider: 'anthropic',
      origin: originOf(target),
      data: { thinking: [{ type: 'thinking', thinking: 'Hm', signature: 's' }, { type: 'odd' }] },
    }
    const request: ChatRequest = {
      model,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'Yes.', providerState: state },
      ],
    }
    expect((body(request).messages as unknown[])[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 'Hm', signature: 's' },
        { type: 'text', text: 'Yes.' },
      ],
    })
    const elsewhere = { ...target, apiKey: 'another key' }
    expect((body(request, { target: elsewhere }).messages as unknown[])[1]).toEqual({
      role: 'assistant',
      content: 'Yes.',
    })
  })

  it('sends a final assistant turn as a prefill, without its trailing whitespace', () => {
    const prefill = (content: string) =>
      body({
        model,
        messages: [
          { role: 'user', content: 'Count' },
          { role: 'assistant', content },
        ],
      }).messages
    expect(prefill('One, two, ')).toEqual([
      { role: 'user', content: 'Count' },
      { role: 'assistant', content: 'One, two,' },
    ])
    expect(prefill('  ')).toEqual([{ role: 'user', content: 'Count' }])
  })

  it('sends the version header and the path under a base URL with or without /v1', () => {
    const built = buildAnthropicRequest(
      { model, messages: [{ role: 'user', content: 'x' }] },
      options,
    )
    expect(built.headers).toEqual({ 'anthropic-version': '2026-10-21' })
    expect(messagesPath('https://api.anthropic.com')).toBe('/v1/messages')
    expect(messagesPath('https://gateway.example/anthropic/v1')).toBe('/messages')
  })

  const text = fc.string({ maxLength: 4 })
  const message = fc.oneof(
    fc.record({ role: fc.constant('system' as const), content: text }),
    fc.record({ role: fc.constant('user' as const), content: text }),
    fc.record({
      role: fc.constant('assistant' as const),
      content: text,
      toolCalls: fc.array(
        fc.record({ id: text, name: text, arguments: fc.constantFrom('', '{}', '{"a":1}') }),
        { maxLength: 2 },
      ),
    }),
    fc.record({ role: fc.constant('tool' as const), toolCallId: text, content: text }),
  )
  test.prop([fc.array(message, { maxLength: 8 })], { numRuns: 500 })(
    'never writes its deep-frozen input and never sends two turns of one role in a row',
    (messages) => {
      const request = deepFreeze({
        model,
        messages,
        stop: ['x'],
        tools: [{ name: 'f', parameters: {} }],
      })
      const before = JSON.stringify(request)
      const built = body(request as ChatRequest)
      expect(JSON.stringify(request)).toBe(before)
      const roles = (built.messages as { role: string }[]).map((turn) => turn.role)
      for (let i = 1; i < roles.length; i++) expect(roles[i]).not.toBe(roles[i - 1])
    },
  )
})

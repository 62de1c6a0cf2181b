import { describe, expect, it } from 'vitest'
import type { ChatRequest } from './chat-request.js'
import { ConfigError } from './errors.js'
import { parseConfig } from './parse-config.js'
import { requestSchema } from './request-schema.js'

const model = 'openai/gpt-4o'
const hi = { role: 'user', content: 'hi' } as const

/** The ConfigError for `request`, as `client.complete()` words it. */
function requestError(request: unknown): ConfigError {
  try {
    parseConfig(requestSchema, request, 'request')
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError, but the request was accepted')
}

interface Case {
  readonly behaviour: string
  readonly request: unknown
  readonly message: string
}

describe('requestSchema', () => {
  const cases: readonly Case[] = [
    {
      behaviour: 'rejects a message of an unknown role, listing the roles there are',
      request: { model, messages: [{ role: 'wizard', content: 'hi' }] },
      message:
        'request.messages[0].role: expected one of "system"|"user"|"assistant"|"tool"; received "wizard"',
    },
    {
      behaviour: 'rejects a message without a role',
      request: { model, messages: [hi, { content: 'hi' }] },
      message:
        'request.messages[1].role: expected one of "system"|"user"|"assistant"|"tool"; received undefined',
    },
    {
      behaviour: 'rejects a message that is no object',
      request: { model, messages: ['hi'] },
      message: 'request.messages[0]: expected a message object; received "hi"',
    },
    {
      behaviour: 'rejects a user message whose content is a number',
      request: { model, messages: [{ role: 'user', content: 42 }] },
      message:
        'request.messages[0].content: expected a string or an array of text and image parts; received 42',
    },
    {
      behaviour: 'rejects a user message without content',
      request: { model, messages: [{ role: 'user' }] },
      message:
        'request.messages[0].content: expected a string or an array of text and image parts; received undefined',
    },
    {
      behaviour: 'rejects a system message whose content is not a string',
      request: { model, messages: [{ role: 'system', content: ['be brief'] }, hi] },
      message: 'request.messages[0].content: expected string; received an array',
    },
    {
      behaviour: 'rejects an assistant message without content',
      request: { model, messages: [hi, { role: 'assistant' }] },
      message: 'request.messages[1].content: expected string; received undefined',
    },
    {
      behaviour: 'rejects a tool message without toolCallId',
      request: { model, messages: [hi, { role: 'tool', content: 'a cat' }] },
      message: 'request.messages[1].toolCallId: expected string; received undefined',
    },
    {
      behaviour: 'rejects a tool message that names its call the wire’s way',
      request: { model, messages: [{ role: 'tool', tool_call_id: 'call_1', content: 'a cat' }] },
      message: 'request.messages[0].toolCallId: expected string; received undefined',
    },
    {
      behaviour: 'rejects a tool call without arguments',
      request: {
        model,
        messages: [hi, { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'look' }] }],
      },
      message: 'request.messages[1].toolCalls[0].arguments: expected string; received undefined',
    },
    {
      behaviour: 'rejects tool calls that are not an array',
      request: {
        model,
        messages: [{ role: 'assistant', content: '', toolCalls: { id: 'c1' } }],
      },
      message: 'request.messages[0].toolCalls: expected array; received an object',
    },
    {
      behaviour: 'rejects an image part without an image',
      request: { model, messages: [{ role: 'user', content: [{ type: 'image' }] }] },
      message:
        'request.messages[0].content[0].image: expected a URL string or bytes (a Uint8Array); received undefined',
    },
    {
      behaviour: 'rejects an image given as an array of numbers',
      request: { model, messages: [{ role: 'user', content: [{ type: 'image', image: [1, 2] }] }] },
      message:
        'request.messages[0].content[0].image: expected a URL string or bytes (a Uint8Array); received an array',
    },
    {
      behaviour: 'rejects a content part of an unknown type',
      request: {
        model,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'audio' }] }],
      },
      message:
        'request.messages[0].content[1].type: expected one of "text"|"image"; received "audio"',
    },
    {
      behaviour: 'rejects a text part without text',
      request: { model, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      message: 'request.messages[0].content[0].text: expected string; received undefined',
    },
    {
      behaviour: 'rejects a content part that is a bare string',
      request: { model, messages: [{ role: 'user', content: ['hi'] }] },
      message: 'request.messages[0].content[0]: expected a text or image part; received "hi"',
    },
    {
      behaviour: 'rejects a negative temperature',
      request: { model, messages: [hi], temperature: -0.5 },
      message: 'request.temperature: expected a number, 0 or more; received -0.5',
    },
    {
      behaviour: 'rejects a temperature given as a string',
      request: { model, messages: [hi], temperature: '0.2' },
      message: 'request.temperature: expected a number, 0 or more; received "0.2"',
    },
    {
      behaviour: 'rejects a topP above 1',
      request: { model, messages: [hi], topP: 1.5 },
      message: 'request.topP: expected a number from 0 to 1; received 1.5',
    },
    {
      behaviour: 'rejects a topK that is not a whole number',
      request: { model, messages: [hi], topK: 2.5 },
      message: 'request.topK: expected a whole number, 1 or more; received 2.5',
    },
    {
      behaviour: "rejects an assistant turn's providerState without its origin",
      request: {
        model,
        messages: [
          hi,
          { role: 'assistant', content: 'ok', providerState: { provider: 'x', data: 1 } },
        ],
      },
      message: 'request.messages[1].providerState.origin: expected string; received undefined',
    },
    {
      behaviour: 'rejects a maxTokens of 0',
      request: { model, messages: [hi], maxTokens: 0 },
      message: 'request.maxTokens: expected a whole number of tokens, 1 or more; received 0',
    },
    {
      behaviour: 'rejects a stop that is a string, not a list',
      request: { model, messages: [hi], stop: '\n' },
      message: 'request.stop: expected array; received "\\n"',
    },
    {
      behaviour: 'rejects a tool without parameters',
      request: { model, messages: [hi], tools: [{ name: 'look' }] },
      message: 'request.tools[0].parameters: expected record; received undefined',
    },
    {
      behaviour: 'rejects a response format of an unknown type',
      request: { model, messages: [hi], responseFormat: { type: 'xml' } },
      message:
        'request.responseFormat.type: expected one of "text"|"json"|"json_schema"; received "xml"',
    },
    {
      behaviour: 'rejects an unknown tool choice',
      request: { model, messages: [hi], tools: [], toolChoice: 'always' },
      message:
        'request.toolChoice: expected "auto", "none", "required" or { name }; received "always"',
    },
    {
      behaviour: 'names the first problem when there are several',
      request: {
        model,
        messages: [
          { role: 'system', content: 7 },
          { role: 'user', content: 7 },
        ],
      },
      message: 'request.messages[0].content: expected string; received 7',
    },
  ]

  for (const expected of cases) {
    it(expected.behaviour, () => {
      const error = requestError(expected.request)
      expect(error.kind).toBe('config')
      expect(error.message).toBe(expected.message)
      expect(error.path).toBe(expected.message.slice(0, expected.message.indexOf(':')))
    })
  }

  it('shows a long received string cut short', () => {
    const long = 'x'.repeat(500)
    const error = requestError({ model, messages: [{ role: long, content: 'hi' }] })
    expect(error.message.length).toBeLessThan(160)
    expect(error.message).not.toContain(long)
  })

  it('accepts every message shape and request field a ChatRequest has', () => {
    const request: ChatRequest = {
      model,
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', image: new Uint8Array([137, 80]), mediaType: 'image/png' },
            { type: 'image', image: 'data:image/png;base64,iVBO' },
          ],
        },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'c1', name: 'look', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 'c1', content: 'a cat' },
        { role: 'assistant', content: 'A cat.' },
      ],
      tools: [{ name: 'look', description: 'Looks.', parameters: { type: 'object' } }],
      toolChoice: { name: 'look' },
      responseFormat: { type: 'json' },
      temperature: 0,
      topP: 0.9,
      maxTokens: 1,
      stop: ['\n'],
      seed: -1,
      user: 'u-1',
      providerOptions: { openai: { logprobs: true }, anthropic: { metadata: { a: 1 } } },
    }
    expect(requestSchema.safeParse(request).success).toBe(true)
  })

  it('ignores keys a request does not have, at every level, as providers do', () => {
    const request = {
      model,
      traceId: 't-1',
      max_tokens: 100,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi', cache: true }], id: 'm-1' },
        { role: 'assistant', content: 'hello', toolCalls: [], createdAt: 0 },
      ],
    }
    expect(requestSchema.safeParse(request).success).toBe(true)
  })

  it('takes exactly the fields of ChatRequest', () => {
    const keys = {
      model: true,
      messages: true,
      tools: true,
      toolChoice: true,
      responseFormat: true,
      temperature: true,
      topP: true,
      topK: true,
      maxTokens: true,
      stop: true,
      seed: true,
      user: true,
      providerOptions: true,
    } satisfies Record<keyof ChatRequest, true>
    const shape: unknown = Reflect.get(Object(Reflect.get(requestSchema, 'def')), 'shape')
    expect(Object.keys(Object(shape)).sort()).toEqual(Object.keys(keys).sort())
  })
})

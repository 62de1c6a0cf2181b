import {
  type AssistantMessage,
  type ChatRequest,
  isUnderstudyError,
  type Message,
  stateOrigin,
} from '@understudy/core'
import { deepFreeze } from '@understudy/testkit'
import { describe, expect, it } from 'vitest'
import { buildGeminiRequest } from './gemini-request.js'
import { thrownBy } from './test-support/harness.js'

const baseURL = 'https://generativelanguage.googleapis.com/v1beta'
const origin = stateOrigin({
  provider: 'google',
  model: 'gemini-3-pro-preview',
  baseURL,
  apiKey: 'key-a',
})
const otherKey = stateOrigin({
  provider: 'google',
  model: 'gemini-3-pro-preview',
  baseURL,
  apiKey: 'key-b',
})

const hi: ChatRequest = {
  model: 'gemini-3-pro-preview',
  messages: [{ role: 'user', content: 'hi' }],
}

type Body = Record<string, unknown>

function bodyOf(request: Partial<ChatRequest>, stream = false): Body {
  return buildGeminiRequest({ ...hi, ...request }, { stream, origin }).body as Body
}

/** An assistant turn that called `weather`, signed by `from`. */
function signedTurn(from: string): AssistantMessage {
  return {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_r1_0', name: 'weather', arguments: '{"city":"Oslo"}' }],
    providerState: { provider: 'google', origin: from, data: { calls: ['sig-1'] } },
  }
}

const toolHistory = (turn: AssistantMessage): Message[] => [
  { role: 'user', content: 'Weather in Oslo?' },
  turn,
  { role: 'tool', toolCallId: 'call_r1_0', content: 'Sunny' },
]

describe('buildGeminiRequest', () => {
  it('posts to models/{model}:generateContent, or :streamGenerateContent?alt=sse', () => {
    expect(buildGeminiRequest(hi, { stream: false, origin }).path).toBe(
      '/models/gemini-3-pro-preview:generateContent',
    )
    expect(buildGeminiRequest(hi, { stream: true, origin }).path).toBe(
      '/models/gemini-3-pro-preview:streamGenerateContent?alt=sse',
    )
    expect(
      buildGeminiRequest({ ...hi, model: 'tunedModels/my model' }, { stream: false, origin }).path,
    ).toBe('/tunedModels/my%20model:generateContent')
  })

  it('maps leading system messages to systemInstruction and the roles to user and model', () => {
    const body = bodyOf({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Be kind.' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'again' },
      ],
    })
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Be kind.' }] })
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'hi' }] },
      { role: 'model', parts: [{ text: 'Hello.' }] },
      { role: 'user', parts: [{ text: 'again' }] },
    ])
  })

  it('maps images: bytes and data: URLs inline, other URLs as fileData', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const body = bodyOf({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', image: png },
            { type: 'image', image: 'data:image/jpeg;base64,/9j/4AAQ' },
            { type: 'image', image: 'https://example.com/cat.webp?size=2' },
            {
              type: 'image',
              image: 'https://generativelanguage.googleapis.com/v1beta/files/abc',
              mediaType: 'image/png',
            },
            { type: 'image', image: 'https://example.com/plain' },
          ],
        },
      ],
    })
    expect(body.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What is this?' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
          { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp?size=2' } },
          {
            fileData: {
              mimeType: 'image/png',
              fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc',
            },
          },
          { fileData: { fileUri: 'https://example.com/plain' } },
        ],
      },
    ])
  })

  it('maps tools to functionDeclarations with the JSON Schema as given, and each tool choice', () => {
    const parameters = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    }
    const tools = [{ name: 'weather', description: 'Weather now', parameters }]
    expect(bodyOf({ tools }).tools).toEqual([
      {
        functionDeclarations: [
          { name: 'weather', description: 'Weather now', parametersJsonSchema: parameters },
        ],
      },
    ])
    expect(bodyOf({ tools }).toolConfig).toBeUndefined()
    expect(bodyOf({ tools, toolChoice: 'auto' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'AUTO' },
    })
    expect(bodyOf({ tools, toolChoice: 'none' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'NONE' },
    })
    expect(bodyOf({ tools, toolChoice: 'required' }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY' },
    })
    expect(bodyOf({ tools, toolChoice: { name: 'weather' } }).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['weather'] },
    })
    // A tool choice without tools has nothing to choose from.
    expect(bodyOf({ toolChoice: 'required' }).toolConfig).toBeUndefined()
  })

  it('maps the sampling parameters and response format to generationConfig, zeros included', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } }
    expect(
      bodyOf({
        temperature: 0,
        topP: 0.5,
        topK: 0,
        maxTokens: 100,
        stop: ['END'],
        seed: 0,
        responseFormat: { type: 'json_schema', name: 'a', schema, strict: true },
      }).generationConfig,
    ).toEqual({
      temperature: 0,
      topP: 0.5,
      topK: 0,
      maxOutputTokens: 100,
      stopSequences: ['END'],
      seed: 0,
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    })
    expect(bodyOf({ responseFormat: { type: 'json' } }).generationConfig).toEqual({
      responseMimeType: 'application/json',
    })
    expect(bodyOf({ responseFormat: { type: 'text' } }).generationConfig).toEqual({
      responseMimeType: 'text/plain',
    })
    expect(bodyOf({ stop: [] })).not.toHaveProperty('generationConfig')
  })

  it('merges providerOptions.google over the body, its generationConfig into the one built here', () => {
    const body = bodyOf({
      temperature: 0.2,
      providerOptions: {
        google: {
          safetySettings: [{ category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_NONE' }],
          generationConfig: { thinkingConfig: { includeThoughts: true } },
          contents: [],
        },
        openai: { logprobs: true },
      },
    })
    expect(body.generationConfig).toEqual({
      temperature: 0.2,
      thinkingConfig: { includeThoughts: true },
    })
    expect(body.safetySettings).toEqual([
      { category: 'HARM_CATEGORY_HATE_SPEECH', threshold: 'BLOCK_NONE' },
    ])
    expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'hi' }] }])
    expect(body).not.toHaveProperty('logprobs')
  })

  it('sends tool calls and their results as functionCall and functionResponse, results of one turn together', () => {
    const body = bodyOf({
      messages: [
        { role: 'user', content: 'Weather in Oslo and Rome?' },
        {
          role: 'assistant',
          content: 'Looking.',
          toolCalls: [
            { id: 'a', name: 'weather', arguments: '{"city":"Oslo"}' },
            { id: 'b', name: 'time', arguments: '' },
          ],
        },
        { role: 'tool', toolCallId: 'b', content: '12:00' },
        { role: 'tool', toolCallId: 'a', content: 'Sunny' },
      ],
    })
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Oslo and Rome?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Looking.' },
          {
            functionCall: { name: 'weather', args: { city: 'Oslo' } },
            thoughtSignature: 'skip_thought_signature_validator',
          },
          { functionCall: { name: 'time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'time', response: { output: '12:00' } } },
          { functionResponse: { name: 'weather', response: { output: 'Sunny' } } },
        ],
      },
    ])
  })

  it('sends a thought signature back to the origin that wrote it', () => {
    const contents = bodyOf({ messages: toolHistory(signedTurn(origin)) }).contents as Body[]
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        { functionCall: { name: 'weather', args: { city: 'Oslo' } }, thoughtSignature: 'sig-1' },
      ],
    })
  })

  it('replays signed thoughts and a signed text to the same origin', () => {
    const turn: AssistantMessage = {
      role: 'assistant',
      content: 'Done.',
      providerState: {
        provider: 'google',
        origin,
        data: { thoughts: [{ text: 'Think.', signature: 'sig-t' }], text: 'sig-x' },
      },
    }
    const contents = bodyOf({ messages: [{ role: 'user', content: 'q' }, turn] }).contents as Body[]
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'Think.', thought: true, thoughtSignature: 'sig-t' },
        { text: 'Done.', thoughtSignature: 'sig-x' },
      ],
    })
  })

  it.each([
    ['another key', otherKey],
    [
      'another model',
      stateOrigin({ provider: 'google', model: 'gemini-2.5-flash', baseURL, apiKey: 'key-a' }),
    ],
    [
      'another base URL',
      stateOrigin({
        provider: 'google',
        model: 'gemini-3-pro-preview',
        baseURL: 'https://proxy.example/v1beta',
        apiKey: 'key-a',
      }),
    ],
    [
      'another provider',
      stateOrigin({
        provider: 'anthropic',
        model: 'gemini-3-pro-preview',
        baseURL,
        apiKey: 'key-a',
      }),
    ],
  ])(
    'drops the signatures of a turn written by %s, sending the documented dummy instead',
    (_, from) => {
      const contents = bodyOf({ messages: toolHistory(signedTurn(from)) }).contents as Body[]
      expect(JSON.stringify(contents)).not.toContain('sig-1')
      expect(contents[1]).toEqual({
        role: 'model',
        parts: [
          {
            functionCall: { name: 'weather', args: { city: 'Oslo' } },
            thoughtSignature: 'skip_thought_signature_validator',
          },
        ],
      })
    },
  )

  it('never writes a deep-frozen request', () => {
    const request = deepFreeze<ChatRequest>({
      ...hi,
      messages: [
        { role: 'system', content: 's' },
        ...toolHistory(signedTurn(origin)),
        { role: 'user', content: [{ type: 'image', image: 'data:image/png;base64,iVBO' }] },
      ],
      tools: [{ name: 'weather', parameters: { type: 'object' } }],
      toolChoice: { name: 'weather' },
      stop: ['x'],
      providerOptions: { google: { generationConfig: { candidateCount: 1 } } },
    })
    const before = JSON.stringify(request)
    buildGeminiRequest(request, { stream: true, origin })
    buildGeminiRequest(request, { stream: false, origin: otherKey })
    expect(JSON.stringify(request)).toBe(before)
  })

  it.each([
    ['user', { user: 'u-1' }, 'user'],
    [
      'a system message after the conversation started',
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'system', content: 'late' },
        ] as Message[],
      },
      'messages[1]',
    ],
    ['six stop sequences', { stop: ['a', 'b', 'c', 'd', 'e', 'f'] }, 'stop'],
    [
      'system messages alone',
      { messages: [{ role: 'system', content: 'Be brief.' }] as Message[] },
      'messages',
    ],
    [
      'a data: URL that is not base64',
      {
        messages: [
          { role: 'user', content: [{ type: 'image', image: 'data:image/svg+xml,<svg/>' }] },
        ] as Message[],
      },
      'messages[0].content[0]',
    ],
    [
      'tool-call arguments that are not a JSON object',
      {
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'f', arguments: '[1]' }] },
        ] as Message[],
      },
      'messages[1].toolCalls[0].arguments',
    ],
  ])('fails %s with kind unsupported, naming it', (_, request, path) => {
    const error = thrownBy(() => bodyOf(request as Partial<ChatRequest>))
    expect(isUnderstudyError(error, 'unsupported')).toBe(true)
    expect((error as Error).message.startsWith(`${path}:`)).toBe(true)
  })

  it('fails a tool result that answers no earlier call, and image bytes of unknown type, with kind invalid_request', () => {
    const orphan = thrownBy(() =>
      bodyOf({ messages: [{ role: 'tool', toolCallId: 'nope', content: 'x' }] }),
    )
    expect(isUnderstudyError(orphan, 'invalid_request')).toBe(true)
    expect((orphan as Error).message).toContain('messages[0].toolCallId')
    const bytes = thrownBy(() =>
      bodyOf({
        messages: [
          { role: 'user', content: [{ type: 'image', image: new Uint8Array([1, 2, 3]) }] },
        ],
      }),
    )
    expect(isUnderstudyError(bytes, 'invalid_request')).toBe(true)
  })
})

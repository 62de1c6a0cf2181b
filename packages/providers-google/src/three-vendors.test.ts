import { fc, test } from '@fast-check/vitest'
import { type ChatRequest, type ChatResponse, createClient } from '@understudy/core'
import { anthropic } from '@understudy/providers-anthropic'
import { openai } from '@understudy/providers-openai'
import {
  type AnswerReply,
  type FakeServer,
  type RegressionSetup,
  serverUpstream,
  startFakeAnthropic,
  startFakeGemini,
  startFakeOpenAI,
} from '@understudy/testkit'
import { fallbackRegressionSuite } from '@understudy/testkit/vitest'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { google } from './index.js'

/**
 * One request, three vendors: the same `ChatRequest` — tool definitions, an
 * earlier tool call and its result in the history — served by OpenAI,
 * Anthropic or Gemini, each over its own wire format on a fake server.
 */

const tools: NonNullable<ChatRequest['tools']> = [
  {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
]

/** A conversation one tool round in: the call, its result, and the question that follows. */
const history: ChatRequest['messages'] = [
  { role: 'system', content: 'Answer in one sentence.' },
  { role: 'user', content: 'What is the weather in Paris?' },
  {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' }],
  },
  { role: 'tool', toolCallId: 'call_paris', content: '{"celsius":21,"sky":"clear"}' },
  { role: 'user', content: 'And should I take a coat?' },
]

/** Where each vendor's target lives and the key it alone may see. */
const vendors = {
  openai: { target: 'openai/gpt-4o', model: 'gpt-4o', key: 'key-openai' },
  anthropic: {
    target: 'anthropic/claude-sonnet-4-5',
    model: 'claude-sonnet-4-5',
    key: 'key-claude',
  },
  google: { target: 'google/gemini-2.5-flash', model: 'gemini-2.5-flash', key: 'key-gemini' },
} as const

type Vendor = keyof typeof vendors

interface Servers {
  readonly openai: FakeServer
  readonly anthropic: FakeServer
  readonly google: FakeServer
}

async function startServers(): Promise<Servers> {
  const [a, b, c] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini()])
  return { openai: a, anthropic: b, google: c }
}

async function closeServers(servers: Servers): Promise<void> {
  await Promise.all(Object.values(servers).map((server: FakeServer) => server.close()))
}

/** A client with the three providers, each at its own fake server with its own key. */
function clientFor(servers: Servers) {
  return createClient({
    providers: [
      openai({ baseURL: `${servers.openai.url}/v1`, apiKey: vendors.openai.key }),
      anthropic({ baseURL: servers.anthropic.url, apiKey: vendors.anthropic.key }),
      google({ baseURL: `${servers.google.url}/v1beta`, apiKey: vendors.google.key }),
    ],
    // No retries and no cooldown: every call walks the whole chain, so every
    // upstream is reached on every call and its credentials checked each time.
    retries: 0,
    health: { cooldownMs: 0 },
  })
}

/**
 * A chain through the three vendors in `order`: the first answers 429 with
 * Retry-After, the second 503, the third serves.
 */
async function crossing(order: readonly [Vendor, Vendor, Vendor]): Promise<RegressionSetup> {
  const servers = await startServers()
  const [first, second, third] = order
  servers[first].respondAll({ status: 429, retryAfter: '30' })
  servers[second].respondAll({ status: 503 })
  return {
    client: clientFor(servers),
    request: { model: vendors[first].target, messages: history, tools },
    fallbacks: [vendors[second].target, vendors[third].target],
    servedBy: vendors[third].target,
    upstreams: order.map((vendor) =>
      serverUpstream(servers[vendor], {
        target: vendors[vendor].target,
        apiKey: vendors[vendor].key,
      }),
    ),
    close: () => closeServers(servers),
  }
}

fallbackRegressionSuite(
  'OpenAI (429) → Anthropic (503) → Gemini, with tool calls and results in the history',
  () => crossing(['openai', 'anthropic', 'google']),
)

fallbackRegressionSuite(
  'Gemini (429) → Anthropic (503) → OpenAI, with tool calls and results in the history',
  () => crossing(['google', 'anthropic', 'openai']),
)

describe('one request with tool history, sent to each vendor', () => {
  it('reaches each in its own format: the same tools, the same call and its result', async () => {
    const servers = await startServers()
    onTestFinished(() => closeServers(servers))
    servers.openai.respondAll({ status: 503 })
    servers.anthropic.respondAll({ status: 503 })
    const client = clientFor(servers)
    const response = await client.complete(
      { model: vendors.openai.target, messages: history, tools, toolChoice: 'auto' },
      { fallbacks: [vendors.anthropic.target, vendors.google.target] },
    )
    expect(response.target).toBe(vendors.google.target)
    expect(response.attempts.map((attempt) => attempt.error?.kind)).toEqual([
      'overloaded',
      'overloaded',
      undefined,
    ])

    const [toOpenAI] = servers.openai.requests
    expect(toOpenAI?.body).toMatchObject({
      tools: [
        { type: 'function', function: { name: 'get_weather', parameters: tools[0]?.parameters } },
      ],
      messages: [
        { role: 'system', content: 'Answer in one sentence.' },
        { role: 'user' },
        {
          role: 'assistant',
          tool_calls: [
            {
              id: 'call_paris',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_paris', content: '{"celsius":21,"sky":"clear"}' },
        { role: 'user', content: 'And should I take a coat?' },
      ],
    })

    const [toClaude] = servers.anthropic.requests
    expect(toClaude?.body).toMatchObject({
      system: expect.stringContaining('Answer in one sentence.'),
      tools: [{ name: 'get_weather', input_schema: tools[0]?.parameters }],
      messages: [
        { role: 'user' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          // The tool result and the next question: one user turn, as the API requires.
          role: 'user',
          content: [
            expect.objectContaining({ type: 'tool_result', tool_use_id: 'call_paris' }),
            expect.objectContaining({ type: 'text', text: 'And should I take a coat?' }),
          ],
        },
      ],
    })
    expect(JSON.stringify(toClaude?.body)).toContain('celsius')

    const [toGemini] = servers.google.requests
    expect(toGemini?.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Answer in one sentence.' }] },
      tools: [
        {
          functionDeclarations: [
            { name: 'get_weather', parametersJsonSchema: tools[0]?.parameters },
          ],
        },
      ],
      contents: [
        { role: 'user' },
        {
          role: 'model',
          parts: [
            expect.objectContaining({
              functionCall: { name: 'get_weather', args: { city: 'Paris' } },
            }),
          ],
        },
        {
          role: 'user',
          parts: [
            expect.objectContaining({
              functionResponse: expect.objectContaining({ name: 'get_weather' }),
            }),
            { text: 'And should I take a coat?' },
          ],
        },
      ],
    })
    expect(JSON.stringify(toGemini?.body)).toContain('celsius')

    // Each upstream saw its own credential, in its own header, and no other.
    expect(toOpenAI?.headers.authorization).toBe(`Bearer ${vendors.openai.key}`)
    expect(toClaude?.headers['x-api-key']).toBe(vendors.anthropic.key)
    expect(toGemini?.headers['x-goog-api-key']).toBe(vendors.google.key)
    const seen = [toOpenAI, toClaude, toGemini].map((request) => JSON.stringify(request?.headers))
    expect(seen[0]).not.toMatch(/key-claude|key-gemini/)
    expect(seen[1]).not.toMatch(/key-openai|key-gemini/)
    expect(seen[2]).not.toMatch(/key-openai|key-claude/)
  })
})

/**
 * What a caller reads of a response, without what names who answered
 * (provider, model, target), ids, usage numbers, the attempts and a vendor's
 * own replay state (`message.providerState`: signed reasoning only its own
 * origin may be sent back).
 */
function callerView(response: ChatResponse): unknown {
  const {
    provider,
    model,
    target,
    attempts,
    usage,
    requestId,
    status,
    message,
    toolCalls,
    ...rest
  } = response
  const { providerState, toolCalls: messageCalls, ...messageRest } = message
  const withoutId = ({ id, ...call }: { readonly id: string }) => call
  return {
    ...rest,
    keys: Object.keys(response).sort(),
    // The counts every vendor reports; the optional ones (reasoning, cache
    // writes) are there only when the vendor reports them.
    usage: [usage.inputTokens, usage.outputTokens, usage.totalTokens].map((count) => typeof count),
    message: { ...messageRest, ...(messageCalls && { toolCalls: messageCalls.map(withoutId) }) },
    toolCalls: toolCalls.map(withoutId),
  }
}

const word = fc.stringMatching(/^[A-Za-z][a-z]{0,7}[,.!?]?$/)
const sentence = fc.array(word, { minLength: 1, maxLength: 8 }).map((words) => words.join(' '))

/** A reply all three fake servers can give: text, tool calls, or both; cut at `length` or not. */
const replyArbitrary: fc.Arbitrary<AnswerReply> = fc.oneof(
  fc.record({ text: sentence, finishReason: fc.constantFrom('stop' as const, 'length' as const) }),
  fc.record(
    {
      text: sentence,
      toolCalls: fc.array(
        fc.record({
          name: fc.constant('get_weather'),
          arguments: fc.record({ city: word }).map((args) => JSON.stringify(args)),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    },
    { requiredKeys: ['toolCalls'] },
  ),
)

/** A request within what all three vendors express: text turns, tools and their history, a token cap, stop words. */
const requestArbitrary = fc.record(
  {
    history: fc.boolean(),
    question: sentence,
    maxTokens: fc.integer({ min: 1, max: 4096 }),
    stop: fc.array(word, { minLength: 1, maxLength: 4 }),
    toolChoice: fc.constantFrom('auto' as const, 'required' as const, { name: 'get_weather' }),
  },
  { requiredKeys: ['history', 'question'] },
)

describe('the response a caller sees', () => {
  let servers: Servers
  beforeAll(async () => {
    servers = await startServers()
  })
  afterAll(() => closeServers(servers))

  test.prop([replyArbitrary, requestArbitrary, fc.boolean()], { numRuns: 40 })(
    'has the same shape and content whichever vendor answers',
    async (reply, shape, streamed) => {
      const client = clientFor(servers)
      const request: ChatRequest = {
        model: vendors.openai.target,
        messages: [
          ...(shape.history ? history.slice(0, 4) : []),
          { role: 'user', content: shape.question },
        ],
        ...(shape.maxTokens !== undefined && { maxTokens: shape.maxTokens }),
        ...(shape.stop !== undefined && { stop: shape.stop }),
        ...(shape.toolChoice !== undefined || shape.history || reply.toolCalls ? { tools } : {}),
        ...(shape.toolChoice !== undefined && { toolChoice: shape.toolChoice }),
      }
      const views: unknown[] = []
      for (const vendor of Object.keys(vendors) as Vendor[]) {
        servers[vendor].reset()
        servers[vendor].script(vendors[vendor].model, reply)
        const sent = { ...request, model: vendors[vendor].target }
        const response = streamed ? await client.stream(sent).response : await client.complete(sent)
        expect(response.provider).toBe(vendor)
        views.push(callerView(response))
      }
      expect(views[1]).toEqual(views[0])
      expect(views[2]).toEqual(views[0])
    },
  )
})

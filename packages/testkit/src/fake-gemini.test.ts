import { readFile } from 'node:fs/promises'
import { isUnderstudyError } from '@understudy/core'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { FakeServer, FakeServerOptions } from './fake-server.js'
import type { Reply } from './reply.js'
import { startFakeGemini } from './start-fake-gemini.js'

const fixtures = new URL('../../../fixtures/gemini/', import.meta.url)

async function fixtureText(name: string): Promise<string> {
  return readFile(new URL(name, fixtures), 'utf8')
}

async function fixtureJson(name: string): Promise<unknown> {
  return JSON.parse(await fixtureText(name))
}

async function start(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeGemini(options)
  onTestFinished(() => server.close())
  return server
}

const prompt = { contents: [{ role: 'user', parts: [{ text: 'Say OK.' }] }] }

function post(
  server: FakeServer,
  path: string,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-key', ...init.headers },
    body: JSON.stringify(prompt),
    ...(init.signal !== undefined && { signal: init.signal }),
  })
}

function generate(server: FakeServer, model: string): Promise<Response> {
  return post(server, `/v1beta/models/${model}:generateContent`)
}

function streamGenerate(
  server: FakeServer,
  model: string,
  signal?: AbortSignal,
): Promise<Response> {
  return post(
    server,
    `/v1beta/models/${model}:streamGenerateContent?alt=sse`,
    signal === undefined ? {} : { signal },
  )
}

/** The `data:` payloads of a Gemini SSE body, checking its `\r\n\r\n` framing on the way. */
function parseGeminiSse(text: string): unknown[] {
  expect(text.endsWith('\r\n\r\n')).toBe(true)
  const events = text.slice(0, -4).split('\r\n\r\n')
  return events.map((event) => {
    expect(event.startsWith('data: ')).toBe(true)
    // One line per event: every newline of the payload is escaped inside the JSON.
    expect(event).not.toMatch(/[\r\n]/)
    return JSON.parse(event.slice('data: '.length))
  })
}

/** Every field path of a JSON value (`candidates[].content.parts[].text`), sorted. */
function fieldPaths(value: unknown, prefix = ''): string[] {
  const paths = new Set<string>()
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, `${at}[]`)
      return
    }
    if (typeof node !== 'object' || node === null) return
    for (const [key, child] of Object.entries(node)) {
      const path = at === '' ? key : `${at}.${key}`
      paths.add(path)
      walk(child, path)
    }
  }
  walk(value, prefix)
  return [...paths].sort()
}

function without(paths: readonly string[], ...removed: readonly string[]): string[] {
  return paths.filter(
    (path) => !removed.some((gone) => path === gone || path.startsWith(`${gone}.`)),
  )
}

/** The first candidate of a GenerateContentResponse-shaped value. */
function firstCandidate(body: unknown): Record<string, unknown> {
  const candidates = Reflect.get(body as object, 'candidates') as unknown[]
  return candidates[0] as Record<string, unknown>
}

function partsOf(body: unknown): Record<string, unknown>[] {
  const content = firstCandidate(body).content as { parts?: Record<string, unknown>[] }
  return content.parts ?? []
}

function usageOf(body: unknown): Record<string, unknown> {
  return Reflect.get(body as object, 'usageMetadata') as Record<string, unknown>
}

describe('startFakeGemini', () => {
  it('answers generateContent under /v1beta and /v1 with the model from the path', async () => {
    const server = await start()
    const beta = await generate(server, 'gemini-2.5-flash')
    const v1 = await post(server, '/v1/models/gemini-2.0-flash:generateContent')
    expect(beta.status).toBe(200)
    expect(v1.status).toBe(200)
    expect(Reflect.get((await beta.json()) as object, 'modelVersion')).toBe('gemini-2.5-flash')
    expect(Reflect.get((await v1.json()) as object, 'modelVersion')).toBe('gemini-2.0-flash')
    expect(server.requests.map((request) => [request.model, request.stream])).toEqual([
      ['gemini-2.5-flash', false],
      ['gemini-2.0-flash', false],
    ])
  })

  it('answers 404 to paths and methods that are not the Gemini API', async () => {
    const server = await start()
    const wrongPath = await post(server, '/v1/chat/completions')
    const wrongMethod = await fetch(`${server.url}/v1beta/models/gemini-2.5-flash:generateContent`)
    expect(wrongPath.status).toBe(404)
    expect(wrongMethod.status).toBe(404)
  })

  it('logs the key from the x-goog-api-key header or the key query parameter, and alt=sse', async () => {
    const server = await start()
    await (await generate(server, 'gemini-2.5-flash')).text()
    await (
      await fetch(
        `${server.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=query-key`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(prompt),
        },
      )
    ).text()
    const [first, second] = server.requests
    expect(first?.headers['x-goog-api-key']).toBe('test-key')
    expect(first?.body).toEqual(prompt)
    expect(first?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent')
    expect(second?.headers['x-goog-api-key']).toBeUndefined()
    expect(second?.query).toEqual({ alt: 'sse', key: 'query-key' })
    expect(second?.model).toBe('gemini-2.5-flash')
    expect(second?.stream).toBe(true)
  })

  it('follows each model its own script, the last reply repeating', async () => {
    const server = await start()
    server.script('gemini-a', { text: 'A one.' }, { text: 'A two.' })
    server.script('gemini-b', { status: 503 })
    const texts: unknown[] = []
    for (const model of ['gemini-a', 'gemini-b', 'gemini-a', 'gemini-a']) {
      const response = await generate(server, model)
      texts.push(
        response.status === 200 ? partsOf(await response.json())[0]?.text : response.status,
      )
    }
    expect(texts).toEqual(['A one.', 503, 'A two.', 'A two.'])
  })

  it('gives a model nobody scripted a short successful answer', async () => {
    const server = await start()
    const body = await (await generate(server, 'gemini-unscripted')).json()
    expect(partsOf(body)).toEqual([{ text: 'Hello from the fake server.' }])
    expect(firstCandidate(body).finishReason).toBe('STOP')
  })

  it('sends the headers of a real Gemini response', async () => {
    const server = await start()
    const response = await generate(server, 'gemini-2.5-flash')
    expect(response.headers.get('x-gemini-service-tier')).toBe('standard')
    expect(response.headers.get('server')).toBe('scaffolding on HTTPServer2')
  })

  it('shapes a text answer like generate-content-text.json', async () => {
    const server = await start({
      respond: { text: 'OK.', usage: { inputTokens: 6, outputTokens: 2 } },
    })
    const body = await (await generate(server, 'gemini-2.5-flash')).json()
    const recorded = await fixtureJson('generate-content-text.json')
    // The recording spent thinking tokens; this answer has no reasoning, so no thoughtsTokenCount.
    expect(fieldPaths(body)).toEqual(
      without(fieldPaths(recorded), 'usageMetadata.thoughtsTokenCount'),
    )
    expect(firstCandidate(body)).toEqual({
      content: { parts: [{ text: 'OK.' }], role: 'model' },
      finishReason: 'STOP',
      index: 0,
    })
    expect(usageOf(body)).toMatchObject({
      promptTokenCount: 6,
      candidatesTokenCount: 2,
      totalTokenCount: 8,
    })
    expect(Reflect.get(body as object, 'responseId')).toMatch(/^[\w-]{20,}$/)
  })

  it('shapes a tool call like generate-content-function-call.json, args parsed from the JSON arguments', async () => {
    const server = await start({
      respond: {
        toolCalls: [{ name: 'weather', arguments: '{"location":"San Francisco"}' }],
        reasoning: 'Look it up.',
      },
    })
    const body = await (await generate(server, 'gemini-3-pro-preview')).json()
    const recorded = await fixtureJson('generate-content-function-call.json')
    // The fake invents no finishMessage; it adds the thought part and serviceTier.
    expect(
      without(
        fieldPaths(body),
        'candidates[].content.parts[].text',
        'candidates[].content.parts[].thought',
        'usageMetadata.serviceTier',
      ),
    ).toEqual(without(fieldPaths(recorded), 'candidates[].finishMessage'))
    expect(partsOf(body)).toEqual([
      { text: 'Look it up.', thought: true },
      {
        functionCall: { name: 'weather', args: { location: 'San Francisco' } },
        thoughtSignature: expect.any(String),
      },
    ])
    expect(firstCandidate(body).finishReason).toBe('STOP')
    expect(usageOf(body).thoughtsTokenCount).toBeGreaterThan(0)
  })

  it('shapes a content_filter answer like generate-content-finish-safety.json', async () => {
    const server = await start({
      respond: { finishReason: 'content_filter', usage: { inputTokens: 14, outputTokens: 0 } },
    })
    const body = await (await generate(server, 'gemini-1.5-flash')).json()
    const recorded = await fixtureJson('generate-content-finish-safety.json')
    expect(without(fieldPaths(body), 'usageMetadata.serviceTier')).toEqual(fieldPaths(recorded))
    expect(firstCandidate(body).content).toEqual({})
    expect(firstCandidate(body).finishReason).toBe('SAFETY')
    expect(firstCandidate(body).safetyRatings).toEqual(firstCandidate(recorded).safetyRatings)
  })

  it('reports a length finish as MAX_TOKENS', async () => {
    const server = await start({ respond: { text: 'Cut', finishReason: 'length' } })
    const body = await (await generate(server, 'gemini-2.5-flash')).json()
    expect(firstCandidate(body).finishReason).toBe('MAX_TOKENS')
  })

  it('streams text like stream-text.sse: CRLF-framed data events, finishReason and usage on the last', async () => {
    const server = await start({
      respond: { text: 'one two three', usage: { inputTokens: 18, outputTokens: 3 } },
    })
    const response = await streamGenerate(server, 'gemini-2.5-flash')
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const raw = await response.text()
    expect(raw).not.toContain('[DONE]')
    const chunks = parseGeminiSse(raw)
    const recorded = parseGeminiSse(await fixtureText('stream-text.sse'))
    const shape = (chunk: unknown): string[] =>
      without(fieldPaths(chunk), 'usageMetadata.thoughtsTokenCount')
    expect(shape(chunks[0])).toEqual(shape(recorded[0]))
    expect(shape(chunks.at(-1))).toEqual(shape(recorded.at(-1)))
    expect(chunks.map((chunk) => partsOf(chunk)[0]?.text).join('')).toBe('one two three')
    expect(chunks.map((chunk) => firstCandidate(chunk).finishReason)).toEqual([
      undefined,
      undefined,
      'STOP',
    ])
    expect(usageOf(chunks.at(-1))).toMatchObject({
      promptTokenCount: 18,
      candidatesTokenCount: 3,
      totalTokenCount: 21,
    })
    const responseIds = new Set(chunks.map((chunk) => Reflect.get(chunk as object, 'responseId')))
    expect(responseIds.size).toBe(1)
  })

  it('streams a tool call like stream-function-call.sse, ending on an empty text part with STOP', async () => {
    const server = await start({
      respond: { toolCalls: [{ name: 'get_country', arguments: '{}' }] },
    })
    const chunks = parseGeminiSse(
      await (await streamGenerate(server, 'gemini-3-pro-preview')).text(),
    )
    const recorded = parseGeminiSse(await fixtureText('stream-function-call.sse'))
    const shape = (chunk: unknown): string[] =>
      without(fieldPaths(chunk), 'usageMetadata.thoughtsTokenCount', 'usageMetadata.serviceTier')
    expect(chunks.map(shape)).toEqual(recorded.map(shape))
    expect(partsOf(chunks[0])).toEqual([
      { functionCall: { name: 'get_country', args: {} }, thoughtSignature: expect.any(String) },
    ])
    expect(partsOf(chunks[1])).toEqual([{ text: '' }])
    expect(firstCandidate(chunks[1]).finishReason).toBe('STOP')
  })

  it('answers streamGenerateContent without alt=sse as one JSON array of the same responses', async () => {
    const server = await start({
      respond: { text: 'one two three', usage: { inputTokens: 18, outputTokens: 3 } },
    })
    const response = await post(server, '/v1beta/models/gemini-2.5-flash:streamGenerateContent')
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const chunks = (await response.json()) as unknown[]
    expect(Array.isArray(chunks)).toBe(true)
    expect(chunks.map((chunk) => partsOf(chunk)[0]?.text)).toEqual(['one ', 'two ', 'three'])
    expect(chunks.map((chunk) => firstCandidate(chunk).finishReason)).toEqual([
      undefined,
      undefined,
      'STOP',
    ])
    const recorded = parseGeminiSse(await fixtureText('stream-text.sse'))
    const shape = (chunk: unknown): string[] =>
      without(fieldPaths(chunk), 'usageMetadata.thoughtsTokenCount')
    expect(shape(chunks.at(-1))).toEqual(shape(recorded.at(-1)))
    expect(server.requests[0]?.stream).toBe(true)
  })

  it('signs function calls for the key and model, takes its own signature back, and refuses another with the real 400', async () => {
    const server = await start({
      respond: { toolCalls: [{ name: 'weather', arguments: '{"city":"Oslo"}' }] },
    })
    const ask = (key: string, model: string, signature?: string): Promise<Response> =>
      fetch(`${server.url}/v1beta/models/${model}:generateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': key },
        body: JSON.stringify({
          contents: [
            { role: 'user', parts: [{ text: 'Weather?' }] },
            ...(signature === undefined
              ? []
              : [
                  {
                    role: 'model',
                    parts: [
                      { functionCall: { name: 'weather', args: {} }, thoughtSignature: signature },
                    ],
                  },
                ]),
          ],
        }),
      })
    const first = await (await ask('key-a', 'gemini-3-pro-preview')).json()
    const signature = partsOf(first)[0]?.thoughtSignature as string
    expect(signature).toMatch(/^Fk/)
    expect((await ask('key-a', 'gemini-3-pro-preview', signature)).status).toBe(200)
    expect(
      (await ask('key-a', 'gemini-3-pro-preview', 'skip_thought_signature_validator')).status,
    ).toBe(200)
    for (const [key, model] of [
      ['key-b', 'gemini-3-pro-preview'],
      ['key-a', 'gemini-2.5-flash'],
    ] as const) {
      const refused = await ask(key, model, signature)
      expect(refused.status).toBe(400)
      expect(await refused.json()).toEqual({
        error: { code: 400, message: 'Corrupted thought signature.', status: 'INVALID_ARGUMENT' },
      })
    }
    expect(server.requests).toHaveLength(5)
  })

  it('streams reasoning first as a thought part, with thoughtsTokenCount on every chunk', async () => {
    const server = await start({ respond: { reasoning: 'Thinking.', text: 'Done.' } })
    const chunks = parseGeminiSse(await (await streamGenerate(server, 'gemini-2.5-flash')).text())
    expect(partsOf(chunks[0])).toEqual([{ text: 'Thinking.', thought: true }])
    expect(partsOf(chunks[1])).toEqual([{ text: 'Done.' }])
    for (const chunk of chunks) expect(usageOf(chunk).thoughtsTokenCount).toBeGreaterThan(0)
  })

  it('ends a filtered stream with a SAFETY chunk carrying the blocked ratings', async () => {
    const server = await start({ respond: { text: 'Partial', finishReason: 'content_filter' } })
    const chunks = parseGeminiSse(await (await streamGenerate(server, 'gemini-2.5-flash')).text())
    const last = firstCandidate(chunks.at(-1))
    expect(last.finishReason).toBe('SAFETY')
    expect(last.safetyRatings).toContainEqual({
      category: 'HARM_CATEGORY_HATE_SPEECH',
      probability: 'LOW',
      blocked: true,
    })
  })

  it('sends an in-band error as a data event inside a 200 stream', async () => {
    const server = await start({ respond: { fault: 'in-band-error', afterEvents: 1 } })
    const response = await streamGenerate(server, 'gemini-2.5-flash')
    expect(response.status).toBe(200)
    const events = parseGeminiSse(await response.text())
    expect(events).toHaveLength(2)
    expect(partsOf(events[0])).toEqual([{ text: 'Partial ' }])
    expect(events[1]).toEqual({
      error: {
        code: 503,
        message: 'The model is overloaded. Please try again later.',
        status: 'UNAVAILABLE',
      },
    })
  })

  it('ends a no-terminal stream cleanly without any finishReason', async () => {
    const server = await start({ respond: { fault: 'no-terminal' } })
    const chunks = parseGeminiSse(await (await streamGenerate(server, 'gemini-2.5-flash')).text())
    expect(chunks.length).toBeGreaterThan(0)
    for (const chunk of chunks) expect(firstCandidate(chunk).finishReason).toBeUndefined()
  })

  it('drops the connection mid-stream after the first events', async () => {
    const server = await start({ respond: { fault: 'drop-mid-stream', afterEvents: 2 } })
    const response = await streamGenerate(server, 'gemini-2.5-flash')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let received = ''
    const failure = await (async (): Promise<unknown> => {
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) return undefined
          received += decoder.decode(value, { stream: true })
        }
      } catch (error) {
        return error
      }
    })()
    expect(failure).toBeInstanceOf(Error)
    expect(parseGeminiSse(received)).toHaveLength(2)
  })

  it('stalls a stream after its first event until the client gives up', async () => {
    const server = await start({ respond: { fault: 'stall' } })
    const controller = new AbortController()
    const response = await streamGenerate(server, 'gemini-2.5-flash', controller.signal)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    let received = ''
    // Until the first event is complete, in whatever framing, so a wrong one fails fast below.
    while (!/\r?\n\r?\n$/.test(received)) {
      const { done, value } = await reader.read()
      if (done) break
      received += decoder.decode(value, { stream: true })
    }
    expect(parseGeminiSse(received)).toHaveLength(1)
    controller.abort()
    await expect(reader.read()).rejects.toThrow()
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('answers 429 with RESOURCE_EXHAUSTED, QuotaFailure and a 36s RetryInfo as recorded', async () => {
    const server = await start({ respond: { status: 429 } })
    const response = await generate(server, 'gemini-3.6-flash')
    expect(response.status).toBe(429)
    const body = await response.json()
    const recorded = await fixtureJson('error-429-resource-exhausted-retryinfo.json')
    // The recording's quotaDimensions was cut to "[MaxDepth]" by its recorder; the fake sends the map.
    const quotaDimensions = 'error.details[].violations[].quotaDimensions'
    expect(without(fieldPaths(body), quotaDimensions)).toEqual(
      without(fieldPaths(recorded), quotaDimensions),
    )
    const error = Reflect.get(body as object, 'error') as {
      status: string
      message: string
      details: unknown[]
    }
    expect(error.status).toBe('RESOURCE_EXHAUSTED')
    expect(error.message).toContain('model: gemini-3.6-flash')
    expect(error.details[1]).toEqual({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: '36s',
    })
    // A scripted 429 is a rate limit: a per-minute quota, as error-429-resource-exhausted-short.json.
    expect(JSON.stringify(error.details[0])).toContain(
      '"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"',
    )
  })

  it.each([
    [{ status: 429, retryAfterMs: 1_500 }, '1.5s'],
    [{ status: 429, retryAfter: '2' }, '2s'],
  ] as const)(
    'puts the scripted retry delay of %o in the RetryInfo detail',
    async (reply: Reply, retryDelay) => {
      const server = await start({ respond: reply })
      const response = await generate(server, 'gemini-2.5-flash')
      const error = Reflect.get((await response.json()) as object, 'error') as {
        message: string
        details: unknown[]
      }
      expect(error.details).toContainEqual({
        '@type': 'type.googleapis.com/google.rpc.RetryInfo',
        retryDelay,
      })
      expect(error.message).toContain(`Please retry in ${retryDelay}.`)
    },
  )

  it.each([
    [400, 'error-400-invalid-argument-penalty.json'],
    [403, 'error-403-permission-denied-unregistered-caller.json'],
    [404, 'error-404-not-found.json'],
    [500, 'error-500-internal.json'],
    [503, 'error-503-unavailable.json'],
  ])('answers %i with the body shape and status name of %s', async (status, name) => {
    const server = await start({ respond: { status } })
    const response = await generate(server, 'gemini-3.6-flahs')
    expect(response.status).toBe(status)
    const body = await response.json()
    const recorded = await fixtureJson(name)
    expect(fieldPaths(body)).toEqual(fieldPaths(recorded))
    const error = Reflect.get(body as object, 'error') as Record<string, unknown>
    const recordedError = Reflect.get(recorded as object, 'error') as Record<string, unknown>
    expect(error.code).toBe(status)
    expect(error.status).toBe(recordedError.status)
    if (status !== 400) expect(error.message).toBe(recordedError.message)
  })

  it('serves stream-text.sse verbatim as a raw reply', async () => {
    const recorded = await fixtureText('stream-text.sse')
    const server = await start()
    server.script('gemini-2.5-flash', {
      raw: {
        headers: { 'content-type': 'text/event-stream', 'content-disposition': 'attachment' },
        body: recorded,
      },
    })
    const response = await streamGenerate(server, 'gemini-2.5-flash')
    expect(response.headers.get('content-disposition')).toBe('attachment')
    expect(await response.text()).toBe(recorded)
  })

  it('throws a ConfigError naming a bad script', async () => {
    const server = await start()
    const bad = { fault: 'explode' } as unknown as Reply
    expect(() => server.script('gemini-2.5-flash', { text: 'fine' }, bad)).toThrow(
      expect.objectContaining({ kind: 'config', path: 'script("gemini-2.5-flash")[1].fault' }),
    )
    let thrown: unknown
    try {
      server.script('gemini-2.5-flash', bad)
    } catch (error) {
      thrown = error
    }
    expect(isUnderstudyError(thrown, 'config')).toBe(true)
  })
})

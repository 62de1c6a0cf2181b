import { APICallError } from '@ai-sdk/provider'
import {
  type ChatRequest,
  type Client,
  createClient,
  type Provider,
  type ProviderResponse,
} from '@understudy/core'
import { deepFreeze, fakeClock, type MockScripts, mockProvider } from '@understudy/testkit'
import { describe, expect, it, vi } from 'vitest'
import type { UnderstudyErrorData } from '../to-api-call-error.js'
import { understudyModel } from '../understudy-model.js'
import type { UnderstudyTrace } from '../understudy-trace.js'
import type { Sdk } from './sdk.js'

/** A client over two mock providers; `retries: 0` and no cooldown keep every call on the chain. */
function clientOver(acme: MockScripts, backup: MockScripts = {}) {
  const primary = mockProvider('acme', acme)
  const fallback = mockProvider('backup', backup)
  const client = createClient({
    providers: [primary, fallback],
    retries: 0,
    health: { cooldownMs: 0 },
  })
  return { client, primary, fallback }
}

function traceOf(metadata: unknown): UnderstudyTrace {
  const trace = (metadata as { understudy?: UnderstudyTrace } | undefined)?.understudy
  if (trace === undefined) throw new Error('no providerMetadata.understudy')
  return trace
}

function dataOf(error: unknown): UnderstudyErrorData {
  if (!APICallError.isInstance(error)) throw new Error(`not an APICallError: ${String(error)}`)
  return error.data as UnderstudyErrorData
}

/** A provider that answers each request with its last user message: each call's answer is its own. */
function echoProvider(id: string): Provider {
  return {
    id,
    async complete(request: ChatRequest): Promise<ProviderResponse> {
      const last = request.messages[request.messages.length - 1]
      const text = `echo: ${typeof last?.content === 'string' ? last.content : ''}`
      await new Promise((resolve) => setImmediate(resolve))
      return {
        text,
        message: { role: 'assistant', content: text },
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 1, outputTokens: 1 },
      }
    },
    stream() {
      throw new Error('not used')
    },
  }
}

/**
 * A provider that signs its answers (as Anthropic signs thinking): its first
 * answer calls a tool and carries `providerState`; it records every request,
 * so a test sees whether the next step sent the state back.
 */
function signingProvider(id: string) {
  const requests: ChatRequest[] = []
  const state = { provider: id, origin: `${id}:origin`, data: { signature: 'sig-1' } }
  const firstAnswer = (request: ChatRequest): boolean => {
    requests.push(structuredClone(request))
    return !request.messages.some((message) => message.role === 'tool')
  }
  const provider: Provider = {
    id,
    async complete(request) {
      if (!firstAnswer(request)) {
        return {
          text: 'Done.',
          message: { role: 'assistant', content: 'Done.' },
          toolCalls: [],
          finishReason: 'stop',
          usage: {},
        }
      }
      const toolCalls = [{ id: 'call-1', name: 'lookup', arguments: '{}' }]
      return {
        text: '',
        message: { role: 'assistant', content: '', toolCalls, providerState: state },
        toolCalls,
        finishReason: 'tool_calls',
        usage: {},
      }
    },
    async *stream(request) {
      if (!firstAnswer(request)) {
        yield { type: 'text', text: 'Done.' }
        yield { type: 'finish', finishReason: 'stop', usage: {} }
        return
      }
      yield {
        type: 'tool-call-delta',
        index: 0,
        id: 'call-1',
        name: 'lookup',
        argumentsDelta: '{}',
      }
      yield { type: 'finish', finishReason: 'tool_calls', usage: {}, providerState: state }
    },
  }
  return { provider, requests, state }
}

/** `understudyModel` inside one major of the AI SDK. */
export function understudyModelSuite(sdk: Sdk): void {
  const { generateText, streamText, generateObject, Output, tool, jsonSchema, stepCountIs } = sdk

  describe(`understudyModel in ai ${sdk.major}: generateText`, () => {
    it('falls back and says who served in providerMetadata.understudy and response.modelId', async () => {
      const { client } = clientOver(
        { large: [{ fail: 'overloaded', status: 503 }] },
        { small: [{ ok: 'Hi from backup', usage: { inputTokens: 10, outputTokens: 4 } }] },
      )
      const fallbacks = deepFreeze(['backup/small'])
      const model = understudyModel(client, { model: 'acme/large', fallbacks })
      const result = await generateText({ model, prompt: 'Say hi.', maxRetries: 0 })
      expect(result.text).toBe('Hi from backup')
      expect(result.finishReason).toBe('stop')
      expect(result.usage.inputTokens).toBe(10)
      expect(result.usage.outputTokens).toBe(4)
      expect(result.response.modelId).toBe('backup/small')
      const trace = traceOf(result.providerMetadata)
      expect(trace).toMatchObject({ target: 'backup/small', provider: 'backup', model: 'small' })
      expect(
        trace.attempts.map((attempt) => [attempt.target, attempt.outcome, attempt.error?.kind]),
      ).toEqual([
        ['acme/large', 'error', 'overloaded'],
        ['backup/small', 'ok', undefined],
      ])
      expect(JSON.parse(JSON.stringify(trace))).toEqual(trace)
    })

    it('sends the system prompt, messages and settings, and reports settings it cannot carry', async () => {
      vi.stubGlobal('AI_SDK_LOG_WARNINGS', false)
      const { client, primary } = clientOver({ large: [{ ok: 'fine' }] })
      const model = understudyModel(client, { model: 'acme/large' })
      const result = await generateText({
        model,
        system: 'Be brief.',
        messages: [
          { role: 'user', content: 'One' },
          { role: 'assistant', content: 'Two' },
          { role: 'user', content: 'Three' },
        ],
        temperature: 0.2,
        maxOutputTokens: 50,
        stopSequences: ['END'],
        seed: 7,
        presencePenalty: 0.5,
      })
      expect(primary.calls[0]?.request).toMatchObject({
        model: 'large',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'One' },
          { role: 'assistant', content: 'Two' },
          { role: 'user', content: 'Three' },
        ],
        temperature: 0.2,
        maxTokens: 50,
        stop: ['END'],
        seed: 7,
      })
      expect(result.warnings).toEqual([{ type: 'unsupported', feature: 'presencePenalty' }])
    })

    it('runs tools: the call comes back as a tool call, and its result goes to the next step', async () => {
      const { client, primary } = clientOver({
        large: [
          {
            ok: '',
            toolCalls: [{ id: 'call-1', name: 'weather', arguments: '{"city":"Paris"}' }],
            finishReason: 'tool_calls',
          },
          { ok: 'Sunny in Paris.' },
        ],
      })
      const model = understudyModel(client, { model: 'acme/large' })
      const result = await generateText({
        model,
        prompt: 'Weather in Paris?',
        tools: {
          weather: tool({
            description: 'The weather in a city',
            inputSchema: jsonSchema<{ city: string }>({
              type: 'object',
              properties: { city: { type: 'string' } },
              required: ['city'],
            }),
            execute: async ({ city }) => ({ city, sky: 'sunny' }),
          }),
        },
        toolChoice: 'auto',
        stopWhen: stepCountIs(2),
      })
      expect(result.text).toBe('Sunny in Paris.')
      expect(result.steps[0]?.toolCalls.map((call) => [call.toolName, call.input])).toEqual([
        ['weather', { city: 'Paris' }],
      ])
      expect(result.steps[0]?.finishReason).toBe('tool-calls')
      const first = primary.calls[0]?.request
      expect(first?.tools).toEqual([
        {
          name: 'weather',
          description: 'The weather in a city',
          parameters: expect.objectContaining({ type: 'object' }),
        },
      ])
      expect(first?.toolChoice).toBe('auto')
      expect(primary.calls[1]?.request.messages.slice(1)).toEqual([
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call-1', name: 'weather', arguments: '{"city":"Paris"}' }],
        },
        { role: 'tool', toolCallId: 'call-1', content: '{"city":"Paris","sky":"sunny"}' },
      ])
    })

    it('gives structured output: generateObject and Output.object ask for the schema', async () => {
      const { client, primary } = clientOver({ large: [{ ok: '{"name":"Ada","born":1815}' }] })
      const model = understudyModel(client, { model: 'acme/large' })
      const schema = jsonSchema<{ name: string; born: number }>({
        type: 'object',
        properties: { name: { type: 'string' }, born: { type: 'number' } },
        required: ['name', 'born'],
        additionalProperties: false,
      })
      const { object } = await generateObject({ model, schema, prompt: 'Who?' })
      expect(object).toEqual({ name: 'Ada', born: 1815 })
      expect(primary.calls[0]?.request.responseFormat).toMatchObject({
        type: 'json_schema',
        schema: { type: 'object', required: ['name', 'born'] },
      })
      const { output } = await generateText({
        model,
        prompt: 'Who?',
        output: Output.object({ schema }),
      })
      expect(output).toEqual({ name: 'Ada', born: 1815 })
    })

    it('fails a chain with an APICallError the AI SDK does not retry, carrying kind and attempts', async () => {
      const { client, primary, fallback } = clientOver(
        { large: [{ fail: 'rate_limit', status: 429, retryAfterMs: 1_000 }] },
        { small: [{ fail: 'server', status: 500 }] },
      )
      const model = understudyModel(client, { model: 'acme/large', fallbacks: ['backup/small'] })
      // The AI SDK's default maxRetries (2) stays on: it must not run the chain again.
      const error = await generateText({ model, prompt: 'Hi' }).catch((reason: unknown) => reason)
      expect(APICallError.isInstance(error)).toBe(true)
      expect((error as APICallError).isRetryable).toBe(false)
      const data = dataOf(error)
      expect(data.kind).toBe('all_failed')
      expect(data.attempts.map((attempt) => attempt.error?.kind)).toEqual(['rate_limit', 'server'])
      expect(JSON.stringify(data)).not.toContain('cause')
      expect(primary.calls).toHaveLength(1)
      expect(fallback.calls).toHaveLength(1)
    })

    it('throws a ConfigError as it is: a bad fallback is the caller’s bug, found before any I/O', async () => {
      const { client, primary } = clientOver({})
      const model = understudyModel(client, { model: 'acme/large', fallbacks: ['nobody/x'] })
      const error = await generateText({ model, prompt: 'Hi', maxRetries: 0 }).catch(
        (reason: unknown) => reason,
      )
      expect(error).toMatchObject({ kind: 'config' })
      expect(APICallError.isInstance(error)).toBe(false)
      expect(primary.calls).toHaveLength(0)
    })

    it('passes the abort signal: aborting cancels the attempt in flight', async () => {
      const { client, primary } = clientOver({ large: [{ hang: true }] })
      const model = understudyModel(client, { model: 'acme/large' })
      const controller = new AbortController()
      const pending = generateText({
        model,
        prompt: 'Hi',
        abortSignal: controller.signal,
        maxRetries: 0,
      }).catch((reason: unknown) => reason)
      while (primary.calls.length === 0) await new Promise((resolve) => setImmediate(resolve))
      controller.abort()
      const error = await pending
      expect(error).toBeDefined()
      expect(primary.calls[0]?.aborted).toBe(true)
    })

    it('sends the call’s headers to the primary target only', async () => {
      const { client, primary, fallback } = clientOver(
        { large: [{ fail: 'server', status: 500 }] },
        { small: [{ ok: 'ok' }] },
      )
      const model = understudyModel(client, {
        model: 'acme/large',
        fallbacks: [{ model: 'backup/small', headers: { 'x-tenant': 'backup' } }],
      })
      await generateText({ model, prompt: 'Hi', headers: { 'x-trace': 'abc' }, maxRetries: 0 })
      expect(primary.calls[0]?.headers).toMatchObject({ 'x-trace': 'abc' })
      expect(fallback.calls[0]?.headers).toEqual({ 'x-tenant': 'backup' })
    })

    it('serves 64 concurrent calls on one model with the primary down: none fails, each trace its own', async () => {
      const down = mockProvider('acme', { large: [{ fail: 'overloaded', status: 503 }] })
      const client = createClient({
        providers: [down, echoProvider('backup')],
        retries: 0,
        health: { cooldownMs: 0 },
      })
      const model = understudyModel(client, { model: 'acme/large', fallbacks: ['backup/small'] })
      const results = await Promise.allSettled(
        Array.from({ length: 64 }, (_, i) =>
          generateText({ model, prompt: `call ${i}`, maxRetries: 0 }),
        ),
      )
      const failed = results.filter((result) => result.status === 'rejected')
      expect(failed).toEqual([])
      results.forEach((result, i) => {
        if (result.status !== 'fulfilled') return
        expect(result.value.text).toBe(`echo: call ${i}`)
        const trace = traceOf(result.value.providerMetadata)
        expect(trace.attempts.map((attempt) => [attempt.target, attempt.outcome])).toEqual([
          ['acme/large', 'error'],
          ['backup/small', 'ok'],
        ])
      })
      expect(down.calls).toHaveLength(64)
    })
  })

  describe(`understudyModel in ai ${sdk.major}: streamText`, () => {
    it('streams the fallback’s answer only: nothing of the failed attempt reaches the caller', async () => {
      const { client } = clientOver(
        { large: [{ failOnRead: 'overloaded', status: 503 }] },
        { small: [{ stream: ['Hel', 'lo'], usage: { inputTokens: 3, outputTokens: 2 } }] },
      )
      const model = understudyModel(client, { model: 'acme/large', fallbacks: ['backup/small'] })
      const result = streamText({ model, prompt: 'Hi', maxRetries: 0 })
      const parts: { type: string }[] = []
      for await (const part of result.fullStream) parts.push(part)
      expect(parts.filter((part) => part.type === 'error')).toEqual([])
      expect(await result.text).toBe('Hello')
      expect(await result.finishReason).toBe('stop')
      expect((await result.usage).outputTokens).toBe(2)
      const trace = traceOf(await result.providerMetadata)
      expect(trace.target).toBe('backup/small')
      expect(trace.attempts.map((attempt) => attempt.outcome)).toEqual(['error', 'ok'])
      const start = parts.find((part) => part.type === 'text-start') as {
        providerMetadata?: unknown
      }
      expect(traceOf(start.providerMetadata)).toMatchObject({ target: 'backup/small' })
    })

    it('streams tool calls as tool input, then the whole call', async () => {
      const { client } = clientOver({
        large: [
          {
            stream: [
              {
                type: 'tool-call-delta',
                index: 0,
                id: 'call-1',
                name: 'weather',
                argumentsDelta: '{"city":',
              },
              { type: 'tool-call-delta', index: 0, argumentsDelta: '"Paris"}' },
            ],
            finishReason: 'tool_calls',
          },
        ],
      })
      const model = understudyModel(client, { model: 'acme/large' })
      const result = streamText({
        model,
        prompt: 'Weather?',
        tools: {
          weather: tool({
            inputSchema: jsonSchema<{ city: string }>({
              type: 'object',
              properties: { city: { type: 'string' } },
            }),
          }),
        },
      })
      const calls = await result.toolCalls
      expect(calls.map((call) => [call.toolCallId, call.toolName, call.input])).toEqual([
        ['call-1', 'weather', { city: 'Paris' }],
      ])
      expect(await result.finishReason).toBe('tool-calls')
    })

    it('ends a stream that fails after its first content with an error part and the partial output, never spliced', async () => {
      const { client, fallback } = clientOver(
        { large: [{ stream: ['Hel'], end: { fail: 'network' } }] },
        { small: [{ stream: ['Other answer'] }] },
      )
      const model = understudyModel(client, { model: 'acme/large', fallbacks: ['backup/small'] })
      const errors: unknown[] = []
      const result = streamText({
        model,
        prompt: 'Hi',
        maxRetries: 0,
        onError: ({ error }) => {
          errors.push(error)
        },
      })
      let text = ''
      for await (const part of result.fullStream) if (part.type === 'text-delta') text += part.text
      expect(text).toBe('Hel')
      expect(fallback.calls).toHaveLength(0)
      expect(errors).toHaveLength(1)
      const data = dataOf(errors[0])
      expect(data.kind).toBe('stream_interrupted')
      expect(data.partial?.text).toBe('Hel')
      expect(await result.finishReason).toBe('error')
    })

    it('fails a chain that never reached content with an APICallError part', async () => {
      const { client } = clientOver(
        { large: [{ fail: 'server', status: 500 }] },
        { small: [{ failOnRead: 'overloaded', status: 503 }] },
      )
      const model = understudyModel(client, { model: 'acme/large', fallbacks: ['backup/small'] })
      const errors: unknown[] = []
      const result = streamText({
        model,
        prompt: 'Hi',
        onError: ({ error }) => {
          errors.push(error)
        },
      })
      for await (const part of result.fullStream) expect(part.type).not.toBe('text-delta')
      expect(errors).toHaveLength(1)
      expect((errors[0] as APICallError).isRetryable).toBe(false)
      expect(dataOf(errors[0]).kind).toBe('all_failed')
    })

    it('enforces the first-token timeout inside doStream: a silent primary is left for the fallback', async () => {
      const clock = fakeClock()
      const primary = mockProvider('acme', { large: [{ hang: true }] }, { clock })
      const client: Client = createClient({
        providers: [primary, mockProvider('backup', { small: [{ stream: ['Fast'] }] })],
        retries: 0,
        clock,
        health: { cooldownMs: 0 },
      })
      const model = understudyModel(client, {
        model: 'acme/large',
        fallbacks: ['backup/small'],
        firstTokenTimeoutMs: 5_000,
      })
      const result = streamText({ model, prompt: 'Hi', maxRetries: 0 })
      const text = result.text
      while (primary.calls.length === 0) await new Promise((resolve) => setImmediate(resolve))
      await clock.advance(5_000)
      expect(await text).toBe('Fast')
      const trace = traceOf(await result.providerMetadata)
      expect(trace.attempts[0]?.error?.kind).toBe('timeout')
      expect(primary.calls[0]?.aborted).toBe(true)
    })

    it('closes the upstream when the caller aborts mid-stream', async () => {
      const { client, primary } = clientOver({
        large: [{ stream: ['One', { type: 'text', text: 'Two', delayMs: 60_000 }] }],
      })
      const model = understudyModel(client, { model: 'acme/large' })
      const controller = new AbortController()
      const result = streamText({ model, prompt: 'Hi', abortSignal: controller.signal })
      for await (const part of result.fullStream) {
        if (part.type === 'text-delta') controller.abort()
      }
      expect(primary.calls[0]?.aborted).toBe(true)
    })
  })
  describe(`understudyModel in ai ${sdk.major}: a tool loop's providerState`, () => {
    for (const via of ['generateText', 'streamText'] as const) {
      it(`hands a signed answer's providerState back to its provider in the next step (${via})`, async () => {
        const { provider, requests, state } = signingProvider('signer')
        const client = createClient({ providers: [provider] })
        const model = understudyModel(client, { model: 'signer/m' })
        const tools = {
          lookup: tool({
            inputSchema: jsonSchema<Record<string, never>>({ type: 'object', properties: {} }),
            execute: async () => 'found',
          }),
        }
        const call = {
          model,
          prompt: 'Look it up.',
          tools,
          stopWhen: stepCountIs(2),
          maxRetries: 0,
        }
        const text =
          via === 'generateText' ? (await generateText(call)).text : await streamText(call).text
        expect(text).toBe('Done.')
        expect(requests).toHaveLength(2)
        expect(requests[1]?.messages[1]).toEqual({
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call-1', name: 'lookup', arguments: '{}' }],
          providerState: state,
        })
      })
    }
  })
}

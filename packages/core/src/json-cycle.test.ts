import { describe, expect, it } from 'vitest'
import type { ChatRequest } from './chat-request.js'
import { createClient } from './create-client.js'
import { ConfigError } from './errors.js'
import { mockProvider } from './test-support/mock-provider.js'

const base: ChatRequest = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }

/** A JSON-looking object whose `self` is itself, and one whose `items.of` leads back to it. */
function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { type: 'object' }
  value.self = value
  return value
}

function nestedCycle(): Record<string, unknown> {
  const value: Record<string, unknown> = { type: 'array', items: { of: [] as unknown[] } }
  ;((value.items as { of: unknown[] }).of as unknown[]).push(value)
  return value
}

describe('a request whose JSON contains itself', () => {
  const cases: readonly {
    readonly field: string
    readonly request: unknown
    readonly path: string
  }[] = [
    {
      field: "a tool's parameters",
      request: { ...base, tools: [{ name: 'weather', parameters: cyclic() }] },
      path: 'request.tools[0].parameters.self',
    },
    {
      field: 'a JSON schema, deeper down',
      request: {
        ...base,
        responseFormat: { type: 'json_schema', name: 'answer', schema: nestedCycle() },
      },
      path: 'request.responseFormat.schema.items.of[0]',
    },
    {
      field: 'providerOptions',
      request: { ...base, providerOptions: { openai: { extra: cyclic() } } },
      path: 'request.providerOptions.openai.extra.self',
    },
    {
      field: "an assistant turn's providerState",
      request: {
        ...base,
        messages: [
          ...base.messages,
          {
            role: 'assistant',
            content: 'hello',
            providerState: { provider: 'openai', origin: 'o', data: cyclic() },
          },
          { role: 'user', content: 'again' },
        ],
      },
      path: 'request.messages[1].providerState.data.self',
    },
  ]

  for (const { field, request, path } of cases) {
    it(`is a ConfigError at its path, before any target is called (${field})`, async () => {
      const openai = mockProvider('openai')
      const client = createClient({ providers: [openai] })
      const error = await client.complete(request as ChatRequest).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toMatchObject({
        path,
        message: `${path}: expected JSON; received a value that contains itself`,
      })
      expect(() => client.stream(request as ChatRequest)).toThrow(ConfigError)
      expect(openai.calls).toEqual([])
    })
  }

  it('takes an object that appears twice without containing itself', async () => {
    const openai = mockProvider('openai')
    const client = createClient({ providers: [openai] })
    const shared = { type: 'string' }
    const parameters = { type: 'object', properties: { from: shared, to: shared } }
    const response = await client.complete({ ...base, tools: [{ name: 'route', parameters }] })
    expect(response.target).toBe('openai/gpt-4o')
    expect(openai.calls).toHaveLength(1)
  })
})

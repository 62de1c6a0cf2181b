import { fc, it as prop } from '@fast-check/vitest'
import { type ChatRequest, type Message, stateOrigin, type ToolCall } from '@understudy/core'
import { deepFreeze } from '@understudy/testkit'
import { describe, expect } from 'vitest'
import { buildGeminiRequest } from './gemini-request.js'
import { parseGeminiResponse } from './gemini-response.js'

const baseURL = 'https://generativelanguage.googleapis.com/v1beta'
const originOf = (apiKey: string): string =>
  stateOrigin({ provider: 'google', model: 'gemini-3-pro-preview', baseURL, apiKey })

type Part = Record<string, unknown>
type Content = { role: string; parts: Part[] }

/** A tool-call turn as Gemini answers it: some calls, the first signed. */
const answerArbitrary = fc.record({
  responseId: fc.stringMatching(/^[\w-]{10,24}$/),
  calls: fc.array(
    fc.record({
      name: fc.stringMatching(/^[a-z_]{1,12}$/),
      args: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.jsonValue({ maxDepth: 2 })),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  text: fc.string({ maxLength: 12 }),
  signature: fc.stringMatching(/^[A-Za-z0-9+/]{8,40}$/),
})

describe('a tool-call turn read from Gemini and sent back', () => {
  prop.prop([answerArbitrary, fc.boolean()], { numRuns: 150 })(
    'keeps every call and its result matched by name, the signature only for its origin, and the history unwritten',
    ({ responseId, calls, text, signature }, sameKey) => {
      const writer = originOf('key-a')
      const response = parseGeminiResponse(
        {
          responseId,
          candidates: [
            {
              content: {
                role: 'model',
                parts: [
                  ...(text === '' ? [] : [{ text }]),
                  ...calls.map((call, index) => ({
                    functionCall: call,
                    ...(index === 0 && { thoughtSignature: signature }),
                  })),
                ],
              },
              finishReason: 'STOP',
            },
          ],
        },
        { status: 200, requestId: undefined },
        { provider: 'google', origin: writer },
      )
      expect(response.finishReason).toBe('tool_calls')
      const ids = response.toolCalls.map((call: ToolCall) => call.id)
      expect(new Set(ids).size).toBe(calls.length)
      for (const id of ids) expect(id.length).toBeLessThanOrEqual(40)
      // Results come back in reverse order: matched by id, not by position.
      const messages: Message[] = [
        { role: 'user', content: 'go' },
        response.message,
        ...[...response.toolCalls].reverse().map(
          (call): Message => ({
            role: 'tool',
            toolCallId: call.id,
            content: `result of ${call.id}`,
          }),
        ),
      ]
      const request = deepFreeze<ChatRequest>({ model: 'gemini-3-pro-preview', messages })
      const before = JSON.stringify(request)
      const origin = sameKey ? writer : originOf('key-b')
      const body = buildGeminiRequest(request, { stream: false, origin }).body as {
        contents: Content[]
      }
      expect(JSON.stringify(request)).toBe(before)
      const [, model, results] = body.contents
      const sent = (model?.parts ?? []).filter((part) => 'functionCall' in part)
      // As the wire carries them: JSON has no -0.
      const wire = calls.map((call) =>
        JSON.parse(JSON.stringify({ name: call.name, args: call.args })),
      )
      expect(sent.map((part) => part.functionCall)).toEqual(wire)
      expect(sent[0]?.thoughtSignature).toBe(
        sameKey ? signature : 'skip_thought_signature_validator',
      )
      expect(sent.slice(1).every((part) => !('thoughtSignature' in part))).toBe(true)
      const names = new Map(response.toolCalls.map((call) => [call.id, call.name]))
      expect(results?.parts).toEqual(
        [...response.toolCalls].reverse().map((call) => ({
          functionResponse: {
            name: names.get(call.id),
            response: { output: `result of ${call.id}` },
          },
        })),
      )
    },
  )
})

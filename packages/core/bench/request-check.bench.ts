/**
 * What checking a request's shape costs a call: the fast structural check
 * every plainly valid request takes, next to the zod schema it spares.
 * Run with `pnpm --filter @understudy/core bench:request`. Prints ns per
 * call; asserts nothing.
 *
 * It reads the check from `../src`, not `../dist`: the fast check is not
 * public, and the bench measures the same code the client runs.
 */
import type { ChatRequest, Message } from '../src/chat-request.js'
import { isPlainRequest } from '../src/check-request.js'
import { parseConfig } from '../src/parse-config.js'
import { requestSchema } from '../src/request-schema.js'
import { measureSync, report } from './measure.js'

/** 100 messages of text, alternating user and assistant, as in `core.bench.ts`. */
const textMessages: Message[] = []
for (let i = 0; i < 100; i++) {
  textMessages.push({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `Message ${i}: ${'lorem ipsum dolor sit amet '.repeat(18)}`,
  })
}
const text: ChatRequest = {
  model: 'primary/model-a',
  messages: textMessages,
  temperature: 0.2,
  maxTokens: 256,
}

/** 100 messages of an agent's loop: a system prompt, then user, tool calls and tool results. */
const agentMessages: Message[] = [{ role: 'system', content: 'You are a careful agent.' }]
for (let i = 0; agentMessages.length < 100; i++) {
  agentMessages.push(
    { role: 'user', content: [{ type: 'text', text: `Step ${i}: look it up.` }] },
    {
      role: 'assistant',
      content: '',
      toolCalls: [{ id: `call_${i}`, name: 'search', arguments: `{"query":"step ${i}"}` }],
    },
    { role: 'tool', toolCallId: `call_${i}`, content: `Result ${i}: ${'found '.repeat(20)}` },
  )
}
agentMessages.length = 100
const agent: ChatRequest = {
  model: 'primary/model-a',
  messages: agentMessages,
  tools: [
    {
      name: 'search',
      description: 'Searches the web.',
      parameters: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1 } },
        required: ['query'],
      },
    },
  ],
  toolChoice: 'auto',
  maxTokens: 1_024,
}

for (const [name, request] of [
  ['100 text messages', text],
  ['100 agent messages, tools', agent],
] as const) {
  if (!isPlainRequest(request)) throw new Error(`the ${name} request must take the fast path`)
  const fast = measureSync(`${name}: fast check`, () => isPlainRequest(request))
  const zod = measureSync(`${name}: requestSchema (zod)`, () =>
    parseConfig(requestSchema, request, 'request'),
  )
  report(fast, fast)
  report(fast, zod)
}

/**
 * The engine's own cost on a call, next to calling the provider directly.
 * Run with `pnpm bench`. Prints ns per call and ratios; asserts nothing.
 */
import {
  type ChatRequest,
  type Message,
  type Provider,
  type ProviderContext,
  type ProviderResponse,
  type ProviderStreamEvent,
  UnderstudyError,
  createClient,
} from '../dist/index.js'
import { measure, report } from './measure.js'

const answer: ProviderResponse = Object.freeze<ProviderResponse>({
  text: 'ok',
  message: { role: 'assistant', content: 'ok' },
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 10, outputTokens: 1, totalTokens: 11 },
  status: 200,
})

/** A provider that answers at once, or fails at once for model `down`. */
function instantProvider(id: string): Provider {
  return {
    id,
    complete(request) {
      if (request.model === 'down') {
        return Promise.reject(
          new UnderstudyError({
            kind: 'overloaded',
            message: 'down',
            provider: id,
            model: 'down',
            status: 503,
          }),
        )
      }
      return Promise.resolve(answer)
    },
    stream(request) {
      return chunks(request.model === 'down' ? 0 : streamChunks)
    },
  }
}

/** The events of a stream of `count` text chunks and a finish, yielded at once. */
async function* chunks(count: number): AsyncGenerator<ProviderStreamEvent> {
  if (count === 0) {
    throw new UnderstudyError({ kind: 'overloaded', message: 'down', status: 503 })
  }
  for (let i = 0; i < count; i++) yield { type: 'text', text: 'token ' }
  yield { type: 'finish', finishReason: 'stop', usage: answer.usage }
}

const streamChunks = 50

const primary = instantProvider('primary')
const backup = instantProvider('backup')
const client = createClient({ providers: [primary, backup], retries: 0 })
const fallbacks = Object.freeze([
  'backup/model-b',
  Object.freeze({ model: 'backup/model-c', apiKey: 'key-c', baseURL: 'https://c.example/v1' }),
])

const small: ChatRequest = {
  model: 'primary/model-a',
  messages: [{ role: 'user', content: 'Say hi.' }],
}
const largeMessages: Message[] = []
for (let i = 0; i < 100; i++) {
  largeMessages.push({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `Message ${i}: ${'lorem ipsum dolor sit amet '.repeat(18)}`,
  })
}
const large: ChatRequest = {
  model: 'primary/model-a',
  messages: largeMessages,
  temperature: 0.2,
  maxTokens: 256,
}
console.log(
  `large request: ${JSON.stringify(large).length} bytes of JSON, ${large.messages.length} messages\n`,
)

const context: ProviderContext = {
  signal: new AbortController().signal,
  apiKey: undefined,
  baseURL: undefined,
  headers: undefined,
  deadline: Number.POSITIVE_INFINITY,
}
const direct = (request: ChatRequest) => () =>
  primary.complete({ ...request, model: 'model-a' }, context)
const viaClient = (request: ChatRequest) => () => client.complete(request, { fallbacks })

const smallDirect = await measure('small request, provider called directly', direct(small))
const smallClient = await measure(
  'small request, client.complete() with 2 fallbacks',
  viaClient(small),
)
const largeDirect = await measure('large request, provider called directly', direct(large))
const largeClient = await measure(
  'large request, client.complete() with 2 fallbacks',
  viaClient(large),
)
const stringify = await measure('JSON.stringify(large request)', () =>
  Promise.resolve(JSON.stringify(large)),
)
const twoDirect = await measure('failover by hand: two direct calls', async () => {
  await primary.complete({ ...small, model: 'down' }, context).catch(() => undefined)
  return backup.complete({ ...small, model: 'model-b' }, context)
})
const failover = await measure('failover: primary 503 at once, fallback answers', () =>
  client.complete({ ...small, model: 'primary/down' }, { fallbacks, retries: 0 }),
)

console.log('case'.padEnd(58), '     time', '           ratio  added')
report(smallDirect, smallDirect)
report(smallDirect, smallClient)
report(largeDirect, largeDirect)
report(largeDirect, largeClient)
console.log(
  `  engine cost on the large request: ${((largeClient.nsPerCall - largeDirect.nsPerCall) / 1000).toFixed(2)} µs;` +
    ` one JSON.stringify of it: ${(stringify.nsPerCall / 1000).toFixed(2)} µs`,
)
report(twoDirect, twoDirect)
report(twoDirect, failover)

/** Reads a stream to its end; resolves with the number of events. */
async function drain(events: AsyncIterable<unknown>): Promise<number> {
  let count = 0
  for await (const _ of events) count++
  return count
}

const streamDirect = await measure(`${streamChunks}-chunk stream, provider read directly`, () =>
  drain(primary.stream({ ...small, model: 'model-a' }, context)),
)
const streamClient = await measure(
  `${streamChunks}-chunk stream, client.stream() with 2 fallbacks`,
  () => drain(client.stream(small, { fallbacks })),
)
const streamFailover = await measure(
  `${streamChunks}-chunk stream, primary 503 first, fallback streams`,
  () => drain(client.stream({ ...small, model: 'primary/down' }, { fallbacks, retries: 0 })),
)
report(streamDirect, streamDirect)
report(streamDirect, streamClient)
report(streamDirect, streamFailover)
console.log(
  `  engine cost per chunk: ${((streamClient.nsPerCall - streamDirect.nsPerCall) / 1000 / streamChunks).toFixed(3)} µs`,
)

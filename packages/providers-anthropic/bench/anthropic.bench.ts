/**
 * `anthropic()` against its floor and the official SDK, over a fake
 * Anthropic server on 127.0.0.1 in another process: one table for a call,
 * one for a 50-chunk stream. Each row runs in a fresh process, in rotating
 * order over `BENCH_ROUNDS` rounds; ratios are medians of per-round ratios
 * to the floor (a raw `undici.request` with a minimal parse), so a slow
 * round moves both sides of a ratio.
 */
import Anthropic from '@anthropic-ai/sdk'
import { createClient } from '@understudy/core'
import { request } from 'undici'
import { anthropic } from '../dist/index.js'
import {
  callPlan,
  checkFreshBuild,
  describePlan,
  measureIsolated,
  measureRow,
  planFromEnv,
  printTable,
  type RowPlan,
  reportSample,
  type Sample,
  startServerProcess,
  streamPlan,
  workerRole,
} from '../../../test-support/bench-kit.js'

/** Measured rounds, each row in a fresh process; `BENCH_ROUNDS` overrides. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 4)
/** Text pieces of the streamed answer (plus message_start, the block's start and stop, a ping, message_delta, message_stop). */
const chunkCount = 50
const model = 'claude-bench'
const messages = [{ role: 'user' as const, content: 'Say hi.' }]
/** How each table's rows are measured. */
const plans: Readonly<Record<Table, RowPlan>> = {
  call: planFromEnv(callPlan),
  stream: planFromEnv(streamPlan),
}
type Table = 'call' | 'stream'

/** The fake servers' URLs, as the benchmark hands them to each worker. */
interface Urls {
  readonly call: string
  readonly stream: string
}

type Row = readonly [string, () => Promise<unknown>]

const callBody = JSON.stringify({ model, max_tokens: 4096, messages })
const streamBody = JSON.stringify({ model, max_tokens: 4096, messages, stream: true })
const expectedChars = Array.from({ length: chunkCount }, (_, i) => ` word${i}`).join('').length

/** The rows of each table over the servers at `urls`; only the measured row's clients are used. */
function tables(urls: Urls): Readonly<Record<Table, readonly Row[]>> {
  const sdkCall = new Anthropic({ baseURL: urls.call, apiKey: 'bench-key', maxRetries: 0 })
  const sdkStream = new Anthropic({ baseURL: urls.stream, apiKey: 'bench-key', maxRetries: 0 })
  const client = (baseURL: string) =>
    createClient({
      providers: [anthropic({ baseURL, apiKey: 'bench-key' })],
      retries: 0,
      health: { cooldownMs: 0 },
    })
  const callClient = client(urls.call)
  const streamClient = client(urls.stream)
  const target = `anthropic/${model}`
  return {
    call: [
      ['raw undici.request + JSON.parse (floor)', () => rawCall(urls.call)],
      [
        '@anthropic-ai/sdk messages.create, retries off',
        () => sdkCall.messages.create({ model, max_tokens: 4096, messages }),
      ],
      ['understudy anthropic() complete()', () => callClient.complete({ model: target, messages })],
    ],
    stream: [
      ['raw undici.request + SSE split + JSON.parse (floor)', () => rawStream(urls.stream)],
      [
        '@anthropic-ai/sdk create({ stream: true }), retries off',
        async () => {
          const events = await sdkStream.messages.create({
            model,
            max_tokens: 4096,
            messages,
            stream: true,
          })
          let chars = 0
          for await (const event of events) {
            if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
              chars += event.delta.text.length
            }
          }
          return check(chars)
        },
      ],
      [
        'understudy anthropic() stream()',
        async () => {
          let chars = 0
          for await (const event of streamClient.stream({ model: target, messages })) {
            if (event.type === 'text') chars += event.text.length
          }
          return check(chars)
        },
      ],
    ],
  }
}

function check(chars: number): number {
  if (chars !== expectedChars)
    throw new Error(`read ${chars} characters, expected ${expectedChars}`)
  return chars
}

const headers = {
  'content-type': 'application/json',
  'x-api-key': 'bench-key',
  'anthropic-version': '2026-10-21',
}

async function rawCall(origin: string): Promise<unknown> {
  const response = await request(`${origin}/v1/messages`, {
    method: 'POST',
    headers,
    body: callBody,
  })
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
  return JSON.parse(text)
}

interface FloorEvent {
  readonly type?: string
  readonly delta?: { readonly type?: string; readonly text?: string }
}

/** The floor: `undici.request`, split the body on blank lines, `JSON.parse` each `data:`. */
async function rawStream(origin: string): Promise<number> {
  const response = await request(`${origin}/v1/messages`, {
    method: 'POST',
    headers: { ...headers, accept: 'text/event-stream' },
    body: streamBody,
  })
  if (response.statusCode !== 200) {
    await response.body.dump()
    throw new Error(`HTTP ${response.statusCode}`)
  }
  response.body.setEncoding('utf8')
  let chars = 0
  let buffer = ''
  for await (const piece of response.body as AsyncIterable<string>) {
    buffer += piece
    let start = 0
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n', start)) {
      const event = buffer.slice(start, end)
      start = end + 2
      const at = event.indexOf('data: ')
      if (at === -1) continue
      const parsed = JSON.parse(event.slice(at + 6)) as FloorEvent
      if (parsed.type === 'content_block_delta' && parsed.delta?.type === 'text_delta') {
        chars += parsed.delta.text?.length ?? 0
      }
    }
    buffer = buffer.slice(start)
  }
  return check(chars)
}

async function measureTable(title: string, table: Table, urls: Urls): Promise<void> {
  console.log(`\n${title}`)
  const rows = tables(urls)[table]
  const samples = await measureIsolated<Sample, Urls>(
    import.meta.url,
    table,
    rows.length,
    rounds,
    urls,
  )
  printTable(
    rows.map(([label]) => label),
    samples,
    table,
  )
}

const role = workerRole<Urls>()
if (role !== undefined) {
  const table = role.table as Table
  const row = tables(role.context)[table][role.row]
  if (row === undefined) throw new Error(`no row ${role.row} in ${role.table}`)
  await reportSample(await measureRow(row[1], plans[table]))
  process.exit(0)
}

console.log(
  `${rounds} rounds in rotating order, each row in a fresh process; per row and round: ` +
    `${describePlan(plans.call, 'call')}; ${describePlan(plans.stream, 'stream')}. ` +
    'Figures are medians over the rounds; ratios are medians of per-round ratios to the floor (min–max over the rounds).',
)
checkFreshBuild(['core', 'provider-kit', 'providers-anthropic'])
const servers = await startServerProcess<Urls>(
  new URL('./fake-servers-process.mjs', import.meta.url),
  { testkit: import.meta.resolve('@understudy/testkit'), args: [String(chunkCount)] },
)
try {
  await measureTable('A call: a short message, fake Anthropic server on 127.0.0.1', 'call', servers)
  await measureTable(
    `A ${chunkCount}-chunk stream, fake Anthropic server on 127.0.0.1`,
    'stream',
    servers,
  )
} finally {
  servers.stop()
}

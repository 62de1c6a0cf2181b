import { GoogleGenAI } from '@google/genai'
import { createClient } from '@understudy/core'
import { request } from 'undici'
import { google } from '../dist/index.js'
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
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
/** Pieces of every streamed answer. */
const chunkCount = 50
/** The streamed answer's text, what every stream row must read. */
const expectedText = Array.from({ length: chunkCount }, (_, i) => ` word${i}`).join('')

const model = 'gemini-2.5-flash'
const messages = [{ role: 'user' as const, content: 'Say hi.' }]
const geminiBody = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] })

interface Urls {
  readonly up: string
}

type Row = readonly [string, () => Promise<unknown>]
type TableName = 'call' | 'stream'

/** How each table's rows are measured; streams at 16 in flight, as the other providers' benchmarks. */
const plans: Readonly<Record<TableName, RowPlan>> = {
  call: planFromEnv(callPlan),
  stream: planFromEnv(streamPlan),
}

/** The rows of each table; only the measured row's clients are used. */
function tables(urls: Urls): Readonly<Record<TableName, readonly Row[]>> {
  const { up } = urls
  const sdk = new GoogleGenAI({ apiKey: 'bench-key', httpOptions: { baseUrl: up } })
  const client = createClient({
    providers: [google({ baseURL: `${up}/v1beta`, apiKey: 'bench-key' })],
    retries: 0,
    health: { cooldownMs: 0 },
  })
  const fallbacks = [
    { model: 'google/gemini-2.5-pro', baseURL: `${up}/v1beta`, apiKey: 'backup-key' },
    { model: 'google/gemini-2.0-flash', baseURL: `${up}/v1beta`, apiKey: 'backup-key' },
  ]
  const target = { model: `google/${model}`, messages }
  return {
    call: [
      ['raw undici.request + JSON.parse (floor)', () => raw(up)],
      [
        '@google/genai 2.x generateContent',
        () => sdk.models.generateContent({ model, contents: 'Say hi.' }),
      ],
      ['understudy complete(), 2 fallbacks unused', () => client.complete(target, { fallbacks })],
    ],
    stream: [
      ['raw undici.request + SSE split (floor)', () => checked(rawStream(up))],
      [
        '@google/genai 2.x generateContentStream',
        async () => {
          let text = ''
          const stream = await sdk.models.generateContentStream({ model, contents: 'Say hi.' })
          for await (const chunk of stream) text += chunk.text ?? ''
          return checked(Promise.resolve(text))
        },
      ],
      [
        'understudy stream(), 2 fallbacks unused',
        async () => {
          let text = ''
          for await (const event of client.stream(target, { fallbacks })) {
            if (event.type === 'text') text += event.text
          }
          return checked(Promise.resolve(text))
        },
      ],
    ],
  }
}

async function raw(origin: string): Promise<unknown> {
  const response = await request(`${origin}/v1beta/models/${model}:generateContent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench-key' },
    body: geminiBody,
  })
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
  return JSON.parse(text)
}

/** The shape of a `GenerateContentResponse` as far as the floor reads it. */
interface FloorChunk {
  readonly candidates?: readonly {
    readonly content?: { readonly parts?: readonly { readonly text?: string }[] }
  }[]
}

/** The floor: `undici.request`, split the body on `\r\n\r\n`, `JSON.parse` each `data:`. */
async function rawStream(origin: string): Promise<string> {
  const response = await request(`${origin}/v1beta/models/${model}:streamGenerateContent?alt=sse`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-goog-api-key': 'bench-key',
    },
    body: geminiBody,
  })
  if (response.statusCode !== 200) {
    await response.body.dump()
    throw new Error(`HTTP ${response.statusCode}`)
  }
  response.body.setEncoding('utf8')
  let text = ''
  let buffer = ''
  for await (const piece of response.body as AsyncIterable<string>) {
    buffer += piece
    let start = 0
    for (
      let end = buffer.indexOf('\r\n\r\n');
      end !== -1;
      end = buffer.indexOf('\r\n\r\n', start)
    ) {
      const event = buffer.slice(start, end)
      start = end + 4
      if (!event.startsWith('data: ')) continue
      const part = (JSON.parse(event.slice(6)) as FloorChunk).candidates?.[0]?.content?.parts?.[0]
      if (typeof part?.text === 'string') text += part.text
    }
    buffer = buffer.slice(start)
  }
  return text
}

/** A stream row's text, checked: a row that read less did less work. */
async function checked(text: Promise<string>): Promise<string> {
  const got = await text
  if (got !== expectedText)
    throw new Error(`read ${got.length} characters, not ${expectedText.length}`)
  return got
}

/** Measures every row of a table in {@link rounds} rounds, each row in a fresh process, and prints the table. */
async function table(title: string, name: TableName, urls: Urls): Promise<void> {
  console.log(`\n${title}`)
  const rows = tables(urls)[name]
  const samples = await measureIsolated<Sample, Urls>(
    import.meta.url,
    name,
    rows.length,
    rounds,
    urls,
  )
  printTable(
    rows.map(([label]) => label),
    samples,
    name,
  )
}

const role = workerRole<Urls>()
if (role !== undefined) {
  const name = role.table as TableName
  const row = tables(role.context)[name][role.row]
  if (row === undefined) throw new Error(`no row ${role.row} in ${role.table}`)
  await reportSample(await measureRow(row[1], plans[name]))
  process.exit(0)
}

console.log(
  `${rounds} rounds in rotating order, each row in a fresh process; per row and round: ` +
    `${describePlan(plans.call, 'call')}; ${describePlan(plans.stream, 'stream')}. ` +
    'Figures are medians over the rounds; ratios are medians of per-round ratios to the floor (min–max over the rounds).',
)
checkFreshBuild(['core', 'provider-kit', 'providers-google'])
const servers = await startServerProcess<Urls>(
  new URL('./fake-servers-process.mjs', import.meta.url),
  { testkit: import.meta.resolve('@understudy/testkit'), args: [String(chunkCount)] },
)
try {
  await table('One call (the primary answers), fake Gemini server on 127.0.0.1', 'call', servers)
  await table(`A ${chunkCount}-chunk stream, fake Gemini server on 127.0.0.1`, 'stream', servers)
} finally {
  servers.stop()
}

import { GoogleGenAI } from '@google/genai'
import { createClient } from '@understudy/core'
import { request } from 'undici'
import { google } from '../dist/index.js'
import {
  collect,
  measureIsolated,
  median,
  reportSample,
  startServerProcess,
  workerRole,
} from '../../providers-openai/bench/isolated.js'

/** Measured rounds, each row in a fresh process; `BENCH_ROUNDS` overrides. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
/** Pieces of every streamed answer. */
const chunkCount = 50
/** The streamed answer's text, what every stream row must read. */
const expectedText = Array.from({ length: chunkCount }, (_, i) => ` word${i}`).join('')
const warmupRuns = 1_000
const sequentialRuns = 600
const concurrency = 64
const throughputMs = 1_000

const model = 'gemini-2.5-flash'
const messages = [{ role: 'user' as const, content: 'Say hi.' }]
const geminiBody = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] })

interface Urls {
  readonly up: string
}

type Row = readonly [string, () => Promise<unknown>]
type TableName = 'call' | 'stream'

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

/** One row's figures in one round. */
interface Sample {
  /** Sequential latency, µs. */
  readonly p50: number
  readonly p99: number
  /** Runs per second with {@link concurrency} in flight. */
  readonly rate: number
  /** This process's CPU time per run in the throughput run, µs. */
  readonly cpu: number
}

async function latency(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const times: number[] = []
  for (let i = 0; i < sequentialRuns; i++) {
    const start = process.hrtime.bigint()
    await run()
    times.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  times.sort((a, b) => a - b)
  return {
    p50: times[Math.floor(times.length / 2)] ?? 0,
    p99: times[Math.floor(times.length * 0.99)] ?? 0,
  }
}

async function throughput(run: () => Promise<unknown>): Promise<{ rate: number; cpu: number }> {
  let done = 0
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  const end = Date.now() + throughputMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await run()
        done += 1
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const used = process.cpuUsage(cpu)
  return { rate: done / seconds, cpu: (used.user + used.system) / done }
}

/** Measures one row in this process: warm-up runs, then latency, then throughput. */
async function measure(run: () => Promise<unknown>): Promise<Sample> {
  for (let i = 0; i < warmupRuns; i++) await run()
  collect()
  const { p50, p99 } = await latency(run)
  collect()
  const { rate, cpu } = await throughput(run)
  return { p50, p99, rate, cpu }
}

/**
 * Measures every row of a table in {@link rounds} rounds, each row in a
 * fresh process. A row's figure is its median over the rounds; a ratio is
 * the median of its per-round ratios to the floor measured in the same
 * round, with the range over the rounds.
 */
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
  const floor = samples[0] ?? []
  console.log(
    `${'case'.padEnd(44)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'runs/s'.padStart(8)}` +
      ` ${'cpu µs'.padStart(7)}  ${'p50 ratio (min–max)'.padStart(21)}  ${'rate ratio (min–max)'.padStart(21)}` +
      `  ${'cpu ratio'.padStart(9)}`,
  )
  rows.forEach(([label], index) => {
    const own = samples[index] ?? []
    const ratios = (field: keyof Sample): number[] =>
      own.map((sample, round) => sample[field] / (floor[round]?.[field] ?? Number.NaN))
    const range = (values: readonly number[]): string =>
      `(${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
    const p50Ratios = ratios('p50')
    const rateRatios = ratios('rate')
    console.log(
      `${label.padEnd(44)} ${median(own.map((s) => s.p50))
        .toFixed(0)
        .padStart(8)}` +
        ` ${median(own.map((s) => s.p99))
          .toFixed(0)
          .padStart(8)}` +
        ` ${median(own.map((s) => s.rate))
          .toFixed(0)
          .padStart(8)}` +
        ` ${median(own.map((s) => s.cpu))
          .toFixed(0)
          .padStart(7)}` +
        `  ${median(p50Ratios).toFixed(2).padStart(6)}x ${range(p50Ratios).padStart(12)}` +
        `  ${median(rateRatios).toFixed(2).padStart(6)}x ${range(rateRatios).padStart(12)}` +
        `  ${median(ratios('cpu')).toFixed(2).padStart(8)}x`,
    )
  })
}

const role = workerRole<Urls>()
if (role !== undefined) {
  const row = tables(role.context)[role.table as TableName][role.row]
  if (row === undefined) throw new Error(`no row ${role.row} in ${role.table}`)
  await reportSample(await measure(row[1]))
  process.exit(0)
}

console.log(
  `${rounds} rounds in rotating order, each row in a fresh process; per row and round: ${warmupRuns} warm-up runs, ` +
    `${sequentialRuns} sequential runs, then ${throughputMs} ms at ${concurrency} in flight. ` +
    `Figures are medians over the rounds; ratios are medians of per-round ratios to the floor ` +
    `(range over the rounds); cpu µs is the row's CPU time per run at ${concurrency} in flight.`,
)
const servers = await startServerProcess<Urls>(
  new URL('./fake-servers-process.mjs', import.meta.url),
  [String(chunkCount)],
)
try {
  await table('One call (the primary answers), fake Gemini server on 127.0.0.1', 'call', servers)
  await table(`A ${chunkCount}-chunk stream, fake Gemini server on 127.0.0.1`, 'stream', servers)
} finally {
  servers.stop()
}

import { createClient } from '@understudy/core'
import OpenAI from 'openai'
import { request } from 'undici'
import { openai } from '../dist/index.js'
import {
  checkFreshBuild,
  collect,
  measureIsolated,
  median,
  reportSample,
  startServerProcess,
  workerRole,
} from './isolated.js'

/** Measured rounds, each row in a fresh process; `BENCH_ROUNDS` overrides. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 6)
const sequentialCalls = 600
/** Calls before the first measure, so the row's own code is hot when its clock starts. */
const warmupCalls = 1_000
const concurrency = 64
const throughputMs = 1_000

const messages = [{ role: 'user' as const, content: 'Say hi.' }]

/** The fake servers' URLs, as the benchmark hands them to each worker. */
interface Urls {
  readonly up: string
  readonly down: string
  readonly backup: string
}

type Row = readonly [string, () => Promise<unknown>]

/** The rows of each table, over the servers at `urls`; only the measured row's clients are used. */
function tables(urls: Urls): { readonly happy: readonly Row[]; readonly failover: readonly Row[] } {
  const { up, down, backup } = urls
  const sdk = new OpenAI({ baseURL: `${up}/v1`, apiKey: 'bench-key', maxRetries: 0 })
  const client = createClient({
    providers: [openai({ baseURL: `${up}/v1`, apiKey: 'bench-key' })],
    retries: 0,
    health: { cooldownMs: 0 },
  })
  const fallbacks = [
    { model: 'openai/gpt-4o-mini', baseURL: `${backup}/v1`, apiKey: 'backup-key' },
    { model: 'openai/gpt-4.1-mini', baseURL: `${backup}/v1`, apiKey: 'backup-key' },
  ]
  const failingClient = createClient({
    providers: [openai({ baseURL: `${down}/v1`, apiKey: 'bench-key' })],
    retries: 0,
    health: { cooldownMs: 0 },
  })
  return {
    happy: [
      ['raw undici.request + JSON.parse (floor)', () => raw(up, 'bench-key')],
      [
        'openai SDK 6.x, retries off',
        () => sdk.chat.completions.create({ model: 'gpt-4o', messages }),
      ],
      [
        'understudy complete(), 2 fallbacks unused',
        () => client.complete({ model: 'openai/gpt-4o', messages }, { fallbacks }),
      ],
    ],
    failover: [
      [
        'failover by hand: raw 503, then raw 200 (floor)',
        async () => {
          await raw(down, 'bench-key').catch(() => undefined)
          return raw(backup, 'backup-key')
        },
      ],
      [
        'understudy failover: 503, then the fallback',
        () => failingClient.complete({ model: 'openai/gpt-4o', messages }, { fallbacks }),
      ],
    ],
  }
}

async function raw(origin: string, key: string): Promise<unknown> {
  const response = await request(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'gpt-4o', messages }),
  })
  const text = await response.body.text()
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`)
  return JSON.parse(text)
}

/** One row's figures in one round. */
interface Sample {
  /** Sequential latency, µs. */
  readonly p50: number
  readonly p99: number
  /** Calls per second with {@link concurrency} in flight. */
  readonly rate: number
  /**
   * This process's CPU time per call in the throughput run, µs: what the
   * client costs, which other processes on the machine do not change.
   */
  readonly cpu: number
}

async function latency(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmupCalls; i++) await run()
  const times: number[] = []
  for (let i = 0; i < sequentialCalls; i++) {
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
  // The real elapsed time: the last calls finish after `end`.
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const used = process.cpuUsage(cpu)
  return { rate: done / seconds, cpu: (used.user + used.system) / done }
}

/** Measures one row in this process: warm-up calls, then latency, then throughput. */
async function measure(run: () => Promise<unknown>): Promise<Sample> {
  for (let i = 0; i < warmupCalls; i++) await run()
  collect()
  const { p50, p99 } = await latency(run)
  collect()
  const { rate, cpu } = await throughput(run)
  return { p50, p99, rate, cpu }
}

/**
 * Measures every row of a table in {@link rounds} rounds, each row in a
 * fresh process. A row's figure is its median over the rounds; a ratio is
 * the median of its per-round ratios to the first row (the floor) measured
 * in the same round, so a slow round (another process, a noisy neighbour)
 * moves both sides of the ratio.
 */
async function table(title: string, name: 'happy' | 'failover', urls: Urls): Promise<void> {
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
    `${'case'.padEnd(48)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'calls/s'.padStart(8)}` +
      ` ${'cpu µs'.padStart(7)}  ${'p50 ratio'.padStart(9)}  ${'rate ratio (min–max)'.padStart(22)}` +
      `  ${'cpu ratio'.padStart(9)}`,
  )
  rows.forEach(([label], index) => {
    const own = samples[index] ?? []
    const ratios = (field: keyof Sample): number[] =>
      own.map((sample, round) => sample[field] / (floor[round]?.[field] ?? Number.NaN))
    const rateRatios = ratios('rate')
    const spread = `(${Math.min(...rateRatios).toFixed(2)}–${Math.max(...rateRatios).toFixed(2)})`
    const p50 = median(own.map((sample) => sample.p50))
    const p99 = median(own.map((sample) => sample.p99))
    const rate = median(own.map((sample) => sample.rate))
    const cpu = median(own.map((sample) => sample.cpu))
    console.log(
      `${label.padEnd(48)} ${p50.toFixed(0).padStart(8)} ${p99.toFixed(0).padStart(8)}` +
        ` ${rate.toFixed(0).padStart(8)} ${cpu.toFixed(0).padStart(7)}` +
        `  ${median(ratios('p50')).toFixed(2).padStart(8)}x` +
        `  ${median(rateRatios).toFixed(2).padStart(8)}x ${spread.padStart(12)}` +
        `  ${median(ratios('cpu')).toFixed(2).padStart(8)}x`,
    )
  })
}

const role = workerRole<Urls>()
if (role !== undefined) {
  const row = tables(role.context)[role.table as 'happy' | 'failover'][role.row]
  if (row === undefined) throw new Error(`no row ${role.row} in ${role.table}`)
  await reportSample(await measure(row[1]))
  process.exit(0)
}

console.log(
  `${rounds} rounds in rotating order, each row in a fresh process; per row and round: ${warmupCalls} warm-up calls, ` +
    `${sequentialCalls} sequential calls, then ${throughputMs} ms at ${concurrency} in flight. ` +
    `Figures are medians over the rounds; ratios are medians of per-round ratios to the floor; ` +
    `cpu µs is the row's CPU time per call at ${concurrency} in flight.`,
)
checkFreshBuild(['core', 'provider-kit', 'providers-openai'])
const servers = await startServerProcess<Urls>(
  new URL('./fake-servers-process.mjs', import.meta.url),
)
try {
  await table('Happy path (the primary answers), fake OpenAI server on 127.0.0.1', 'happy', servers)
  await table('Failover (the primary answers 503), two fake servers', 'failover', servers)
} finally {
  servers.stop()
}

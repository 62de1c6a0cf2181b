import { createClient } from '@understudy/core'
import OpenAI from 'openai'
import { request } from 'undici'
import { openai } from '../dist/index.js'
import {
  callPlan,
  checkFreshBuild,
  describePlan,
  measureIsolated,
  measureRow,
  planFromEnv,
  printTable,
  reportSample,
  type Sample,
  startServerProcess,
  workerRole,
} from '../../../test-support/bench-kit.js'

/** Measured rounds, each row in a fresh process; `BENCH_ROUNDS` overrides. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 4)
const plan = planFromEnv(callPlan)

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

/**
 * Measures every row of a table in {@link rounds} rounds, each row in a
 * fresh process, and prints the table.
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
  printTable(
    rows.map(([label]) => label),
    samples,
    'call',
  )
}

const role = workerRole<Urls>()
if (role !== undefined) {
  const row = tables(role.context)[role.table as 'happy' | 'failover'][role.row]
  if (row === undefined) throw new Error(`no row ${role.row} in ${role.table}`)
  await reportSample(await measureRow(row[1], plan))
  process.exit(0)
}

console.log(
  `${rounds} rounds in rotating order, each row in a fresh process; per row and round: ${describePlan(plan, 'call')}. ` +
    'Figures are medians over the rounds; ratios are medians of per-round ratios to the floor (min–max over the rounds).',
)
checkFreshBuild(['core', 'provider-kit', 'providers-openai'])
const servers = await startServerProcess<Urls>(
  new URL('./fake-servers-process.mjs', import.meta.url),
  { testkit: import.meta.resolve('@understudy/testkit') },
)
try {
  await table('Happy path (the primary answers), fake OpenAI server on 127.0.0.1', 'happy', servers)
  await table('Failover (the primary answers 503), two fake servers', 'failover', servers)
} finally {
  servers.stop()
}

/**
 * Understudy's OpenAI path against the floor (a raw undici request + JSON.parse)
 * and the official `openai` SDK, all against the testkit's fake OpenAI server on
 * loopback, in one run. The fake servers run in a child process, so their work
 * does not compete with the client's on this event loop. Prints latency
 * (p50/p99, sequential) and throughput (64 calls in flight) with ratios to the
 * floor; asserts nothing.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createClient } from '@understudy/core'
import OpenAI from 'openai'
import { request } from 'undici'
import { openai } from '../dist/index.js'

const sequentialCalls = 2_000
const warmup = 500
const concurrency = 64
const throughputMs = 3_000

const messages = [{ role: 'user' as const, content: 'Say hi.' }]

interface Servers {
  readonly up: { readonly url: string }
  readonly down: { readonly url: string }
  readonly backup: { readonly url: string }
  readonly stop: () => void
}

/** Starts the fake servers in a child process; resolves with their URLs and a way to stop them. */
async function startServers(): Promise<Servers> {
  const testkit = fileURLToPath(import.meta.resolve('@understudy/testkit'))
  const child = fork(
    fileURLToPath(new URL('./fake-servers-process.mjs', import.meta.url)),
    [testkit],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const urls = await new Promise<{ up: string; down: string; backup: string }>(
    (resolve, reject) => {
      child.once('message', (message) =>
        resolve(message as { up: string; down: string; backup: string }),
      )
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`the fake servers exited with ${code}`)))
    },
  )
  return {
    up: { url: urls.up },
    down: { url: urls.down },
    backup: { url: urls.backup },
    stop: () => child.kill(),
  }
}

const servers = await startServers()
const { up, down, backup } = servers

const sdk = new OpenAI({ baseURL: `${up.url}/v1`, apiKey: 'bench-key', maxRetries: 0 })
const client = createClient({
  providers: [openai({ baseURL: `${up.url}/v1`, apiKey: 'bench-key' })],
  retries: 0,
  health: { cooldownMs: 0 },
})
const fallbacks = [
  { model: 'openai/gpt-4o-mini', baseURL: `${backup.url}/v1`, apiKey: 'backup-key' },
  { model: 'openai/gpt-4.1-mini', baseURL: `${backup.url}/v1`, apiKey: 'backup-key' },
]
const failingClient = createClient({
  providers: [openai({ baseURL: `${down.url}/v1`, apiKey: 'bench-key' })],
  retries: 0,
  health: { cooldownMs: 0 },
})

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

const cases: readonly (readonly [string, () => Promise<unknown>])[] = [
  ['raw undici.request + JSON.parse (floor)', () => raw(up.url, 'bench-key')],
  ['openai SDK 6.x, retries off', () => sdk.chat.completions.create({ model: 'gpt-4o', messages })],
  [
    'understudy complete(), 2 fallbacks unused',
    () => client.complete({ model: 'openai/gpt-4o', messages }, { fallbacks }),
  ],
]
const failoverCases: readonly (readonly [string, () => Promise<unknown>])[] = [
  [
    'failover by hand: raw 503, then raw 200 (floor)',
    async () => {
      await raw(down.url, 'bench-key').catch(() => undefined)
      return raw(backup.url, 'backup-key')
    },
  ],
  [
    'understudy failover: 503, then the fallback',
    () => failingClient.complete({ model: 'openai/gpt-4o', messages }, { fallbacks }),
  ],
]

async function latency(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await run()
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

async function throughput(run: () => Promise<unknown>): Promise<number> {
  let done = 0
  const end = Date.now() + throughputMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await run()
        done += 1
      }
    }),
  )
  return done / (throughputMs / 1000)
}

async function table(title: string, rows: typeof cases): Promise<void> {
  console.log(`\n${title}`)
  console.log(
    `${'case'.padEnd(48)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'calls/s'.padStart(8)}  p50 ratio  rate ratio`,
  )
  let floor: { p50: number; rate: number } | undefined
  for (const [name, run] of rows) {
    const { p50, p99 } = await latency(run)
    const rate = await throughput(run)
    floor ??= { p50, rate }
    console.log(
      `${name.padEnd(48)} ${p50.toFixed(0).padStart(8)} ${p99.toFixed(0).padStart(8)} ${rate.toFixed(0).padStart(8)}` +
        `  ${(p50 / floor.p50).toFixed(2).padStart(8)}x  ${(rate / floor.rate).toFixed(2).padStart(9)}x`,
    )
  }
}

try {
  await table('Happy path (the primary answers), fake OpenAI server on 127.0.0.1', cases)
  await table('Failover (the primary answers 503), two fake servers', failoverCases)
} finally {
  servers.stop()
}

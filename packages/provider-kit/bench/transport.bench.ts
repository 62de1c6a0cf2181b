/**
 * `undici.request` against `fetch`, on loopback, against the testkit's fake
 * OpenAI server running in a child process (its own event loop, so the
 * server's work is not billed to the client). For each transport: the
 * sequential p50/p99 of one chat completion (request, headers, JSON body)
 * and the throughput at 64 calls in flight; then the ratios. Rounds are
 * interleaved and the median round is printed. Asserts nothing.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { request, fetch as undiciFetch } from 'undici'
import type { ChatRequest, ProviderContext } from '@understudy/core'

type Kit = typeof import('../src/index.js')

/**
 * The built package when there is one (`pnpm bench` builds first): tsx
 * compiles the source with `keepNames`, which wraps every closure made per
 * call and would bill that to the package.
 */
async function loadKit(): Promise<{ kit: Kit; from: string }> {
  const dist = new URL('../dist/index.js', import.meta.url).href
  try {
    return { kit: (await import(dist)) as Kit, from: 'dist' }
  } catch {
    return { kit: await import('../src/index.js'), from: 'src (not built)' }
  }
}
const { kit, from } = await loadKit()
const { defineProvider, sendRequest } = kit

const sequentialCalls = 2_000
const concurrentCalls = 6_000
const concurrency = 64
const warmupCalls = 500
const rounds = 5

interface Result {
  readonly p50: number
  readonly p99: number
  readonly perSecond: number
}

type Call = (url: string, body: string) => Promise<unknown>

const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }

/** A minimal OpenAI-like spec: what `defineProvider` adds over `sendRequest` is measured, not a dialect. */
const provider = defineProvider({
  id: 'bench',
  baseURL: 'http://127.0.0.1:9/v1',
  apiKey: () => 'sk-bench',
  authHeaders: (key) => ({ authorization: `Bearer ${key}` }),
  buildRequest: (chat) => ({ path: '/chat/completions', body: chat }),
  parseResponse: (body) => {
    const choices = (body as { choices: { message: { content: string } }[] }).choices
    const text = choices[0]?.message.content ?? ''
    return {
      text,
      message: { role: 'assistant', content: text },
      toolCalls: [],
      finishReason: 'stop',
      usage: {},
    }
  },
  createStreamParser: () => ({ push: () => [], end: () => [] }),
  readError: () => ({}),
})
const chat: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hi.' }] }

const variants: readonly (readonly [string, Call])[] = [
  [
    'undici.request',
    async (url, body) => {
      const response = await request(url, { method: 'POST', headers, body })
      return JSON.parse(await response.body.text())
    },
  ],
  [
    'fetch (global)',
    async (url, body) => {
      const response = await fetch(url, { method: 'POST', headers, body })
      return response.json()
    },
  ],
  [
    'fetch (undici 7)',
    async (url, body) => {
      const response = await undiciFetch(url, { method: 'POST', headers, body })
      return response.json()
    },
  ],
  [
    'sendRequest (undici)',
    async (url, body) => (await sendRequest({ url, method: 'POST', headers, body })).json(),
  ],
  [
    'sendRequest (fetch)',
    async (url, body) =>
      (await sendRequest({ url, method: 'POST', headers, body, transport: 'fetch' })).json(),
  ],
  [
    'defineProvider complete',
    (url) => {
      const context: ProviderContext = {
        // A fresh signal per call, as the client makes one per attempt.
        signal: new AbortController().signal,
        apiKey: 'sk-bench',
        baseURL: url.slice(0, -'/chat/completions'.length),
        headers: undefined,
        deadline: Number.POSITIVE_INFINITY,
      }
      return provider.complete(chat, context)
    },
  ],
]

/** Starts the fake OpenAI server in a child process; resolves with its URL and a way to stop it. */
async function startServer(): Promise<{ url: string; stop: () => void }> {
  const testkit = fileURLToPath(import.meta.resolve('@understudy/testkit'))
  const child = fork(
    fileURLToPath(new URL('./fake-openai-process.mjs', import.meta.url)),
    [testkit],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve(String(message)))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the fake server exited with ${code}`)))
  })
  return { url, stop: () => child.kill() }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
}

async function measure(call: Call, url: string, body: string): Promise<Result> {
  for (let i = 0; i < warmupCalls; i++) await call(url, body)
  const times: number[] = []
  for (let i = 0; i < sequentialCalls; i++) {
    const start = performance.now()
    await call(url, body)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  let left = concurrentCalls
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--
      await call(url, body)
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - start) / 1000
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    perSecond: concurrentCalls / seconds,
  }
}

function median(results: readonly Result[]): Result {
  const pick = (key: keyof Result): number => {
    const values = results.map((result) => result[key]).sort((a, b) => a - b)
    return values[Math.floor(values.length / 2)] ?? Number.NaN
  }
  return { p50: pick('p50'), p99: pick('p99'), perSecond: pick('perSecond') }
}

const server = await startServer()
try {
  const url = `${server.url}/v1/chat/completions`
  const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Say hi.' }] })
  const all = new Map<string, Result[]>()
  for (let round = 0; round < rounds; round++) {
    // Interleaved, and in a rotated order each round, so drift hits every variant alike.
    for (let i = 0; i < variants.length; i++) {
      const [name, call] = variants[(i + round) % variants.length] as readonly [string, Call]
      all.set(name, [...(all.get(name) ?? []), await measure(call, url, body)])
    }
  }
  const results = new Map([...all].map(([name, list]) => [name, median(list)]))
  console.log(
    `transport, median of ${rounds} rounds: ${sequentialCalls} sequential calls, ${concurrentCalls} at ${concurrency} in flight (Node ${process.version}, provider-kit from ${from})`,
  )
  console.log(
    `${'transport'.padEnd(22)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'calls/s'.padStart(9)}`,
  )
  for (const [name, result] of results) {
    console.log(
      `${name.padEnd(22)} ${result.p50.toFixed(3).padStart(8)} ${result.p99.toFixed(3).padStart(8)} ${Math.round(result.perSecond).toString().padStart(9)}`,
    )
  }
  const ratio = (a: string, b: string): void => {
    const x = results.get(a)
    const y = results.get(b)
    if (x === undefined || y === undefined) return
    console.log(
      `${a} / ${b}: p50 ${(x.p50 / y.p50).toFixed(2)}x, p99 ${(x.p99 / y.p99).toFixed(2)}x, throughput ${(x.perSecond / y.perSecond).toFixed(2)}x`,
    )
  }
  ratio('fetch (global)', 'undici.request')
  ratio('fetch (undici 7)', 'undici.request')
  ratio('sendRequest (fetch)', 'sendRequest (undici)')
  ratio('sendRequest (undici)', 'undici.request')
  ratio('defineProvider complete', 'undici.request')
} finally {
  server.stop()
}

import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from '@understudy/core'
import OpenAI from 'openai'
import { request } from 'undici'
import { openai } from '../dist/index.js'
import {
  checkFreshBuild,
  collect,
  measureIsolated,
  median,
  planFromEnv,
  type RowPlan,
  ratioCell,
  reportSample,
  runInFlight,
  type ServerProcess,
  startServerProcess,
  streamPlan,
  workerRole,
} from '../../../test-support/bench-kit.js'

/** Measured rounds, each row in a fresh process; `BENCH_ROUNDS` overrides. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 4)
/** Content chunks in the measured stream (plus the role chunk, the finish, the usage chunk and `[DONE]`). */
const chunkCount = 50
/**
 * The in-flight measures (burst and paced) follow the shared stream plan:
 * {@link RowPlan.concurrentWarmupRuns} streams at its concurrency, then its
 * window, each kind. `BENCH_CONCURRENT_WARMUP` and `BENCH_WINDOW_MS` override.
 */
const plan: RowPlan = planFromEnv(streamPlan)
const sequentialStreams = plan.sequentialRuns
const concurrency = plan.concurrency
/**
 * Streams one at a time before the first measure, so the row's own code is
 * hot when its clock starts; `BENCH_WARMUP` overrides. The in-flight
 * measures have their own, longer warm-up: V8 compiles the shapes
 * concurrency brings only once it starts.
 */
const warmupStreams = Number(process.env.BENCH_WARMUP ?? 160)
/** Unmeasured streams after the forced GC that opens the one-at-a-time measure (see {@link settleThenRewarm}); `BENCH_REWARM` overrides. */
const rewarmStreams = Number(process.env.BENCH_REWARM ?? 64)
/** The paced stream: each event its own write, this many ms apart (as a model sends them). */
const pacedDelayMs = 1
/**
 * Paced streams at {@link concurrency} before the paced window. Fewer than
 * the burst's: a paced stream lasts 50 ms or more, and the burst's warm-up
 * has compiled most of the client by then. From a fresh process (160 paced
 * streams one at a time, then windows of 100 at 16 in flight; CPU µs per
 * stream, Node 24), `stream()` came down from 3,900–4,800 to ~2,600 after
 * 500 streams, the floor from 3,200–3,500 to ~2,400 after 100.
 */
const pacedWarmupStreams = 500
/** The slow-reader stream: this many pieces of this many characters (about 4.3 MB of text). */
const largeChunkCount = 520
const largeChunkChars = 8192
/** The slow reader waits this long after each event. */
const slowReadMs = 2
/** Live memory is measured (after a `gc()`) every this many events. */
const checkpointEvery = 40

const model = 'gpt-4o'
const messages = [{ role: 'user' as const, content: 'Say hi.' }]
const expectedChars = Array.from({ length: chunkCount }, (_, i) => ` word${i}`).join('').length
const expectedLargeChars = largeChunkCount * largeChunkChars

/** The fake servers' URLs, as the benchmark hands them to each worker. */
interface Urls {
  readonly up: string
  readonly backup: string
  readonly paced: string
  readonly large: string
}

/** Starts the fake servers in a child process, sized for this benchmark. */
function startServers(): Promise<ServerProcess<Urls>> {
  return startServerProcess<Urls>(new URL('./stream-servers-process.mjs', import.meta.url), {
    testkit: import.meta.resolve('@understudy/testkit'),
    args: [
      String(chunkCount),
      String(pacedDelayMs),
      String(largeChunkCount),
      String(largeChunkChars),
    ],
  })
}

/** Called with each piece of text; the slow reader returns a promise, and the row waits for it. */
type OnText = (text: string) => void | Promise<void>

/** One way to read a stream: resolves with the characters of text it delivered. */
type ReadStream = (origin: string, onText: OnText) => Promise<number>

/** The shape of a `chat.completion.chunk` as far as the floor reads it. */
interface FloorChunk {
  readonly choices?: readonly { readonly delta?: { readonly content?: string | null } }[]
}

const requestBody = JSON.stringify({
  model,
  messages,
  stream: true,
  stream_options: { include_usage: true },
})

/** The floor: `undici.request`, split the body on blank lines, `JSON.parse` each `data:`. */
async function readRaw(origin: string, onText: OnText): Promise<number> {
  const response = await request(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: 'Bearer bench-key',
    },
    body: requestBody,
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
      if (!event.startsWith('data: ')) continue
      const data = event.slice(6)
      if (data === '[DONE]') continue
      const content = (JSON.parse(data) as FloorChunk).choices?.[0]?.delta?.content
      if (typeof content === 'string' && content !== '') {
        chars += content.length
        const waiting = onText(content)
        if (waiting !== undefined) await waiting
      }
    }
    buffer = buffer.slice(start)
  }
  return chars
}

/** The control of the memory check: reads the whole body first, then hands the events out. */
async function readBuffered(origin: string, onText: OnText): Promise<number> {
  const response = await request(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-key' },
    body: requestBody,
  })
  const body = await response.body.text()
  let chars = 0
  for (const event of body.split('\n\n')) {
    if (!event.startsWith('data: ') || event === 'data: [DONE]') continue
    const content = (JSON.parse(event.slice(6)) as FloorChunk).choices?.[0]?.delta?.content
    if (typeof content === 'string' && content !== '') {
      chars += content.length
      const waiting = onText(content)
      if (waiting !== undefined) await waiting
    }
  }
  return chars
}

const sdks = new Map<string, OpenAI>()
/** The `openai` SDK's stream, retries off; one SDK client per origin, made once. */
async function readSdk(origin: string, onText: OnText): Promise<number> {
  let sdk = sdks.get(origin)
  if (sdk === undefined) {
    sdk = new OpenAI({ baseURL: `${origin}/v1`, apiKey: 'bench-key', maxRetries: 0 })
    sdks.set(origin, sdk)
  }
  const stream = await sdk.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  })
  let chars = 0
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta?.content
    if (typeof content === 'string' && content !== '') {
      chars += content.length
      const waiting = onText(content)
      if (waiting !== undefined) await waiting
    }
  }
  return chars
}

type Client = ReturnType<typeof createClient>
const clients = new Map<
  string,
  { client: Client; fallbacks: readonly { model: string; baseURL: string; apiKey: string }[] }
>()
/** `client.stream()` with two fallbacks configured (unused: the primary answers). */
async function readUnderstudy(origin: string, onText: OnText): Promise<number> {
  let entry = clients.get(origin)
  if (entry === undefined) {
    entry = {
      client: createClient({
        providers: [openai({ baseURL: `${origin}/v1`, apiKey: 'bench-key' })],
        retries: 0,
        health: { cooldownMs: 0 },
      }),
      fallbacks: [
        { model: 'openai/gpt-4o-mini', baseURL: `${servers.backup}/v1`, apiKey: 'backup-key' },
        { model: 'openai/gpt-4.1-mini', baseURL: `${servers.backup}/v1`, apiKey: 'backup-key' },
      ],
    }
    clients.set(origin, entry)
  }
  let chars = 0
  const stream = entry.client.stream(
    { model: `openai/${model}`, messages },
    { fallbacks: entry.fallbacks },
  )
  for await (const event of stream) {
    if (event.type === 'text') {
      chars += event.text.length
      const waiting = onText(event.text)
      if (waiting !== undefined) await waiting
    }
  }
  return chars
}

const role = workerRole<Urls>()
if (role === undefined) checkFreshBuild(['core', 'provider-kit', 'providers-openai'])
/** The servers' URLs: handed over in a worker; the benchmark's own servers otherwise. */
const servers: Urls = role?.context ?? (await startServers())

const rows: readonly (readonly [string, ReadStream])[] = [
  ['raw undici.request + SSE split (floor)', readRaw],
  ['openai SDK 6.x stream, retries off', readSdk],
  ['understudy stream(), 2 fallbacks unused', readUnderstudy],
]

/** One row's figures in one round. */
interface Sample {
  /** CPU µs per stream, one stream at a time. */
  readonly cpu: number
  /** CPU µs per stream with {@link concurrency} in flight. */
  readonly cpuConcurrent: number
  /** CPU µs per paced stream (one event per write), {@link concurrency} in flight. */
  readonly cpuPaced: number
  /** Wall µs from the request to the last event, one at a time. */
  readonly p50: number
  /** Live heap + external growth while reading the large stream, MB. */
  readonly slowMB: number
  readonly fastMB: number
  /** RSS growth while reading the large stream slowly, MB. */
  readonly slowRssMB: number
}

function ignoreText(): void {}

async function checked(
  read: ReadStream,
  origin: string,
  onText: OnText,
  chars: number,
): Promise<void> {
  const got = await read(origin, onText)
  if (got !== chars) throw new Error(`a stream delivered ${got} characters, not ${chars}`)
}

function cpuMicros(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return used.user + used.system
}

/**
 * A clean heap, then hot code again. V8 holds the objects optimized code
 * embeds weakly: a forced full GC collects the warm-up's, and every function
 * that embedded one is deoptimized. Without {@link rewarmStreams} unmeasured
 * streams after it, the window would pay for re-optimizing both rows, which
 * cost the floor itself about 300 µs a stream over 200 streams one at a time.
 */
async function settleThenRewarm(run: (streams: number) => Promise<void>): Promise<void> {
  collect()
  await run(rewarmStreams)
}

/** Reads `streams` streams from `origin`, one at a time. */
async function oneAtATime(read: ReadStream, origin: string, streams: number): Promise<void> {
  for (let i = 0; i < streams; i++) await checked(read, origin, ignoreText, expectedChars)
}

async function sequential(read: ReadStream): Promise<{ cpu: number; p50: number }> {
  await settleThenRewarm((streams) => oneAtATime(read, servers.up, streams))
  const times: number[] = []
  const start = process.cpuUsage()
  for (let i = 0; i < sequentialStreams; i++) {
    const began = process.hrtime.bigint()
    await checked(read, servers.up, ignoreText, expectedChars)
    times.push(Number(process.hrtime.bigint() - began) / 1000)
  }
  const cpu = cpuMicros(start) / sequentialStreams
  times.sort((a, b) => a - b)
  return { cpu, p50: times[Math.floor(times.length / 2)] ?? Number.NaN }
}

/**
 * CPU µs per stream from `origin` at {@link concurrency} in flight, in
 * steady state: `warmup` unmeasured streams right before the window (or
 * the plan's longest warm-up, if sooner), and no
 * forced GC between them (it would deoptimize what the warm-up compiled;
 * see the bench kit's `measureRow`).
 */
async function concurrent(read: ReadStream, origin: string, warmup: number): Promise<number> {
  const run = () => checked(read, origin, ignoreText, expectedChars)
  await runInFlight(run, concurrency, { runs: warmup, ms: plan.concurrentWarmupMaxMs })
  const window = await runInFlight(run, concurrency, {
    runs: Number.POSITIVE_INFINITY,
    ms: plan.windowMs,
  })
  return window.cpuMicros / window.runs
}

/**
 * Reads the large stream, fast or one event per {@link slowReadMs}; returns
 * the most the live heap + external memory (after a `gc()`) and the RSS grew
 * over the stream, in MB.
 */
async function memory(read: ReadStream, slow: boolean): Promise<{ liveMB: number; rssMB: number }> {
  collect()
  const base = process.memoryUsage()
  const baseLive = base.heapUsed + base.external
  let events = 0
  let live = 0
  let rss = 0
  const onText = (): void | Promise<void> => {
    events += 1
    if (events % checkpointEvery === 0) {
      collect()
      const now = process.memoryUsage()
      live = Math.max(live, now.heapUsed + now.external - baseLive)
      rss = Math.max(rss, now.rss - base.rss)
    }
    if (slow) return sleep(slowReadMs)
  }
  await checked(read, servers.large, onText, expectedLargeChars)
  return { liveMB: live / 2 ** 20, rssMB: rss / 2 ** 20 }
}

/** Warms the row's code up, then measures it in this process. */
async function measure(read: ReadStream): Promise<Sample> {
  await oneAtATime(read, servers.up, warmupStreams)
  const { cpu, p50 } = await sequential(read)
  collect()
  const cpuConcurrent = await concurrent(read, servers.up, plan.concurrentWarmupRuns)
  collect()
  const cpuPaced = await concurrent(read, servers.paced, pacedWarmupStreams)
  const fast = await memory(read, false)
  const slow = await memory(read, true)
  return {
    cpu,
    p50,
    cpuConcurrent,
    cpuPaced,
    fastMB: fast.liveMB,
    slowMB: slow.liveMB,
    slowRssMB: slow.rssMB,
  }
}

if (role !== undefined) {
  if (role.table === 'control') {
    await reportSample((await memory(readBuffered, true)).liveMB)
  } else {
    const row = rows[role.row]
    if (row === undefined) throw new Error(`no row ${role.row}`)
    await reportSample(await measure(row[1]))
  }
  process.exit(0)
}

if (Reflect.get(globalThis, 'gc') === undefined) {
  console.log('(run with node --expose-gc, as `pnpm bench` does, for the memory columns)')
}
console.log(
  `${rounds} rounds in rotating order, each row in a fresh process; a ${chunkCount}-chunk stream; per row and round: ` +
    `${warmupStreams} warm-up streams one at a time, then a full GC, ${rewarmStreams} unmeasured and ${sequentialStreams} measured one at a time; ` +
    `${plan.concurrentWarmupRuns} streams at ${concurrency} in flight (warm-up to steady state; ${plan.concurrentWarmupMaxMs / 1000} s at most), then ${plan.windowMs / 1000} s measured; ` +
    `${pacedWarmupStreams} paced streams (one event per write, ${pacedDelayMs} ms apart) at ${concurrency} in flight (${plan.concurrentWarmupMaxMs / 1000} s at most), then ${plan.windowMs / 1000} s measured; and a ` +
    `${((largeChunkCount * largeChunkChars) / 2 ** 20).toFixed(1)} MB stream read fast and then one event per ${slowReadMs} ms. ` +
    'Figures are medians over the rounds; ratios are medians of per-round ratios to the floor (min–max over the rounds).',
)

let samples: Sample[][]
let control: number[][]
try {
  samples = await measureIsolated<Sample, Urls>(
    import.meta.url,
    'rows',
    rows.length,
    rounds,
    servers,
  )
  control = await measureIsolated<number, Urls>(import.meta.url, 'control', 1, rounds, servers)
} finally {
  ;(servers as ServerProcess<Urls>).stop()
}

const floor = samples[0] ?? []
const ratio = (own: readonly Sample[], pick: (sample: Sample) => number): string => {
  const ratios = own.map((sample, round) => {
    const base = floor[round]
    return base === undefined ? Number.NaN : pick(sample) / pick(base)
  })
  return ratioCell(ratios)
}
const figure = (own: readonly Sample[], pick: (sample: Sample) => number, digits = 0): string =>
  median(own.map(pick)).toFixed(digits)

console.log(
  `\n${'case'.padEnd(42)} ${'CPU µs/stream'.padStart(13)} ${'ratio (min–max)'.padStart(17)}` +
    ` ${`CPU µs @${concurrency}`.padStart(12)} ${'ratio (min–max)'.padStart(17)}` +
    ` ${'CPU µs paced'.padStart(12)} ${'ratio (min–max)'.padStart(17)}` +
    ` ${'p50 µs'.padStart(7)} ${'ratio (min–max)'.padStart(17)}` +
    ` ${'live MB slow (fast)'.padStart(20)} ${'RSS MB slow'.padStart(11)}`,
)
rows.forEach(([name], index) => {
  const own = samples[index] ?? []
  console.log(
    `${name.padEnd(42)} ${figure(own, (s) => s.cpu).padStart(13)} ${ratio(own, (s) => s.cpu).padStart(17)}` +
      ` ${figure(own, (s) => s.cpuConcurrent).padStart(12)} ${ratio(own, (s) => s.cpuConcurrent).padStart(17)}` +
      ` ${figure(own, (s) => s.cpuPaced).padStart(12)} ${ratio(own, (s) => s.cpuPaced).padStart(17)}` +
      ` ${figure(own, (s) => s.p50).padStart(7)} ${ratio(own, (s) => s.p50).padStart(17)}` +
      ` ${`${figure(own, (s) => s.slowMB, 2)} (${figure(own, (s) => s.fastMB, 2)})`.padStart(20)}` +
      ` ${figure(own, (s) => s.slowRssMB, 1).padStart(11)}`,
  )
})
console.log(
  `Memory: live heap + external growth over the ${(expectedLargeChars / 2 ** 20).toFixed(1)} MB stream, read one event per ` +
    `${slowReadMs} ms (and as fast as it comes). Flat means slow ≈ fast. Understudy keeps the text it has ` +
    'delivered, for `response`, at any reading speed. Control: the same stream with the whole body read ' +
    `before the first event grows by ${median(control[0] ?? []).toFixed(2)} MB read slowly: buffering ahead looks like that.`,
)

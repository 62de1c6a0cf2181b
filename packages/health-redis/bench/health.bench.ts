/**
 * What the Redis store costs a call, next to the in-memory store, and how
 * long a cooldown takes to reach another process. Run with `pnpm bench`
 * (builds first); prints tables, asserts nothing.
 *
 * Each row runs in a fresh process of its own (this file, started with
 * `BENCH_WORKER` set), against one `redis-server` this benchmark starts on
 * 127.0.0.1 and stops. The provider answers at once, in process, so a row
 * measures the engine and its store, not HTTP. A call's plan has three
 * targets (the primary and two fallbacks): the store is asked about three
 * keys and told one outcome per call.
 *
 * `recorded %` is the share of calls whose outcome reached Redis: past 256
 * records in flight the store stops sending successes (failures always go),
 * which only calls on a provider that answers at once reach. The rows with a
 * provider taking 2 ms (still far faster than any model) send every one.
 *
 * `BENCH_ROUNDS` (default 3) sets how many processes measure each row; the
 * tables show the range over them.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  type ChatRequest,
  createClient,
  createMemoryHealthStore,
  type HealthStore,
  type Provider,
  type ProviderResponse,
} from '@understudy/core'
import { createClient as createRedis } from 'redis'
import { redisHealthStore } from '../dist/index.js'
import { startRedisServer } from '../src/test-support/redis-server.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)

type StoreKind = 'memory' | 'redis' | 'redis-uncached'

interface CallRow {
  readonly kind: 'call'
  readonly name: string
  readonly store: StoreKind
  readonly inFlight: number
  /** How long the provider takes to answer, ms: 0 answers at once. */
  readonly providerMs: number
}

interface PropagationRow {
  readonly kind: 'propagation'
  readonly name: string
  readonly cacheMs: number
}

type Row = CallRow | PropagationRow

const callRows: readonly CallRow[] = [0, 2].flatMap((providerMs) =>
  [1, 64].flatMap((inFlight) =>
    (
      [
        ['in-memory store', 'memory'],
        ['Redis store (cacheMs 100, the default)', 'redis'],
        ['Redis store, cacheMs 0 (a read per call)', 'redis-uncached'],
      ] as const
    ).map(([name, store]) => ({ kind: 'call' as const, name, store, inFlight, providerMs })),
  ),
)

const propagationRows: readonly PropagationRow[] = [
  { kind: 'propagation', name: 'a second process, cacheMs 100 (the default)', cacheMs: 100 },
  { kind: 'propagation', name: 'a second process, cacheMs 0', cacheMs: 0 },
]

/** What a call row measures. */
interface CallSample {
  /** The client process's CPU per call, µs. */
  readonly cpuUs: number
  /** redis-server's CPU per call, µs (INFO cpu). */
  readonly redisCpuUs: number
  /** The median call's duration, µs. */
  readonly p50Us: number
  readonly callsPerSecond: number
  /** The share of measured calls whose outcome was sent to Redis, %. */
  readonly recordedPercent: number
}

/** What a propagation row measures: ms from the cooldown being in Redis to the other process skipping. */
interface PropagationSample {
  readonly p50Ms: number
  readonly maxMs: number
}

const answer: ProviderResponse = Object.freeze<ProviderResponse>({
  text: 'ok',
  message: { role: 'assistant', content: 'ok' },
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 10, outputTokens: 1, totalTokens: 11 },
  status: 200,
})

/** A provider in this process that answers after `ms` (at once for 0). */
const provider = (ms: number): Provider => ({
  id: 'bench',
  complete: () =>
    ms === 0
      ? Promise.resolve(answer)
      : new Promise((resolve) => setTimeout(() => resolve(answer), ms)),
  stream: () => {
    throw new Error('not streamed here')
  },
})

const request: ChatRequest = { model: 'bench/primary', messages: [{ role: 'user', content: 'hi' }] }
const fallbacks = ['bench/fallback-a', 'bench/fallback-b']

/** Wall time with a shared origin across processes, in ms. */
const wallMs = (): number => performance.timeOrigin + performance.now()

async function redisCpuSeconds(redis: {
  sendCommand(args: string[]): Promise<unknown>
}): Promise<number> {
  const info = String(await redis.sendCommand(['INFO', 'cpu']))
  const read = (name: string): number =>
    Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN)
  return read('used_cpu_user') + read('used_cpu_sys')
}

async function measureCalls(row: CallRow, port: number): Promise<CallSample> {
  const redis = await createRedis({ url: `redis://127.0.0.1:${port}` }).connect()
  let scripts = 0
  const counting = {
    sendCommand: (args: string[]) => {
      if (args[0] === 'EVALSHA') scripts += 1
      return redis.sendCommand(args)
    },
  }
  const store: HealthStore & { close?: () => Promise<void> } =
    row.store === 'memory'
      ? createMemoryHealthStore()
      : redisHealthStore({ redis: counting, cacheMs: row.store === 'redis' ? 100 : 0 })
  const client = createClient({
    providers: [provider(row.providerMs)],
    retries: 0,
    fallbacks,
    health: { store },
  })
  const call = async (durations: number[] | undefined): Promise<void> => {
    const began = performance.now()
    await client.complete(request)
    durations?.push(performance.now() - began)
  }
  const run = async (calls: number, durations?: number[]): Promise<void> => {
    let left = calls
    await Promise.all(
      Array.from({ length: row.inFlight }, async () => {
        while (left > 0) {
          left -= 1
          await call(durations)
        }
      }),
    )
  }
  await run(2_000)
  const calls = row.inFlight === 1 ? (row.providerMs === 0 ? 4_000 : 1_000) : 20_000
  const durations: number[] = []
  const redisBefore = await redisCpuSeconds(redis)
  const scriptsBefore = scripts
  const cpuBefore = process.cpuUsage()
  const began = performance.now()
  await run(calls, durations)
  const elapsed = performance.now() - began
  const cpu = process.cpuUsage(cpuBefore)
  // The store's records are not awaited by the calls: let the last ones land before reading Redis's CPU.
  await store.close?.()
  const redisAfter = await redisCpuSeconds(redis)
  redis.destroy()
  durations.sort((a, b) => a - b)
  return {
    cpuUs: (cpu.user + cpu.system) / calls,
    redisCpuUs: ((redisAfter - redisBefore) * 1e6) / calls,
    p50Us: (durations[Math.floor(durations.length / 2)] ?? Number.NaN) * 1_000,
    callsPerSecond: calls / (elapsed / 1_000),
    recordedPercent: row.store === 'memory' ? 100 : ((scripts - scriptsBefore) / calls) * 100,
  }
}

/** The watching process: skips the key as soon as its store says so, and reports when. */
async function watch(row: PropagationRow, port: number): Promise<void> {
  const redis = await createRedis({ url: `redis://127.0.0.1:${port}` }).connect()
  const store = redisHealthStore({ redis, cacheMs: row.cacheMs })
  process.on('message', async (message: { readonly key: string }) => {
    // Keep asking, as calls would, until the cooldown shows.
    for (;;) {
      const ends = await store.cooldowns([message.key], Date.now())
      if (ends[0] !== undefined) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    process.send?.({ seenAt: wallMs() })
  })
  process.send?.({ ready: true })
  process.once('disconnect', async () => {
    await store.close()
    redis.destroy()
  })
}

async function measurePropagation(row: PropagationRow, port: number): Promise<PropagationSample> {
  const watcher = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    env: { ...process.env, BENCH_WORKER: JSON.stringify({ row, port, watcher: true }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = (): Promise<Record<string, number>> =>
    new Promise((resolve) =>
      watcher.once('message', (message) => resolve(message as Record<string, number>)),
    )
  await next()
  const redis = await createRedis({ url: `redis://127.0.0.1:${port}` }).connect()
  const store = redisHealthStore({ redis })
  const thresholds = { minCalls: 5, failureRate: 0.5, windowMs: 60_000, cooldownMs: 30_000 }
  const delays: number[] = []
  for (let i = 0; i < 30; i++) {
    const key = `bench\u0000propagation-${process.pid}-${i}\u0000\u0000`
    const seen = next()
    watcher.send({ key })
    // Let the watcher read (and cache) the key as healthy first: the worst case.
    await new Promise((resolve) => setTimeout(resolve, 30 + Math.random() * 70))
    await store.record(key, { at: Date.now(), ok: false, retryAfterMs: 30_000 }, thresholds)
    const inRedis = wallMs()
    delays.push(((await seen).seenAt as number) - inRedis)
  }
  watcher.disconnect()
  await store.close()
  redis.destroy()
  delays.sort((a, b) => a - b)
  return {
    p50Ms: delays[Math.floor(delays.length / 2)] ?? Number.NaN,
    maxMs: delays.at(-1) ?? Number.NaN,
  }
}

function runWorker<Sample>(row: Row, port: number): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: process.execArgv,
      env: { ...process.env, BENCH_WORKER: JSON.stringify({ row, port }) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let sample: Sample | undefined
    child.once('message', (message) => {
      sample = message as Sample
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      sample === undefined ? reject(new Error(`${row.name} exited with ${code}`)) : resolve(sample),
    )
  })
}

const range = (values: readonly number[], digits: number): string => {
  const low = Math.min(...values)
  const high = Math.max(...values)
  return low.toFixed(digits) === high.toFixed(digits)
    ? low.toFixed(digits)
    : `${low.toFixed(digits)}–${high.toFixed(digits)}`
}

async function main(): Promise<void> {
  const server = await startRedisServer()
  try {
    console.log(
      `health stores, ${rounds} processes per row (ranges over them); provider in process, plan of 3 targets\n`,
    )
    const header = (cells: readonly string[], widths: readonly number[]): string =>
      cells
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
    const widths = [44, 11, 9, 16, 16, 16, 18, 12]
    console.log(
      header(
        [
          'store',
          'provider ms',
          'in flight',
          'client CPU µs',
          'redis CPU µs',
          'p50 µs',
          'calls/s',
          'recorded %',
        ],
        widths,
      ),
    )
    for (const row of callRows) {
      const samples: CallSample[] = []
      for (let round = 0; round < rounds; round++)
        samples.push(await runWorker<CallSample>(row, server.port))
      console.log(
        header(
          [
            row.name,
            String(row.providerMs),
            String(row.inFlight),
            range(
              samples.map((each) => each.cpuUs),
              1,
            ),
            row.store === 'memory'
              ? '—'
              : range(
                  samples.map((each) => each.redisCpuUs),
                  1,
                ),
            range(
              samples.map((each) => each.p50Us),
              0,
            ),
            range(
              samples.map((each) => each.callsPerSecond),
              0,
            ),
            range(
              samples.map((each) => each.recordedPercent),
              0,
            ),
          ],
          widths,
        ),
      )
    }
    console.log(
      '\ncooldown propagation: from the cooldown in Redis to another process seeing it (30 tries per process)\n',
    )
    console.log(header(['to', 'p50 ms', 'max ms'], [44, 16, 16]))
    for (const row of propagationRows) {
      const samples: PropagationSample[] = []
      for (let round = 0; round < rounds; round++)
        samples.push(await runWorker<PropagationSample>(row, server.port))
      console.log(
        header(
          [
            row.name,
            range(
              samples.map((each) => each.p50Ms),
              1,
            ),
            range(
              samples.map((each) => each.maxMs),
              1,
            ),
          ],
          [44, 16, 16],
        ),
      )
    }
  } finally {
    await server.stop()
  }
}

const role = process.env.BENCH_WORKER
if (role === undefined) {
  await main()
} else {
  const { row, port, watcher } = JSON.parse(role) as { row: Row; port: number; watcher?: boolean }
  if (row.kind === 'propagation' && watcher === true) {
    await watch(row, port)
  } else {
    const sample =
      row.kind === 'call' ? await measureCalls(row, port) : await measurePropagation(row, port)
    process.send?.(sample, () => process.exit(0))
  }
}

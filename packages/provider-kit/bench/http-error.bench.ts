/**
 * What the stack of an HTTP error costs: `errorFromResponse` and a bare
 * `UnderstudyError`, built with V8's default 10 frames and with
 * `Error.stackTraceLimit` set to 0 around the build (what provider-kit used
 * to do, changing a global of the user's process). Errors are built in a
 * loop inside a chain of awaited async functions, as a provider builds one
 * after awaiting the body; rounds are interleaved and the median round is
 * printed, in ns per error. `.stack` is never read (nothing on the failover
 * path reads it), so this is the frame capture alone. Asserts nothing.
 */
import { UnderstudyError } from '@understudy/core'

type Kit = typeof import('../src/index.js')

/** The built package when there is one (`pnpm bench` builds first), as in transport.bench.ts. */
async function loadKit(): Promise<{ kit: Kit; from: string }> {
  const dist = new URL('../dist/index.js', import.meta.url).href
  try {
    return { kit: (await import(dist)) as Kit, from: 'dist' }
  } catch {
    return { kit: await import('../src/index.js'), from: 'src (not built)' }
  }
}
const { kit, from } = await loadKit()
const { errorFromResponse } = kit

const errorsPerRound = 20_000
const warmupRounds = 3
const rounds = 15

/** A recorded-like OpenAI 429: what a failover builds its error from. */
const response = {
  provider: 'openai',
  model: 'gpt-4o',
  status: 429,
  headers: { 'retry-after': '2', 'x-request-id': 'req_0123456789abcdef' },
  body: {
    error: {
      message:
        'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29851, Requested 1024. Please try again in 1.748s.',
      type: 'tokens',
      code: 'rate_limit_exceeded',
    },
  },
  now: Date.now(),
  secrets: ['sk-bench-0123456789'],
} as const

const init = {
  kind: 'rate_limit',
  message: 'openai/gpt-4o 429: Rate limit reached',
  provider: 'openai',
  model: 'gpt-4o',
  status: 429,
  retryAfterMs: 2000,
  requestId: 'req_0123456789abcdef',
} as const

/** What provider-kit did before: the global set to 0 for the build, then put back. */
function withoutFrames<T>(make: () => T): T {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

const variants: readonly (readonly [string, () => unknown])[] = [
  ['errorFromResponse, 10 frames', () => errorFromResponse(response)],
  ['errorFromResponse, limit 0', () => withoutFrames(() => errorFromResponse(response))],
  ['new UnderstudyError, 10 frames', () => new UnderstudyError(init)],
  ['new UnderstudyError, limit 0', () => withoutFrames(() => new UnderstudyError(init))],
  // The floor: what the loop and a plain object cost.
  ['object literal', () => ({ ...init })],
]

let sink: unknown

/** `make` run `errorsPerRound` times at the bottom of `depth` awaited async calls; ns per call. */
async function round(make: () => unknown, depth: number): Promise<number> {
  // Awaited, so each level shows as an `at async` frame V8 walks, as a real await chain does.
  if (depth > 0) return await round(make, depth - 1)
  await Promise.resolve()
  const start = process.hrtime.bigint()
  for (let i = 0; i < errorsPerRound; i++) sink = make()
  return Number(process.hrtime.bigint() - start) / errorsPerRound
}

/** Async depths: a provider three awaits below the executor, and one below the 10-frame limit. */
const depths = [3, 12] as const

const results = new Map<string, number[]>()
for (let r = 0; r < warmupRounds + rounds; r++) {
  for (const depth of depths) {
    for (const [name, make] of variants) {
      const ns = await round(make, depth)
      if (r < warmupRounds) continue
      const key = `${name} (depth ${depth})`
      results.set(key, [...(results.get(key) ?? []), ns])
    }
  }
}

const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN

console.log(`provider-kit from ${from}, Node ${process.version}, ${errorsPerRound} errors a round`)
for (const [key, values] of results) {
  console.log(`${key.padEnd(44)} ${median(values).toFixed(0).padStart(6)} ns/error`)
}
if (sink === undefined) console.log('(nothing built)')

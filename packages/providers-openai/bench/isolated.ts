/**
 * Runs each row of a benchmark in a process of its own, as an application
 * would use only one of them. Rows that share a process bill each other:
 * one row's garbage is collected on the next row's time, and code both
 * reach (undici's internals, Node's streams) is optimised for whichever
 * shapes came first — the raw floor ran 25 % slower once Understudy's
 * handler had run beside it, which flattered Understudy.
 *
 * The benchmark file is its own worker: started with `BENCH_WORKER` set, it
 * measures the one row named there, sends its sample back, and exits.
 */
import { fork } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Fake servers running in a child process: their URLs, and how to stop them. */
export type ServerProcess<Urls> = Urls & { readonly stop: () => void }

/**
 * Starts `script` (a file beside the benchmark) in a child process with the
 * testkit's entry as its first argument, then `args`; resolves with the URLs
 * it sends back over IPC. The servers get their own event loop and CPU, so
 * their work is not billed to the client being measured.
 */
export async function startServerProcess<Urls extends object>(
  script: URL,
  args: readonly string[] = [],
): Promise<ServerProcess<Urls>> {
  const testkit = fileURLToPath(import.meta.resolve('@understudy/testkit'))
  const child = fork(fileURLToPath(script), [testkit, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const urls = await new Promise<Urls>((resolve, reject) => {
    child.once('message', (message) => resolve(message as Urls))
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`the fake servers exited with ${code}`)))
  })
  return { ...urls, stop: () => child.kill() }
}

/** What a worker process is asked to measure. */
export interface WorkerRole<Context> {
  readonly table: string
  readonly row: number
  readonly context: Context
}

/** The row this process must measure, when it is a worker. */
export function workerRole<Context>(): WorkerRole<Context> | undefined {
  const role = process.env.BENCH_WORKER
  return role === undefined ? undefined : (JSON.parse(role) as WorkerRole<Context>)
}

/** Sends a worker's sample to the benchmark that started it. */
export function reportSample(sample: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send?.(sample, (error: Error | null) => (error === null ? resolve() : reject(error)))
  })
}

/**
 * Measures every row of `table` in `rounds` rounds, each row in a fresh
 * process running `file`; each round starts one row later than the one
 * before, so no row always runs right after a given other. Returns the
 * samples per row, in round order.
 */
export async function measureIsolated<Sample, Context>(
  file: string,
  table: string,
  rows: number,
  rounds: number,
  context: Context,
): Promise<Sample[][]> {
  const samples: Sample[][] = Array.from({ length: rows }, () => [])
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < rows; k++) {
      const row = (round + k) % rows
      const role: WorkerRole<Context> = { table, row, context }
      samples[row]?.push(await runWorker<Sample>(file, role))
    }
  }
  return samples
}

function runWorker<Sample>(file: string, role: WorkerRole<unknown>): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(file), [], {
      env: { ...process.env, BENCH_WORKER: JSON.stringify(role) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let sample: Sample | undefined
    child.once('message', (message) => {
      sample = message as Sample
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (sample !== undefined) resolve(sample)
      else reject(new Error(`the worker for row ${role.row} of ${role.table} exited with ${code}`))
    })
  })
}

/** `gc()` when node runs with `--expose-gc` (`pnpm bench` does): a measure starts without the garbage of the one before. */
export function collect(): void {
  const gc: unknown = Reflect.get(globalThis, 'gc')
  if (typeof gc === 'function') gc()
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/**
 * Throws when a package's build is older than its source. `pnpm bench` at
 * the root builds first; run from a package's folder, a benchmark imports
 * whatever `dist` holds — a build of some earlier commit, measured without
 * a word (it happened: a before/after pair of one build against itself).
 * `packages` are folder names under `packages/`; test files do not count.
 */
export function checkFreshBuild(packages: readonly string[]): void {
  const root = new URL('../../', import.meta.url)
  const stale = packages.filter((name) => {
    const dist = statSync(new URL(`${name}/dist/index.js`, root), { throwIfNoEntry: false })
    if (dist === undefined) return true
    const src = new URL(`${name}/src/`, root)
    return readdirSync(src, { recursive: true, encoding: 'utf8' }).some(
      (file) =>
        file.endsWith('.ts') &&
        !/\.test(-d)?\.ts$/.test(file) &&
        !file.includes('test-support') &&
        statSync(new URL(file, src)).mtimeMs > dist.mtimeMs,
    )
  })
  if (stale.length > 0) {
    throw new Error(
      `the build of ${stale.join(', ')} is older than its source: run \`pnpm bench\` from the root (it builds first) or \`pnpm build\``,
    )
  }
}

/**
 * @module What the isolated-row benchmarks share: each row in a fresh
 * process, its fake servers in another, one row measured in steady state
 * (warm-up, sequential latency, then CPU and rate at a concurrency), and the
 * table of medians and ratios to the floor. A benchmark file keeps its rows,
 * its servers and what only it measures.
 *
 * Why each row gets its own process: rows that share one bill each other.
 * One row's garbage is collected on the next row's time, and code both reach
 * (undici's internals, Node's streams) is optimised for whichever shapes came
 * first — the raw floor ran 25 % slower once Understudy's handler had run
 * beside it, which flattered Understudy. The benchmark file is its own
 * worker: started with `BENCH_WORKER` set, it measures the one row named
 * there, sends its sample back, and exits.
 */
import { fork } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Fake servers running in a child process: their URLs, and how to stop them. */
export type ServerProcess<Urls> = Urls & { readonly stop: () => void }

/** Where the fake servers' script finds the testkit, and what else it is told. */
export interface ServerProcessOptions {
  /**
   * The URL of `@understudy/testkit`'s entry, as the benchmark resolves it
   * (`import.meta.resolve('@understudy/testkit')`): it does not resolve from
   * this folder, which is outside the packages.
   */
  readonly testkit: string
  /** Arguments after the testkit's path. */
  readonly args?: readonly string[]
}

/**
 * Starts `script` (a file beside the benchmark) in a child process with the
 * testkit's path as its first argument, then the options' `args`; resolves
 * with the URLs it sends back over IPC. The servers get their own event loop
 * and CPU, so their work is not billed to the client being measured.
 */
export async function startServerProcess<Urls extends object>(
  script: URL,
  options: ServerProcessOptions,
): Promise<ServerProcess<Urls>> {
  const child = fork(
    fileURLToPath(script),
    [fileURLToPath(options.testkit), ...(options.args ?? [])],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
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
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: measureIsolated sets it for its own child processes, never through turbo
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
 * process running `file` (the benchmark's `import.meta.url`); each round
 * starts one row later than the one before, so no row always runs right
 * after a given other. Returns the samples per row, in round order.
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
  const root = new URL('../packages/', import.meta.url)
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

/** How one row is measured in its process. */
export interface RowPlan {
  /** Runs one at a time before the latency measure, so the row's code is hot when its clock starts. */
  readonly warmupRuns: number
  /** Runs one at a time, timed each: the latency figures. */
  readonly sequentialRuns: number
  /** Runs in flight at once, in the warm-up before the window and in the window. */
  readonly concurrency: number
  /**
   * Unmeasured runs at {@link concurrency} right before the window. V8
   * compiles the shapes concurrency brings only once it starts, on
   * background threads that `process.cpuUsage()` bills too; the warm-up is
   * a count, not a time, because tier-up follows calls, and a loaded machine
   * makes fewer of them in a second.
   */
  readonly concurrentWarmupRuns: number
  /**
   * The warm-up ends after this long even if fewer runs were made: a row
   * several times slower than the floor (an SDK) would otherwise take half
   * a minute, and its compile work is small beside its own cost per run.
   */
  readonly concurrentWarmupMaxMs: number
  /** The measured window at {@link concurrency}, ms. */
  readonly windowMs: number
}

/**
 * A call row: 64 in flight. The warm-up at 64 in flight is set by windows
 * of 2,000 calls measured one after another from a fresh process (OpenAI
 * `complete()` with two fallbacks, and its raw floor; CPU µs per call, the
 * machine shared): on Node 20 the first window carries the tier-up
 * (394–529, then 160–240 from the second on); on Node 24 the client fell
 * from 329–355 to 185–270 only after 12,000 calls and to 160–175 after
 * 20,000, its floor from 212–280 to 150–180 after 12,000. Time is a worse
 * measure: after 5 s at 64 in flight Node 24's client was at 170–390 on the
 * loaded machine. After 20,000 the windows are flat: eight more of 2,000
 * read 116–188 (client) and 111–188 (floor) on Node 24, 147–186 and
 * 143–239 on Node 20, with no trend. The 2 s window holds 4,000–10,000 calls.
 */
export const callPlan: RowPlan = {
  warmupRuns: 1_000,
  sequentialRuns: 600,
  concurrency: 64,
  concurrentWarmupRuns: 20_000,
  concurrentWarmupMaxMs: 10_000,
  windowMs: 2_000,
}

/**
 * A 50-chunk stream row: 16 in flight. The warm-up is set the same way, by
 * windows of 200 streams (OpenAI `stream()` with two fallbacks, and its raw
 * floor; CPU µs per stream): on Node 24 the client came down from
 * 1,250–1,320 to ~650 after 1,000 streams, the floor from ~880 to ~550
 * after 1,600; on Node 20 the client from 1,560–1,780 to ~1,000 after
 * 1,200 and to ~850 after 1,800, the floor still settling at 2,000. After
 * 3,000 the windows are flat: eight more of 300 read 502–886 (client) and
 * 435–711 (floor) on Node 24, 587–790 and 569–671 on Node 20, with no
 * trend. The 2 s window holds 1,000–1,500 streams.
 */
export const streamPlan: RowPlan = {
  warmupRuns: 200,
  sequentialRuns: 200,
  concurrency: 16,
  concurrentWarmupRuns: 3_000,
  concurrentWarmupMaxMs: 10_000,
  windowMs: 2_000,
}

/** Overrides a plan's numbers from `BENCH_CONCURRENT_WARMUP` (runs) and `BENCH_WINDOW_MS`. */
export function planFromEnv(plan: RowPlan): RowPlan {
  const warmup = process.env.BENCH_CONCURRENT_WARMUP
  const window = process.env.BENCH_WINDOW_MS
  return {
    ...plan,
    ...(warmup === undefined ? {} : { concurrentWarmupRuns: Number(warmup) }),
    ...(window === undefined ? {} : { windowMs: Number(window) }),
  }
}

/** What a header line says about a plan; `unit` is what one run is ("call", "stream"). */
export function describePlan(plan: RowPlan, unit: string): string {
  return (
    `${plan.warmupRuns} ${unit}s one at a time (warm-up), ${plan.sequentialRuns} one at a time (latency), ` +
    `${plan.concurrentWarmupRuns} at ${plan.concurrency} in flight or ${plan.concurrentWarmupMaxMs / 1000} s if sooner (warm-up to steady state), ` +
    `then ${plan.windowMs / 1000} s at ${plan.concurrency} in flight (rate, CPU per ${unit})`
  )
}

/** One row's figures in one round. */
export interface Sample {
  /** Latency one run at a time, µs. */
  readonly p50: number
  readonly p99: number
  /** Runs per second in the window. */
  readonly rate: number
  /**
   * This process's CPU time per run in the window, µs: what the client
   * costs, which other processes on the machine do not change.
   */
  readonly cpu: number
}

/** What runs at a concurrency did: how many, over how long, for how much of this process's CPU. */
export interface InFlightRuns {
  readonly runs: number
  readonly seconds: number
  readonly cpuMicros: number
}

/**
 * Keeps `concurrency` runs in flight until `runs` have started or `ms` have
 * passed, whichever comes first (pass `Infinity` for the other); counts
 * only the runs that finished, and the real elapsed time, since the last
 * ones end after the limit.
 */
export async function runInFlight(
  run: () => Promise<unknown>,
  concurrency: number,
  limit: { readonly runs: number; readonly ms: number },
): Promise<InFlightRuns> {
  let started = 0
  let done = 0
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  const end = Date.now() + limit.ms
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < limit.runs && Date.now() < end) {
        started += 1
        await run()
        done += 1
      }
    }),
  )
  const used = process.cpuUsage(cpu)
  return {
    runs: done,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
    cpuMicros: used.user + used.system,
  }
}

/**
 * Measures one row in this process: warm-up runs, latency one at a time,
 * then the concurrent warm-up and the window. No forced GC between those
 * two: the warm-up's garbage is what the window's own calls make, and a full
 * GC there deoptimizes functions whose code holds objects weakly, so the
 * window would pay to compile them again (measured on Node 24: 300–550 µs a
 * call in the first half-second after it, against ~250 before).
 */
export async function measureRow(run: () => Promise<unknown>, plan: RowPlan): Promise<Sample> {
  for (let i = 0; i < plan.warmupRuns; i++) await run()
  collect()
  const times: number[] = []
  for (let i = 0; i < plan.sequentialRuns; i++) {
    const start = process.hrtime.bigint()
    await run()
    times.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  times.sort((a, b) => a - b)
  collect()
  await runInFlight(run, plan.concurrency, {
    runs: plan.concurrentWarmupRuns,
    ms: plan.concurrentWarmupMaxMs,
  })
  const window = await runInFlight(run, plan.concurrency, {
    runs: Number.POSITIVE_INFINITY,
    ms: plan.windowMs,
  })
  return {
    p50: times[Math.floor(times.length / 2)] ?? Number.NaN,
    p99: times[Math.floor(times.length * 0.99)] ?? Number.NaN,
    rate: window.runs / window.seconds,
    cpu: window.cpuMicros / window.runs,
  }
}

/** A ratio's median over the rounds and its range, as the tables print it: `1.02x (0.98–1.07)`. */
export function ratioCell(ratios: readonly number[]): string {
  return `${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
}

/**
 * Prints a table's samples: per row, the medians over the rounds, and the
 * ratios to the first row (the floor) as medians of per-round ratios, with
 * their range. The floor is measured in the same round, so a slow round
 * (another process, a noisy neighbour) moves both sides of a ratio.
 */
export function printTable(
  labels: readonly string[],
  samples: readonly (readonly Sample[])[],
  unit: string,
): void {
  const width = Math.max(4, ...labels.map((label) => label.length))
  const floor = samples[0] ?? []
  console.log(
    `${'case'.padEnd(width)} ${'p50 µs'.padStart(7)} ${'p99 µs'.padStart(7)} ${`${unit}s/s`.padStart(9)}` +
      ` ${'cpu µs'.padStart(7)}  ${'cpu ratio (min–max)'.padStart(20)}  ${'p50 ratio (min–max)'.padStart(20)}` +
      `  ${'rate ratio (min–max)'.padStart(20)}`,
  )
  labels.forEach((label, index) => {
    const own = samples[index] ?? []
    const figure = (field: keyof Sample): number => median(own.map((sample) => sample[field]))
    const ratios = (field: keyof Sample): number[] =>
      own.map((sample, round) => sample[field] / (floor[round]?.[field] ?? Number.NaN))
    console.log(
      `${label.padEnd(width)} ${figure('p50').toFixed(0).padStart(7)} ${figure('p99').toFixed(0).padStart(7)}` +
        ` ${figure('rate').toFixed(0).padStart(9)} ${figure('cpu').toFixed(0).padStart(7)}` +
        `  ${ratioCell(ratios('cpu')).padStart(20)}  ${ratioCell(ratios('p50')).padStart(20)}` +
        `  ${ratioCell(ratios('rate')).padStart(20)}`,
    )
  })
}

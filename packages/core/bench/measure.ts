/** One measured case: its name and the median time per call in ns. */
export interface Measurement {
  readonly name: string
  readonly nsPerCall: number
}

/**
 * Times `run` (one call per invocation, awaited) in rounds of `batch` calls
 * after a warm-up, and returns the median ns per call over the rounds: the
 * median keeps a GC pause or a scheduler hiccup in one round out of the figure.
 */
export async function measure(
  name: string,
  run: () => Promise<unknown>,
  {
    batch = 2_000,
    rounds = 15,
    warmup = 5_000,
  }: { batch?: number; rounds?: number; warmup?: number } = {},
): Promise<Measurement> {
  for (let i = 0; i < warmup; i++) await run()
  const perCall: number[] = []
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) await run()
    perCall.push(Number(process.hrtime.bigint() - start) / batch)
  }
  perCall.sort((a, b) => a - b)
  return { name, nsPerCall: perCall[Math.floor(perCall.length / 2)] ?? Number.NaN }
}

/** Prints a row: the case, its ns per call, and its ratio to (and ns over) the baseline. */
export function report(baseline: Measurement, measured: Measurement): void {
  const ratio = measured.nsPerCall / baseline.nsPerCall
  const added = measured.nsPerCall - baseline.nsPerCall
  console.log(
    `${measured.name.padEnd(58)} ${measured.nsPerCall.toFixed(0).padStart(9)} ns/call` +
      `  ${ratio.toFixed(2).padStart(6)}x  ${added >= 0 ? '+' : ''}${(added / 1000).toFixed(2)} µs vs ${baseline.name}`,
  )
}

/**
 * Like {@link measure}, for a synchronous `run` whose cost is far below an
 * `await`'s: the loop calls it directly, and keeps each result so the call
 * cannot be optimised away.
 */
export function measureSync(
  name: string,
  run: () => unknown,
  {
    batch = 2_000,
    rounds = 15,
    warmup = 5_000,
  }: { batch?: number; rounds?: number; warmup?: number } = {},
): Measurement {
  let sink: unknown
  for (let i = 0; i < warmup; i++) sink = run()
  const perCall: number[] = []
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) sink = run()
    perCall.push(Number(process.hrtime.bigint() - start) / batch)
  }
  if (sink === measureSync) console.log('unreachable')
  perCall.sort((a, b) => a - b)
  return { name, nsPerCall: perCall[Math.floor(perCall.length / 2)] ?? Number.NaN }
}

import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import type { ReplicaAnswer, ReplicaCommand, ReplicaOptions } from './replica.js'

/** A replica process the test drives. */
export interface Replica {
  call(): Promise<ReplicaAnswer>
  ends(keys: readonly string[]): Promise<readonly (number | null)[]>
  record(
    key: string,
    failures: readonly { readonly retryAfterMs: number; readonly pauseMs: number }[],
  ): Promise<readonly (number | null)[]>
  /** Tells it to close its store and client, and waits for the process to exit by itself. */
  close(): Promise<void>
}

/** The tsconfig that points `@understudy/*` at the packages' sources, as Vitest's aliases do. */
const tsconfig = fileURLToPath(new URL('./tsconfig.replica.json', import.meta.url))
const script = fileURLToPath(new URL('./replica.ts', import.meta.url))
/** The package's folder: `--import tsx` resolves from the working directory, and tsx is this package's. */
const packageDir = fileURLToPath(new URL('../..', import.meta.url))

/** Forks a replica with `options` and waits until it is connected; killed when the test ends if still running. */
export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const child: ChildProcess = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    cwd: packageDir,
    env: {
      ...process.env,
      UNDERSTUDY_REPLICA: JSON.stringify(options),
      TSX_TSCONFIG_PATH: tsconfig,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = once(child, 'exit')
  exited.catch(() => undefined)
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  const waiting = new Map<number, (answer: ReplicaAnswer) => void>()
  child.on('message', (message) => {
    const answer = message as ReplicaAnswer
    waiting.get(answer.id)?.(answer)
    waiting.delete(answer.id)
  })
  let nextId = 1
  const ask = (command: Omit<ReplicaCommand, 'id'> & { readonly type: ReplicaCommand['type'] }) =>
    new Promise<ReplicaAnswer>((resolve, reject) => {
      const id = nextId++
      waiting.set(id, (answer) =>
        answer.error === undefined ? resolve(answer) : reject(new Error(answer.error)),
      )
      child.send({ ...command, id })
    })
  await new Promise<void>((resolve, reject) => {
    waiting.set(0, () => resolve())
    child.once('exit', (code) =>
      reject(new Error(`a replica exited with ${code} before it was ready`)),
    )
  })
  return {
    call: () => ask({ type: 'call' }),
    ends: async (keys) => (await ask({ type: 'ends', keys } as ReplicaCommand)).ends ?? [],
    record: async (key, failures) =>
      (await ask({ type: 'record', key, failures } as ReplicaCommand)).ends ?? [],
    async close() {
      await ask({ type: 'close' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      const [code, signal] = (await exited) as [number | null, string | null]
      clearTimeout(timer)
      if (code !== 0 || signal !== null)
        throw new Error(`a replica did not exit by itself once closed (${code ?? signal})`)
    },
  }
}

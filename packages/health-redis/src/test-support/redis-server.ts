/**
 * @module A real `redis-server` for the tests: started on 127.0.0.1 on a
 * free port, with no persistence, and stopped by the test that started it.
 * The binary is `UNDERSTUDY_REDIS_SERVER`, else `redis-server` on the PATH
 * (Debian and Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, Socket } from 'node:net'

/** A running `redis-server`. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:PORT` */
  readonly url: string
  /** Freezes the process (`SIGSTOP`): connections stay open, nothing is answered. */
  pause(): void
  /** Thaws it (`SIGCONT`). */
  resume(): void
  /** Kills the process (`SIGKILL`) and waits for it to exit. */
  kill(): Promise<void>
  /** Starts it again on the same port, empty, and waits until it answers. */
  restart(): Promise<void>
  /** Stops it for good (thawed first if paused). */
  stop(): Promise<void>
}

/** The `redis-server` binary the tests run. */
export const redisServerBinary: string =
  process.env.UNDERSTUDY_REDIS_SERVER?.trim() || 'redis-server'

/** Starts a `redis-server` on a free port of 127.0.0.1 and waits until it answers `PING`. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort()
  let child = await launch(port)

  const exit = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGCONT')
    child.kill(signal)
    await exited
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    kill: () => exit('SIGKILL'),
    async restart() {
      await exit('SIGKILL')
      child = await launch(port)
    },
    stop: () => exit('SIGTERM'),
  }
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    redisServerBinary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new Error(
          `could not start ${redisServerBinary} (install redis-server, or set UNDERSTUDY_REDIS_SERVER to its path)`,
          { cause: error },
        ),
      ),
    )
    child.once('exit', (code) =>
      reject(new Error(`${redisServerBinary} exited with ${code}: ${stderr}`)),
    )
  })
  failed.catch(() => undefined)
  await Promise.race([waitForPong(port), failed])
  return child
}

/** Polls `PING` until `+PONG`, for at most 10 s. */
async function waitForPong(port: number): Promise<void> {
  const until = Date.now() + 10_000
  while (Date.now() < until) {
    if (await ping(port)) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s`)
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'))
  })
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  await new Promise((resolve) => server.close(resolve))
  return port
}

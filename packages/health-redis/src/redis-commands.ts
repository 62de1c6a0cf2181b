import type { Clock } from '@understudy/core'
import type { SendCommand } from './redis-client.js'
import { recordScript, recordScriptSha } from './record-script.js'
import { storeError } from './store-error.js'

/** The commands the store sends, each bounded by the command timeout and tracked until it settles. */
export interface RedisCommands {
  /** `GET key`: the string stored there, or `undefined` when there is none. */
  get(key: string): Promise<string | undefined>
  /**
   * Runs the record script by its SHA; on `NOSCRIPT` (a restarted or
   * flushed Redis) sends the script itself with `EVAL`, which loads it again.
   */
  evalRecord(keys: readonly string[], args: readonly string[]): Promise<unknown>
  /** Resolves when every command sent so far has settled (each within the timeout). */
  settled(): Promise<void>
}

/**
 * The store's commands over `send`. A command that gets no answer within
 * `timeoutMs` rejects with a `timeout` error; the client's own promise is
 * still handled when it settles later, so it never becomes an unhandled
 * rejection, and its timer is cleared either way.
 */
export function redisCommands(send: SendCommand, timeoutMs: number, clock: Clock): RedisCommands {
  const inFlight = new Set<Promise<unknown>>()

  const command = (args: readonly string[]): Promise<unknown> => {
    const sent = new Promise<unknown>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        reject(storeError('timeout', `no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      send(args).then(
        (reply) => {
          clock.clearTimeout(timer)
          resolve(reply)
        },
        (error: unknown) => {
          clock.clearTimeout(timer)
          reject(error)
        },
      )
    })
    inFlight.add(sent)
    const forget = (): void => {
      inFlight.delete(sent)
    }
    sent.then(forget, forget)
    return sent
  }

  return {
    async get(key) {
      const reply = await command(['GET', key])
      if (reply === null || reply === undefined) return undefined
      if (typeof reply === 'string') return reply
      if (reply instanceof Uint8Array) return new TextDecoder().decode(reply)
      throw storeError('unknown', `GET answered ${typeof reply}, not a string`)
    },

    async evalRecord(keys, args) {
      const tail = [String(keys.length), ...keys, ...args]
      try {
        return await command(['EVALSHA', recordScriptSha, ...tail])
      } catch (error) {
        if (!isNoScript(error)) throw error
        return command(['EVAL', recordScript, ...tail])
      }
    },

    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}

/** Redis's answer to `EVALSHA` for a script it does not hold: the message starts with the error code. */
function isNoScript(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const message: unknown = Reflect.get(error, 'message')
  return typeof message === 'string' && message.startsWith('NOSCRIPT')
}

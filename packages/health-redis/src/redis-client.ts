/**
 * A client that sends one command as an array of strings, the command's
 * name first (`['GET', 'key']`), and resolves to Redis's reply: node-redis
 * (`redis` v5 and later) as it is, or any client wrapped in one function.
 * A bulk string as a string, an integer as a number or a string, nil as
 * `null` or `undefined`; an error reply as a rejection whose message starts
 * with Redis's error code (`NOSCRIPT No matching script…`).
 */
export interface SendCommandClient {
  sendCommand(args: string[]): Promise<unknown>
}

/** A client with ioredis's generic command method: `call('GET', 'key')`, replies as above. */
export interface CallClient {
  call(command: string, ...args: string[]): Promise<unknown>
}

/** The application's Redis client, recognised by its shape: ioredis's `call`, else `sendCommand`. */
export type RedisClientLike = SendCommandClient | CallClient

/** Sends one command (`['EVALSHA', sha, …]`) and resolves to the reply. */
export type SendCommand = (args: readonly string[]) => Promise<unknown>

/**
 * One way to send a command, whatever the client. ioredis is asked first:
 * it has a `sendCommand` too, but one that takes its own `Command` objects.
 * Returns `undefined` for a value with neither method.
 */
export function toSendCommand(redis: unknown): SendCommand | undefined {
  if (typeof redis !== 'object' || redis === null) return undefined
  const call: unknown = Reflect.get(redis, 'call')
  if (typeof call === 'function') {
    // Through the Promise constructor: a client that throws instead of rejecting rejects too.
    return (args) => new Promise((resolve) => resolve(Reflect.apply(call, redis, args)))
  }
  const sendCommand: unknown = Reflect.get(redis, 'sendCommand')
  if (typeof sendCommand === 'function') {
    // A fresh array each time: a client may keep or change what it is given.
    return (args) =>
      new Promise((resolve) => resolve(Reflect.apply(sendCommand, redis, [[...args]])))
  }
  return undefined
}

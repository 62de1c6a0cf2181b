import { isUnderstudyError, type UnderstudyError } from '@understudy/core'
import { type FakeServer, type FakeServerOptions, startFakeOpenAI } from '@understudy/testkit'
import { onTestFinished } from 'vitest'
import type { SendRequestOptions } from '../send-request.js'

/** A key sent in a header, and one sent in the query: neither may show in an error. */
export const secretKey = 'sk-transport-secret-7f3a91'
export const secretQuery = 'AIza-query-secret-55c1'

/** A fake OpenAI server on loopback, closed when the test ends. */
export async function startFake(options?: FakeServerOptions): Promise<FakeServer> {
  const server = await startFakeOpenAI(options)
  onTestFinished(() => server.close())
  return server
}

/** A chat request for `model` to the fake server, with {@link secretKey} in a header and {@link secretQuery} in the query. */
export function chatRequest(
  server: FakeServer,
  model: string,
  extra: Partial<SendRequestOptions> = {},
): SendRequestOptions {
  return {
    url: `${server.url}/v1/chat/completions?key=${secretQuery}`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secretKey}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    ...extra,
  }
}

/** The `UnderstudyError` that `promise` rejects with; throws when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<UnderstudyError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
  if (!isUnderstudyError(error)) throw new Error(`not an UnderstudyError: ${String(error)}`)
  return error
}

/** A body read to its end as UTF-8 text. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true })
  return text + decoder.decode()
}

import type { ProviderContext, ProviderStreamEvent } from '@understudy/core'
import { type FakeServer, type FakeServerOptions, startFakeAnthropic } from '@understudy/testkit'
import { onTestFinished, vi } from 'vitest'

/** A provider context as the client would make it, with `overrides`. */
export function context(overrides: Partial<ProviderContext> = {}): ProviderContext {
  return {
    signal: new AbortController().signal,
    apiKey: undefined,
    baseURL: undefined,
    headers: undefined,
    deadline: Number.POSITIVE_INFINITY,
    ...overrides,
  }
}

/** A fake Anthropic server on 127.0.0.1, closed when the test ends. */
export async function server(options?: FakeServerOptions): Promise<FakeServer> {
  const started = await startFakeAnthropic(options)
  onTestFinished(() => started.close())
  return started
}

/** Sets environment variables for this test only; `''` unsets one (the package reads `''` as unset). */
export function env(values: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value)
  onTestFinished(() => {
    vi.unstubAllEnvs()
  })
}

/** Every event of a provider stream, in order. */
export async function collect(
  events: AsyncIterable<ProviderStreamEvent>,
): Promise<ProviderStreamEvent[]> {
  const all: ProviderStreamEvent[] = []
  for await (const event of events) all.push(event)
  return all
}

/** What `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

import type { ProviderContext, ProviderStreamEvent } from '@understudy/core'
import { type FakeServer, type FakeServerOptions, startFakeGemini } from '@understudy/testkit'
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

/** A fake Gemini server on 127.0.0.1, closed when the test ends. */
export async function server(options?: FakeServerOptions): Promise<FakeServer> {
  const started = await startFakeGemini(options)
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

/** Every event of a provider stream. */
export async function collect(
  events: AsyncIterable<ProviderStreamEvent>,
): Promise<ProviderStreamEvent[]> {
  const all: ProviderStreamEvent[] = []
  for await (const event of events) all.push(event)
  return all
}

/** What a promise rejects with; a failure when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** What a function throws; a failure when it returns. */
export function thrownBy(make: () => unknown): unknown {
  try {
    make()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

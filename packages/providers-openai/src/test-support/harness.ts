import type { ProviderContext } from '@understudy/core'
import { type FakeServer, startFakeOpenAI } from '@understudy/testkit'
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

/** A fake OpenAI server on 127.0.0.1, closed when the test ends. */
export async function server(): Promise<FakeServer> {
  const started = await startFakeOpenAI()
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

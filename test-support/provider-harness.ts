/**
 * @module What the provider packages' tests share: a provider context,
 * environment variables for one test, the events of a stream, what a promise rejects with or a
 * function throws, and a fake server closed when its test ends. Each
 * package's `src/test-support/harness.ts` re-exports these beside its own
 * provider context and fake server.
 */
import { onTestFinished, vi } from 'vitest'

/**
 * Core's `ProviderContext` less its optional `onAbort`, written out: this
 * folder is outside the packages. A package's harness re-exports
 * {@link context} typed with the real one.
 */
export interface TestContext {
  readonly signal: AbortSignal
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly deadline: number
}

/** A provider context as the client would make it, with `overrides`. */
export function context(overrides: Partial<TestContext> = {}): TestContext {
  return {
    signal: new AbortController().signal,
    apiKey: undefined,
    baseURL: undefined,
    headers: undefined,
    deadline: Number.POSITIVE_INFINITY,
    ...overrides,
  }
}

/** Sets environment variables for this test only; `''` unsets one (the packages read `''` as unset). */
export function env(values: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value)
  onTestFinished(() => {
    vi.unstubAllEnvs()
  })
}

/** Every event of a stream, in order. */
export async function collect<Event>(events: AsyncIterable<Event>): Promise<Event[]> {
  const all: Event[] = []
  for await (const event of events) all.push(event)
  return all
}

/** What `promise` rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

/** What `make` throws; fails the test when it returns. */
export function thrownBy(make: () => unknown): unknown {
  try {
    make()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/** `started`, once it is up, closed when the test ends. */
export async function closedAtEnd<Server extends { close(): Promise<void> }>(
  started: Promise<Server>,
): Promise<Server> {
  const server = await started
  onTestFinished(() => server.close())
  return server
}

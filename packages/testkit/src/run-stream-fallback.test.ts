import { makingUpFinish } from './test-support/broken-providers.js'
import { isUnderstudyError, type Provider, type ProviderStreamEvent } from '@understudy/core'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import {
  StreamFallbackFailure,
  type StreamFallbackSetup,
  streamFallbackChecks,
} from './run-stream-fallback.js'
import { startFakeOpenAI } from './start-fake-openai.js'
import { referenceOpenAIProvider } from './test-support/reference-openai-provider.js'
import { streamFallbackSuite } from './vitest.js'

/** What makes the reference provider broken: a `fetch` in front of it, or a wrapper around it. */
interface Breakage {
  readonly fetch?: typeof fetch
  readonly wrap?: (provider: Provider) => Provider
}

function setupOf(breakage: Breakage = {}): StreamFallbackSetup {
  return {
    provider: ({ baseURL, apiKey }) => {
      const provider = referenceOpenAIProvider({
        baseURL,
        apiKey,
        ...(breakage.fetch !== undefined && { fetch: breakage.fetch }),
      })
      return breakage.wrap?.(provider) ?? provider
    },
    startServer: startFakeOpenAI,
    baseURL: (server) => `${server.url}/v1`,
  }
}

/**
 * Runs every check (all at once: each has its own server) and returns the
 * message of each that failed, by check name. Anything but a
 * StreamFallbackFailure is a broken check and fails the test.
 */
async function failuresOf(setup: StreamFallbackSetup): Promise<Record<string, string>> {
  const failures: Record<string, string> = {}
  await Promise.all(
    streamFallbackChecks(setup).map(async (check) => {
      try {
        await check.run()
      } catch (error) {
        if (!(error instanceof StreamFallbackFailure)) throw error
        failures[check.name] = error.message
      }
    }),
  )
  return failures
}

/** The names of the checks whose name matches `pattern`. */
function checksNamed(pattern: RegExp): string[] {
  return streamFallbackChecks(setupOf())
    .map((check) => check.name)
    .filter((name) => pattern.test(name))
}

/** A stream that passes each event through `change`, which may drop, repeat or replace it. */
function changingEvents(change: (event: ProviderStreamEvent) => readonly ProviderStreamEvent[]) {
  return (provider: Provider): Provider => ({
    ...provider,
    async *stream(request, context) {
      for await (const event of provider.stream(request, context)) yield* change(event)
    },
  })
}

streamFallbackSuite('the reference OpenAI provider', setupOf())

streamFallbackSuite('the reference OpenAI provider declaring assistantPrefix', {
  ...setupOf({ wrap: (provider) => ({ ...provider, assistantPrefix: true }) }),
})

describe('streamFallbackChecks', () => {
  it('fails a provider that cannot close its connection: no abort reaches fetch, no return() reaches the body', async () => {
    const deaf: typeof fetch = (input, init) => fetch(input, { ...init, signal: null })
    const wrap = (provider: Provider): Provider => ({
      ...provider,
      stream(request, context) {
        const events = provider.stream(request, context)[Symbol.asyncIterator]()
        return { [Symbol.asyncIterator]: () => ({ next: () => events.next() }) }
      },
    })
    const failures = await failuresOf(setupOf({ fetch: deaf, wrap }))
    expect(Object.keys(failures).sort()).toEqual(
      checksNamed(/timeout|abort|break|hedge|idle/).sort(),
    )
    for (const message of Object.values(failures)) {
      expect(message).toMatch(
        /closed early \(waited [\d.]+ s\)$|^responses still open [\d.]+ s after the call ended/,
      )
    }
  })

  it('fails a provider that makes up a finish when its stream lost its terminal signal', async () => {
    expect(await failuresOf(setupOf({ wrap: makingUpFinish }))).toEqual({
      "falls back unseen on a stream that ends without content or its terminal signal: the caller gets the fallback's text and one start":
        "a stream that ends without content or its terminal signal: the primary's attempt failed with kind empty, expected incomplete",
      'ends a stream that lost its terminal signal after content with stream_interrupted (cause incomplete), never a made-up finish':
        'a stream without its terminal signal: the call succeeded with "Partial answer that will not finish."; it must end with kind stream_interrupted',
    })
  })

  it('fails a provider that repeats a text piece: the caller gets other text than the winner sent', async () => {
    const wrap = changingEvents((event) => (event.type === 'text' ? [event, event] : [event]))
    const failures = await failuresOf(setupOf({ wrap }))
    expect(
      failures[
        "falls back unseen on an HTTP 503: the caller gets the fallback's text and one start"
      ],
    ).toBe(
      'an HTTP 503: the text the caller received was "FallbackFallback answer, answer, in in pieces. pieces.", expected "Fallback answer, in pieces."',
    )
    // Every check that reads text fails; only the aborts before content and the break read none that must match.
    expect(Object.keys(failures).length).toBeGreaterThanOrEqual(
      streamFallbackChecks(setupOf()).length - 3,
    )
  })

  it('fails a provider that swallows an in-band error after content as a clean stop', async () => {
    const wrap = (provider: Provider): Provider => ({
      ...provider,
      async *stream(request, context) {
        try {
          yield* provider.stream(request, context)
        } catch (error) {
          if (!isUnderstudyError(error) || !/error event/.test(error.message)) throw error
          yield { type: 'finish', finishReason: 'stop', usage: {} }
        }
      },
    })
    const failures = await failuresOf(setupOf({ wrap }))
    expect(failures).toEqual({
      'ends a stream with an in-band error after content with stream_interrupted and the delivered partial':
        expect.stringMatching(/^an in-band error after content: the call succeeded with /),
    })
  })

  it('waits limitMs times timeScale for what must happen, and says so when it fails', async () => {
    const deaf: typeof fetch = (input, init) => fetch(input, { ...init, signal: null })
    const hang = streamFallbackChecks({
      ...setupOf({ fetch: deaf }),
      limitMs: 50,
      timeScale: 3,
    }).find((check) => check.name.includes('headers that never come'))
    if (hang === undefined) throw new Error('no first-token check')
    expect(hang.timeoutMs).toBe(15 * 150)
    const started = Date.now()
    await expect(hang.run()).rejects.toThrow(/closed early \(waited 0\.3 s\)$/)
    // 300 ms, less the millisecond by which a Node timer may fire early as Date.now() sees it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it('takes its time scale from UNDERSTUDY_TEST_TIME_SCALE unless the setup gives one', () => {
    vi.stubEnv('UNDERSTUDY_TEST_TIME_SCALE', '4')
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    expect(streamFallbackChecks(setupOf())[0]?.timeoutMs).toBe(15 * 4_000)
    expect(streamFallbackChecks({ ...setupOf(), limitMs: 100 })[0]?.timeoutMs).toBe(15 * 400)
    expect(streamFallbackChecks({ ...setupOf(), timeScale: 0.5 })[0]?.timeoutMs).toBe(15 * 500)
  })

  it('rejects a time scale that is not a positive number as a config error naming it', () => {
    expect(() => streamFallbackChecks({ ...setupOf(), timeScale: 0 })).toThrow(
      expect.objectContaining({ kind: 'config', path: 'timeScale' }),
    )
    vi.stubEnv('UNDERSTUDY_TEST_TIME_SCALE', 'fast')
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    expect(() => streamFallbackChecks(setupOf())).toThrow(
      expect.objectContaining({ kind: 'config', path: 'UNDERSTUDY_TEST_TIME_SCALE' }),
    )
  })
})

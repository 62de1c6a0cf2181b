import { makingUpFinish } from './test-support/broken-providers.js'
import {
  isUnderstudyError,
  type Provider,
  type ProviderStreamEvent,
  UnderstudyError,
} from '@understudy/core'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import {
  ConformanceFailure,
  type ConformanceSetup,
  providerConformanceChecks,
} from './run-provider-conformance.js'
import { startFakeOpenAI } from './start-fake-openai.js'
import { referenceOpenAIProvider } from './test-support/reference-openai-provider.js'
import { providerConformanceSuite } from './vitest.js'

/** What makes a reference provider broken: a `fetch` in front of it, or a wrapper around it. */
interface Breakage {
  readonly fetch?: typeof fetch
  readonly wrap?: (provider: Provider, apiKey: string) => Provider
}

/** The conformance setup of the reference provider, broken as `breakage` says. */
function setupOf(breakage: Breakage = {}): ConformanceSetup {
  return {
    provider: ({ baseURL, apiKey }) => {
      const provider = referenceOpenAIProvider({
        baseURL,
        apiKey,
        ...(breakage.fetch !== undefined && { fetch: breakage.fetch }),
      })
      return breakage.wrap?.(provider, apiKey) ?? provider
    },
    startServer: startFakeOpenAI,
    baseURL: (server) => `${server.url}/v1`,
  }
}

/**
 * Runs every check and returns the message of each that failed, by check
 * name, so a test states exactly which checks a breakage trips. Anything but
 * a ConformanceFailure is a broken check and fails the test.
 */
async function failuresOf(setup: ConformanceSetup): Promise<Record<string, string>> {
  const failures: Record<string, string> = {}
  for (const check of providerConformanceChecks(setup)) {
    try {
      await check.run()
    } catch (error) {
      if (!(error instanceof ConformanceFailure)) throw error
      failures[check.name] = error.message
    }
  }
  return failures
}

/** A provider whose typed errors, in `complete()` and `stream()`, `change` turns into something else. */
function changingErrors(change: (error: UnderstudyError) => unknown) {
  return (provider: Provider): Provider => {
    const rethrow = (error: unknown): never => {
      throw isUnderstudyError(error) ? change(error) : error
    }
    return {
      id: provider.id,
      complete: (request, context) => provider.complete(request, context).catch(rethrow),
      async *stream(request, context) {
        try {
          yield* provider.stream(request, context)
        } catch (error) {
          rethrow(error)
        }
      },
    }
  }
}

/** `error` with some fields changed, as a careless provider would build it. */
function retyped(
  error: UnderstudyError,
  changes: Partial<ConstructorParameters<typeof UnderstudyError>[0]>,
): UnderstudyError {
  const { kind, message, provider, model, status, retryAfterMs } = error
  return new UnderstudyError({ kind, message, provider, model, status, retryAfterMs, ...changes })
}

/** A stream without the events `drop` picks. */
function droppingEvents(drop: (event: ProviderStreamEvent) => boolean) {
  return (provider: Provider): Provider => ({
    ...provider,
    async *stream(request, context) {
      for await (const event of provider.stream(request, context)) if (!drop(event)) yield event
    },
  })
}

providerConformanceSuite('reference OpenAI provider', setupOf())

describe('providerConformanceChecks', () => {
  it('passes the reference provider on every check', async () => {
    expect(await failuresOf(setupOf())).toEqual({})
  })

  it('fails a provider that sends no key', async () => {
    const keyless: typeof fetch = (input, init) => {
      const { authorization: _, ...headers } = (init?.headers ?? {}) as Record<string, string>
      return fetch(input, { ...init, headers })
    }
    expect(await failuresOf(setupOf({ fetch: keyless }))).toEqual({
      'answers a scripted reply with its text, in one HTTP request carrying the key':
        'the request did not carry the configured key',
    })
  })

  it('fails a provider that retries a 5xx itself: two HTTP requests for one call', async () => {
    const retrying: typeof fetch = async (input, init) => {
      const response = await fetch(input, init)
      if (response.status < 500) return response
      await response.body?.cancel()
      return fetch(input, init)
    }
    expect(await failuresOf(setupOf({ fetch: retrying }))).toEqual({
      'maps HTTP 500 to kind server, with its status, in one HTTP request':
        'HTTP 500: 2 HTTP requests, expected 1',
      'maps HTTP 502 to kind server, with its status, in one HTTP request':
        'HTTP 502: 2 HTTP requests, expected 1',
      'maps HTTP 503 to kind overloaded, with its status, in one HTTP request':
        'HTTP 503: 2 HTTP requests, expected 1',
      'maps HTTP 504 to kind server, with its status, in one HTTP request':
        'HTTP 504: 2 HTTP requests, expected 1',
    })
  })

  it('fails a provider that maps 503 to kind server', async () => {
    const wrap = changingErrors((error) =>
      error.status === 503 ? retyped(error, { kind: 'server' }) : error,
    )
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'maps HTTP 503 to kind overloaded, with its status, in one HTTP request':
        'HTTP 503: kind server, expected overloaded',
    })
  })

  it('fails a provider that ignores Retry-After', async () => {
    const wrap = changingErrors((error) => retyped(error, { retryAfterMs: undefined }))
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'reads retry-after: 2 as retryAfterMs 2000':
        'retry-after: 2: retryAfterMs was undefined, expected 2000',
      'reads retry-after: 1.5 as retryAfterMs 1500':
        'retry-after: 1.5: retryAfterMs was undefined, expected 1500',
      'reads retry-after-ms: 750 as retryAfterMs 750':
        'retry-after-ms: 750: retryAfterMs was undefined, expected 750',
    })
  })

  it('fails a provider that reports a dropped connection as kind unknown', async () => {
    const wrap = changingErrors((error) =>
      error.kind === 'network' ? retyped(error, { kind: 'unknown' }) : error,
    )
    const failures = await failuresOf(setupOf({ wrap }))
    expect(failures['maps a dropped connection to kind network, in one HTTP request']).toBe(
      'a dropped connection: kind unknown, expected network',
    )
  })

  it('fails a provider that lets a parse error of a 200 escape untyped', async () => {
    // As a provider that calls `response.json()` and lets its SyntaxError through.
    const wrap = changingErrors((error) =>
      error.status === 200 && error.kind === 'server'
        ? new SyntaxError('Unexpected end of JSON input')
        : error,
    )
    const failures = await failuresOf(setupOf({ wrap }))
    expect(failures['rejects a malformed-json answer with a typed error']).toBe(
      'malformed-json: rejected with SyntaxError: Unexpected end of JSON input, not an UnderstudyError',
    )
    expect(failures['rejects a wrong-content-type answer with a typed error']).toBe(
      'wrong-content-type: rejected with SyntaxError: Unexpected end of JSON input, not an UnderstudyError',
    )
  })

  it('fails a provider that does not hand the abort signal to fetch', async () => {
    const deaf: typeof fetch = (input, init) => fetch(input, { ...init, signal: null })
    expect(await failuresOf(setupOf({ fetch: deaf }))).toEqual({
      'cancels the request in flight on abort and rejects promptly with kind aborted':
        'the aborted call was still pending 2 s after the abort',
    })
  })

  it('scales how long each check may wait by timeScale, or by UNDERSTUDY_TEST_TIME_SCALE', () => {
    expect(providerConformanceChecks(setupOf())[0]?.timeoutMs).toBe(10_000)
    expect(providerConformanceChecks({ ...setupOf(), timeScale: 3 })[0]?.timeoutMs).toBe(30_000)
    vi.stubEnv('UNDERSTUDY_TEST_TIME_SCALE', '2.5')
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    expect(providerConformanceChecks(setupOf())[0]?.timeoutMs).toBe(25_000)
    expect(() => providerConformanceChecks({ ...setupOf(), timeScale: -1 })).toThrow(
      expect.objectContaining({ kind: 'config', path: 'timeScale' }),
    )
  })

  it('fails a provider that writes its request', async () => {
    const wrap = (provider: Provider): Provider => ({
      ...provider,
      complete(request, context) {
        // Fills in a default on the caller's own value.
        ;(request as { maxTokens?: number }).maxTokens ??= 1024
        return provider.complete(request, context)
      },
    })
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'leaves a deep-frozen request unchanged':
        'the call on a deep-frozen request threw TypeError: Cannot add property maxTokens, object is not extensible; a provider must not write its request',
    })
  })

  it('fails a provider that puts the key in its error message', async () => {
    const wrap = (provider: Provider, apiKey: string): Provider =>
      changingErrors((error) =>
        retyped(error, { message: `${error.message} (sent with Bearer ${apiKey})` }),
      )(provider)
    const failures = await failuresOf(setupOf({ wrap }))
    expect(failures['keeps the key out of the error when the upstream echoes it back']).toBe(
      'the key appears in the error (message, stack, JSON or cause)',
    )
  })

  it('fails a provider whose stream ends without a finish event', async () => {
    const wrap = droppingEvents((event) => event.type === 'finish')
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'streams the text in order and ends with a finish event':
        'the last event is not a finish event',
    })
  })

  it('fails a provider that makes up a finish when the stream lost its terminal signal', async () => {
    expect(await failuresOf(setupOf({ wrap: makingUpFinish }))).toEqual({
      'ends a stream that lost its terminal signal with kind incomplete, never a made-up finish':
        'a stream without its terminal signal: the call succeeded; it must reject',
    })
  })

  it('fails a provider that raises an in-band error untyped', async () => {
    const wrap = changingErrors((error) =>
      error.message.includes('error event') ? new Error(error.message) : error,
    )
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'raises an in-band error event as a typed error': expect.stringMatching(
        /^an in-band error: rejected with Error: openai\/conformance-model: error event: .*, not an UnderstudyError$/,
      ),
    })
  })

  it('fails a provider whose stream maps a 429 to another kind', async () => {
    const wrap = (provider: Provider): Provider => ({
      ...changingErrors((error) =>
        error.kind === 'rate_limit' ? retyped(error, { kind: 'unknown' }) : error,
      )(provider),
      complete: provider.complete,
    })
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'maps an HTTP error before the stream to its kind':
        'a 429 stream: kind unknown, expected rate_limit',
    })
  })

  it('fails a provider whose stream leaves the connection open when the consumer stops early', async () => {
    // A hand-written iterator without `return()`: `break` cannot reach the body.
    const wrap = (provider: Provider): Provider => ({
      ...provider,
      stream(request, context) {
        const events = provider.stream(request, context)[Symbol.asyncIterator]()
        return { [Symbol.asyncIterator]: () => ({ next: () => events.next() }) }
      },
    })
    expect(await failuresOf(setupOf({ wrap }))).toEqual({
      'closes the connection when the consumer stops reading early':
        'the server never saw its connection closed after the consumer left',
    })
  })
})

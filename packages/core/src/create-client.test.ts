import { describe, expect, it, onTestFinished } from 'vitest'
import type { ChatRequest } from './chat-request.js'
import type { ChatResponse, ProviderResponse } from './chat-response.js'
import type { Clock } from './clock.js'
import { createClient } from './create-client.js'
import { type Attempt, type ErrorKind, isUnderstudyError, UnderstudyError } from './errors.js'
import type { HookName, Hooks } from './hooks.js'
import type { CallOptions } from './options.js'
import type { ProviderContext } from './provider.js'
import { deepFreeze } from './test-support/deep-freeze.js'
import { request, type Setup, setup } from './test-support/client-setup.js'
import {
  type MockProvider,
  mockProvider,
  type Script,
  textResponse,
} from './test-support/mock-provider.js'
import { fulfilled, rejected, type Settled, settle } from './test-support/settle.js'
import { sharedObjects } from './test-support/shared-objects.js'
import { createTestClock, flush } from './test-support/test-clock.js'

// Example-based tests of `createClient().complete()` for DESIGN.md's rules 1–9,
// health (cooldowns), and a client shared by 1,000 concurrent calls. The policy
// table's rows are in fallback-policy.test.ts.

/** An attempt trace as `"<target> <kind or outcome>#<retry>"`, easy to compare whole. */
function trace(attempts: readonly Attempt[]): string[] {
  return attempts.map(
    (attempt) =>
      `${attempt.target} ${attempt.outcome === 'error' ? attempt.error?.kind : attempt.outcome}#${attempt.retry}`,
  )
}

/** The attempts of a call, whether it succeeded or failed. */
function attemptsOf(settled: Settled<ChatResponse>): readonly Attempt[] {
  return settled.status === 'fulfilled' ? settled.value.attempts : rejected(settled).attempts
}

/** Waits on `clock`; rejects with the signal's reason when it aborts first. */
function wait(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A fresh provider error each time it is called. */
function failure(
  kind: ErrorKind,
  fields: { status?: number; retryAfterMs?: number; message?: string } = {},
): Script {
  return {
    respond: async () => {
      throw new UnderstudyError({ kind, message: fields.message ?? `failed: ${kind}`, ...fields })
    },
  }
}

const fallbacks = deepFreeze(['b/m2'])

/** Records every `unhandledRejection` until the test ends. */
function watchUnhandledRejections(): unknown[] {
  const seen: unknown[] = []
  const listener = (reason: unknown): void => {
    seen.push(reason)
  }
  process.on('unhandledRejection', listener)
  onTestFinished(() => {
    process.off('unhandledRejection', listener)
  })
  return seen
}

/** Lets Node run its unhandled-rejection check: a turn of the event loop, not a timed sleep. */
async function nextTurn(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve))
}

describe('createClient().complete()', () => {
  describe('rule 1: inputs are never written', () => {
    /** A provider that rewrites every part of the request it is handed before it answers. */
    function rewriting(answer: () => ProviderResponse): Script {
      return {
        respond: async (attemptRequest) => {
          const writable = attemptRequest as unknown as Record<string, unknown>
          ;(attemptRequest.messages as unknown as unknown[]).push({
            role: 'user',
            content: 'injected',
          })
          Reflect.set(attemptRequest.messages[0] as object, 'content', 'rewritten')
          ;(attemptRequest.stop as unknown as string[] | undefined)?.push('INJECTED')
          Reflect.set(attemptRequest.providerOptions?.a ?? {}, 'injected', true)
          Reflect.set(attemptRequest.tools?.[0]?.parameters ?? {}, 'injected', true)
          writable.temperature = 2
          writable.model = 'rewritten'
          delete writable.seed
          return answer()
        },
      }
    }

    it('leaves deep-frozen inputs unchanged and keeps a rewriting provider from reaching the next attempt', async () => {
      const callRequest: ChatRequest = deepFreeze({
        model: 'a/m1',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        ],
        tools: [{ name: 'lookup', parameters: { type: 'object' } }],
        temperature: 0.7,
        stop: ['END'],
        seed: 7,
        providerOptions: { a: { logprobs: true } },
      })
      const options = deepFreeze({
        fallbacks: [
          {
            model: 'b/m2',
            apiKey: 'key-b',
            headers: { 'x-team': 'b' },
            params: { temperature: 0.1, stop: ['B-END'] },
            unset: ['tools'],
          },
          'c/m3',
        ],
        retries: 1,
        hooks: { onAttempt: () => {} },
      } satisfies CallOptions)
      const requestBefore = structuredClone(callRequest)
      const chainBefore = structuredClone(options.fallbacks)
      const serverError = (): never => {
        throw new UnderstudyError({ kind: 'server', status: 500, message: 'down' })
      }
      const { a, b, c, call } = setup({
        a: { m1: [rewriting(serverError)] },
        b: { m2: [rewriting(serverError)] },
        c: { m3: [rewriting(() => textResponse('c answers'))] },
      })

      for (let round = 1; round <= 2; round++) {
        const response = fulfilled(await call(options, callRequest))
        // Every rewrite went through on the attempt's own copy: the providers failed as
        // scripted (`server`), not with a TypeError from a frozen value (`unknown`).
        expect(trace(response.attempts)).toEqual([
          'a/m1 server#0',
          'a/m1 server#1',
          'b/m2 server#0',
          'b/m2 server#1',
          'c/m3 ok#0',
        ])
        expect(response.text).toBe('c answers')
      }

      const forA = { ...requestBefore, model: 'm1' }
      const { tools: _unset, ...withoutTools } = requestBefore
      const forB = { ...withoutTools, model: 'm2', temperature: 0.1, stop: ['B-END'] }
      const forC = { ...requestBefore, model: 'm3' }
      expect(a.calls.map((received) => received.request)).toEqual([forA, forA, forA, forA])
      expect(b.calls.map((received) => received.request)).toEqual([forB, forB, forB, forB])
      expect(c.calls.map((received) => received.request)).toEqual([forC, forC])
      expect(callRequest).toEqual(requestBefore)
      expect(options.fallbacks).toEqual(chainBefore)
    })

    it('returns responses that share nothing with the inputs or with other calls', async () => {
      const callRequest: ChatRequest = deepFreeze({
        model: 'a/m1',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ name: 'lookup', parameters: { type: 'object' } }],
        stop: ['END'],
      })
      const options = deepFreeze({
        fallbacks: [{ model: 'b/m2', params: { stop: ['B'] } }],
      } satisfies CallOptions)
      // A provider that hands back parts of the request it was given.
      const echo: Script = {
        respond: async (attemptRequest) => ({
          ...textResponse('echo'),
          toolCalls: [],
          message: attemptRequest.messages[0] as unknown as ProviderResponse['message'],
          usage: attemptRequest.tools?.[0]?.parameters ?? {},
        }),
      }
      const { call } = setup({ a: { m1: [failure('server')] }, b: { m2: [echo] } })
      const first = fulfilled(await call(options, callRequest))
      const second = fulfilled(await call(options, callRequest))
      expect(first.text).toBe('echo')
      expect(sharedObjects(first, { callRequest, options })).toEqual([])
      expect(sharedObjects(second, { callRequest, options })).toEqual([])
      expect(sharedObjects(first, second)).toEqual([])
    })

    it('gives each call its own response even when a provider returns one object every time', async () => {
      const shared: ProviderResponse = {
        ...textResponse('cached'),
        toolCalls: [{ id: 'call-1', name: 'lookup', arguments: '{}' }],
      }
      const { call } = setup({ a: { m1: [{ respond: async () => shared }] } })
      const first = fulfilled(await call())
      const second = fulfilled(await call())
      expect(first.message).toEqual(shared.message)
      expect(first.toolCalls).toEqual(shared.toolCalls)
      expect(sharedObjects(first, second)).toEqual([])
      expect(sharedObjects(first, shared)).toEqual([])
    })
  })

  describe('rule 2: credentials are scoped to their target', () => {
    it('sends each target its own key, base URL and headers, and the call-level ones to the primary only', async () => {
      const down = failure('server', { status: 500 })
      const { a, b, call } = setup({
        a: { m1: [down], m4: [{ ok: 'a/m4 answers' }] },
        b: { m2: [down], m3: [down] },
      })
      const response = fulfilled(
        await call({
          apiKey: 'call-key',
          baseURL: 'https://primary.example/v1',
          headers: { authorization: 'Bearer call-key', 'x-call': '1' },
          fallbacks: [
            {
              model: 'b/m2',
              apiKey: 'key-b',
              baseURL: 'https://b.example/v1',
              headers: { 'x-team': 'b' },
            },
            'a/m1',
            'b/m3',
            { model: 'a/m4', baseURL: 'https://elsewhere.example/v1' },
          ],
        }),
      )
      expect(response.target).toBe('a/m4')
      const seen = (provider: MockProvider) =>
        provider.calls.map(({ model, apiKey, baseURL, headers }) => ({
          model,
          apiKey,
          baseURL,
          headers,
        }))
      const primary = {
        model: 'm1',
        apiKey: 'call-key',
        baseURL: 'https://primary.example/v1',
        headers: { authorization: 'Bearer call-key', 'x-call': '1' },
      }
      const bare = { apiKey: undefined, baseURL: undefined, headers: undefined }
      expect(seen(a)).toEqual([
        primary,
        primary,
        { model: 'm1', ...bare },
        { model: 'm1', ...bare },
        {
          model: 'm4',
          apiKey: undefined,
          baseURL: 'https://elsewhere.example/v1',
          headers: undefined,
        },
      ])
      const ownB = {
        model: 'm2',
        apiKey: 'key-b',
        baseURL: 'https://b.example/v1',
        headers: { 'x-team': 'b' },
      }
      expect(seen(b)).toEqual([ownB, ownB, { model: 'm3', ...bare }, { model: 'm3', ...bare }])
    })

    it('sends a later call without overrides no key, base URL or headers', async () => {
      const { a, call } = setup()
      fulfilled(await call({ apiKey: 'call-key', headers: { authorization: 'Bearer call-key' } }))
      fulfilled(await call())
      expect(a.calls[1]).toMatchObject({
        apiKey: undefined,
        baseURL: undefined,
        headers: undefined,
      })
    })

    it('gives the client-level fallbacks no call-level credentials', async () => {
      const { b, call } = setup(
        { a: { m1: [failure('auth', { status: 401 })] } },
        { fallbacks: ['b/m2'] },
      )
      fulfilled(await call({ apiKey: 'call-key', baseURL: 'https://primary.example/v1' }))
      expect(b.calls[0]).toMatchObject({
        apiKey: undefined,
        baseURL: undefined,
        headers: undefined,
      })
    })
  })

  describe('rule 3: secrets never leak', () => {
    const primaryKey = 'sk-primary-0123456789'
    const bearer = 'tok-bearer-0123456789'
    const fallbackKey = 'sk-fallback-0123456789'
    const headerKey = 'xk-header-0123456789'
    const secrets = [primaryKey, bearer, fallbackKey, headerKey]

    /** Everything a log line or debugger could show of `value`: messages, stacks, JSON, own properties, causes. */
    function exposedText(value: unknown, seen = new Set<unknown>()): string {
      if (typeof value === 'string') return value
      if (typeof value === 'function') return ''
      if (typeof value !== 'object' || value === null || seen.has(value)) return String(value)
      seen.add(value)
      const parts: string[] = []
      if (value instanceof Error) {
        parts.push(String(value), value.message, value.stack ?? '', exposedText(value.cause, seen))
      }
      try {
        parts.push(JSON.stringify(value) ?? '')
      } catch {
        parts.push('(not JSON)')
      }
      for (const key of Reflect.ownKeys(value))
        parts.push(exposedText(Reflect.get(value, key), seen))
      return parts.join('\n')
    }

    function expectNoSecret(what: string, value: unknown): void {
      const text = exposedText(value)
      for (const secret of secrets) expect(text, `${what} shows a secret`).not.toContain(secret)
    }

    /** Providers that put the keys they were sent into everything they throw. */
    function leakySetup(): Setup {
      return setup({
        a: {
          m1: [
            {
              respond: async () => {
                throw new UnderstudyError({
                  kind: 'server',
                  status: 500,
                  provider: 'a',
                  model: 'm1',
                  message: `upstream rejected ${primaryKey} (Authorization: Bearer ${bearer})`,
                  cause: new Error(`sent Authorization: Bearer ${bearer}`, {
                    cause: new Error(`echo ${primaryKey}`),
                  }),
                })
              },
            },
            {
              respond: async () => {
                // A clean message, with the key two causes down.
                throw new UnderstudyError({
                  kind: 'server',
                  status: 502,
                  provider: 'a',
                  model: 'm1',
                  message: 'bad gateway',
                  cause: new Error('request failed', {
                    cause: new Error(`upstream echoed key=${primaryKey}`),
                  }),
                })
              },
            },
            {
              respond: async () => {
                throw Object.assign(new Error(`401 for ${primaryKey}`), {
                  cause: { headers: { authorization: `Bearer ${bearer}` } },
                })
              },
            },
          ],
        },
        b: {
          m2: [
            {
              respond: async () => {
                throw new UnderstudyError({
                  kind: 'server',
                  status: 500,
                  message: `upstream failed for x-api-key ${headerKey} and key ${fallbackKey}`,
                  cause: { request: { headers: { 'x-api-key': headerKey }, key: fallbackKey } },
                })
              },
            },
            {
              respond: async () => {
                // The call's last error, so the call's cause: a clean message, the keys two causes down.
                throw new UnderstudyError({
                  kind: 'auth',
                  status: 403,
                  provider: 'b',
                  model: 'm2',
                  message: 'forbidden',
                  cause: new Error('request failed', {
                    cause: new Error(
                      `upstream echoed x-api-key ${headerKey} and key ${fallbackKey}`,
                    ),
                  }),
                })
              },
            },
          ],
        },
      })
    }

    function leakyOptions(payloads: unknown[], more: CallOptions = {}): CallOptions {
      const record =
        (name: string) =>
        (payload: unknown): void => {
          payloads.push({ name, payload })
        }
      return {
        apiKey: primaryKey,
        headers: { Authorization: `Bearer ${bearer}` },
        fallbacks: [
          { model: 'b/m2', apiKey: fallbackKey, headers: { 'x-api-key': headerKey }, retries: 1 },
        ],
        retries: 2,
        hooks: {
          onAttempt: record('onAttempt'),
          onRetry: record('onRetry'),
          onFallback: record('onFallback'),
          onSuccess: record('onSuccess'),
          onFailure: record('onFailure'),
          onHookError: record('onHookError'),
        },
        ...more,
      }
    }

    it('keeps the keys and Authorization values out of the error, its stack, JSON, attempts, causes and hook payloads', async () => {
      const payloads: unknown[] = []
      const { call } = leakySetup()
      const error = rejected(await call(leakyOptions(payloads)))
      expect(error.kind).toBe('all_failed')
      expect(trace(error.attempts)).toEqual([
        'a/m1 server#0',
        'a/m1 server#1',
        'a/m1 unknown#2',
        'b/m2 server#0',
        'b/m2 auth#1',
      ])
      expect(error.attempts[0]?.error?.message).toContain('[redacted]')

      expectNoSecret('the message', error.message)
      expectNoSecret('the stack', error.stack)
      expectNoSecret('JSON.stringify(error)', JSON.stringify(error))
      expectNoSecret('the attempts', JSON.stringify(error.attempts))
      let link: unknown = error
      for (let depth = 0; link !== undefined && depth < 10; depth++) {
        expectNoSecret(`the cause at depth ${depth}`, link)
        link = link instanceof Error ? link.cause : undefined
      }
      expectNoSecret('the error and all it holds', error)
      expect(payloads.length).toBeGreaterThan(0)
      expectNoSecret('the hook payloads', payloads)
    })

    it('keeps the keys out of the properties of what a provider throws', async () => {
      const { call } = setup({
        a: {
          m1: [
            {
              respond: async () => {
                throw Object.assign(new Error('request failed'), {
                  request: {
                    headers: { authorization: `Bearer ${bearer}` },
                    url: `https://a.example/v1?key=${primaryKey}`,
                  },
                })
              },
            },
          ],
        },
      })
      const error = rejected(
        await call({ apiKey: primaryKey, headers: { Authorization: `Bearer ${bearer}` } }),
      )
      expect(error.kind).toBe('all_failed')
      expectNoSecret('the error and all it holds', error)
    })

    it('keeps the keys out of a successful response and its hook payloads', async () => {
      const payloads: unknown[] = []
      const { call } = leakySetup()
      const response = fulfilled(await call(leakyOptions(payloads, { fallbacks: ['c/m3'] })))
      expect(response.target).toBe('c/m3')
      expectNoSecret('the response', response)
      expectNoSecret('the hook payloads', payloads)
    })
  })

  describe('rule 4: a client is safe to share', () => {
    it('leaves nothing of a failed call for the next call on the same client', async () => {
      const { clock, a, b, client, call } = setup({
        a: {
          m1: [
            failure('server', { status: 500 }),
            failure('server', { status: 500 }),
            { hang: true },
            { ok: 'a/m1 answers' },
          ],
        },
        b: { m2: [failure('server', { status: 500 })] },
      })
      const firstHooks: string[] = []
      const first = rejected(
        await call({
          fallbacks,
          apiKey: 'first-key',
          headers: { 'x-first': '1' },
          hooks: { onAttempt: (attempt) => void firstHooks.push(attempt.target) },
        }),
      )
      expect(first.kind).toBe('all_failed')
      const hooksAfterFirst = firstHooks.length

      const controller = new AbortController()
      const aborted = client.complete(request, { fallbacks, signal: controller.signal })
      await clock.advance(10)
      controller.abort()
      expect(rejected(await settle(clock, aborted)).kind).toBe('aborted')

      expect(rejected(await call({ fallbacks: ['nope/m1'] })).kind).toBe('config')

      const last = fulfilled(await call())
      expect(trace(last.attempts)).toEqual(['a/m1 ok#0'])
      expect(a.calls.at(-1)).toMatchObject({
        apiKey: undefined,
        headers: undefined,
        aborted: false,
      })
      expect(b.calls).toHaveLength(2)
      expect(firstHooks).toHaveLength(hooksAfterFirst)
    })

    it('keeps concurrent calls apart: one aborted, one failing over, one answering', async () => {
      const { clock, a, b, client } = setup({
        a: {
          hangs: [{ hang: true }],
          down: [failure('server', { status: 500 })],
          slow: [{ ok: 'slow', delayMs: 50 }],
        },
      })
      const controller = new AbortController()
      const abortedCall = client.complete(
        { ...request, model: 'a/hangs' },
        { fallbacks, signal: controller.signal },
      )
      const failingOver = client.complete({ ...request, model: 'a/down' }, { fallbacks })
      const answering = client.complete({ ...request, model: 'a/slow' }, { fallbacks })
      await clock.advance(10)
      controller.abort()
      const [first, second, third] = await settle(
        clock,
        Promise.allSettled([abortedCall, failingOver, answering]),
      ).then(fulfilled)
      expect(first?.status === 'rejected' && isUnderstudyError(first.reason, 'aborted')).toBe(true)
      expect(second?.status === 'fulfilled' && trace(second.value.attempts)).toEqual([
        'a/down server#0',
        'a/down server#1',
        'b/m2 ok#0',
      ])
      expect(third?.status === 'fulfilled' && trace(third.value.attempts)).toEqual(['a/slow ok#0'])
      expect(a.calls.map((received) => [received.model, received.aborted])).toEqual([
        ['hangs', true],
        ['down', false],
        ['slow', false],
        ['down', false],
      ])
      expect(b.calls).toHaveLength(1)
      expect(clock.pending()).toBe(0)
    })
  })

  describe('rule 5: one owner for retries', () => {
    it('attempts a target at most 1 + retries times, however often it is listed', async () => {
      const down = failure('server', { status: 500 })
      const { a, b, call } = setup({ a: { m1: [down] }, b: { m2: [down] } })
      const error = rejected(
        await call({ fallbacks: ['a/m1', 'b/m2', 'a/m1', 'b/m2'], retries: 1 }),
      )
      expect(error.kind).toBe('all_failed')
      expect(trace(error.attempts)).toEqual([
        'a/m1 server#0',
        'a/m1 server#1',
        'b/m2 server#0',
        'b/m2 server#1',
      ])
      expect(a.calls).toHaveLength(2)
      expect(b.calls).toHaveLength(2)
    })

    it("lets a target's own retries win over the call's", async () => {
      const down = failure('server', { status: 500 })
      const { a, b, c, call } = setup({ a: { m1: [down] }, b: { m2: [down] }, c: { m3: [down] } })
      rejected(
        await call({
          fallbacks: [
            { model: 'b/m2', retries: 3 },
            { model: 'c/m3', retries: 0 },
          ],
          retries: 1,
        }),
      )
      expect([a.calls.length, b.calls.length, c.calls.length]).toEqual([2, 4, 1])
    })

    it("lets the call's retries win over the client's", async () => {
      const down = failure('server', { status: 500 })
      const { a, b, call } = setup({ a: { m1: [down] }, b: { m2: [down] } }, { retries: 3 })
      rejected(await call({ fallbacks, retries: 0 }))
      expect([a.calls.length, b.calls.length]).toEqual([1, 1])
    })
  })

  describe('rule 6: zero means zero', () => {
    it('makes one attempt per target with retries: 0', async () => {
      const down = failure('server', { status: 500 })
      const { a, b, call } = setup({ a: { m1: [down] }, b: { m2: [down] } })
      const error = rejected(await call({ fallbacks, retries: 0 }))
      expect(trace(error.attempts)).toEqual(['a/m1 server#0', 'b/m2 server#0'])
      expect([a.calls.length, b.calls.length]).toEqual([1, 1])
    })

    it('never cools a target down with cooldownMs: 0, not even on a Retry-After', async () => {
      const { a, call } = setup(
        {
          a: {
            m1: [
              failure('server', { status: 500 }),
              failure('rate_limit', { status: 429, retryAfterMs: 60_000 }),
            ],
          },
        },
        { health: { cooldownMs: 0, minCalls: 1, failureRate: 1 } },
      )
      for (let round = 0; round < 3; round++) {
        const response = fulfilled(await call({ fallbacks, retries: 0 }))
        expect(response.attempts[0]?.outcome).toBe('error')
      }
      expect(a.calls).toHaveLength(3)
    })

    it.each([0, -1, -Infinity, Number.NaN])(
      'rejects timeoutMs: %s as a config error before any I/O',
      async (timeoutMs) => {
        const { a, call } = setup()
        const error = rejected(await call({ timeoutMs }))
        expect(error.kind).toBe('config')
        expect(Reflect.get(error, 'path')).toBe('timeoutMs')
        expect(a.calls).toHaveLength(0)
      },
    )

    it('rejects a zero attemptTimeoutMs, on the call or on a target, as a config error', async () => {
      const { a, call } = setup()
      const onCall = rejected(await call({ attemptTimeoutMs: 0 }))
      expect([onCall.kind, Reflect.get(onCall, 'path')]).toEqual(['config', 'attemptTimeoutMs'])
      const onTarget = rejected(await call({ fallbacks: [{ model: 'b/m2', attemptTimeoutMs: 0 }] }))
      expect([onTarget.kind, Reflect.get(onTarget, 'path')]).toEqual([
        'config',
        'fallbacks[0].attemptTimeoutMs',
      ])
      expect(a.calls).toHaveLength(0)
    })

    it('throws a config error from createClient for a zero timeoutMs default', () => {
      const clock = createTestClock()
      expect(() => createClient({ providers: [mockProvider('a')], clock, timeoutMs: 0 })).toThrow(
        expect.objectContaining({ kind: 'config', path: 'timeoutMs' }),
      )
    })

    it('takes timeoutMs: Infinity as no deadline, leaving no timer', async () => {
      const { call } = setup()
      const response = fulfilled(await call({ timeoutMs: Infinity }))
      expect(response.text).toBe('a/m1 ok')
    })
  })

  describe('rule 7: every failure is a typed error', () => {
    it('lists every attempt with its own typed error; cause is the last, retryAfterMs the smallest', async () => {
      const { call } = setup({
        a: { m1: [failure('rate_limit', { status: 429, retryAfterMs: 3_000 })] },
        b: { m2: [failure('server', { status: 500 })] },
        c: {
          m3: [failure('rate_limit', { status: 429, retryAfterMs: 1_500, message: 'c is busy' })],
        },
      })
      const error = rejected(await call({ fallbacks: ['b/m2', 'c/m3'], retries: 0 }))
      expect(isUnderstudyError(error, 'all_failed')).toBe(true)
      expect(error.attempts).toEqual([
        {
          target: 'a/m1',
          provider: 'a',
          model: 'm1',
          outcome: 'error',
          error: {
            kind: 'rate_limit',
            status: 429,
            retryAfterMs: 3_000,
            message: 'failed: rate_limit',
          },
          status: 429,
          retry: 0,
          durationMs: 0,
        },
        {
          target: 'b/m2',
          provider: 'b',
          model: 'm2',
          outcome: 'error',
          error: { kind: 'server', status: 500, message: 'failed: server' },
          status: 500,
          retry: 0,
          durationMs: 0,
        },
        {
          target: 'c/m3',
          provider: 'c',
          model: 'm3',
          outcome: 'error',
          error: { kind: 'rate_limit', status: 429, retryAfterMs: 1_500, message: 'c is busy' },
          status: 429,
          retry: 0,
          durationMs: 0,
        },
      ])
      expect(error.retryAfterMs).toBe(1_500)
      const cause = error.cause
      expect(isUnderstudyError(cause, 'rate_limit')).toBe(true)
      expect(isUnderstudyError(cause) && [cause.provider, cause.model, cause.message]).toEqual([
        'c',
        'm3',
        'c is busy',
      ])
      expect(JSON.parse(JSON.stringify(error))).toMatchObject({
        kind: 'all_failed',
        retryAfterMs: 1_500,
      })
    })

    it('rejects with all_failed when a one-target chain fails too', async () => {
      const { call } = setup({ a: { m1: [failure('auth', { status: 401 })] } })
      const error = rejected(await call())
      expect(error.kind).toBe('all_failed')
      expect(trace(error.attempts)).toEqual(['a/m1 auth#0'])
    })

    it('leaves no unhandled rejection and no timer behind on any path', async () => {
      const unhandled = watchUnhandledRejections()
      const rejectingHooks: Hooks = {
        onAttempt: async () => Promise.reject(new Error('onAttempt')),
        onRetry: async () => Promise.reject(new Error('onRetry')),
        onFallback: async () => Promise.reject(new Error('onFallback')),
        onSuccess: async () => Promise.reject(new Error('onSuccess')),
        onFailure: async () => Promise.reject(new Error('onFailure')),
      }
      const lateRejection: Script = {
        // Ignores its signal and rejects long after the attempt timed out.
        respond: (_request: ChatRequest, _context: ProviderContext) =>
          new Promise<ProviderResponse>((_, reject) => {
            clockRef.setTimeout(() => reject(new Error('late')), 10_000)
          }),
      }
      const { clock, client, call } = setup(
        {
          a: {
            ok: [{ ok: 'fine' }],
            down: [failure('server', { status: 500 })],
            bad: [failure('invalid_request', { status: 400 })],
            hangs: [{ hang: true }],
            slow: [{ ok: 'slow', delayMs: 5_000 }],
            late: [lateRejection],
            throws: [{ throws: new Error('sync-ish') }],
          },
          b: { m2: [failure('server', { status: 500 })] },
        },
        { hooks: rejectingHooks },
      )
      const clockRef: Clock = clock
      const as = (model: string): ChatRequest => ({ ...request, model })
      const paths: { readonly name: string; readonly run: () => Promise<Settled<ChatResponse>> }[] =
        [
          { name: 'success', run: () => call({}, as('a/ok')) },
          {
            name: 'success after fallback',
            run: () => call({ fallbacks: ['a/ok'] }, as('a/down')),
          },
          { name: 'all_failed', run: () => call({ fallbacks }, as('a/down')) },
          { name: 'invalid_request', run: () => call({ fallbacks }, as('a/bad')) },
          {
            name: 'attempt timeout',
            run: () => call({ fallbacks, attemptTimeoutMs: 100 }, as('a/hangs')),
          },
          { name: 'deadline', run: () => call({ fallbacks, timeoutMs: 1_000 }, as('a/slow')) },
          {
            // The provider's own timer outlives the call: that one is not the client's to clear.
            name: 'late rejection',
            run: () =>
              settle(
                clock,
                client.complete(as('a/late'), { fallbacks: ['a/ok'], attemptTimeoutMs: 100 }),
              ),
          },
          { name: 'thrown error', run: () => call({ fallbacks }, as('a/throws')) },
          { name: 'config', run: () => call({ fallbacks: ['nope/x'] }) },
          { name: 'aborted before', run: () => call({ signal: AbortSignal.abort() }) },
          {
            name: 'aborted in flight',
            run: async () => {
              const controller = new AbortController()
              const pending = client.complete(as('a/hangs'), {
                fallbacks,
                signal: controller.signal,
              })
              await clock.advance(10)
              controller.abort()
              return settle(clock, pending)
            },
          },
        ]
      for (const path of paths) {
        const settled = await path.run()
        expect(settled.status === 'fulfilled' || isUnderstudyError(settled.reason), path.name).toBe(
          true,
        )
        await clock.runAll()
        expect(clock.pending(), path.name).toBe(0)
      }
      await nextTurn()
      expect(unhandled).toEqual([])
    })
  })

  describe('rule 8: hooks observe, never steer', () => {
    const hookNames = ['onAttempt', 'onRetry', 'onFallback', 'onSuccess', 'onFailure'] as const
    type ObservedHook = (typeof hookNames)[number]

    /** A primary that fails twice and a fallback: every hook but `onFailure` (or `onSuccess`) fires. */
    function scenario(hook: ObservedHook): Setup {
      const down = failure('server', { status: 500 })
      return setup({
        a: { m1: [down] },
        b: { m2: hook === 'onFailure' ? [down] : [{ ok: 'b answers' }] },
      })
    }

    const cases = hookNames.flatMap((hook) => [
      { hook, mode: 'throws' as const },
      { hook, mode: 'rejects' as const },
    ])

    it.each(cases)(
      'reports a $hook that $mode to onHookError and changes nothing',
      async ({ hook, mode }) => {
        const baseline = attemptsOf(await scenario(hook).call({ fallbacks }))
        const thrown = new Error(`${hook} ${mode}`)
        const faulty =
          mode === 'throws'
            ? () => {
                throw thrown
              }
            : async () => {
                throw thrown
              }
        const reported: [unknown, HookName][] = []
        const { call } = scenario(hook)
        const settled = await call({
          fallbacks,
          hooks: {
            [hook]: faulty,
            onHookError: (error: unknown, name: HookName) => void reported.push([error, name]),
          },
        })
        await flush()
        expect(settled.status).toBe(hook === 'onFailure' ? 'rejected' : 'fulfilled')
        expect(trace(attemptsOf(settled))).toEqual(trace(baseline))
        expect(reported.length).toBeGreaterThan(0)
        for (const [error, name] of reported) expect([error, name]).toEqual([thrown, hook])
      },
    )

    it('runs both the client hooks and the call hooks, the client first', async () => {
      const seen: string[] = []
      const hooksOf = (who: string): Hooks => ({
        onAttempt: (attempt) => void seen.push(`${who} onAttempt ${attempt.target}`),
        onRetry: ({ attempt, delayMs }) =>
          void seen.push(`${who} onRetry ${attempt.target} ${delayMs}`),
        onFallback: ({ from, to }) => void seen.push(`${who} onFallback ${from.target} ${to}`),
        onSuccess: (response) => void seen.push(`${who} onSuccess ${response.target}`),
        onFailure: (error) => void seen.push(`${who} onFailure ${error.kind}`),
      })
      const { call } = setup(
        { a: { m1: [failure('server', { status: 500 })] } },
        { hooks: hooksOf('client') },
      )
      fulfilled(await call({ fallbacks, hooks: hooksOf('call') }))
      expect(seen).toEqual([
        'client onAttempt a/m1',
        'call onAttempt a/m1',
        'client onRetry a/m1 0',
        'call onRetry a/m1 0',
        'client onAttempt a/m1',
        'call onAttempt a/m1',
        'client onFallback a/m1 b/m2',
        'call onFallback a/m1 b/m2',
        'client onAttempt b/m2',
        'call onAttempt b/m2',
        'client onSuccess b/m2',
        'call onSuccess b/m2',
      ])
    })

    it('reports call hooks that throw to the client onHookError too, and survives an onHookError that throws', async () => {
      const reported: HookName[] = []
      const { call } = setup(
        { a: { m1: [failure('server', { status: 500 })] } },
        {
          hooks: {
            onHookError: (_error, name) => {
              reported.push(name)
              throw new Error('onHookError itself fails')
            },
          },
        },
      )
      const response = fulfilled(
        await call({
          fallbacks,
          hooks: {
            onAttempt: () => {
              throw new Error('onAttempt')
            },
          },
        }),
      )
      expect(response.target).toBe('b/m2')
      expect(reported).toEqual(['onAttempt', 'onAttempt', 'onAttempt'])
    })

    it('keeps a hook that writes to its payload from changing the result', async () => {
      const reported: HookName[] = []
      const { call } = setup({ a: { m1: [failure('server', { status: 500 })] } })
      const response = fulfilled(
        await call({
          fallbacks,
          hooks: {
            onAttempt: (attempt) => {
              ;(attempt as { outcome: string }).outcome = 'ok'
            },
            onSuccess: (result) => {
              ;(result.attempts as Attempt[]).length = 0
            },
            onHookError: (_error, name) => void reported.push(name),
          },
        }),
      )
      expect(trace(response.attempts)).toEqual(['a/m1 server#0', 'a/m1 server#1', 'b/m2 ok#0'])
      expect(reported).toEqual(['onAttempt', 'onAttempt', 'onAttempt', 'onSuccess'])
    })
  })

  describe('rule 9: time and randomness are injectable', () => {
    it('waits 0 ms before a retry when random gives 0', async () => {
      const delays: number[] = []
      const { a, call } = setup(
        { a: { m1: [failure('server', { status: 500 }), { ok: 'fine' }] } },
        { random: () => 0 },
      )
      fulfilled(await call({ hooks: { onRetry: ({ delayMs }) => void delays.push(delayMs) } }))
      expect(delays).toEqual([0])
      expect(a.times).toEqual([0, 0])
    })

    it('waits just under the doubling ceiling when random gives 0.999, on the injected clock', async () => {
      const draws: number[] = []
      const random = (): number => {
        draws.push(0.999)
        return 0.999
      }
      const { clock, a, client } = setup(
        { a: { m1: [failure('server', { status: 500 })] } },
        { random, retries: 3, backoff: { initialDelayMs: 1_000, maxDelayMs: 10_000 } },
      )
      const pending = client.complete(request)
      await clock.advance(998)
      expect(a.times).toEqual([0])
      await clock.advance(1)
      expect(a.times).toEqual([0, 999])
      const error = rejected(await settle(clock, pending))
      // Ceilings 1000, 2000, 4000: each wait is floor(0.999 * ceiling).
      expect(a.times).toEqual([0, 999, 999 + 1_998, 999 + 1_998 + 3_996])
      expect(draws.length).toBeGreaterThanOrEqual(3)
      expect(error.kind).toBe('all_failed')
      expect(clock.pending()).toBe(0)
    })

    it('caps each wait at maxDelayMs', async () => {
      const { a, call } = setup(
        { a: { m1: [failure('server', { status: 500 })] } },
        { random: () => 0.999, retries: 3, backoff: { initialDelayMs: 1_000, maxDelayMs: 1_500 } },
      )
      rejected(await call())
      expect(a.times).toEqual([0, 999, 999 + 1_498, 999 + 1_498 + 1_498])
    })
  })

  describe('health (cooldowns)', () => {
    const health = { minCalls: 1, failureRate: 1 } as const

    it('skips a cooled target and records it as skipped, onAttempt included', async () => {
      const { a, call } = setup({ a: { m1: [failure('server', { status: 500 })] } }, { health })
      fulfilled(await call({ fallbacks, retries: 0 }))
      const seen: Attempt[] = []
      const response = fulfilled(
        await call({
          fallbacks,
          retries: 0,
          hooks: { onAttempt: (attempt) => void seen.push(attempt) },
        }),
      )
      expect(trace(response.attempts)).toEqual(['a/m1 skipped#0', 'b/m2 ok#0'])
      expect(response.attempts[0]).toEqual({
        target: 'a/m1',
        provider: 'a',
        model: 'm1',
        outcome: 'skipped',
        retry: 0,
        durationMs: 0,
      })
      expect(seen).toEqual(response.attempts)
      expect(a.calls).toHaveLength(1)
    })

    it('tries every target in order anyway when all are cooled', async () => {
      const { a, b, call } = setup(
        {
          a: { m1: [failure('server', { status: 500 }), { ok: 'a is back' }] },
          b: { m2: [failure('server', { status: 500 })] },
        },
        { health },
      )
      expect(rejected(await call({ fallbacks, retries: 0 })).kind).toBe('all_failed')
      const response = fulfilled(await call({ fallbacks, retries: 0 }))
      expect(trace(response.attempts)).toEqual(['a/m1 ok#0'])
      expect(response.text).toBe('a is back')
      expect([a.calls.length, b.calls.length]).toEqual([2, 1])
    })

    it('cools a target for its Retry-After even before minCalls, and no longer', async () => {
      const { clock, a, call } = setup(
        { a: { m1: [failure('rate_limit', { status: 429, retryAfterMs: 20_000 })] } },
        { health: { minCalls: 100 } },
      )
      const start = clock.now()
      expect(trace(fulfilled(await call({ fallbacks })).attempts)).toEqual([
        'a/m1 rate_limit#0',
        'b/m2 ok#0',
      ])
      expect(trace(fulfilled(await call({ fallbacks })).attempts)).toEqual([
        'a/m1 skipped#0',
        'b/m2 ok#0',
      ])
      await clock.advance(start + 19_999 - clock.now())
      expect(fulfilled(await call({ fallbacks })).attempts[0]?.outcome).toBe('skipped')
      await clock.advance(1)
      expect(fulfilled(await call({ fallbacks })).attempts[0]?.outcome).toBe('error')
      expect(a.calls).toHaveLength(2)
    })

    it('only moves a cooldown end later: a shorter Retry-After does not shorten it', async () => {
      const { clock, a, call } = setup(
        {
          a: {
            m1: [
              failure('rate_limit', { status: 429, retryAfterMs: 20_000 }),
              failure('rate_limit', { status: 429, retryAfterMs: 1_000 }),
              { ok: 'a is back' },
            ],
          },
        },
        { health: { minCalls: 100 } },
      )
      const start = clock.now()
      fulfilled(await call({ fallbacks, retries: 0 }))
      // Alone in its chain the cooled target is tried anyway, and asks for a shorter wait.
      expect(trace(rejected(await call({ retries: 0 })).attempts)).toEqual(['a/m1 rate_limit#0'])
      await clock.advance(5_000)
      expect(fulfilled(await call({ fallbacks })).attempts[0]?.outcome).toBe('skipped')
      await clock.advance(start + 20_000 - clock.now())
      expect(fulfilled(await call({ fallbacks })).text).toBe('a is back')
      expect(a.calls).toHaveLength(3)
    })

    it('does not shorten a failure-rate cooldown with a shorter Retry-After', async () => {
      const { clock, call } = setup(
        {
          a: {
            m1: [
              failure('server', { status: 500 }),
              failure('rate_limit', { status: 429, retryAfterMs: 1_000 }),
            ],
          },
        },
        { health: { minCalls: 1, failureRate: 1, cooldownMs: 30_000 } },
      )
      fulfilled(await call({ fallbacks, retries: 0 }))
      rejected(await call({ retries: 0 }))
      await clock.advance(10_000)
      expect(fulfilled(await call({ fallbacks })).attempts[0]?.outcome).toBe('skipped')
    })
  })
})

/** A small seeded PRNG (mulberry32): the same seed gives the same failures. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('createClient() shared by concurrent calls', () => {
  it.each([1, 2, 3])(
    'answers 1,000 concurrent calls over one frozen fallback array, each with its own response and trace (seed %i)',
    async (seed) => {
      const clock = createTestClock()
      const random = seededRandom(seed)
      /** What the providers saw, per call id, in order: "<target> <kind or ok>". */
      const seen = new Map<string, string[]>()
      const wrongs: string[] = []
      const idOf = (callRequest: ChatRequest): string => String(callRequest.messages[0]?.content)

      const serve = (target: string): Script => ({
        respond: async (attemptRequest, context) => {
          const id = idOf(attemptRequest)
          const log = seen.get(id) ?? []
          seen.set(id, log)
          const n = Number(id.slice('call-'.length))
          const expectedKey =
            target === 'a/m1' ? `key-${n}` : target === 'c/m3' ? 'key-c' : undefined
          const expectedTemperature = target === 'c/m3' ? 0.5 : n / 1_000
          if (context.apiKey !== expectedKey)
            wrongs.push(`${id} sent ${target} key ${context.apiKey}`)
          if (attemptRequest.temperature !== expectedTemperature)
            wrongs.push(`${id} sent ${target} a foreign temperature`)
          if (attemptRequest.user !== id) wrongs.push(`${id} sent ${target} a foreign user`)
          const roll = random()
          try {
            await wait(clock, Math.floor(random() * 200), context.signal)
          } catch (reason) {
            log.push(`${target} ${isUnderstudyError(reason) ? reason.kind : 'not typed'}`)
            throw reason
          }
          const fail = (
            kind: ErrorKind,
            fields: { status?: number; retryAfterMs?: number } = {},
          ): never => {
            log.push(`${target} ${kind}`)
            throw new UnderstudyError({ kind, message: `${target} ${kind}`, ...fields })
          }
          if (roll < 0.25) fail('server', { status: 500 })
          if (roll < 0.35)
            fail('rate_limit', { status: 429, retryAfterMs: Math.floor(random() * 30_000) })
          if (roll < 0.4) fail('quota', { status: 429 })
          if (roll < 0.42) fail('invalid_request', { status: 400 })
          log.push(`${target} ok`)
          return textResponse(`${target} answers ${id}`)
        },
      })

      const providers = [
        mockProvider('a', { m1: [serve('a/m1')] }, clock),
        mockProvider('b', { m2: [serve('b/m2')] }, clock),
        mockProvider('c', { m3: [serve('c/m3')] }, clock),
      ]
      const client = createClient({ providers, clock, random, retries: 1, attemptTimeoutMs: 150 })
      const sharedFallbacks = deepFreeze([
        'b/m2',
        { model: 'c/m3', apiKey: 'key-c', params: { temperature: 0.5 } },
      ])
      const before = structuredClone(sharedFallbacks)

      // Started 2 ms apart, so later calls find targets that earlier ones cooled down.
      const calls = Array.from(
        { length: 1_000 },
        (_, n) =>
          new Promise<ChatResponse>((resolve, reject) => {
            clock.setTimeout(() => {
              const callRequest = deepFreeze({
                model: 'a/m1',
                messages: [{ role: 'user' as const, content: `call-${n}` }],
                user: `call-${n}`,
                temperature: n / 1_000,
              })
              client
                .complete(callRequest, { fallbacks: sharedFallbacks, apiKey: `key-${n}` })
                .then(resolve, reject)
            }, n * 2)
          }),
      )
      const results = fulfilled(await settle(clock, Promise.allSettled(calls)))
      expect(clock.pending()).toBe(0)

      const tally = { ok: 0, failed: 0, fellBack: 0, skipped: 0, timedOut: 0 }
      results.forEach((result, n) => {
        const id = `call-${n}`
        const attempts =
          result.status === 'fulfilled'
            ? result.value.attempts
            : (result.reason as UnderstudyError).attempts
        const tried = attempts.filter((attempt) => attempt.outcome !== 'skipped')
        const said = tried.map(
          (attempt) => `${attempt.target} ${attempt.outcome === 'ok' ? 'ok' : attempt.error?.kind}`,
        )
        if (JSON.stringify(said) !== JSON.stringify(seen.get(id) ?? []))
          wrongs.push(`${id} has a foreign trace`)
        if (result.status === 'fulfilled') {
          const response = result.value
          if (response.text !== `${response.target} answers ${id}`)
            wrongs.push(`${id} got "${response.text}"`)
          if (attempts.at(-1)?.target !== response.target) wrongs.push(`${id} trace ends elsewhere`)
          tally.ok += 1
          if (response.target !== 'a/m1') tally.fellBack += 1
        } else {
          const error = result.reason
          if (
            !isUnderstudyError(error, 'all_failed') &&
            !isUnderstudyError(error, 'invalid_request')
          ) {
            wrongs.push(`${id} failed untyped`)
          }
          tally.failed += 1
        }
        tally.skipped += attempts.length - tried.length
        tally.timedOut += tried.filter((attempt) => attempt.error?.kind === 'timeout').length
      })

      expect(wrongs).toEqual([])
      expect(seen.size).toBe(1_000)
      expect(sharedFallbacks).toEqual(before)
      // The seed must exercise every path, or the test proves little.
      for (const [what, count] of Object.entries(tally)) expect(count, what).toBeGreaterThan(0)
    },
  )
})

describe('the attempt context', () => {
  it('tells onAbort listeners of the attempt timeout without a signal being read, and one added later at once', async () => {
    const clock = createTestClock()
    const heard: unknown[] = []
    let seen: ProviderContext | undefined
    const hanging = {
      id: 'a',
      complete: (_request: ChatRequest, context: ProviderContext): Promise<ProviderResponse> => {
        seen = context
        context.onAbort?.((reason) => heard.push(reason))
        return new Promise<ProviderResponse>(() => {})
      },
      stream: (): AsyncIterable<never> => {
        throw new Error('not streamed')
      },
    }
    const client = createClient({ providers: [hanging], clock, retries: 0 })
    const pending = client.complete(request, { attemptTimeoutMs: 50 })
    const error = rejected(await settle(clock, pending))
    expect(error.attempts.map((attempt) => attempt.error?.kind)).toEqual(['timeout'])
    expect(heard).toHaveLength(1)
    expect(isUnderstudyError(heard[0], 'timeout')).toBe(true)
    const late: unknown[] = []
    seen?.onAbort?.((reason) => late.push(reason))
    expect(late).toEqual(heard)
    expect(seen?.signal.aborted).toBe(true)
    expect(seen?.signal.reason).toBe(heard[0])
  })
})

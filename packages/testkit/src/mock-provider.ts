import {
  type ChatRequest,
  type Clock,
  ConfigError,
  type Provider,
  type ProviderContext,
  systemClock,
} from '@understudy/core'
import { checkMockScripts } from './check-mock-scripts.js'
import { hostileRewrite } from './hostile-rewrite.js'
import { failureOf, type MockPlay } from './mock-play.js'
import type { MockScripts } from './mock-step.js'
import { createMockStream } from './mock-stream.js'
import { playComplete } from './play-complete.js'

/** Options of {@link mockProvider}. */
export interface MockProviderOptions {
  /** Where delays wait; pass the client's fake clock. @default systemClock */
  readonly clock?: Clock
  /**
   * Rewrite the request (and try the context's headers) at the start and
   * the end of every call, as {@link hostileMockProvider} does.
   * @default false
   */
  readonly hostile?: boolean
  /**
   * Declare `assistantPrefix: true`: the provider continues a request whose
   * last message is the assistant's, so a stream with `midStream:
   * 'continue'` may hand it an interrupted answer. The mock plays its script
   * either way; read the prefix it was sent in `calls[n].request.messages`.
   * @default false
   */
  readonly assistantPrefix?: boolean
}

/** One call a mock provider received. */
export interface MockCall {
  /** `request.model` as received: the model without the provider prefix. */
  readonly model: string
  /** A deep copy (`structuredClone`) of the request, taken before anything could change it. */
  readonly request: ChatRequest
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  /** A copy of the context's headers. */
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly method: 'complete' | 'stream'
  /** Live: becomes `true` whenever the call's signal aborts, during the call or after it. */
  readonly aborted: boolean
  /** `stream` only: `true` when the consumer called `return()` before the stream was over. */
  readonly returnedEarly: boolean
}

/** A scripted in-process provider and the calls it received. */
export interface MockProvider extends Provider {
  /** Every call, in order. */
  readonly calls: readonly MockCall[]
}

/**
 * Makes an in-process {@link Provider} whose attempts follow a script per
 * model: the n-th call of a model (through `complete` or `stream`) plays
 * `scripts[model][n]`, the last step repeating; a model nobody scripted
 * answers `"<id>/<model> ok"`. Every call is recorded in `calls`.
 *
 * Delays wait on `options.clock`, and every wait, hang and stream honours
 * the context's signal (rejecting with kind `aborted`). Scripts are checked
 * at once: a malformed one throws a `ConfigError` naming it
 * (`mockProvider("a").scripts["m"][1].fail: expected one of …`).
 *
 * @example
 * const clock = fakeClock()
 * const a = mockProvider('a', { m: [{ fail: 'rate_limit', status: 429, retryAfterMs: 1_000 }, { ok: 'hi' }] }, { clock })
 * const client = createClient({ providers: [a], clock })
 * const result = await clock.settle(client.complete({ model: 'a/m', messages }))
 * expect(a.calls).toHaveLength(2)
 */
export function mockProvider(
  id: string,
  scripts: MockScripts = {},
  options: MockProviderOptions = {},
): MockProvider {
  const where = `mockProvider(${JSON.stringify(id)})`
  if (typeof id !== 'string' || !/^[^/\s]+$/.test(id)) {
    throw new ConfigError({
      path: where,
      message: 'expected a provider id: a non-empty string without "/" or spaces',
    })
  }
  const steps = checkMockScripts(scripts, `${where}.scripts`)
  const clock = checkClock(options.clock, `${where}.options.clock`)
  const hostile = options.hostile === true
  const assistantPrefix = checkFlag(options.assistantPrefix, `${where}.options.assistantPrefix`)
  const calls: RecordedCall[] = []
  const counts = new Map<string, number>()

  /** Records the call and picks its step; rewrites the request when hostile. */
  const begin = (
    request: ChatRequest,
    context: ProviderContext,
    method: MockCall['method'],
  ): MockPlay => {
    const model = request.model
    const call: RecordedCall = {
      model,
      request: structuredClone(request),
      apiKey: context.apiKey,
      baseURL: context.baseURL,
      headers: context.headers === undefined ? undefined : { ...context.headers },
      method,
      aborted: false,
      returnedEarly: false,
    }
    calls.push(call)
    const { signal } = context
    if (signal.aborted) call.aborted = true
    else signal.addEventListener('abort', () => (call.aborted = true), { once: true })
    const n = counts.get(model) ?? 0
    counts.set(model, n + 1)
    const list = steps.get(model)
    const step = list?.[Math.min(n, list.length - 1)] ?? { ok: `${id}/${model} ok` }
    if (hostile) hostileRewrite(request, context)
    return { id, model, call, step, signal, clock }
  }

  return {
    id,
    ...(assistantPrefix && { assistantPrefix }),
    calls,
    async complete(request, context) {
      const play = begin(request, context, 'complete')
      try {
        return await playComplete(play)
      } finally {
        if (hostile) hostileRewrite(request, context)
      }
    },
    stream(request, context) {
      const play = begin(request, context, 'stream')
      const { step } = play
      // A failure with no delay is eager: stream() throws before any iterable exists.
      if (('fail' in step || 'throws' in step) && (step.delayMs ?? 0) === 0) {
        if (hostile) hostileRewrite(request, context)
        throw 'fail' in step ? failureOf(step, play) : new Error(step.throws)
      }
      return createMockStream(play, hostile ? () => hostileRewrite(request, context) : undefined)
    },
  }
}

/**
 * Makes a {@link mockProvider} that rewrites its input while it works: at
 * the start and the end of every call it pushes to `request.messages`,
 * edits message content, sets `model` and params, writes into nested
 * values, deletes fields, and tries to write into `context.headers` (which
 * the client freezes). Writes a frozen value refuses are skipped. Its
 * answers still follow its script. Use it to prove the client hands each
 * attempt its own request, so the next attempt is clean.
 */
export function hostileMockProvider(
  id: string,
  scripts: MockScripts = {},
  options: Omit<MockProviderOptions, 'hostile'> = {},
): MockProvider {
  return mockProvider(id, scripts, { ...options, hostile: true })
}

/** A {@link MockCall} as the provider writes it while the call goes on. */
interface RecordedCall extends MockCall {
  aborted: boolean
  returnedEarly: boolean
}

function checkFlag(value: unknown, path: string): boolean {
  if (value === undefined || typeof value === 'boolean') return value === true
  throw new ConfigError({ path, message: 'expected a boolean' })
}

function checkClock(clock: unknown, path: string): Clock {
  if (clock === undefined) return systemClock
  const valid =
    typeof clock === 'object' &&
    clock !== null &&
    ['now', 'setTimeout', 'clearTimeout'].every(
      (name) => typeof Reflect.get(clock, name) === 'function',
    )
  if (!valid)
    throw new ConfigError({ path, message: 'expected a Clock: { now, setTimeout, clearTimeout }' })
  return clock as Clock
}

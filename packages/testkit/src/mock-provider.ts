import {
  type ChatRequest,
  type Clock,
  ConfigError,
  type ErrorKind,
  errorKinds,
  type FinishReason,
  type Provider,
  type ProviderContext,
  type ProviderResponse,
  type ProviderStreamEvent,
  type ReasoningEvent,
  systemClock,
  type TextEvent,
  type ToolCall,
  type ToolCallDeltaEvent,
  UnderstudyError,
  type Usage,
} from '@understudy/core'
import * as z from 'zod'

/**
 * A typed failure: the attempt throws an `UnderstudyError` of kind `fail`
 * with this `status` and `retryAfterMs`, as a real provider does for an HTTP
 * error it has classified.
 */
export interface MockFailure {
  /** The error's `kind`. */
  readonly fail: ErrorKind
  /** The HTTP status the error carries. */
  readonly status?: number
  /** How long the upstream asked to wait, in ms. */
  readonly retryAfterMs?: number
  /** @default `"<id>/<model> failed: <kind>"` */
  readonly message?: string
}

/** A tool call in a scripted answer. */
export interface MockToolCall {
  /** @default `"call_<index>"` */
  readonly id?: string
  readonly name: string
  /** The arguments as JSON text. */
  readonly arguments: string
}

/**
 * Succeed with `ok` as the answer's text (`''` for an answer with tool
 * calls only). `stream()` plays it as reasoning, text, one delta per tool
 * call, then a finish event.
 */
export interface MockSucceedStep {
  readonly ok: string
  readonly toolCalls?: readonly MockToolCall[]
  readonly reasoning?: string
  /** @default `{ inputTokens: 1, outputTokens: 1, totalTokens: 2 }` */
  readonly usage?: Usage
  /**
   * `'content_filter'` makes the 200 a filtered answer, which the client
   * moves to its content-policy chain.
   * @default 'tool_calls' with tool calls, else 'stop'
   */
  readonly finishReason?: FinishReason
  /** @default 200 */
  readonly status?: number
  readonly requestId?: string
  /** Ms to wait on the clock before answering; the signal cuts the wait short. */
  readonly delayMs?: number
}

/**
 * Fail with a typed error ({@link MockFailure}). `stream()` throws it from
 * `stream()` itself (before any iterable exists) unless `delayMs` is set, in
 * which case the first read waits and then rejects.
 */
export interface MockFailStep extends MockFailure {
  /** Ms to wait on the clock before failing. */
  readonly delayMs?: number
}

/**
 * Throw a plain `Error` with this message: an untyped failure, which the
 * client classifies as kind `unknown`. In `stream()`, thrown as
 * {@link MockFailStep} is.
 */
export interface MockThrowStep {
  readonly throws: string
  /** Ms to wait on the clock before throwing. */
  readonly delayMs?: number
}

/**
 * Never answer: the attempt waits until its context signal aborts, then
 * rejects with kind `aborted` (`stream()`: the first read does).
 */
export interface MockHangStep {
  readonly hang: true
}

/** A piece of a scripted stream, optionally after `delayMs` on the clock. */
export type MockChunk =
  /** A text piece; `'Hel'` is `{ type: 'text', text: 'Hel' }`. */
  | string
  | ((TextEvent | ReasoningEvent | ToolCallDeltaEvent) & {
      /** Ms to wait on the clock before this chunk. */
      readonly delayMs?: number
    })

/**
 * Stream `stream`'s chunks, then end as `end` says. `complete()` plays the
 * same chunks (delays included) and answers with what they add up to, or
 * fails as the stream would.
 */
export interface MockStreamStep {
  readonly stream: readonly MockChunk[]
  /**
   * How the stream ends after its chunks: `'finish'` sends the finish event;
   * `'no-terminal'` ends without it (the client's kind `incomplete`); a
   * {@link MockFailure} makes the read after the last chunk reject with it
   * (a failure in the middle of a stream, after `stream.length` chunks).
   * @default 'finish'
   */
  readonly end?: 'finish' | 'no-terminal' | MockFailure
  /** @default 'tool_calls' when a chunk is a tool-call delta, else 'stop' */
  readonly finishReason?: FinishReason
  /** @default `{ inputTokens: 1, outputTokens: 1, totalTokens: 2 }` */
  readonly usage?: Usage
  /** Ms to wait on the clock before the first chunk (time to first token). */
  readonly delayMs?: number
}

/**
 * Fail lazily: `stream()` returns an iterable, and its first `next()`
 * rejects with this typed error (kind `failOnRead`), as an adapter that
 * sends its HTTP request on the first read does. `complete()` fails with it.
 */
export interface MockFailOnReadStep {
  readonly failOnRead: ErrorKind
  readonly status?: number
  readonly retryAfterMs?: number
  /** @default `"<id>/<model> failed: <kind>"` */
  readonly message?: string
  /** Ms to wait on the clock before the first read rejects. */
  readonly delayMs?: number
}

/**
 * What one attempt of a mock model does. Each step has exactly one of the
 * keys `ok`, `fail`, `throws`, `hang`, `stream`, `failOnRead`, which says
 * which step it is.
 */
export type MockStep =
  | MockSucceedStep
  | MockFailStep
  | MockThrowStep
  | MockHangStep
  | MockStreamStep
  | MockFailOnReadStep

/** Steps per model (without the provider prefix): the n-th call of a model plays its n-th step. */
export type MockScripts = Readonly<Record<string, readonly MockStep[]>>

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
  const steps = checkScripts(scripts, `${where}.scripts`)
  const clock = checkClock(options, `${where}.options.clock`)
  const hostile = options.hostile === true
  const calls: RecordedCall[] = []
  const counts = new Map<string, number>()

  /** Records the call and picks its step; rewrites the request when hostile. */
  const begin = (
    request: ChatRequest,
    context: ProviderContext,
    method: MockCall['method'],
  ): Play => {
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
    if (hostile) rewrite(request, context)
    return { id, model, call, step, signal, clock }
  }

  return {
    id,
    calls,
    async complete(request, context) {
      const play = begin(request, context, 'complete')
      try {
        return await playComplete(play)
      } finally {
        if (hostile) rewrite(request, context)
      }
    },
    stream(request, context) {
      const play = begin(request, context, 'stream')
      const { step } = play
      // A failure with no delay is eager: stream() throws before any iterable exists.
      if (('fail' in step || 'throws' in step) && (step.delayMs ?? 0) === 0) {
        if (hostile) rewrite(request, context)
        throw 'fail' in step ? failureOf(step, play) : new Error(step.throws)
      }
      return createStream(play, hostile ? () => rewrite(request, context) : undefined)
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

// ---------------------------------------------------------------------------
// Playing a step

interface RecordedCall extends MockCall {
  aborted: boolean
  returnedEarly: boolean
}

/** Everything one call needs to play its step. */
interface Play {
  readonly id: string
  readonly model: string
  readonly call: RecordedCall
  readonly step: MockStep
  readonly signal: AbortSignal
  readonly clock: Clock
}

/** A chunk as played: an event and the wait before it. */
interface TimedEvent {
  readonly event: TextEvent | ReasoningEvent | ToolCallDeltaEvent
  readonly delayMs: number
}

const defaultUsage: Usage = Object.freeze({ inputTokens: 1, outputTokens: 1, totalTokens: 2 })

async function playComplete(play: Play): Promise<ProviderResponse> {
  const { step } = play
  if ('hang' in step) {
    await wait(Infinity, play)
    throw new Error('unreachable: a hang ends only by abort')
  }
  if (!('stream' in step)) await wait(step.delayMs ?? 0, play)
  if ('fail' in step) throw failureOf(step, play)
  if ('failOnRead' in step) throw failureOf({ ...step, fail: step.failOnRead }, play)
  if ('throws' in step) throw new Error(step.throws)
  if ('ok' in step) {
    const toolCalls = (step.toolCalls ?? []).map(
      (call, index): ToolCall => ({
        id: call.id ?? `call_${index}`,
        name: call.name,
        arguments: call.arguments,
      }),
    )
    return responseOf({
      text: step.ok,
      toolCalls,
      reasoning: step.reasoning,
      finishReason: step.finishReason,
      usage: step.usage,
      status: step.status,
      requestId: step.requestId,
    })
  }
  // A stream step: play its chunks, then answer with what they add up to.
  let text = ''
  let reasoning: string | undefined
  const calls: { id: string | undefined; name: string | undefined; arguments: string }[] = []
  const chunks = chunksOf(step)
  if (chunks.length === 0) await wait(step.delayMs ?? 0, play)
  for (const { event, delayMs } of chunks) {
    await wait(delayMs, play)
    if (event.type === 'text') text += event.text
    else if (event.type === 'reasoning') reasoning = (reasoning ?? '') + event.text
    else {
      const call = calls[event.index] ?? { id: undefined, name: undefined, arguments: '' }
      calls[event.index] = call
      call.id ??= event.id
      call.name ??= event.name
      call.arguments += event.argumentsDelta
    }
  }
  await wait(0, play)
  const end = step.end ?? 'finish'
  if (end === 'no-terminal') throw incompleteOf(play)
  if (end !== 'finish') throw failureOf(end, play)
  const toolCalls = calls.flatMap((call, index): ToolCall[] =>
    call === undefined
      ? []
      : [{ id: call.id ?? `call_${index}`, name: call.name ?? '', arguments: call.arguments }],
  )
  return responseOf({
    text,
    toolCalls,
    reasoning,
    finishReason: step.finishReason,
    usage: step.usage,
    status: undefined,
    requestId: undefined,
  })
}

function responseOf(parts: {
  readonly text: string
  readonly toolCalls: readonly ToolCall[]
  readonly reasoning: string | undefined
  readonly finishReason: FinishReason | undefined
  readonly usage: Usage | undefined
  readonly status: number | undefined
  readonly requestId: string | undefined
}): ProviderResponse {
  const { text, toolCalls } = parts
  return {
    text,
    message:
      toolCalls.length === 0
        ? { role: 'assistant', content: text }
        : { role: 'assistant', content: text, toolCalls: toolCalls.map((call) => ({ ...call })) },
    toolCalls,
    ...(parts.reasoning === undefined ? {} : { reasoning: parts.reasoning }),
    finishReason: parts.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: { ...(parts.usage ?? defaultUsage) },
    status: parts.status ?? 200,
    ...(parts.requestId === undefined ? {} : { requestId: parts.requestId }),
  }
}

/** The step's chunks as events, the step's own delay added to the first. */
function chunksOf(step: MockStreamStep): TimedEvent[] {
  return step.stream.map((chunk, index) => {
    const first = index === 0 ? (step.delayMs ?? 0) : 0
    if (typeof chunk === 'string') {
      return { event: { type: 'text', text: chunk }, delayMs: first }
    }
    const { delayMs = 0, ...event } = chunk
    return { event, delayMs: first + delayMs }
  })
}

/** What `stream()` plays, in order: events to yield, and how the stream ends. */
interface StreamScript {
  readonly events: readonly { readonly event: ProviderStreamEvent; readonly delayMs: number }[]
  /** `'done'`: the iterator is done after the events; an error: the next read rejects with it; `'hang'`: waits for abort. */
  readonly ending: 'done' | 'hang' | { readonly error: Error; readonly delayMs: number }
}

function streamScriptOf(play: Play): StreamScript {
  const { step } = play
  if ('hang' in step) return { events: [], ending: 'hang' }
  if ('failOnRead' in step) {
    return {
      events: [],
      ending: {
        error: failureOf({ ...step, fail: step.failOnRead }, play),
        delayMs: step.delayMs ?? 0,
      },
    }
  }
  if ('fail' in step)
    return { events: [], ending: { error: failureOf(step, play), delayMs: step.delayMs ?? 0 } }
  if ('throws' in step)
    return { events: [], ending: { error: new Error(step.throws), delayMs: step.delayMs ?? 0 } }
  if ('ok' in step) {
    const delayMs = step.delayMs ?? 0
    const events: ProviderStreamEvent[] = []
    if (step.reasoning !== undefined && step.reasoning !== '') {
      events.push({ type: 'reasoning', text: step.reasoning })
    }
    if (step.ok !== '') events.push({ type: 'text', text: step.ok })
    const toolCalls = step.toolCalls ?? []
    toolCalls.forEach((call, index) => {
      events.push({
        type: 'tool-call-delta',
        index,
        id: call.id ?? `call_${index}`,
        name: call.name,
        argumentsDelta: call.arguments,
      })
    })
    events.push({
      type: 'finish',
      finishReason: step.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      usage: { ...(step.usage ?? defaultUsage) },
    })
    return {
      events: events.map((event, index) => ({ event, delayMs: index === 0 ? delayMs : 0 })),
      ending: 'done',
    }
  }
  const chunks = chunksOf(step)
  // With no chunk to carry it, the step's delay goes before its ending.
  const leadingMs = chunks.length === 0 ? (step.delayMs ?? 0) : 0
  const end = step.end ?? 'finish'
  if (end === 'no-terminal') return { events: chunks, ending: 'done' }
  if (end !== 'finish') {
    return { events: chunks, ending: { error: failureOf(end, play), delayMs: leadingMs } }
  }
  const hasToolCalls = chunks.some(({ event }) => event.type === 'tool-call-delta')
  const finish: ProviderStreamEvent = {
    type: 'finish',
    finishReason: step.finishReason ?? (hasToolCalls ? 'tool_calls' : 'stop'),
    usage: { ...(step.usage ?? defaultUsage) },
  }
  return { events: [...chunks, { event: finish, delayMs: leadingMs }], ending: 'done' }
}

/**
 * The iterable of one `stream()` call. Hand-written rather than an async
 * generator so that `return()` and an abort take effect at once, even while
 * a read is waiting on the clock or hanging: a generator queues `return()`
 * behind the pending `next()`.
 */
function createStream(
  play: Play,
  onEnd: (() => void) | undefined,
): AsyncIterableIterator<ProviderStreamEvent> {
  const { events, ending } = streamScriptOf(play)
  const { signal, clock, call } = play
  let index = 0
  let over = false
  let reading = false
  let tail: Promise<unknown> = Promise.resolve()
  /** The read waiting on the clock or on a hang, if any. */
  let waiting: { readonly settle: (outcome: 'returned' | Error) => void } | undefined

  const onAbort = (): void => waiting?.settle(abortedOf(play))
  signal.addEventListener('abort', onAbort, { once: true })

  const close = (): void => {
    if (over) return
    over = true
    signal.removeEventListener('abort', onAbort)
    onEnd?.()
  }

  /** Waits `ms` on the clock (`Infinity`: until abort or return). */
  const pause = (ms: number): Promise<'elapsed' | 'returned'> => {
    if (ms === 0) return Promise.resolve('elapsed')
    return new Promise((resolve, reject) => {
      const timer =
        ms === Infinity
          ? undefined
          : clock.setTimeout(() => {
              waiting = undefined
              resolve('elapsed')
            }, ms)
      waiting = {
        settle: (outcome) => {
          if (timer !== undefined) clock.clearTimeout(timer)
          waiting = undefined
          if (outcome === 'returned') resolve('returned')
          else reject(outcome)
        },
      }
    })
  }

  const fail = (error: Error): never => {
    close()
    throw error
  }

  const done: IteratorResult<ProviderStreamEvent> = Object.freeze({ done: true, value: undefined })

  const read = async (): Promise<IteratorResult<ProviderStreamEvent>> => {
    if (over) return done
    if (signal.aborted) fail(abortedOf(play))
    reading = true
    try {
      const next = events[index]
      if (next !== undefined) {
        index++
        if ((await pause(next.delayMs)) === 'returned') return done
        if (signal.aborted) fail(abortedOf(play))
        return { done: false, value: next.event }
      }
      if (ending === 'done') {
        close()
        return done
      }
      if ((await pause(ending === 'hang' ? Infinity : ending.delayMs)) === 'returned') return done
      return fail(ending === 'hang' ? abortedOf(play) : ending.error)
    } catch (error) {
      // An abort while waiting: the iterator rejects and stops.
      return fail(error as Error)
    } finally {
      reading = false
    }
  }

  const iterator: AsyncIterableIterator<ProviderStreamEvent> = {
    next() {
      // Reads run one after another, as an HTTP body is read.
      const result = tail.then(read)
      tail = result.catch(() => undefined)
      return result
    },
    return() {
      if (!over) {
        const finished = index >= events.length && ending === 'done' && !reading
        if (!finished) call.returnedEarly = true
        close()
        waiting?.settle('returned')
      }
      return Promise.resolve(done)
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}

/**
 * Waits `ms` on the play's clock (`Infinity`: until abort); rejects with
 * kind `aborted` at once when the signal aborts, clearing its timer.
 */
function wait(ms: number, play: Play): Promise<void> {
  const { signal, clock } = play
  if (signal.aborted) return Promise.reject(abortedOf(play))
  if (ms === 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      if (timer !== undefined) clock.clearTimeout(timer)
      reject(abortedOf(play))
    }
    const timer =
      ms === Infinity
        ? undefined
        : clock.setTimeout(() => {
            signal.removeEventListener('abort', onAbort)
            resolve()
          }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function failureOf(failure: MockFailure, play: Play): UnderstudyError {
  const { id, model } = play
  return new UnderstudyError({
    kind: failure.fail,
    message: failure.message ?? `${id}/${model} failed: ${failure.fail}`,
    provider: id,
    model,
    status: failure.status,
    retryAfterMs: failure.retryAfterMs,
  })
}

function abortedOf(play: Play): UnderstudyError {
  return new UnderstudyError({
    kind: 'aborted',
    message: `${play.id}/${play.model} was aborted`,
    provider: play.id,
    model: play.model,
    cause: play.signal.reason,
  })
}

function incompleteOf(play: Play): UnderstudyError {
  return new UnderstudyError({
    kind: 'incomplete',
    message: `${play.id}/${play.model} ended its stream without a finish event`,
    provider: play.id,
    model: play.model,
  })
}

// ---------------------------------------------------------------------------
// The hostile rewrite

/** Text the hostile provider writes, so a test can search for it. */
const hostileMark = 'rewritten by hostileMockProvider'

/**
 * Writes everywhere a careless provider might: top-level fields, nested
 * arrays and objects, deletions, the context's headers. Each write stands
 * alone, so a frozen value that refuses one does not stop the others.
 */
function rewrite(request: ChatRequest, context: ProviderContext): void {
  const target = request as unknown as Record<string, unknown>
  const writes: (() => void)[] = [
    () => {
      target.model = 'hostile/rewritten'
    },
    () => {
      ;(request.messages as unknown[]).push({ role: 'user', content: hostileMark })
    },
    () => {
      for (const message of request.messages as unknown as Record<string, unknown>[]) {
        const { content } = message
        if (Array.isArray(content)) {
          for (const part of content as Record<string, unknown>[]) {
            if (part.type === 'text') part.text = hostileMark
          }
        } else {
          message.content = hostileMark
        }
        const toolCalls = message.toolCalls
        if (Array.isArray(toolCalls)) {
          for (const call of toolCalls as Record<string, unknown>[])
            call.arguments = '{"hostile":true}'
        }
      }
    },
    () => {
      ;(request.messages as unknown[]).splice(0, 1)
    },
    () => {
      for (const tool of (request.tools ?? []) as unknown as Record<
        string,
        Record<string, unknown>
      >[]) {
        if (tool.parameters !== undefined) tool.parameters.hostile = true
      }
    },
    () => {
      for (const options of Object.values(request.providerOptions ?? {}) as Record<
        string,
        unknown
      >[]) {
        options.hostile = true
      }
    },
    () => {
      ;(request.stop as string[] | undefined)?.push(hostileMark)
    },
    () => {
      target.temperature = 1.99
      target.maxTokens = 1
      target.seed = 666
      target.user = hostileMark
    },
    () => {
      delete target.tools
      delete target.toolChoice
      delete target.responseFormat
      delete target.stop
      delete target.topP
    },
    () => {
      const headers = context.headers as Record<string, string> | undefined
      if (headers === undefined) return
      headers['x-hostile'] = hostileMark
      for (const name of Object.keys(headers)) if (name !== 'x-hostile') delete headers[name]
    },
  ]
  for (const write of writes) {
    try {
      write()
    } catch {
      // A frozen value refused the write: that is the protection working.
    }
  }
}

// ---------------------------------------------------------------------------
// Checking scripts

const stepKeys = ['ok', 'fail', 'throws', 'hang', 'stream', 'failOnRead'] as const
const finishReasons = ['stop', 'length', 'tool_calls', 'content_filter', 'other'] as const

const quoted = (values: readonly string[]): string => values.map((value) => `"${value}"`).join(', ')
const ms = z.number().min(0)
const kind = z.enum(errorKinds as readonly [ErrorKind, ...ErrorKind[]], {
  error: `expected one of ${quoted(errorKinds)}`,
})
const failureFields = {
  status: z.number().int().min(100).max(599).optional(),
  retryAfterMs: ms.optional(),
  message: z.string().optional(),
}
const count = z.number().int().min(0).optional()
const usage = z.strictObject({
  inputTokens: count,
  outputTokens: count,
  totalTokens: count,
  cachedInputTokens: count,
  reasoningTokens: count,
})
const finishReason = z.enum(finishReasons, { error: `expected one of ${quoted(finishReasons)}` })

const chunkTypes = ['text', 'reasoning', 'tool-call-delta'] as const
const chunk = z.union(
  [
    z.string(),
    z.discriminatedUnion(
      'type',
      [
        z.strictObject({ type: z.literal('text'), text: z.string(), delayMs: ms.optional() }),
        z.strictObject({ type: z.literal('reasoning'), text: z.string(), delayMs: ms.optional() }),
        z.strictObject({
          type: z.literal('tool-call-delta'),
          index: z.number().int().min(0),
          id: z.string().optional(),
          name: z.string().optional(),
          argumentsDelta: z.string(),
          delayMs: ms.optional(),
        }),
      ],
      { error: `expected a chunk type, one of ${quoted(chunkTypes)}` },
    ),
  ],
  { error: 'expected a text string or a chunk object ({ type: "text", text })' },
)

const stepSchemas: Readonly<Record<(typeof stepKeys)[number], z.ZodType>> = {
  ok: z.strictObject({
    ok: z.string(),
    toolCalls: z
      .array(z.strictObject({ id: z.string().optional(), name: z.string(), arguments: z.string() }))
      .optional(),
    reasoning: z.string().optional(),
    usage: usage.optional(),
    finishReason: finishReason.optional(),
    status: z.number().int().min(100).max(599).optional(),
    requestId: z.string().optional(),
    delayMs: ms.optional(),
  }),
  fail: z.strictObject({ fail: kind, ...failureFields, delayMs: ms.optional() }),
  throws: z.strictObject({ throws: z.string(), delayMs: ms.optional() }),
  hang: z.strictObject({ hang: z.literal(true, { error: 'expected true' }) }),
  stream: z.strictObject({
    stream: z.array(chunk),
    end: z
      .union(
        [z.enum(['finish', 'no-terminal']), z.strictObject({ fail: kind, ...failureFields })],
        {
          error:
            'expected "finish", "no-terminal" or a failure { fail: kind, status?, retryAfterMs? }',
        },
      )
      .optional(),
    finishReason: finishReason.optional(),
    usage: usage.optional(),
    delayMs: ms.optional(),
  }),
  failOnRead: z.strictObject({ failOnRead: kind, ...failureFields, delayMs: ms.optional() }),
}

function checkScripts(scripts: unknown, path: string): ReadonlyMap<string, readonly MockStep[]> {
  if (typeof scripts !== 'object' || scripts === null || Array.isArray(scripts)) {
    throw new ConfigError({ path, message: 'expected an object of steps per model' })
  }
  const checked = new Map<string, readonly MockStep[]>()
  for (const [model, list] of Object.entries(scripts)) {
    const at = `${path}[${JSON.stringify(model)}]`
    if (!Array.isArray(list) || list.length === 0) {
      throw new ConfigError({ path: at, message: 'expected a non-empty array of steps' })
    }
    checked.set(
      model,
      Object.freeze(list.map((step: unknown, index) => checkStep(step, `${at}[${index}]`))),
    )
  }
  return checked
}

function checkStep(step: unknown, path: string): MockStep {
  if (typeof step !== 'object' || step === null || Array.isArray(step)) {
    throw new ConfigError({
      path,
      message: `expected a step object with one of ${quoted(stepKeys)}`,
    })
  }
  const keys = stepKeys.filter((key) => key in step)
  const key = keys[0]
  if (key === undefined) {
    throw new ConfigError({ path, message: `expected a step with one of ${quoted(stepKeys)}` })
  }
  if (keys.length > 1) {
    throw new ConfigError({
      path,
      message: `a step takes one of ${quoted(stepKeys)}; found ${quoted(keys)}`,
    })
  }
  const result = stepSchemas[key].safeParse(step)
  if (result.success) return deepFreeze(result.data) as MockStep
  const issue = innermost(result.error.issues[0])
  throw new ConfigError({ path: `${path}${formatPath(issue.path)}`, message: issue.message })
}

function checkClock(options: MockProviderOptions, path: string): Clock {
  const clock: unknown = options.clock
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

interface Issue {
  readonly path: readonly PropertyKey[]
  readonly message: string
}

/**
 * The issue to report: inside a union, the branch the value was meant for
 * (the one that got past the value's own type), so the message names the
 * field that is wrong rather than "invalid input".
 */
function innermost(issue: z.core.$ZodIssue | undefined): Issue {
  if (issue === undefined) return { path: [], message: 'invalid step' }
  if (issue.code === 'invalid_union') {
    const meant = issue.errors
      .map((branch) => branch[0])
      .find(
        (inner) =>
          inner !== undefined &&
          (inner.path.length > 0 ||
            (inner.code !== 'invalid_type' && inner.code !== 'invalid_value')),
      )
    if (meant !== undefined) {
      const inner = innermost(meant)
      return { path: [...issue.path, ...inner.path], message: inner.message }
    }
  }
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${quoted(issue.keys)}`
      : issue.message.replace(/^Invalid input: /, '')
  return { path: issue.path, message }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key) =>
      typeof key === 'number'
        ? `[${key}]`
        : typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)
          ? `.${key}`
          : `[${JSON.stringify(String(key))}]`,
    )
    .join('')
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}

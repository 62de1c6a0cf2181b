import type { ProviderStreamEvent } from '@understudy/core'
import { abortedOf, chunksOf, defaultUsage, failureOf, type MockPlay } from './mock-play.js'

/**
 * The iterable of one `stream()` call. Hand-written rather than an async
 * generator so that `return()` and an abort take effect at once, even while
 * a read is waiting on the clock or hanging: a generator queues `return()`
 * behind the pending `next()`.
 *
 * `onEnd` runs once, when the stream is over: done, failed or returned.
 */
export function createMockStream(
  play: MockPlay,
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

/** What `stream()` plays, in order: events to yield, and how the stream ends. */
interface StreamScript {
  readonly events: readonly { readonly event: ProviderStreamEvent; readonly delayMs: number }[]
  /** `'done'`: the iterator is done after the events; an error: the next read rejects with it; `'hang'`: waits for abort. */
  readonly ending: 'done' | 'hang' | { readonly error: Error; readonly delayMs: number }
}

function streamScriptOf(play: MockPlay): StreamScript {
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

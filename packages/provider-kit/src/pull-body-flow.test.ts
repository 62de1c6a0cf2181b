import { isUnderstudyError, UnderstudyError } from '@understudy/core'
import type { FakeServer } from '@understudy/testkit'
import { describe, expect, it } from 'vitest'
import { type BodyFlow, flowBody, type HttpResponse, sendRequest } from './send-request.js'
import { chatRequest, startFake } from './test-support/send-setup.js'
import { waitFor } from './test-support/wait-for.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A response made by hand (not by `sendRequest`), whose body yields `pieces` and records what happened. */
function handMade(pieces: readonly string[], failWith?: unknown) {
  const log = { pulled: 0, returned: false, cancelled: false }
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for (const piece of pieces) {
        log.pulled += 1
        yield encoder.encode(piece)
      }
      if (failWith !== undefined) throw failWith
    } finally {
      log.returned = true
    }
  }
  const response: HttpResponse = {
    status: 200,
    headers: {},
    body: body(),
    text: () => Promise.reject(new Error('not read this way')),
    json: () => Promise.reject(new Error('not read this way')),
    cancel: () => {
      log.cancelled = true
      return Promise.resolve()
    },
  }
  return { response, log }
}

/** Flows `response` into a record of what the listener heard; pauses once, after `pauseAfter` chunks. */
function listen(response: HttpResponse, pauseAfter = Number.POSITIVE_INFINITY) {
  const heard: string[] = []
  const state: { flow?: BodyFlow; ended: boolean; error?: UnderstudyError } = { ended: false }
  state.flow = flowBody(response, {
    chunk(bytes) {
      heard.push(decoder.decode(bytes))
      if (heard.length === pauseAfter) state.flow?.pause()
    },
    end() {
      state.ended = true
    },
    error(error) {
      state.error = error
    },
  })
  return { heard, state }
}

/** A streamed chat request to `server`, sent with `fetch`. */
function streamOverFetch(server: FakeServer): Promise<HttpResponse> {
  const body = JSON.stringify({
    model: 'm',
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  })
  return sendRequest(chatRequest(server, 'm', { transport: 'fetch', body }))
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('flowBody over a response it did not make', () => {
  it('hands every chunk over in order, then the end', async () => {
    const { response } = handMade(['a', 'b', 'c'])
    const { heard, state } = listen(response)
    await settle()
    expect(heard).toEqual(['a', 'b', 'c'])
    expect(state.ended).toBe(true)
  })

  it('pulls nothing more while paused, and goes on when resumed', async () => {
    const { response, log } = handMade(['a', 'b', 'c'])
    const { heard, state } = listen(response, 1)
    await settle()
    expect(heard).toEqual(['a'])
    expect(log.pulled).toBe(1)
    state.flow?.resume()
    await settle()
    expect(heard).toEqual(['a', 'b', 'c'])
    expect(state.ended).toBe(true)
  })

  it('closes both the iterator and the response when cancelled, and tells the listener nothing more', async () => {
    const { response, log } = handMade(['a', 'b', 'c'])
    const { heard, state } = listen(response, 1)
    await settle()
    await state.flow?.cancel()
    state.flow?.resume()
    await settle()
    expect(log.returned).toBe(true)
    expect(log.cancelled).toBe(true)
    expect(heard).toEqual(['a'])
    expect(state.ended).toBe(false)
  })

  it('gives a failed read as kind unknown, or as the typed error it already is', async () => {
    const plain = listen(handMade(['a'], new Error('socket gone')).response)
    const typed = new UnderstudyError({ kind: 'network', message: 'reset' })
    const passed = listen(handMade(['a'], typed).response)
    await settle()
    expect(plain.heard).toEqual(['a'])
    expect(plain.state.error?.kind).toBe('unknown')
    expect(plain.state.error?.cause).toBeInstanceOf(Error)
    expect(passed.state.error).toBe(typed)
  })
})

describe('flowBody over the fetch transport', () => {
  it('reads a streamed body to its end through pauses, in order', async () => {
    const server = await startFake({ respond: { chunks: ['one', 'two', 'three'] } })
    const response = await streamOverFetch(server)
    const { heard, state } = listen(response, 1)
    // Bounded by time, not by event-loop turns: how many turns a socket's
    // data takes to arrive depends on what else the process is doing.
    await waitFor(() => {
      state.flow?.resume()
      return state.ended
    })
    expect(state.ended).toBe(true)
    const text = heard.join('')
    expect(text.indexOf('one')).toBeLessThan(text.indexOf('two'))
    expect(text.indexOf('two')).toBeLessThan(text.indexOf('three'))
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
  })

  it('fails with a typed error when the connection drops mid-body', async () => {
    const server = await startFake({ respond: { fault: 'drop-mid-stream', afterEvents: 2 } })
    const response = await streamOverFetch(server)
    const { state } = listen(response)
    await waitFor(() => state.error !== undefined || state.ended)
    expect(state.ended).toBe(false)
    expect(isUnderstudyError(state.error) && state.error.kind).toBe('network')
  })
})

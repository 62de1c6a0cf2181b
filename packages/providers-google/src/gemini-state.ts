import type { JsonValue } from '@understudy/core'

/**
 * The thought signatures of one Gemini answer, kept on the assistant turn
 * as `providerState.data` so the same origin gets them back on the next
 * turn (Gemini 3 rejects a function call of its own sent back without its
 * signature). Where each signature sat: on a thought part (kept with its
 * text, to be sent back as that part), on the answer's text, or on the
 * function call of the same index in `toolCalls`.
 */
export interface GeminiSignatures {
  readonly thoughts: readonly { readonly text: string; readonly signature: string }[]
  readonly text: string | undefined
  /** By tool-call index; `null` for a call that carried none. */
  readonly calls: readonly (string | null)[]
}

/**
 * What Google documents for a function call whose signature cannot be sent
 * (history written by another model, key or vendor): it tells Gemini 3 to
 * skip the check rather than answer 400 "Function call is missing a
 * thought_signature". See https://ai.google.dev/gemini-api/docs/thought-signatures.
 */
export const skipSignature = 'skip_thought_signature_validator'

/** Collects the signatures of an answer as its parts are read. */
export class SignatureCollector {
  readonly #thoughts: { text: string; signature: string }[] = []
  #text: string | undefined
  readonly #calls: (string | null)[] = []
  #any = false

  /** A thought part's signature, with the thought's text. */
  thought(text: string, signature: string): void {
    this.#thoughts.push({ text, signature })
    this.#any = true
  }

  /** A signature on a text part: the last one wins (a stream may sign its final text part). */
  text(signature: string): void {
    this.#text = signature
    this.#any = true
  }

  /** The signature (or none) of the tool call at `index`. */
  call(index: number, signature: string | undefined): void {
    while (this.#calls.length < index) this.#calls.push(null)
    this.#calls[index] = signature ?? null
    if (signature !== undefined) this.#any = true
  }

  /** The state's `data`, or `undefined` when the answer was signed nowhere. */
  data(): JsonValue | undefined {
    if (!this.#any) return undefined
    const data: { thoughts?: JsonValue; text?: string; calls?: JsonValue } = {}
    if (this.#thoughts.length > 0) data.thoughts = this.#thoughts
    if (this.#text !== undefined) data.text = this.#text
    if (this.#calls.some((call) => call !== null)) data.calls = this.#calls
    return data
  }
}

/**
 * The signatures in a turn's replayable `data`, read defensively: the
 * history is the caller's, and state it edited is dropped, not sent.
 */
export function readSignatures(data: JsonValue | undefined): GeminiSignatures | undefined {
  if (!isRecord(data)) return undefined
  const thoughts = Array.isArray(data.thoughts)
    ? data.thoughts.flatMap((thought) =>
        isRecord(thought) &&
        typeof thought.text === 'string' &&
        typeof thought.signature === 'string'
          ? [{ text: thought.text, signature: thought.signature }]
          : [],
      )
    : []
  const text = typeof data.text === 'string' ? data.text : undefined
  const calls = Array.isArray(data.calls)
    ? data.calls.map((call) => (typeof call === 'string' ? call : null))
    : []
  return { thoughts, text, calls }
}

function isRecord(value: unknown): value is { readonly [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

import type { ToolCall } from './chat-request.js'
import type { Usage } from './chat-response.js'
import type { PartialOutput } from './errors.js'
import { frozenCopy } from './frozen-copy.js'
import type { ProviderStreamEvent } from './stream-event.js'

/**
 * What a stream has delivered so far, added up event by event: the text,
 * the reasoning, and tool calls assembled from their deltas by `index`.
 * Strings are joined once, when asked for, not at every delta.
 */
export class PartialBuilder {
  #text: string[] = []
  #reasoning: string[] = []
  #calls: { id: string; name: string; arguments: string[] }[] = []

  /** Adds a content event; a finish event is not content and is ignored here. */
  add(event: ProviderStreamEvent): void {
    switch (event.type) {
      case 'text':
        this.#text.push(event.text)
        break
      case 'reasoning':
        this.#reasoning.push(event.text)
        break
      case 'tool-call-delta': {
        let call = this.#calls[event.index]
        if (call === undefined) {
          call = { id: '', name: '', arguments: [] }
          this.#calls[event.index] = call
        }
        if (event.id !== undefined && event.id !== '') call.id = event.id
        if (event.name !== undefined && event.name !== '') call.name = event.name
        call.arguments.push(event.argumentsDelta)
        break
      }
      default:
        break
    }
  }

  get hasToolCalls(): boolean {
    return this.#calls.length > 0
  }

  text(): string {
    if (this.#text.length > 1) this.#text = [this.#text.join('')]
    return this.#text[0] ?? ''
  }

  reasoning(): string | undefined {
    if (this.#reasoning.length === 0) return undefined
    if (this.#reasoning.length > 1) this.#reasoning = [this.#reasoning.join('')]
    return this.#reasoning[0]
  }

  /** The tool calls, in index order; an index no delta named is left out. */
  toolCalls(): readonly ToolCall[] {
    const calls: ToolCall[] = []
    for (const call of this.#calls) {
      if (call === undefined) continue
      calls.push(
        Object.freeze({ id: call.id, name: call.name, arguments: call.arguments.join('') }),
      )
    }
    return Object.freeze(calls)
  }

  /** The partial output as an error carries it. */
  snapshot(usage: Usage): PartialOutput {
    const reasoning = this.reasoning()
    return Object.freeze({
      text: this.text(),
      ...(reasoning !== undefined && { reasoning }),
      toolCalls: this.toolCalls(),
      usage: frozenCopy(usage),
    })
  }
}

/**
 * Whether `event` is content, which commits the stream to its target: a
 * non-empty text or reasoning piece, or a tool-call delta that says anything.
 * A role-only or empty delta is not.
 */
export function isContent(event: ProviderStreamEvent): boolean {
  switch (event.type) {
    case 'text':
    case 'reasoning':
      return typeof event.text === 'string' && event.text !== ''
    case 'tool-call-delta':
      return (
        typeof event.index === 'number' &&
        ((typeof event.argumentsDelta === 'string' && event.argumentsDelta !== '') ||
          event.name !== undefined ||
          event.id !== undefined)
      )
    default:
      return false
  }
}

import type { PlanEntry } from './build-plan.js'
import type { UnderstudyError } from './errors.js'
import type { ProviderContext } from './provider.js'

/**
 * The context of one attempt. Its signal is made on first read: an
 * AbortSignal costs microseconds in Node, which a provider that never reads
 * it (or hears the abort through `onAbort`) should not pay. A class, not a
 * literal with a getter, which V8 builds hundreds of times slower.
 */
export class AttemptContext implements ProviderContext {
  readonly apiKey: string | undefined
  readonly baseURL: string | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  readonly deadline: number
  #controller: AbortController | undefined
  #reason: UnderstudyError | undefined
  #listeners: ((reason: unknown) => void)[] | undefined

  constructor(entry: PlanEntry, deadline: number) {
    this.apiKey = entry.apiKey
    this.baseURL = entry.baseURL
    this.headers = entry.headers
    this.deadline = deadline
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#reason !== undefined) {
      listener(this.#reason)
      return noop
    }
    this.#listeners ??= []
    const listeners = this.#listeners
    listeners.push(listener)
    return () => {
      const at = listeners.indexOf(listener)
      if (at !== -1) listeners.splice(at, 1)
    }
  }

  abort(reason: UnderstudyError): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#controller?.abort(reason)
    const listeners = this.#listeners
    if (listeners === undefined) return
    this.#listeners = undefined
    for (const listener of listeners) {
      try {
        listener(reason)
      } catch {
        // A listener that fails must not stop the abort reaching the others,
        // nor escape as an uncaught exception: the attempt is over either way.
      }
    }
  }
}

function noop(): void {}

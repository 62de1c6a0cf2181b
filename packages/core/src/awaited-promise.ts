/**
 * A promise that tells its owner the first time anyone waits on it (`await`,
 * `then`, `catch`, `finally`, `Promise.all`…), so that work can start only
 * when its result is wanted: a stream's `response` reads the stream to its
 * end when awaited, not when merely taken.
 *
 * Promises derived from it (`then`'s result) are plain promises.
 */
export class AwaitedPromise<T> extends Promise<T> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise
  }

  #onAwait: (() => void) | undefined

  /** Calls `hook` once, at the first wait on this promise. */
  onFirstAwait(hook: () => void): void {
    this.#onAwait = hook
  }

  // biome-ignore lint/suspicious/noThenProperty: a Promise subclass hears every wait through `then`.
  override then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    const hook = this.#onAwait
    if (hook !== undefined) {
      this.#onAwait = undefined
      hook()
    }
    return super.then(onFulfilled, onRejected)
  }
}

/**
 * A provider's request URLs, each joined once from its base URL and path
 * and then handed out as the same string. A URL joined anew on every call
 * is a new string, which the transport's cache of split URLs must flatten
 * and hash before it can find it: in a profile of the call row that lookup
 * was a fifth of provider-kit's own time (Node 24, 64 in flight). A string
 * handed out again carries its hash. Bounded: past {@link maxURLs} it starts
 * over, so ever-new paths cost memory for none of them.
 */
export class RequestURLs {
  readonly #byBase = new Map<string, Map<string, string>>()
  #size = 0

  /** `base` and `path` joined, with exactly one `/` between them when `path` lacks its own. */
  join(base: string, path: string): string {
    const known = this.#byBase.get(base)?.get(path)
    if (known !== undefined) return known
    const url = path.startsWith('/') ? base + path : `${base}/${path}`
    if (this.#size >= maxURLs) {
      this.#byBase.clear()
      this.#size = 0
    }
    let byPath = this.#byBase.get(base)
    if (byPath === undefined) {
      byPath = new Map()
      this.#byBase.set(base, byPath)
    }
    byPath.set(path, url)
    this.#size += 1
    return url
  }
}

const maxURLs = 256

import type { FakeServer } from './fake-server.js'

/** What one request that reached an upstream carried, as the regression suite checks it. */
export interface ObservedRequest {
  /** The model the request named. */
  readonly model: string | undefined
  /** Its headers (names in lower case). */
  readonly headers: Readonly<Record<string, string>>
  /**
   * Every value that could carry a credential: header values, query values,
   * and the key an in-process provider was handed.
   */
  readonly credentials: readonly string[]
}

/**
 * One upstream of a chain: the target it serves, what it must receive, and
 * what it did receive. The regression suite reads these to tell which
 * credentials went where.
 */
export interface Upstream {
  /** The target as the chain names it: `"openai/gpt-4o-mini"`. */
  readonly target: string
  /** The model the upstream must see. @default the part of `target` after the first slash */
  readonly model?: string
  /** The key it must receive; no other upstream's key may reach it. */
  readonly apiKey?: string
  /** Headers it must receive with these values. */
  readonly headers?: Readonly<Record<string, string>>
  /** Every request it received so far, in order. */
  requests(): readonly ObservedRequest[]
}

/** What an upstream is expected to receive. */
export interface UpstreamExpectation {
  readonly target: string
  readonly model?: string
  readonly apiKey?: string
  readonly headers?: Readonly<Record<string, string>>
  /**
   * For an in-process provider: the base URL the target sets, which tells
   * its calls from those of another target with the same model.
   */
  readonly baseURL?: string
}

/** The upstream behind a fake server: what its request log shows. */
export function serverUpstream(
  server: Pick<FakeServer, 'requests'>,
  expectation: UpstreamExpectation,
): Upstream {
  return {
    ...expectation,
    requests: () =>
      server.requests.map((request) => ({
        model: request.model,
        headers: request.headers,
        credentials: [...Object.values(request.headers), ...Object.values(request.query)],
      })),
  }
}

/** What the regression suite reads of an in-process provider's record of calls. */
export interface RecordedCalls {
  readonly calls: readonly {
    readonly model: string
    readonly apiKey: string | undefined
    readonly baseURL: string | undefined
    readonly headers: Readonly<Record<string, string>> | undefined
  }[]
}

/**
 * The upstream behind an in-process provider (a `mockProvider`): the calls
 * it recorded for `expectation.target`'s model and base URL.
 */
export function mockUpstream(provider: RecordedCalls, expectation: UpstreamExpectation): Upstream {
  const model = expectation.model ?? modelOf(expectation.target)
  return {
    ...expectation,
    requests: () =>
      provider.calls
        .filter((call) => call.model === model && call.baseURL === expectation.baseURL)
        .map((call) => ({
          model: call.model,
          headers: call.headers ?? {},
          credentials: [
            ...(call.apiKey === undefined ? [] : [call.apiKey]),
            ...(call.baseURL === undefined ? [] : [call.baseURL]),
            ...Object.values(call.headers ?? {}),
          ],
        })),
  }
}

/** The model of `"provider/model"`: everything after the first slash. */
export function modelOf(target: string): string {
  return target.slice(target.indexOf('/') + 1)
}

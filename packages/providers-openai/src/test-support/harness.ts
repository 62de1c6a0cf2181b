import { isUnderstudyError, type ProviderContext } from '@understudy/core'
import { type FakeServer, startFakeOpenAI } from '@understudy/testkit'
import { expect } from 'vitest'
import {
  closedAtEnd,
  context as sharedContext,
  thrownBy,
} from '../../../../test-support/provider-harness.js'

export { collect, env, rejection, thrownBy } from '../../../../test-support/provider-harness.js'

/** A provider context as the client would make it, with `overrides`. */
export const context: (overrides?: Partial<ProviderContext>) => ProviderContext = sharedContext

/** A fake OpenAI server on 127.0.0.1, closed when the test ends. */
export function server(): Promise<FakeServer> {
  return closedAtEnd(startFakeOpenAI())
}

/** The config error `make` throws, checked to be one. */
export function configErrorOf(make: () => unknown): unknown {
  const error = thrownBy(make)
  expect(isUnderstudyError(error, 'config')).toBe(true)
  return error
}

import { fc, test } from '@fast-check/vitest'
import { errorKinds } from '@understudy/core'
import { describe, expect, it } from 'vitest'
import { errorFromResponse } from './http-error.js'
import { kindFromStatus } from './status-kind.js'

describe('kindFromStatus', () => {
  it.each([
    [400, 'invalid_request'],
    [413, 'invalid_request'],
    [422, 'invalid_request'],
    [418, 'invalid_request'],
    [401, 'auth'],
    [402, 'quota'],
    [403, 'auth'],
    [404, 'not_found'],
    [408, 'timeout'],
    [409, 'server'],
    [429, 'rate_limit'],
    [500, 'server'],
    [502, 'server'],
    [504, 'server'],
    [520, 'server'],
    [503, 'overloaded'],
    [529, 'overloaded'],
    [302, 'unknown'],
    [200, 'unknown'],
  ] as const)('maps HTTP %i to kind %s', (status, kind) => {
    expect(kindFromStatus(status)).toBe(kind)
  })

  test.prop([fc.integer({ min: 100, max: 599 })])(
    'gives every status one of the kinds an attempt can have, and a 4xx or 5xx never unknown',
    (status) => {
      const kind = kindFromStatus(status)
      expect(errorKinds).toContain(kind)
      expect(['all_failed', 'config', 'aborted', 'deadline']).not.toContain(kind)
      expect(kind === 'unknown').toBe(status < 400)
    },
  )

  it('is the kind errorFromResponse gives a 402 whose body names nothing', () => {
    const error = errorFromResponse({
      provider: 'acme',
      model: 'large-1',
      status: 402,
      headers: {},
      body: { error: { message: 'Payment required.' } },
      now: 0,
      secrets: [],
    })
    expect(error.kind).toBe('quota')
    expect(error.status).toBe(402)
  })
})

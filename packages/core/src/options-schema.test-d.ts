import { describe, expectTypeOf, it } from 'vitest'
import type * as z from 'zod'
import type { ChatParams } from './chat-request.js'
import type { Hooks } from './hooks.js'
import type { BackoffOptions, CallOptions, ClientOptions, HealthOptions } from './options.js'
import {
  type backoffSchema,
  callOptionsSchema,
  type chatParamsSchema,
  clientOptionsSchema,
  type healthOptionsSchema,
  type hooksSchema,
  type policySchema,
  type targetObjectSchema,
  type targetSchema,
  type targetStringSchema,
} from './options-schema.js'
import { parseConfig } from './parse-config.js'
import type { PolicyOverrides } from './policy.js'
import type { Target, TargetObject } from './target.js'

describe('callOptionsSchema', () => {
  it('takes and gives CallOptions', () => {
    expectTypeOf<z.input<typeof callOptionsSchema>>().toEqualTypeOf<CallOptions>()
    expectTypeOf<z.output<typeof callOptionsSchema>>().toEqualTypeOf<CallOptions>()
  })

  it('makes parseConfig give CallOptions', () => {
    expectTypeOf(parseConfig(callOptionsSchema, {})).toEqualTypeOf<CallOptions>()
    expectTypeOf(parseConfig(clientOptionsSchema, {})).toEqualTypeOf<ClientOptions>()
  })
})

describe('clientOptionsSchema', () => {
  it('takes and gives ClientOptions', () => {
    expectTypeOf<z.input<typeof clientOptionsSchema>>().toEqualTypeOf<ClientOptions>()
    expectTypeOf<z.output<typeof clientOptionsSchema>>().toEqualTypeOf<ClientOptions>()
  })
})

describe('targetSchema', () => {
  it('takes and gives Target', () => {
    expectTypeOf<z.input<typeof targetSchema>>().toEqualTypeOf<Target>()
    expectTypeOf<z.output<typeof targetSchema>>().toEqualTypeOf<Target>()
  })

  it('is the union of the string and object schemas', () => {
    expectTypeOf<z.output<typeof targetObjectSchema>>().toEqualTypeOf<TargetObject>()
    expectTypeOf<z.output<typeof targetStringSchema>>().toEqualTypeOf<string>()
    expectTypeOf<
      z.output<typeof targetStringSchema> | z.output<typeof targetObjectSchema>
    >().toEqualTypeOf<z.output<typeof targetSchema>>()
  })
})

describe('the nested option schemas', () => {
  it('take and give the types the options are written with', () => {
    expectTypeOf<z.input<typeof hooksSchema>>().toEqualTypeOf<Hooks>()
    expectTypeOf<z.input<typeof policySchema>>().toEqualTypeOf<PolicyOverrides>()
    expectTypeOf<z.input<typeof backoffSchema>>().toEqualTypeOf<BackoffOptions>()
    expectTypeOf<z.input<typeof healthOptionsSchema>>().toEqualTypeOf<HealthOptions>()
    expectTypeOf<z.input<typeof chatParamsSchema>>().toEqualTypeOf<ChatParams>()
    expectTypeOf<z.input<typeof targetObjectSchema>>().toEqualTypeOf<TargetObject>()
    expectTypeOf<z.output<typeof hooksSchema>>().toEqualTypeOf<Hooks>()
    expectTypeOf<z.output<typeof policySchema>>().toEqualTypeOf<PolicyOverrides>()
    expectTypeOf<z.output<typeof backoffSchema>>().toEqualTypeOf<BackoffOptions>()
    expectTypeOf<z.output<typeof healthOptionsSchema>>().toEqualTypeOf<HealthOptions>()
    expectTypeOf<z.output<typeof chatParamsSchema>>().toEqualTypeOf<ChatParams>()
  })

  it('match the fields of CallOptions and ClientOptions that hold them', () => {
    expectTypeOf<CallOptions['fallbacks']>().toEqualTypeOf<
      readonly z.output<typeof targetSchema>[] | undefined
    >()
    expectTypeOf<CallOptions['contextWindowFallbacks']>().toEqualTypeOf<CallOptions['fallbacks']>()
    expectTypeOf<CallOptions['contentPolicyFallbacks']>().toEqualTypeOf<CallOptions['fallbacks']>()
    expectTypeOf<CallOptions['hooks']>().toEqualTypeOf<z.output<typeof hooksSchema> | undefined>()
    expectTypeOf<CallOptions['policy']>().toEqualTypeOf<z.output<typeof policySchema> | undefined>()
    expectTypeOf<CallOptions['backoff']>().toEqualTypeOf<
      z.output<typeof backoffSchema> | undefined
    >()
    expectTypeOf<ClientOptions['health']>().toEqualTypeOf<
      z.output<typeof healthOptionsSchema> | undefined
    >()
    expectTypeOf<TargetObject['params']>().toEqualTypeOf<
      z.output<typeof chatParamsSchema> | undefined
    >()
  })
})

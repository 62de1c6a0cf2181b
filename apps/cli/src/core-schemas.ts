import { callOptionsSchema, targetSchema } from '@understudy/core'
import * as z from 'zod'

/**
 * The parts of core's exported schemas a config file is built from. Core
 * exports whole schemas (typed as what they parse into); a file takes a
 * subset of the call options and adds what only a file needs, so the parts
 * are read here, once, from the schemas' own structure. Each check throws
 * at import if core reshapes a schema, which the tests would show at once.
 */
function objectShape(schema: z.ZodType, name: string): z.core.$ZodShape {
  if (!(schema instanceof z.ZodObject)) throw new TypeError(`${name}: expected a zod object`)
  return schema.shape
}

function field(shape: z.core.$ZodShape, key: string, name: string): z.ZodType {
  const schema = shape[key]
  if (!(schema instanceof z.ZodType)) throw new TypeError(`${name}.${key}: expected a zod schema`)
  return schema
}

/** Core's call options, field by field: `fallbacks`, `retries`, `timeoutMs`, `policy`… */
export const callOptionsShape: z.core.$ZodShape = objectShape(
  callOptionsSchema,
  'callOptionsSchema',
)

/** The call option `name`, as core checks it (optional, as every call option is). */
export function callOption(name: string): z.ZodType {
  return field(callOptionsShape, name, 'callOptionsSchema')
}

const [targetString, targetObject] = targetSchema instanceof z.ZodUnion ? targetSchema.options : []
if (!(targetString instanceof z.ZodString) || !(targetObject instanceof z.ZodObject)) {
  throw new TypeError('targetSchema: expected a union of a string and an object')
}

/** `"provider/model"`, as core checks a target string. */
export const targetStringSchema: z.ZodString = targetString

/** Core's target object: `{ model, apiKey?, baseURL?, headers?, params?, unset?, retries?, attemptTimeoutMs? }`. */
export const targetObjectSchema: z.ZodObject = targetObject

/**
 * The schema of the call options' timeouts: a positive number of ms, or
 * `Infinity`. Core checks it with a custom function, which JSON Schema
 * cannot hold, so the file's JSON Schema is told what it means.
 */
export const timeoutSchema: z.ZodType = (() => {
  const option = callOption('timeoutMs')
  return option instanceof z.ZodOptional ? (option.unwrap() as z.ZodType) : option
})()

/** A target object's field as core checks it (optional): provider entries and the file's request take the same. */
export const targetField = (key: 'apiKey' | 'baseURL' | 'headers' | 'params'): z.ZodType =>
  field(targetObjectSchema.shape, key, 'targetSchema')

import * as z from 'zod'
import type { OpenAIRequestOptions } from './openai-request.js'

/**
 * A provider id that can prefix targets: not empty and without `/` (the
 * model of `"<id>/<model>"` is everything after the first `/`).
 */
export const providerIdSchema: z.ZodType<string, string> = z
  .string({ message: 'expected a provider id without "/" (targets are "<id>/<model>")' })
  .regex(/^[^/]+$/, { message: 'expected a provider id without "/" (targets are "<id>/<model>")' })

/** Where `maxTokens` goes, as `openai()`, `azure()` and `openaiCompatible()` take it. */
export const maxTokensFieldSchema: z.ZodType<
  NonNullable<OpenAIRequestOptions['maxTokensField']>,
  NonNullable<OpenAIRequestOptions['maxTokensField']>
> = z.enum(['max_tokens', 'max_completion_tokens'])

/** A boolean option, worded as the other messages are. */
export const flagSchema: z.ZodType<boolean, boolean> = z.boolean({
  message: 'expected true or false',
})

/** A string option such as a header value or a name. */
export const textSchema: z.ZodType<string, string> = z.string({ message: 'expected a string' })

/**
 * `options` without the keys whose value is `undefined`, so spreading it
 * over a preset leaves the preset's value where the caller wrote
 * `{ baseURL: undefined }`.
 */
export function definedOnly<T extends object>(options: T): Defined<T> {
  const defined: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) defined[key] = value
  }
  return defined as Defined<T>
}

/** `T` with every key optional and none `undefined` when present. */
export type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> }

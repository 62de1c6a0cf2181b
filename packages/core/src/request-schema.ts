import * as z from 'zod'
import type { ChatRequest } from './chat-request.js'
import { chatParamsShape, targetStringSchema } from './options-schema.js'

// Unknown keys are ignored at every level, not rejected. The providers build
// their wire bodies from the fields they know and send nothing else, so an
// extra key can make no target refuse the request; and TypeScript lets a value
// of a wider type (a stored message with an `id`, a request with a `traceId`)
// pass as a `ChatRequest`, so rejecting it would fail calls the types allow.
// A target's `params` stay strict: they are config written for Understudy,
// where a misspelt name is the likely cause, while a request is data that
// travels through apps. What no target could accept (a role, a content shape,
// a field of the wrong type) is what this schema rejects.

/**
 * A union's message for a value that is no object at all; an object with an
 * unknown `role` or `type` keeps the message that lists the values there are.
 */
function objectExpected(what: string): (issue: z.core.$ZodRawIssue) => string | undefined {
  return (issue) => (issue.code === 'invalid_type' ? `expected ${what}` : undefined)
}

const textPartSchema = z.object({ type: z.literal('text'), text: z.string() })

const imagePartSchema = z.object({
  type: z.literal('image'),
  image: z.union([z.string(), z.instanceof(Uint8Array)], {
    message: 'expected a URL string or bytes (a Uint8Array)',
  }),
  mediaType: z.string().optional(),
})

const userContentSchema = z.union(
  [
    z.string(),
    z
      .array(
        z.discriminatedUnion('type', [textPartSchema, imagePartSchema], {
          error: objectExpected('a text or image part'),
        }),
      )
      .readonly(),
  ],
  { message: 'expected a string or an array of text and image parts' },
)

const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.string() })

const providerStateSchema = z.object(
  { provider: z.string(), origin: z.string(), data: z.json() },
  { message: 'expected { provider, origin, data }, as a provider set it' },
)

const messageSchema = z.discriminatedUnion(
  'role',
  [
    z.object({ role: z.literal('system'), content: z.string() }),
    z.object({ role: z.literal('user'), content: userContentSchema }),
    z.object({
      role: z.literal('assistant'),
      content: z.string(),
      toolCalls: z.array(toolCallSchema).readonly().optional(),
      providerState: providerStateSchema.optional(),
    }),
    z.object({ role: z.literal('tool'), toolCallId: z.string(), content: z.string() }),
  ],
  { error: objectExpected('a message object') },
)

/**
 * A chat request, as `client.complete()` and `client.stream()` take it:
 * `model` (`"provider/model"`), a non-empty `messages` list of system, user,
 * assistant and tool messages, and the optional fields a target's `params`
 * may also set. Unknown keys are ignored, as providers ignore them.
 *
 * Every call checks its request against this before any I/O and throws a
 * `ConfigError` naming the path (`request.messages[0].role`). Exported so an
 * app can check a request it reads from a file or the network the same way.
 *
 * @example
 * const result = requestSchema.safeParse(JSON.parse(text))
 * if (!result.success) console.error(result.error.issues[0]?.path)
 */
export const requestSchema: z.ZodType<ChatRequest, ChatRequest> = z.object(
  {
    model: targetStringSchema,
    messages: z
      .array(messageSchema, { message: 'expected a non-empty array of messages' })
      .min(1, { message: 'expected a non-empty array of messages' })
      .readonly(),
    ...chatParamsShape,
  },
  { message: 'expected a request object' },
) as z.ZodType<ChatRequest, ChatRequest>

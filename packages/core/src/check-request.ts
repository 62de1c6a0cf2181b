/**
 * Tells, fast, whether a request is plainly valid: `true` means
 * `requestSchema` accepts it too (a property test holds the two together);
 * `false` only means "let the schema decide", which then accepts it or names
 * the problem.
 *
 * Why not the schema every time: zod walks a 100-message request in tens of
 * µs (see `bench/request-check.bench.ts`), more than the engine's own work on
 * a call; this loop reads each field once and allocates next to nothing. Like the
 * schema, it ignores keys a request does not have.
 */
export function isPlainRequest(request: unknown): boolean {
  if (!isObject(request)) return false
  const fields = request as Readonly<Record<string, unknown>>
  const model = fields.model
  if (typeof model !== 'string' || !targetPattern.test(model)) return false
  const messages = fields.messages
  if (!Array.isArray(messages) || messages.length === 0) return false
  for (let i = 0; i < messages.length; i++) {
    if (!isPlainMessage(messages[i])) return false
  }
  // By name, not by `for…in`: the schema reads these names whatever the request's own keys are.
  return (
    isOptional(fields.temperature, isTemperature) &&
    isOptional(fields.topP, isTopP) &&
    isOptional(fields.topK, isPositiveInteger) &&
    isOptional(fields.maxTokens, isPositiveInteger) &&
    isOptional(fields.seed, Number.isSafeInteger) &&
    isOptional(fields.user, isString) &&
    isOptional(fields.stop, isStringArray) &&
    isOptional(fields.tools, isTools) &&
    isOptional(fields.toolChoice, isToolChoice) &&
    isOptional(fields.responseFormat, isResponseFormat) &&
    isOptional(fields.providerOptions, isProviderOptions)
  )
}

const targetPattern = /^[^/\s]+\/\S/

function isPlainMessage(value: unknown): boolean {
  if (!isObject(value)) return false
  const message = value as Readonly<Record<string, unknown>>
  switch (message.role) {
    case 'system':
      return typeof message.content === 'string'
    case 'user':
      return typeof message.content === 'string' || isParts(message.content)
    case 'assistant':
      return (
        typeof message.content === 'string' &&
        isOptional(message.toolCalls, isToolCalls) &&
        isOptional(message.providerState, isProviderState)
      )
    case 'tool':
      return typeof message.content === 'string' && typeof message.toolCallId === 'string'
    default:
      return false
  }
}

function isParts(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (const part of value) {
    if (!isObject(part)) return false
    const fields = part as Readonly<Record<string, unknown>>
    if (fields.type === 'text') {
      if (typeof fields.text !== 'string') return false
    } else if (fields.type === 'image') {
      const image = fields.image
      if (typeof image !== 'string' && !(image instanceof Uint8Array)) return false
      if (!isOptional(fields.mediaType, isString)) return false
    } else return false
  }
  return true
}

function isToolCalls(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (const call of value) {
    if (!isObject(call)) return false
    const fields = call as Readonly<Record<string, unknown>>
    if (
      typeof fields.id !== 'string' ||
      typeof fields.name !== 'string' ||
      typeof fields.arguments !== 'string'
    )
      return false
  }
  return true
}

function isProviderState(value: unknown): boolean {
  if (!isObject(value)) return false
  const fields = value as Readonly<Record<string, unknown>>
  return (
    typeof fields.provider === 'string' &&
    typeof fields.origin === 'string' &&
    isJson(fields.data, 0)
  )
}

const isOptional = (value: unknown, check: (value: unknown) => boolean): boolean =>
  value === undefined || check(value)

const isString = (value: unknown): boolean => typeof value === 'string'

const isTemperature = (value: unknown): boolean =>
  typeof value === 'number' && value >= 0 && value !== Number.POSITIVE_INFINITY

const isTopP = (value: unknown): boolean => typeof value === 'number' && value >= 0 && value <= 1

/** A whole number, 1 or more: `maxTokens`, `topK`. */
const isPositiveInteger = (value: unknown): boolean =>
  Number.isSafeInteger(value) && Number(value) > 0

function isStringArray(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (const item of value) if (typeof item !== 'string') return false
  return true
}

function isTools(value: unknown): boolean {
  if (!Array.isArray(value)) return false
  for (const tool of value) {
    if (!isObject(tool)) return false
    const fields = tool as Readonly<Record<string, unknown>>
    if (typeof fields.name !== 'string') return false
    if (!isOptional(fields.description, isString)) return false
    if (!isJsonObject(fields.parameters, 0)) return false
  }
  return true
}

function isToolChoice(value: unknown): boolean {
  if (value === 'auto' || value === 'none' || value === 'required') return true
  return isObject(value) && typeof (value as { name?: unknown }).name === 'string'
}

function isResponseFormat(value: unknown): boolean {
  if (!isObject(value)) return false
  const fields = value as Readonly<Record<string, unknown>>
  switch (fields.type) {
    case 'text':
    case 'json':
      return true
    case 'json_schema':
      return (
        typeof fields.name === 'string' &&
        isJsonObject(fields.schema, 0) &&
        isOptional(fields.strict, (strict) => typeof strict === 'boolean')
      )
    default:
      return false
  }
}

function isProviderOptions(value: unknown): boolean {
  if (!isPlainRecord(value)) return false
  const byProvider = value as Readonly<Record<string, unknown>>
  for (const provider in byProvider) {
    if (!isJsonObject(byProvider[provider], 0)) return false
  }
  return true
}

/** Deeper JSON is left to the schema: this check must not overflow the stack on a cycle. */
const maxJsonDepth = 32

function isJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      if (value === null) return true
      if (Array.isArray(value)) {
        if (depth >= maxJsonDepth) return false
        for (const item of value) if (!isJson(item, depth + 1)) return false
        return true
      }
      return isJsonObject(value, depth)
    default:
      return false
  }
}

function isJsonObject(value: unknown, depth: number): boolean {
  if (depth >= maxJsonDepth || !isPlainRecord(value)) return false
  const record = value as Readonly<Record<string, unknown>>
  for (const key in record) if (!isJson(record[key], depth + 1)) return false
  return true
}

/** What zod's objects take: any object but an array. Its records want more (below). */
function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** A plain object as zod's records take it: they check symbol keys too, which `for…in` skips. */
function isPlainRecord(value: unknown): boolean {
  return isPlainObject(value) && Object.getOwnPropertySymbols(value).length === 0
}

import { ConfigError } from './errors.js'
import { formatPath } from './parse-config.js'
import type { ChatRequest } from './chat-request.js'

/**
 * Throws a ConfigError at the first place where a request's JSON-valued field
 * (a tool's `parameters`, a JSON schema, `providerOptions`, a message's
 * `providerState.data`) contains itself. zod's `z.json()` accepts such a
 * value, and every provider would then fail the attempt on `JSON.stringify`
 * (kind `unknown`, once per target) instead of the caller hearing at once
 * what is wrong. Runs only when the fast check has already turned the
 * request down: a cycle never passes it (its depth limit).
 *
 * @throws ConfigError `request.tools[0].parameters.self: expected JSON; received a value that contains itself`
 */
export function checkJsonCycles(request: ChatRequest): void {
  const { tools, responseFormat, providerOptions, messages } = request
  for (const [index, tool] of (tools ?? []).entries()) {
    walk(tool.parameters, ['tools', index, 'parameters'])
  }
  if (responseFormat?.type === 'json_schema') {
    walk(responseFormat.schema, ['responseFormat', 'schema'])
  }
  walk(providerOptions, ['providerOptions'])
  for (const [index, message] of messages.entries()) {
    if (message.role === 'assistant' && message.providerState !== undefined) {
      walk(message.providerState.data, ['messages', index, 'providerState', 'data'])
    }
  }
}

function walk(value: unknown, path: PropertyKey[], ancestors: object[] = []): void {
  if (typeof value !== 'object' || value === null) return
  if (ancestors.includes(value)) {
    throw new ConfigError({
      path: formatPath('request', path),
      message: 'expected JSON; received a value that contains itself',
    })
  }
  ancestors.push(value)
  for (const [key, inner] of Object.entries(value)) {
    walk(inner, [...path, Array.isArray(value) ? Number(key) : key], ancestors)
  }
  ancestors.pop()
}

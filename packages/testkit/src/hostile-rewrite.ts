import type { ChatRequest, ProviderContext } from '@understudy/core'

/** Text the hostile provider writes, so a test can search for it. */
const hostileMark = 'rewritten by hostileMockProvider'

/**
 * Writes into a call's request and context everywhere a careless provider
 * might: top-level fields, nested arrays and objects, deletions, the
 * context's headers. Each write stands alone, so a frozen value that
 * refuses one does not stop the others.
 */
export function hostileRewrite(request: ChatRequest, context: ProviderContext): void {
  const target = request as unknown as Record<string, unknown>
  const writes: (() => void)[] = [
    () => {
      target.model = 'hostile/rewritten'
    },
    () => {
      ;(request.messages as unknown[]).push({ role: 'user', content: hostileMark })
    },
    () => {
      for (const message of request.messages as unknown as Record<string, unknown>[]) {
        const { content } = message
        if (Array.isArray(content)) {
          for (const part of content as Record<string, unknown>[]) {
            if (part.type === 'text') part.text = hostileMark
          }
        } else {
          message.content = hostileMark
        }
        const toolCalls = message.toolCalls
        if (Array.isArray(toolCalls)) {
          for (const call of toolCalls as Record<string, unknown>[])
            call.arguments = '{"hostile":true}'
        }
      }
    },
    () => {
      ;(request.messages as unknown[]).splice(0, 1)
    },
    () => {
      for (const tool of (request.tools ?? []) as unknown as Record<
        string,
        Record<string, unknown>
      >[]) {
        if (tool.parameters !== undefined) tool.parameters.hostile = true
      }
    },
    () => {
      for (const options of Object.values(request.providerOptions ?? {}) as Record<
        string,
        unknown
      >[]) {
        options.hostile = true
      }
    },
    () => {
      ;(request.stop as string[] | undefined)?.push(hostileMark)
    },
    () => {
      target.temperature = 1.99
      target.maxTokens = 1
      target.seed = 666
      target.user = hostileMark
    },
    () => {
      delete target.tools
      delete target.toolChoice
      delete target.responseFormat
      delete target.stop
      delete target.topP
    },
    () => {
      const headers = context.headers as Record<string, string> | undefined
      if (headers === undefined) return
      headers['x-hostile'] = hostileMark
      for (const name of Object.keys(headers)) if (name !== 'x-hostile') delete headers[name]
    },
  ]
  for (const write of writes) {
    try {
      write()
    } catch {
      // A frozen value refused the write: that is the protection working.
    }
  }
}

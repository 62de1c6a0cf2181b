import { isUnderstudyError, type Provider } from '@understudy/core'

/**
 * A provider that hides a lost terminal signal: where its stream would end
 * with kind `incomplete`, it makes up a `stop` finish instead. Both the
 * conformance and the streaming suite must catch it.
 */
export function makingUpFinish(provider: Provider): Provider {
  return {
    ...provider,
    async *stream(request, context) {
      try {
        yield* provider.stream(request, context)
      } catch (error) {
        if (!isUnderstudyError(error, 'incomplete')) throw error
        yield { type: 'finish', finishReason: 'stop', usage: {} }
      }
    },
  }
}

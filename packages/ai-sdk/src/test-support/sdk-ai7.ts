import { createOpenAI } from '@ai-sdk/openai'
import type { LanguageModelV4 } from '@ai-sdk/provider'
import * as ai from 'ai'
import { MockLanguageModelV4 } from 'ai/test'
import type { Sdk } from './sdk.js'

/** `ai` 7 with its V4 providers: what Node 24 runs. */
export const ai7: Sdk = {
  major: 7,
  generateText: ai.generateText,
  streamText: ai.streamText,
  generateObject: ai.generateObject,
  Output: ai.Output,
  tool: ai.tool,
  jsonSchema: ai.jsonSchema,
  stepCountIs: ai.stepCountIs,
  // The scripts answer with V3 results, which are V4 results too: text,
  // tool calls, the same usage and finish reasons (V4 only adds kinds).
  mockModel: (script) =>
    new MockLanguageModelV4(
      script as unknown as ConstructorParameters<typeof MockLanguageModelV4>[0],
    ),
  openaiChat: (options) => {
    const provider = createOpenAI({ baseURL: options.baseURL, apiKey: options.apiKey })
    return (modelId) => provider.chat(modelId) as LanguageModelV4
  },
}

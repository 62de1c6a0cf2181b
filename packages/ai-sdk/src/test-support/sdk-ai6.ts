import { createOpenAI } from '@ai-sdk/openai3'
import type { LanguageModelV3 } from '@ai-sdk/provider'
import * as ai from 'ai6'
import { MockLanguageModelV3 } from 'ai6/test'
import type { Sdk } from './sdk.js'

/** `ai` 6 with its V3 providers: what Node 20 runs. */
export const ai6: Sdk = {
  major: 6,
  // ai 6's signatures are ai 7's minus V4's additions; the suites use none of those.
  generateText: ai.generateText as unknown as Sdk['generateText'],
  streamText: ai.streamText as unknown as Sdk['streamText'],
  generateObject: ai.generateObject as unknown as Sdk['generateObject'],
  Output: ai.Output as unknown as Sdk['Output'],
  tool: ai.tool as unknown as Sdk['tool'],
  jsonSchema: ai.jsonSchema as unknown as Sdk['jsonSchema'],
  stepCountIs: ai.stepCountIs as unknown as Sdk['stepCountIs'],
  mockModel: (script) =>
    // The script is typed with @ai-sdk/provider 4's copy of the V3 types, ai 6's mock with 3's: the same shapes.
    new MockLanguageModelV3(script as ConstructorParameters<typeof MockLanguageModelV3>[0]),
  openaiChat: (options) => {
    const provider = createOpenAI({ baseURL: options.baseURL, apiKey: options.apiKey })
    return (modelId) => provider.chat(modelId) as LanguageModelV3
  },
}

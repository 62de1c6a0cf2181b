import type {
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3StreamPart,
  LanguageModelV3StreamResult,
} from '@ai-sdk/provider'
import type * as ai from 'ai'
import type { AISDKLanguageModel } from '../from-aisdk.js'

/** What a scripted AI SDK model does on each call. */
export interface MockModelScript {
  readonly doGenerate?: (
    options: LanguageModelV3CallOptions,
  ) => Promise<LanguageModelV3GenerateResult>
  readonly doStream?: (options: LanguageModelV3CallOptions) => Promise<LanguageModelV3StreamResult>
}

/** A scripted AI SDK model, in the major's own spec, and the calls it received. */
export type MockModel = AISDKLanguageModel & {
  readonly doGenerateCalls: readonly unknown[]
  readonly doStreamCalls: readonly unknown[]
}

/**
 * One major of the AI SDK, as the suites use it: `ai` 6 (Node 20, spec V3
 * providers) or `ai` 7 (Node 24, spec V4 providers). Typed as `ai` 7's
 * functions; `ai` 6's have the same calls the suites make.
 */
export interface Sdk {
  readonly major: 6 | 7
  readonly generateText: typeof ai.generateText
  readonly streamText: typeof ai.streamText
  readonly generateObject: typeof ai.generateObject
  readonly Output: typeof ai.Output
  readonly tool: typeof ai.tool
  readonly jsonSchema: typeof ai.jsonSchema
  readonly stepCountIs: typeof ai.stepCountIs
  /** `MockLanguageModelV3` (ai 6) or `MockLanguageModelV4` (ai 7) from `ai/test`, scripted. */
  readonly mockModel: (script: MockModelScript) => MockModel
  /** The real `@ai-sdk/openai` of that major: its Chat Completions model, at `baseURL`. */
  readonly openaiChat: (options: {
    readonly baseURL: string
    readonly apiKey: string
  }) => (modelId: string) => AISDKLanguageModel
}

/** A stream of the given parts, as a model's `doStream` returns it. */
export function streamOf(parts: readonly LanguageModelV3StreamPart[]): LanguageModelV3StreamResult {
  return {
    stream: new ReadableStream({
      start(controller) {
        for (const part of parts) controller.enqueue(part)
        controller.close()
      },
    }),
  }
}

/** A spec usage of `input` and `output` tokens. */
export function usageOf(input: number, output: number): LanguageModelV3GenerateResult['usage'] {
  return {
    inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: output, text: output, reasoning: undefined },
  }
}

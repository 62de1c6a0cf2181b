/** @module OpenAI Chat Completions, OpenAI-compatible servers and Azure OpenAI as Understudy providers. */
export { openai } from './openai-provider.js'
export type { OpenAIProviderOptions } from './openai-provider.js'
export {
  deepseek,
  fireworks,
  groq,
  lmstudio,
  mistral,
  ollama,
  openaiCompatible,
  openrouter,
  together,
  vllm,
} from './openai-compatible.js'
export type {
  OpenAICompatibleOptions,
  OpenAICompatiblePresetOptions,
} from './openai-compatible.js'
export { azure } from './azure-provider.js'
export type { AzureProviderOptions } from './azure-provider.js'

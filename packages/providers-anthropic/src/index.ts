/** @module Anthropic's Messages API (Claude) as an Understudy provider: `anthropic()`. */
export { anthropic, defaultAnthropicMaxTokens } from './anthropic-provider.js'
export type { AnthropicProviderOptions } from './anthropic-provider.js'
export { anthropicVersions, defaultAnthropicVersion } from './api-version.js'
export type { AnthropicVersion } from './api-version.js'

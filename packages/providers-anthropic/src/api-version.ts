import type { ChatParamName } from '@understudy/core'

/**
 * The `anthropic-version` values `anthropic()` speaks: `2023-06-01`, still
 * valid, and `2026-10-21`, the current one (the official SDK's 1.x majors
 * send it since 2026-10-21).
 */
export type AnthropicVersion = '2023-06-01' | '2026-10-21'

/** Every version this package speaks, oldest first. */
export const anthropicVersions: readonly AnthropicVersion[] = ['2023-06-01', '2026-10-21']

/** The version `anthropic()` sends unless told otherwise: the current one, as the official SDK does. */
export const defaultAnthropicVersion: AnthropicVersion = '2026-10-21'

/** A request field and the Messages API field it becomes. */
export interface SamplingParam {
  readonly field: ChatParamName
  readonly wire: string
}

const samplingParams: readonly SamplingParam[] = [
  { field: 'temperature', wire: 'temperature' },
  { field: 'topP', wire: 'top_p' },
  { field: 'topK', wire: 'top_k' },
]

/**
 * The sampling parameters a version rejects with a 400, even at their
 * default values: `temperature`, `top_p` and `top_k` under `2026-10-21`;
 * none under `2023-06-01`. A request that sets one fails its attempt before
 * any I/O as `unsupported` rather than becoming that 400, which would stop
 * the chain as `invalid_request`.
 */
export function rejectedSamplingParams(version: AnthropicVersion): readonly SamplingParam[] {
  return version === '2023-06-01' ? [] : samplingParams
}

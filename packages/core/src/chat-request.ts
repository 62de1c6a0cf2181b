/** A JSON value, as tool schemas and provider options hold them. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue }

/** A piece of text in a message. */
export interface TextPart {
  readonly type: 'text'
  readonly text: string
}

/** An image in a user message: a URL (`https:` or `data:`) or raw bytes. */
export interface ImagePart {
  readonly type: 'image'
  readonly image: string | Uint8Array
  /** `image/png`, `image/jpeg`, …; needed with raw bytes. */
  readonly mediaType?: string
}

/** A call of a tool that the model asked for. */
export interface ToolCall {
  readonly id: string
  readonly name: string
  /** The arguments as the model wrote them: JSON text, not parsed. */
  readonly arguments: string
}

export interface SystemMessage {
  readonly role: 'system'
  readonly content: string
}

export interface UserMessage {
  readonly role: 'user'
  readonly content: string | readonly (TextPart | ImagePart)[]
}

export interface AssistantMessage {
  readonly role: 'assistant'
  readonly content: string
  readonly toolCalls?: readonly ToolCall[]
  /**
   * What the provider that wrote this turn needs to see again when the
   * history goes back to it (Anthropic's thinking blocks, Gemini's thought
   * signatures). Set by providers on `response.message`; keep it when you
   * append that message to the history.
   */
  readonly providerState?: ProviderState
}

/**
 * A provider's own record of an assistant turn, opaque to everyone else.
 * `origin` names the provider, model, base URL and key that wrote it: a
 * provider sends `data` back only to that same origin, because a signature
 * replayed to another model or key is a 400 that would wrongly stop a chain.
 */
export interface ProviderState {
  /** The id of the provider that wrote it: `"anthropic"`. */
  readonly provider: string
  /** Where it may be sent back to; compared, never parsed. */
  readonly origin: string
  readonly data: JsonValue
}

/** The result of a tool call, answering the assistant's `toolCalls[i].id`. */
export interface ToolMessage {
  readonly role: 'tool'
  readonly toolCallId: string
  readonly content: string
}

export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage

/** A tool the model may call. */
export interface Tool {
  readonly name: string
  readonly description?: string
  /** JSON Schema of the arguments. */
  readonly parameters: { readonly [key: string]: JsonValue }
}

/** Whether and which tool the model must call. */
export type ToolChoice = 'auto' | 'none' | 'required' | { readonly name: string }

/** The shape of the answer: free text, any JSON object, or JSON matching a schema. */
export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json' }
  | {
      readonly type: 'json_schema'
      readonly name: string
      readonly schema: { readonly [key: string]: JsonValue }
      readonly strict?: boolean
    }

/** The request fields a target may override (`params`) or drop (`unset`). */
export interface ChatParams {
  readonly tools?: readonly Tool[]
  readonly toolChoice?: ToolChoice
  readonly responseFormat?: ResponseFormat
  readonly temperature?: number
  readonly topP?: number
  /** Sample from the `topK` likeliest tokens only. Not every vendor has it (OpenAI has not). */
  readonly topK?: number
  /** The most tokens the answer may have. */
  readonly maxTokens?: number
  readonly stop?: readonly string[]
  readonly seed?: number
  /** An end-user id, for the provider's abuse monitoring. */
  readonly user?: string
  /**
   * Fields passed through as they are, per provider id:
   * `{ openai: { logprobs: true } }` goes to the `openai` provider only.
   */
  readonly providerOptions?: { readonly [provider: string]: { readonly [key: string]: JsonValue } }
}

/** The names of {@link ChatParams}, which `unset` may list. */
export type ChatParamName = keyof ChatParams

/** A chat completion request. `model` is the primary target, `"provider/model"`. */
export interface ChatRequest extends ChatParams {
  readonly model: string
  readonly messages: readonly Message[]
}

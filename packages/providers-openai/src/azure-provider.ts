import { type ChatRequest, ConfigError, type Provider } from '@understudy/core'
import {
  type DefineProviderOptions,
  defineProvider,
  type HttpRequestSpec,
  type ProviderSpec,
} from '@understudy/provider-kit'
import { checkHttpURL, checkProviderId } from './check-provider-options.js'
import { readOpenAIError } from './openai-errors.js'
import { buildOpenAIRequest, type OpenAIRequestOptions } from './openai-request.js'
import { parseOpenAIResponse } from './openai-response.js'
import { createOpenAIStreamParser } from './openai-stream.js'
import { readEnvironment } from './read-environment.js'

/**
 * The `api-version` sent when neither `apiVersion` nor `OPENAI_API_VERSION`
 * gives one: the latest generally available version of Azure OpenAI's
 * dated inference API (the official `openai` SDK has no default and throws).
 */
export const defaultAzureApiVersion = '2024-10-21'

/** Options of {@link azure}; each overrides what the environment says. */
export interface AzureProviderOptions {
  /**
   * The prefix of targets, for a second Azure resource next to the first.
   * @default 'azure'
   */
  readonly id?: string
  /**
   * The resource's endpoint, without `/openai`: `https://my-resource.openai.azure.com`.
   * A target's own `baseURL` on this provider is such an endpoint too.
   * @default `AZURE_OPENAI_ENDPOINT` (read when `azure()` is called), unless `resourceName` is given
   */
  readonly endpoint?: string
  /** The resource name: the endpoint becomes `https://<resourceName>.openai.azure.com`. Not with `endpoint`. */
  readonly resourceName?: string
  /**
   * The `api-version` query of every request.
   * @default `OPENAI_API_VERSION`, else {@link defaultAzureApiVersion} (`'2024-10-21'`)
   */
  readonly apiVersion?: string
  /**
   * The resource key, sent as the `api-key` header to the endpoint only. Not
   * with `azureADTokenProvider`.
   * @default `AZURE_OPENAI_API_KEY`, read when a call needs it (a missing key
   * is an `auth` error of that target, so the chain falls back)
   */
  readonly apiKey?: string
  /**
   * A Microsoft Entra ID token source, called (and awaited) for every
   * attempt; its token is sent as `Authorization: Bearer …`. Cache inside it
   * (`@azure/identity`'s `getBearerTokenProvider` does). A target that brings
   * its own `apiKey` still sends that as `api-key`. Not with `apiKey`.
   */
  readonly azureADTokenProvider?: () => string | Promise<string>
  /**
   * Deployment names by target model: `{ 'gpt-4o': 'my-gpt4o-deployment' }`
   * sends `"azure/gpt-4o"` to deployment `my-gpt4o-deployment`. A model not
   * listed is its own deployment name.
   */
  readonly deployments?: Readonly<Record<string, string>>
  /** Headers sent on every request of this provider (a target's own headers win). */
  readonly headers?: Readonly<Record<string, string>>
  /**
   * Ask streams for a usage chunk (`stream_options.include_usage`).
   * @default true, except for dated API versions before `2024-09-01`, which reject the field
   */
  readonly includeUsage?: boolean
  /**
   * Where `maxTokens` goes. @default as `openai()`, from the target's model
   * name (not the deployment's): `max_completion_tokens` for `o1`, `o3-mini`,
   * `gpt-5`…, else `max_tokens`
   */
  readonly maxTokensField?: OpenAIRequestOptions['maxTokensField']
  /**
   * The undici dispatcher for every request: an `Agent` with your pool
   * settings, a `ProxyAgent`, custom TLS. @default undici's global dispatcher
   */
  readonly dispatcher?: DefineProviderOptions['dispatcher']
  /** Send with this `fetch` instead of undici (runtimes without undici). */
  readonly fetch?: DefineProviderOptions['fetch']
}

/**
 * Azure OpenAI's Chat Completions as a provider: targets `"azure/<model>"`,
 * sent to `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`,
 * where the deployment is the target's model or its entry in `deployments`.
 *
 * Credentials: the `api-key` header with `apiKey` (else
 * `AZURE_OPENAI_API_KEY`, read when a call needs it), or
 * `Authorization: Bearer <token>` from `azureADTokenProvider`, called per
 * attempt. Either goes only to the configured endpoint; a target with its own
 * `baseURL` (another endpoint) and no `apiKey` is sent no credential
 * (DESIGN.md rule 2).
 *
 * Attempts reject with the kinds of `openai()`, read from Azure's bodies as
 * well: the content filter (`code: content_filter`, `innererror.code:
 * ResponsibleAIPolicyViolation`) is `content_policy`, `DeploymentNotFound`
 * is `not_found`, Azure's string codes `"401"` / `"429"` are `auth` /
 * `rate_limit` (with the wait its message names when no header does). A 200
 * whose finish reason is `content_filter` is answered as such.
 *
 * @throws ConfigError when no endpoint is given or set (`endpoint`), both
 * `endpoint` and `resourceName` are given, both `apiKey` and
 * `azureADTokenProvider` are given, or `apiVersion` or `id` is unusable.
 *
 * @example
 * const client = createClient({
 *   providers: [azure({ resourceName: 'my-resource', deployments: { 'gpt-4o': 'prod-gpt-4o' } })],
 * })
 * await client.complete({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
 */
export function azure(options: AzureProviderOptions = {}): Provider {
  const id = options.id ?? 'azure'
  checkProviderId(id, 'id')
  const tokenProvider = options.azureADTokenProvider
  if (options.apiKey !== undefined && tokenProvider !== undefined) {
    throw new ConfigError({
      path: 'azureADTokenProvider',
      message: 'give apiKey or azureADTokenProvider, not both',
    })
  }
  const endpoint = endpointOf(options)
  const apiVersion =
    options.apiVersion ?? readEnvironment('OPENAI_API_VERSION') ?? defaultAzureApiVersion
  if (apiVersion === '') {
    throw new ConfigError({
      path: 'apiVersion',
      message: `expected an API version such as "${defaultAzureApiVersion}"`,
    })
  }
  const query = `?api-version=${encodeURIComponent(apiVersion)}`
  const requestOptions = {
    includeUsage: options.includeUsage ?? acceptsStreamOptions(apiVersion),
    providerId: id,
    ...(options.maxTokensField !== undefined && { maxTokensField: options.maxTokensField }),
  }
  // Made once, not spread into a fresh object on every call.
  const completeOptions = Object.freeze({ ...requestOptions, stream: false })
  const streamOptions = Object.freeze({ ...requestOptions, stream: true })
  // A copy: the caller's object may change later; this provider must not.
  const deployments = new Map(Object.entries(options.deployments ?? {}))

  const buildRequest = (
    request: ChatRequest,
    { stream }: { readonly stream: boolean },
  ): HttpRequestSpec => {
    const { body } = buildOpenAIRequest(request, stream ? streamOptions : completeOptions)
    const deployment = deployments.get(request.model) ?? request.model
    return {
      path: `/openai/deployments/${encodeURIComponent(deployment)}/chat/completions${query}`,
      body,
    }
  }

  const dialect = {
    id,
    baseURL: endpoint,
    headers: Object.freeze({ ...options.headers }),
    buildRequest,
    parseResponse: parseOpenAIResponse,
    createStreamParser: createOpenAIStreamParser,
    readError: readOpenAIError,
  } satisfies Omit<ProviderSpec, 'apiKey' | 'authHeaders'>
  const transport = {
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.fetch !== undefined && { fetch: options.fetch }),
  }
  const configuredKey = options.apiKey
  const keyed = defineProvider(
    {
      ...dialect,
      apiKey: () => configuredKey ?? readEnvironment('AZURE_OPENAI_API_KEY'),
      authHeaders: (apiKey) => ({ 'api-key': apiKey }),
    },
    transport,
  )
  if (tokenProvider === undefined) return keyed
  const tokened = defineProvider(
    {
      ...dialect,
      apiKey: () => tokenProvider(),
      authHeaders: (token) => ({ authorization: `Bearer ${token}` }),
    },
    transport,
  )
  // A target's own key is a resource key, whatever the configured credential
  // is: it goes as `api-key`, and the token provider is not called for it.
  return Object.freeze({
    id,
    complete: (request, context) =>
      (context.apiKey === undefined ? tokened : keyed).complete(request, context),
    stream: (request, context) =>
      (context.apiKey === undefined ? tokened : keyed).stream(request, context),
  } satisfies Provider)
}

/** The endpoint from `endpoint`, `resourceName` or `AZURE_OPENAI_ENDPOINT`, checked. */
function endpointOf(options: AzureProviderOptions): string {
  const { endpoint, resourceName } = options
  if (endpoint !== undefined && resourceName !== undefined) {
    throw new ConfigError({
      path: 'resourceName',
      message: 'give endpoint or resourceName, not both',
    })
  }
  if (resourceName !== undefined) {
    // A DNS label: anything else would change the host the key goes to.
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(resourceName)) {
      throw new ConfigError({
        path: 'resourceName',
        message: 'expected an Azure resource name (letters, digits and inner hyphens)',
      })
    }
    return `https://${resourceName}.openai.azure.com`
  }
  const chosen = endpoint ?? readEnvironment('AZURE_OPENAI_ENDPOINT')
  if (chosen === undefined) {
    throw new ConfigError({
      path: 'endpoint',
      message: 'give endpoint or resourceName, or set AZURE_OPENAI_ENDPOINT',
    })
  }
  checkHttpURL(chosen, 'endpoint', 'https://my-resource.openai.azure.com')
  return chosen
}

/**
 * Whether `apiVersion` takes `stream_options`: Azure added it in
 * `2024-09-01-preview` and answers 400 to it before (openai/openai-python
 * issue 1469). Undated versions (`preview`, `latest`) are current ones.
 */
function acceptsStreamOptions(apiVersion: string): boolean {
  const date = /^(\d{4}-\d{2}-\d{2})/.exec(apiVersion)?.[1]
  return date === undefined || date >= '2024-09-01'
}

import { type ChatRequest, ConfigError, type Provider } from '@understudy/core'
import {
  checkHttpURL,
  checkProviderKey,
  checkProviderOptions,
  type DefineProviderOptions,
  defineProvider,
  type HttpRequestSpec,
  type KeySource,
  type ProviderSpec,
  providerOptionsShape,
  readEnvironment,
} from '@understudy/provider-kit'
import * as z from 'zod'
import { readOpenAIError } from './openai-errors.js'
import { buildOpenAIRequest, type OpenAIRequestOptions } from './openai-request.js'
import { parseOpenAIResponse } from './openai-response.js'
import { createOpenAIStreamParser } from './openai-stream.js'
import { flagSchema, maxTokensFieldSchema, providerIdSchema, textSchema } from './option-schemas.js'

/**
 * The `api-version` sent when neither `apiVersion` nor `OPENAI_API_VERSION`
 * gives one: the latest generally available version of Azure OpenAI's
 * dated inference API (the official `openai` SDK has no default and throws).
 */
export const defaultAzureApiVersion = '2024-10-21'

/** An endpoint of the kind Azure gives a resource, shown when one is refused. */
const exampleEndpoint = 'https://my-resource.openai.azure.com'

/**
 * The options of {@link azure}: zod decides, {@link AzureProviderOptions}
 * documents. `endpoint` is only typed here: it may come from
 * `AZURE_OPENAI_ENDPOINT` too, and both are checked as one in `endpointOf`,
 * without showing the value (a URL may hold credentials).
 */
const azureOptionsSchema = z.strictObject({
  ...providerOptionsShape,
  id: providerIdSchema.optional(),
  endpoint: z
    .string({ message: `expected an http: or https: URL, such as "${exampleEndpoint}"` })
    .optional(),
  // A DNS label: anything else would change the host the key goes to.
  resourceName: z
    .string({ message: 'expected an Azure resource name (letters, digits and inner hyphens)' })
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i, {
      message: 'expected an Azure resource name (letters, digits and inner hyphens)',
    })
    .optional(),
  apiVersion: z
    .string({ message: `expected an API version such as "${defaultAzureApiVersion}"` })
    .min(1, { message: `expected an API version such as "${defaultAzureApiVersion}"` })
    .optional(),
  azureADTokenProvider: z
    .custom<() => string | Promise<string>>((value) => typeof value === 'function', {
      message: 'expected a function that returns a token',
    })
    .optional(),
  deployments: z.record(z.string(), textSchema).optional(),
  includeUsage: flagSchema.optional(),
  maxTokensField: maxTokensFieldSchema.optional(),
})

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
   * @default `AZURE_OPENAI_API_KEY`: `azure()` throws a `ConfigError` when
   * it is unset and no `azureADTokenProvider` is given (unless
   * `keyPerTarget`), and each call reads it again, so a rotated key is used
   * and one unset later fails that call with kind `auth`
   */
  readonly apiKey?: string
  /**
   * Every target of this provider brings its own `apiKey`: `azure()` then
   * does not throw when no credential is configured. A target without a key
   * of its own then fails with kind `auth`, saying how to give one.
   * @default false
   */
  readonly keyPerTarget?: boolean
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
 * @throws ConfigError for an unknown option or a value of the wrong type
 * (naming the option meant: `did you mean "apiKey"?`), when no endpoint is
 * given or set (`endpoint`) or it is not an `http:` / `https:` URL, both
 * `endpoint` and `resourceName` are given, both `apiKey` and
 * `azureADTokenProvider` are given, `apiVersion` or `id` is unusable, or no
 * credential can ever be found ("set AZURE_OPENAI_API_KEY or pass apiKey to
 * azure()") and `keyPerTarget` is not set.
 *
 * @example
 * const client = createClient({
 *   providers: [azure({ resourceName: 'my-resource', deployments: { 'gpt-4o': 'prod-gpt-4o' } })],
 * })
 * await client.complete({ model: 'azure/gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
 */
export function azure(options: AzureProviderOptions = {}): Provider {
  // Once per provider, never per call: parsed options are a fresh copy, so
  // the caller's object may change later and this provider does not.
  const checked = checkProviderOptions(azureOptionsSchema, options, 'azure(options)')
  const id = checked.id ?? 'azure'
  const tokenProvider = checked.azureADTokenProvider
  if (checked.apiKey !== undefined && tokenProvider !== undefined) {
    throw new ConfigError({
      path: 'azure(options).azureADTokenProvider',
      message: 'give apiKey or azureADTokenProvider, not both',
    })
  }
  const endpoint = endpointOf(checked)
  // An empty OPENAI_API_VERSION reads as unset; an empty option is refused by the schema.
  const apiVersion =
    checked.apiVersion ?? readEnvironment('OPENAI_API_VERSION') ?? defaultAzureApiVersion
  const configuredKey = checked.apiKey
  const readKey = (): string | undefined => configuredKey ?? readEnvironment('AZURE_OPENAI_API_KEY')
  if (tokenProvider === undefined) {
    checkProviderKey({
      ...keySource,
      key: readKey(),
      keyPerTarget: checked.keyPerTarget,
    })
  }
  const query = `?api-version=${encodeURIComponent(apiVersion)}`
  const requestOptions = {
    includeUsage: checked.includeUsage ?? acceptsStreamOptions(apiVersion),
    providerId: id,
    ...(checked.maxTokensField !== undefined && { maxTokensField: checked.maxTokensField }),
  }
  // Made once, not spread into a fresh object on every call.
  const completeOptions = Object.freeze({ ...requestOptions, stream: false })
  const streamOptions = Object.freeze({ ...requestOptions, stream: true })
  const deployments = new Map(Object.entries(checked.deployments ?? {}))

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
    headers: Object.freeze({ ...checked.headers }),
    buildRequest,
    parseResponse: parseOpenAIResponse,
    createStreamParser: createOpenAIStreamParser,
    readError: readOpenAIError,
  } satisfies Omit<ProviderSpec, 'apiKey' | 'authHeaders'>
  const transport = {
    ...(checked.dispatcher !== undefined && { dispatcher: checked.dispatcher }),
    ...(checked.fetch !== undefined && { fetch: checked.fetch }),
  }
  const keyed = defineProvider(
    {
      ...dialect,
      // Read per call, as before the factory checked it: a rotated key is used.
      apiKey: readKey,
      configuredKey: readKey,
      keySource,
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
    // The token is fetched and short-lived: the endpoint alone tells this provider apart.
    ...(tokened.configuredTarget !== undefined && { configuredTarget: tokened.configuredTarget }),
  } satisfies Provider)
}

/** Where users set the key of `azure()`, as its messages say. */
const keySource: KeySource = { factory: 'azure()', env: 'AZURE_OPENAI_API_KEY' }

/**
 * The endpoint from `endpoint`, `resourceName` (its form checked by the
 * schema) or `AZURE_OPENAI_ENDPOINT`, checked.
 */
function endpointOf(options: {
  readonly endpoint?: string | undefined
  readonly resourceName?: string | undefined
}): string {
  const { endpoint, resourceName } = options
  if (endpoint !== undefined && resourceName !== undefined) {
    throw new ConfigError({
      path: 'azure(options).resourceName',
      message: 'give endpoint or resourceName, not both',
    })
  }
  if (resourceName !== undefined) return `https://${resourceName}.openai.azure.com`
  if (endpoint !== undefined) {
    checkHttpURL(endpoint, 'azure(options).endpoint', exampleEndpoint)
    return endpoint
  }
  const fromEnvironment = readEnvironment('AZURE_OPENAI_ENDPOINT')
  if (fromEnvironment === undefined) {
    throw new ConfigError({
      path: 'azure(options).endpoint',
      message: 'give endpoint or resourceName, or set AZURE_OPENAI_ENDPOINT',
    })
  }
  checkHttpURL(fromEnvironment, 'AZURE_OPENAI_ENDPOINT', exampleEndpoint)
  return fromEnvironment
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

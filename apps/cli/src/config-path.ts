const identifier = /^[A-Za-z_$][\w$]*$/

/**
 * A path inside a config file as the messages write it, the way core's
 * `ConfigError` paths read: `providers.groq.apiKeyEnv`, `fallbacks[1]`,
 * `providers["my-server"]`.
 */
export function configPath(...keys: readonly (string | number)[]): string {
  let text = ''
  for (const key of keys) {
    if (typeof key === 'number') text += `[${key}]`
    else if (identifier.test(key)) text += text === '' ? key : `.${key}`
    else text += `[${JSON.stringify(key)}]`
  }
  return text
}

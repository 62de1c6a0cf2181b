/**
 * The one place this package reads the environment (STYLE §11): the
 * documented defaults of `openai()`, `openaiCompatible()` and its presets,
 * and `azure()`. An empty variable counts as unset; outside Node-like
 * runtimes every variable is unset.
 */
export function readEnvironment(name: string): string | undefined {
  const value = typeof process === 'undefined' ? undefined : process.env[name]
  return value === '' ? undefined : value
}

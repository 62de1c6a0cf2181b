import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { isSecretHeader, isUnderstudyError, parseConfig } from '@understudy/core'
import { CliError } from './cli-error.js'
import { type ConfigFile, configFileSchema } from './config-file.js'
import { configPath } from './config-path.js'

/** A config file, read and checked, and the warnings it earned. */
export interface LoadedConfig {
  /** The file as the user named it, for messages. */
  readonly file: string
  readonly config: ConfigFile
  /** Things that work but should not be there: a key written inline. */
  readonly warnings: readonly string[]
}

/**
 * Reads `file` (JSON when it ends in `.json`, YAML otherwise — YAML reads
 * JSON too) and checks it with core's schemas. Every problem is a
 * {@link CliError} of kind `config` naming the file, the path inside it
 * (`chain.yaml: fallbacks[1].model`) and what was expected; nothing is sent.
 */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = Reflect.get(Object(error), 'code')
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : String(code)
    throw new CliError('config', `${file}: cannot read the config file (${why})`)
  }
  const value =
    extname(file).toLowerCase() === '.json' ? parseJson(file, text) : await parseYaml(file, text)
  let config: ConfigFile
  try {
    config = parseConfig(configFileSchema, value) as ConfigFile
  } catch (error) {
    if (isUnderstudyError(error, 'config'))
      throw new CliError('config', `${file}: ${error.message}`)
    throw error
  }
  return { file, config, warnings: inlineSecrets(config).map((where) => `${file}: ${where}`) }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new CliError('config', `${file}: not valid JSON: ${(error as Error).message}`)
  }
}

/** YAML is loaded only for a YAML file: a JSON config, or none, never pays for it. */
async function parseYaml(file: string, text: string): Promise<unknown> {
  const { parseDocument } = await import('yaml')
  const document = parseDocument(text, { prettyErrors: true })
  const [problem] = document.errors
  if (problem !== undefined) {
    // The first line says what and where ("… at line 3, column 5:"); the rest is an excerpt of the file.
    const [summary] = problem.message.split('\n')
    throw new CliError('config', `${file}: not valid YAML: ${summary?.replace(/:$/, '')}`)
  }
  return document.toJS()
}

/**
 * Where the file holds a secret inline — an `apiKey`, or a header such as
 * `Authorization` — which works but belongs in the environment
 * (`apiKeyEnv`): a file gets shared, committed, pasted.
 */
function inlineSecrets(config: ConfigFile): string[] {
  const found: string[] = []
  const check = (path: readonly (string | number)[], entry: unknown): void => {
    if (typeof entry !== 'object' || entry === null) return
    if (Reflect.get(entry, 'apiKey') !== undefined)
      found.push(
        `${configPath(...path, 'apiKey')} holds a key inline; name its environment variable with apiKeyEnv instead`,
      )
    const headers: unknown = Reflect.get(entry, 'headers')
    if (typeof headers === 'object' && headers !== null) {
      for (const name of Object.keys(headers)) {
        if (isSecretHeader(name))
          found.push(
            `${configPath(...path, 'headers', name)} holds a credential inline; prefer apiKeyEnv`,
          )
      }
    }
  }
  for (const [name, entry] of Object.entries(config.providers ?? {}))
    check(['providers', name], entry)
  for (const chain of ['fallbacks', 'contextWindowFallbacks', 'contentPolicyFallbacks'] as const) {
    config[chain]?.forEach((target, i) => {
      check([chain, i], target)
    })
  }
  return found
}

import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { configJsonSchema, configJsonSchemaText } from './config-json-schema.js'
import { loadConfig } from './load-config.js'
import { writeFiles } from './test-support/run-cli.js'

const committed = readFileSync(new URL('../config.schema.json', import.meta.url), 'utf8')

describe('config.schema.json', () => {
  it('is what the config file schema generates (run `pnpm --filter @understudy/cli config-schema` when not)', () => {
    expect(committed).toBe(configJsonSchemaText())
  })

  it('says what core checks with a function: a timeout is a number above 0', () => {
    const properties = Reflect.get(configJsonSchema(), 'properties') as Record<string, object>
    for (const name of ['timeoutMs', 'attemptTimeoutMs', 'firstTokenTimeoutMs', 'idleTimeoutMs'])
      expect(properties[name], name).toMatchObject({ type: 'number', exclusiveMinimum: 0 })
    expect(committed).not.toContain('"readOnly"')
  })

  it("lists the file's top-level fields, each with a description for editors", () => {
    const properties = Reflect.get(configJsonSchema(), 'properties') as Record<string, object>
    expect(Object.keys(properties)).toEqual(
      expect.arrayContaining([
        'providers',
        'model',
        'fallbacks',
        'retries',
        'timeoutMs',
        'policy',
        'health',
      ]),
    )
    for (const [name, property] of Object.entries(properties))
      expect(Reflect.get(property, 'description'), name).toEqual(expect.any(String))
  })
})

describe("the README's full config example", () => {
  it('is a file the command accepts', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const example = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toContain('providers:')
    const files = await writeFiles({ 'chain.yaml': example ?? '' })
    const loaded = await loadConfig(files['chain.yaml'] as string)
    expect(loaded.warnings).toEqual([])
    expect(loaded.config).toMatchObject({
      model: 'openai/gpt-4o',
      providers: { local: { type: 'openai-compatible' } },
      policy: { invalid_request: { fallback: true } },
    })
    expect(loaded.config.fallbacks).toHaveLength(5)
  })
})

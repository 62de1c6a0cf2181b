import * as z from 'zod'
import { configFileSchema } from './config-file.js'
import { timeoutSchema } from './core-schemas.js'

/**
 * The JSON Schema of a config file, generated from {@link configFileSchema}
 * (so from core's schemas): what `config.schema.json` holds, for editors'
 * completion and checks. Two things JSON Schema words differently:
 *
 * - Core checks a timeout with a function (a positive number of ms, or
 *   `Infinity`); JSON and YAML files hold numbers, so it says "a number
 *   above 0".
 * - Core's lists are `readonly` in TypeScript, which zod reports as
 *   `readOnly`; to an editor that means "do not write this field", so it is
 *   left out.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configFileSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      if ((zodSchema as unknown) === timeoutSchema) {
        jsonSchema.type = 'number'
        jsonSchema.exclusiveMinimum = 0
        jsonSchema.description ??= 'A number of ms, above 0.'
      }
      delete jsonSchema.readOnly
    },
  })
  return {
    $schema: schema.$schema,
    title: 'understudy config file',
    description:
      'The chain `understudy chat --config` runs: providers, the primary model, fallbacks, retries, timeouts and policy. See apps/cli/README.md.',
    ...schema,
  }
}

/** {@link configJsonSchema} as `config.schema.json` holds it: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}

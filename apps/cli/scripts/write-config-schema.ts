/**
 * Writes `config.schema.json` from the config file's zod schema
 * (`pnpm --filter @understudy/cli config-schema`). A test fails when the
 * committed file differs from what this writes. It reads core as built
 * (`dist`), so build first when core's schemas changed.
 */
import { writeFileSync } from 'node:fs'
import { configJsonSchemaText } from '../src/config-json-schema.js'

const file = new URL('../config.schema.json', import.meta.url)
writeFileSync(file, configJsonSchemaText())
process.stdout.write(`wrote ${file.pathname}\n`)

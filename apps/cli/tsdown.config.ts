import { defineConfig } from 'tsdown'

/**
 * The command is built, not run through tsx: plain JavaScript starts in a
 * fraction of the time a TypeScript loader needs (README, "Start-up").
 * `run-chat.ts` is imported lazily by `bin.ts`, so it becomes its own chunk
 * and `--version` and `--help` never load the engine, zod or undici.
 */
export default defineConfig({
  entry: ['src/bin.ts'],
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  dts: false,
  fixedExtension: false,
  clean: true,
  failOnWarn: true,
})

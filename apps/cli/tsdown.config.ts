import { defineConfig } from 'tsdown'

/**
 * The command is built, not run through tsx: plain JavaScript starts in a
 * fraction of the time a TypeScript loader needs (README, "Start-up").
 * `program.ts` imports each command's work (`run-chat.ts`,
 * `demo/run-demo.ts`) when it runs, so each becomes its own chunk and
 * `--version` and `--help` load only commander, never zod, undici or the
 * engine. Dependencies stay external: the workspace packages are used as
 * built, as an installed command would use them.
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

import { fileURLToPath } from 'node:url'

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/**
 * Each workspace package's import specifier and the source file it stands for. The one
 * list behind Vitest's aliases below and the README examples' type-check
 * (`test-support/readme-examples.ts`), so both resolve a package the same way.
 */
export const workspaceEntries: Readonly<Record<string, string>> = {
  '@understudy/core': fromRoot('./packages/core/src/index.ts'),
  '@understudy/testkit': fromRoot('./packages/testkit/src/index.ts'),
  '@understudy/testkit/vitest': fromRoot('./packages/testkit/src/vitest.ts'),
  '@understudy/provider-kit': fromRoot('./packages/provider-kit/src/index.ts'),
  '@understudy/providers-openai': fromRoot('./packages/providers-openai/src/index.ts'),
  '@understudy/providers-anthropic': fromRoot('./packages/providers-anthropic/src/index.ts'),
  '@understudy/providers-google': fromRoot('./packages/providers-google/src/index.ts'),
  '@understudy/ai-sdk': fromRoot('./packages/ai-sdk/src/index.ts'),
  '@understudy/health-redis': fromRoot('./packages/health-redis/src/index.ts'),
}

/**
 * Workspace packages resolved to their source, so `vitest run` works before a build
 * (their `exports` point at `dist`). Vitest projects do not inherit the root config:
 * every project config that imports a workspace package spreads this into `resolve.alias`.
 * Each entry matches one import specifier exactly, so `@understudy/testkit` and
 * `@understudy/testkit/vitest` go to different files.
 */
export const workspaceAlias: { find: RegExp; replacement: string }[] = Object.entries(
  workspaceEntries,
).map(([specifier, replacement]) => ({
  find: new RegExp(`^${specifier.replaceAll('/', '\\/')}$`),
  replacement,
}))

/**
 * On Node 20 @understudy/ai-sdk is tested with `ai` 6, so its source gets
 * `ai` 6's copy of `@ai-sdk/provider` (3.x, installed as `@ai-sdk/provider3`),
 * as an `ai` 6 application would give it; the Node 24 project (`ai` 7) keeps 4.x.
 */
export const aiSdk6Provider: { find: RegExp; replacement: string } = {
  find: /^@ai-sdk\/provider$/,
  replacement: '@ai-sdk/provider3',
}

/**
 * `UNDERSTUDY_TEST_TIME_SCALE` (default 1): how much longer than usual a
 * real-time limit may be on this machine. The testkit reads it for its suites
 * (`testTimeScale()`); the configs read it here, for Vitest's own timeouts.
 */
const timeScaleText = process.env.UNDERSTUDY_TEST_TIME_SCALE?.trim() || '1'
const timeScale = Number(timeScaleText)
if (!(Number.isFinite(timeScale) && timeScale > 0)) {
  throw new Error(
    `UNDERSTUDY_TEST_TIME_SCALE: expected a positive number, received ${JSON.stringify(timeScaleText)}`,
  )
}

/**
 * What every project runs with.
 *
 * - `isolate: false`: a worker imports a module once for all the test files
 *   it runs, instead of once per file. Importing (zod, fast-check, undici,
 *   the packages' sources) was more than half of the suite's time; no test
 *   leaves global state behind (stubbed env and globals are restored below,
 *   listeners removed by the test that adds them).
 * - Timeouts: a test that hangs fails after 30 s rather than Vitest's 5 s,
 *   which a fast-check property or a socket test can pass on a loaded
 *   machine; scaled like every real-time limit of the tests.
 */
export const sharedTest: {
  readonly isolate: boolean
  readonly unstubEnvs: boolean
  readonly unstubGlobals: boolean
  readonly testTimeout: number
  readonly hookTimeout: number
} = {
  isolate: false,
  unstubEnvs: true,
  unstubGlobals: true,
  testTimeout: 30_000 * timeScale,
  hookTimeout: 30_000 * timeScale,
}

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

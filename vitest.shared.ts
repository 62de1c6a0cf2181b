import { fileURLToPath } from 'node:url'

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/**
 * Workspace packages resolved to their source, so `vitest run` works before a build
 * (their `exports` point at `dist`). Vitest projects do not inherit the root config:
 * every project config that imports a workspace package spreads this into `resolve.alias`.
 * Each entry matches one import specifier exactly, so `@understudy/testkit` and
 * `@understudy/testkit/vitest` go to different files.
 */
export const workspaceAlias: { find: RegExp; replacement: string }[] = [
  { find: /^@understudy\/core$/, replacement: fromRoot('./packages/core/src/index.ts') },
  { find: /^@understudy\/testkit$/, replacement: fromRoot('./packages/testkit/src/index.ts') },
  {
    find: /^@understudy\/provider-kit$/,
    replacement: fromRoot('./packages/provider-kit/src/index.ts'),
  },
  {
    find: /^@understudy\/providers-openai$/,
    replacement: fromRoot('./packages/providers-openai/src/index.ts'),
  },
  {
    find: /^@understudy\/testkit\/vitest$/,
    replacement: fromRoot('./packages/testkit/src/vitest.ts'),
  },
]

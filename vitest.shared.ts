import { fileURLToPath } from 'node:url'

const fromRoot = (path: string): string => fileURLToPath(new URL(path, import.meta.url))

/**
 * Workspace packages resolved to their source, so `vitest run` works before a build
 * (their `exports` point at `dist`). Vitest projects do not inherit the root config:
 * every project config that imports a workspace package spreads this into `resolve.alias`.
 */
export const workspaceAlias: Record<string, string> = {
  '@understudy/core': fromRoot('./packages/core/src/index.ts'),
}

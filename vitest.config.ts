import { defineConfig } from 'vitest/config'
import { sharedTest, workspaceAlias } from './vitest.shared.ts'

/**
 * Three projects: every package's tests on Node as one project, core's
 * again in the edge runtime, and the README examples (test-support). One Node project, not one per package: its
 * worker imports core, zod, undici and fast-check once for every test file
 * instead of once per package (with `isolate: false`, see vitest.shared.ts).
 * Each package's own vitest.config.ts runs its tests alone
 * (`pnpm --filter @understudy/core test`). Type tests (`*.test-d.ts`) are
 * checked by tsc in each package's `typecheck`, which `pnpm test` runs.
 */
export default defineConfig({
  resolve: { alias: workspaceAlias },
  test: {
    projects: [
      {
        resolve: { alias: workspaceAlias },
        test: {
          ...sharedTest,
          name: 'node',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
        },
      },
      'packages/core/vitest.edge.config.ts',
      'test-support',
    ],
  },
})

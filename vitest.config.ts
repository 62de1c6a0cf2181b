import { defineConfig } from 'vitest/config'
import { aiSdk6Provider, sharedTest, workspaceAlias } from './vitest.shared.ts'

/**
 * Tests that need Node >= 22 (`ai` 7 in @understudy/ai-sdk) are
 * `*.node24.test.ts`, in a project of their own that runs only on such a Node:
 * `.ci/run` runs this config again under Node 24. On an older Node the project
 * is left out, loudly; its config throws if named there
 * (`--project ai-sdk-node24`), so it never passes unrun.
 */
const nodeMajor = Number(process.versions.node.split('.')[0])
const node24Projects = nodeMajor >= 22 ? ['packages/ai-sdk/vitest.node24.config.ts'] : []
if (node24Projects.length === 0) {
  console.warn(
    `Node ${process.versions.node}: leaving out the ai-sdk-node24 project (ai 7 needs Node >= 22); .ci/run runs it under Node 24`,
  )
}

/**
 * Three projects (four on Node >= 22, below): every package's tests on Node as one project, core's
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
        resolve: { alias: [...workspaceAlias, aiSdk6Provider] },
        test: {
          ...sharedTest,
          name: 'node',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.node24.test.ts'],
        },
      },
      ...node24Projects,
      'packages/core/vitest.edge.config.ts',
      'test-support',
    ],
  },
})

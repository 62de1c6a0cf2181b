import { defineProject } from 'vitest/config'
import { sharedTest, workspaceAlias } from '../../vitest.shared.ts'

/**
 * Core's tests again in the edge runtime (a V8 isolate with web APIs and no
 * Node builtins), as core promises to run in any JavaScript runtime. Tests
 * that read files from disk stay on Node.
 */
export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    ...sharedTest,
    name: 'core (edge)',
    environment: 'edge-runtime',
    include: ['src/**/*.test.ts'],
    exclude: ['src/core-imports.test.ts', 'src/index.test.ts'],
  },
})

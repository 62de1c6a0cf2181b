import { defineConfig } from 'vitest/config'
import { workspaceAlias } from './vitest.shared.ts'

export default defineConfig({
  resolve: { alias: workspaceAlias },
  test: {
    projects: ['packages/*', 'apps/*', 'packages/core/vitest.edge.config.ts', 'test-support'],
  },
})

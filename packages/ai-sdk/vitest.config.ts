import { defineProject } from 'vitest/config'
import { aiSdk6Provider, sharedTest, workspaceAlias } from '../../vitest.shared.ts'

export default defineProject({
  resolve: { alias: [...workspaceAlias, aiSdk6Provider] },
  test: {
    ...sharedTest,
    name: 'ai-sdk',
    include: ['src/**/*.test.ts'],
    // ai 7's tests need Node >= 22: vitest.node24.config.ts.
    exclude: ['src/**/*.node24.test.ts'],
  },
})

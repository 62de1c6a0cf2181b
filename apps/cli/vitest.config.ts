import { defineProject } from 'vitest/config'
import { sharedTest, workspaceAlias } from '../../vitest.shared.ts'

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: { ...sharedTest, name: 'cli' },
})

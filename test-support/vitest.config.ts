import { defineProject } from 'vitest/config'
import { workspaceAlias } from '../vitest.shared.ts'

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: 'readme-examples',
    // Top level only: the examples written to .readme-examples/ (acme.test.ts…) run through this file.
    include: ['*.test.ts'],
  },
})

import { defineProject } from 'vitest/config'
import { workspaceAlias } from '../../vitest.shared.ts'

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: 'provider-kit',
    include: ['src/**/*.test.ts'],
    typecheck: {
      enabled: true,
      include: ['src/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
})

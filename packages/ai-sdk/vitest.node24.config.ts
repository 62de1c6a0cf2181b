import { defineProject } from 'vitest/config'
import { sharedTest, workspaceAlias } from '../../vitest.shared.ts'

/**
 * The tests that need `ai` 7, whose packages need Node >= 22: the
 * `*.node24.test.ts` files. `.ci/run` runs them under Node 24 (the root
 * config adds this project on Node >= 22, and says so when it leaves it out);
 * loaded on an older Node — `pnpm test:node24`, or `--project ai-sdk-node24`
 * by mistake — this config throws rather than let them pass unrun.
 */
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  throw new Error(
    `ai-sdk-node24: these tests need Node >= 22 (ai 7), this is Node ${process.versions.node}; run them with Node 24 (.ci/run does)`,
  )
}

export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    ...sharedTest,
    name: 'ai-sdk-node24',
    include: ['src/**/*.node24.test.ts'],
  },
})

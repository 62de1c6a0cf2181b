import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import {
  type Example,
  examplesDir,
  extractExamples,
  readExamples,
  typecheckExamples,
  writeExamples,
} from './readme-examples.js'

const examples = readExamples()
const paths = writeExamples(examples)

/**
 * An example that registers Vitest suites (`providerConformanceSuite` and its
 * siblings come from `@understudy/testkit/vitest`) must be imported while this
 * file is collected: its checks then run as this file's tests.
 */
const registersTests = (example: Example): boolean =>
  example.code.includes(`from '@understudy/testkit/vitest'`)

const pathOf = (example: Example): string => {
  const path = paths.get(example)
  if (path === undefined) throw new Error(`${example.doc}:${example.line} was not written`)
  return path
}

/**
 * A file with a type error, checked in the same program as the examples (one
 * program: building it is most of the cost), so that the check is seen to fail.
 */
const probe = join(examplesDir, 'type-error-probe.ts')
writeFileSync(
  probe,
  "import { createClient } from '@understudy/core'\ncreateClient({ providers: 1 })\n",
)
let diagnostics: string[] | undefined
/** Building the program takes a few seconds of CPU (Node's and Vitest's types among them); more on a busy machine. */
const typecheckTimeout = 60_000
const typecheck = (): string[] => {
  diagnostics ??= typecheckExamples([...paths.values(), probe])
  return diagnostics
}
const isProbe = (diagnostic: string): boolean => diagnostic.includes('type-error-probe.ts')

describe('README and DESIGN.md examples', () => {
  it('type-check as written', { timeout: typecheckTimeout }, () => {
    expect(typecheck().filter((diagnostic) => !isProbe(diagnostic))).toEqual([])
  })

  for (const example of examples) {
    if (example.mode !== 'run' || registersTests(example)) continue
    it(`${example.doc}:${example.line} runs as written`, { timeout: 20_000 }, async () => {
      // The examples print what they got; the test run need not show it.
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined)
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
      try {
        await import(pathOf(example))
      } finally {
        log.mockRestore()
        write.mockRestore()
      }
    })
  }
})

for (const example of examples) {
  if (example.mode !== 'run' || !registersTests(example)) continue
  // Vitest awaits a suite's factory while it collects, so the example's suites nest here.
  describe(`${example.doc}:${example.line}`, async () => {
    await import(pathOf(example))
  })
}

describe('extractExamples', () => {
  const doc = (...lines: string[]): string => lines.join('\n')

  it('takes ts and js blocks, and no other', () => {
    const found = extractExamples(
      'X.md',
      doc('```sh', 'npm test', '```', '```ts', 'const a = 1', '```', '```js', 'let b', '```'),
    )
    expect(found.map((each) => [each.line, each.mode, each.fileName, each.code])).toEqual([
      [4, 'run', 'X-4.ts', 'const a = 1\n'],
      [7, 'run', 'X-7.js', 'let b\n'],
    ])
  })

  it('joins a continuing block to the one before, and names a block by its file-name comment', () => {
    const found = extractExamples(
      'X.md',
      doc(
        '```ts',
        '// acme.ts',
        'const a = 1',
        '```',
        'text',
        '<!-- example: continues -->',
        '```ts',
        'a',
        '```',
      ),
    )
    expect(found).toEqual([
      {
        doc: 'X.md',
        line: 1,
        mode: 'run',
        reason: undefined,
        fileName: 'acme.ts',
        code: '// acme.ts\nconst a = 1\na\n',
      },
    ])
  })

  it('keeps the reason of a typecheck-only or not-checked block', () => {
    const found = extractExamples(
      'X.md',
      doc('<!-- example: typecheck-only: needs a key -->', '```ts', 'x', '```'),
    )
    expect([found[0]?.mode, found[0]?.reason]).toEqual(['typecheck-only', 'needs a key'])
  })

  it('rejects a marker it does not know, a reason left out and a continuation of nothing', () => {
    const marked =
      (marker: string): (() => Example[]) =>
      () =>
        extractExamples('X.md', doc(marker, '```ts', 'x', '```'))
    expect(marked('<!-- example: typechek-only: typo -->')).toThrow(/unknown example marker/)
    expect(marked('<!-- example: not-checked -->')).toThrow(/needs a reason/)
    expect(marked('<!-- example: continues -->')).toThrow(/no example before/)
  })
})

describe('typecheckExamples', () => {
  it('reports a type error in a file, with its name and line', {
    timeout: typecheckTimeout,
  }, () => {
    const found = typecheck().filter(isProbe)
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(/type-error-probe\.ts\(2,\d+\): error TS2322/)
  })
})

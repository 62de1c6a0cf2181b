import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/** Core's own source folder: this file's folder. */
const sourceRoot = dirname(fileURLToPath(import.meta.url))

const isTestFile = (path: string): boolean => /\.test(-d)?\.ts$/.test(path)

/** Every `.ts` file under `folder` that is not a test, fixtures left out. */
function sourceFiles(folder: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== '__fixtures__' && entry.name !== 'node_modules')
        files.push(...sourceFiles(path))
    } else if (entry.name.endsWith('.ts') && !isTestFile(entry.name)) {
      files.push(path)
    }
  }
  return files
}

const nodeBuiltins = new Set(builtinModules.map((name) => name.replace(/^node:/, '')))

/**
 * What is wrong with one import of a core file, or `undefined` when it is
 * allowed: core imports zod and its own files, nothing else (DESIGN.md:
 * "No `node:*`, no undici: core runs in any JS runtime").
 */
function importProblem(specifier: string, fromFile: string): string | undefined {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(fromFile), specifier)
    const inside = relative(sourceRoot, target)
    return inside.startsWith('..') ? `"${specifier}" reaches outside packages/core/src` : undefined
  }
  if (specifier === 'zod' || specifier.startsWith('zod/')) return undefined
  if (specifier.startsWith('node:')) return `"${specifier}" is a Node builtin`
  const name = specifier.split('/')[0] ?? specifier
  if (nodeBuiltins.has(name)) return `"${specifier}" is a Node builtin`
  if (name === 'undici') return `"${specifier}" is undici, which lives in provider-kit`
  return `"${specifier}" is a package other than zod`
}

/** The problems of every import in `source` (static, type-only, re-exports, dynamic, require). */
function importProblems(source: string, fromFile: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true)
  return importedFiles.flatMap(({ fileName }) => importProblem(fileName, fromFile) ?? [])
}

describe('core', () => {
  const files = sourceFiles(sourceRoot)

  it('has source files to check', () => {
    const names = files.map((file) => relative(sourceRoot, file))
    expect(names).toContain('index.ts')
    expect(names).toContain('errors.ts')
    expect(names.some(isTestFile)).toBe(false)
  })

  it('imports nothing but zod and its own files: no node:*, Node builtin, undici or other package', () => {
    const problems = files.flatMap((file) =>
      importProblems(readFileSync(file, 'utf8'), file).map(
        (problem) => `packages/core/src/${relative(sourceRoot, file)}: ${problem}`,
      ),
    )
    expect(problems, 'core must run in any JS runtime: only zod and relative imports').toEqual([])
  })
})

describe('the core import check', () => {
  const file = join(sourceRoot, 'example.ts')

  it('finds every kind of forbidden import', () => {
    const source = [
      "import { readFile } from 'node:fs/promises'",
      "import { createHash } from 'crypto'",
      "import type { IncomingMessage } from 'http'",
      "import { request } from 'undici'",
      "export { z } from 'zod-extra'",
      "export * from 'fs'",
      "import 'buffer'",
      "const lazy = await import('node:child_process')",
      "const old = require('path')",
      "import { helper } from '../../provider-kit/src/helper.js'",
    ].join('\n')
    expect(importProblems(source, file)).toEqual([
      '"node:fs/promises" is a Node builtin',
      '"crypto" is a Node builtin',
      '"http" is a Node builtin',
      '"undici" is undici, which lives in provider-kit',
      '"zod-extra" is a package other than zod',
      '"fs" is a Node builtin',
      '"buffer" is a Node builtin',
      '"node:child_process" is a Node builtin',
      '"path" is a Node builtin',
      '"../../provider-kit/src/helper.js" reaches outside packages/core/src',
    ])
  })

  it('allows zod, its subpaths and relative imports inside src', () => {
    const source = [
      "import * as z from 'zod'",
      "import type { $ZodIssue } from 'zod/v4/core'",
      "import { UnderstudyError } from './errors.js'",
      "import { mockProvider } from './test-support/mock-provider.js'",
      "export { systemClock } from './clock.js'",
    ].join('\n')
    expect(importProblems(source, file)).toEqual([])
  })

  it('ignores imports written in comments and strings', () => {
    const source = [
      "// import { readFile } from 'node:fs'",
      "/** @example import { openai } from '@understudy/providers-openai' */",
      'const text = "import http from \'http\'"',
    ].join('\n')
    expect(importProblems(source, file)).toEqual([])
  })
})

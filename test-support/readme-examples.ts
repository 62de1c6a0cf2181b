/**
 * @module Every TypeScript and JavaScript code block of the project's READMEs
 * and DESIGN.md, as files to type-check and run (`readme-examples.test.ts`).
 *
 * A block is an example on its own, unless an HTML comment on the line before
 * its fence says otherwise:
 *
 * - `<!-- example: continues -->`: the block goes on from the one before it
 *   in the same document (it uses that one's names); the two are one file.
 * - `<!-- example: typecheck-only: <reason> -->`: type-checked, never run
 *   (it needs a real API key, say).
 * - `<!-- example: not-checked: <reason> -->`: neither.
 *
 * A block whose first line is a file-name comment (`// acme.ts`) is written
 * under that name, so another block, in any document, can import it
 * (`import { acme } from './acme.js'`); the others are named after their
 * document and line.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { workspaceEntries } from '../vitest.shared.js'

/** The repository's root. */
export const repoRoot: string = fileURLToPath(new URL('..', import.meta.url))

/**
 * Where the examples are written: inside the repository, so the root
 * `package.json` (`"type": "module"`) makes them ES modules, and Vitest
 * transforms and aliases them like the tests. Git ignores it.
 */
export const examplesDir: string = join(repoRoot, 'test-support', '.readme-examples')

/** What is done with an example. */
export type ExampleMode = 'run' | 'typecheck-only' | 'not-checked'

/** One example: a block of a document, with the blocks that continue it. */
export interface Example {
  /** The document, relative to the repository root: `packages/core/README.md`. */
  readonly doc: string
  /** The line of its opening fence, from 1. */
  readonly line: number
  readonly mode: ExampleMode
  /** Why it is not run (`typecheck-only`, `not-checked`). */
  readonly reason: string | undefined
  /** The file it is written to, under {@link examplesDir}. */
  readonly fileName: string
  readonly code: string
}

const fencedLanguages: Readonly<Record<string, 'ts' | 'js'>> = {
  ts: 'ts',
  typescript: 'ts',
  js: 'js',
  javascript: 'js',
}

const markerPattern =
  /^<!--\s*example:\s*(continues|typecheck-only|not-checked)\s*(?::\s*(.*?))?\s*-->$/
const fileNamePattern = /^\/\/\s*([\w.-]+\.(?:ts|js))\b/

/** The documents whose examples are checked: the root README, DESIGN.md, and each package's and app's README. */
export function exampleDocuments(): string[] {
  const docs = ['README.md', 'DESIGN.md']
  for (const folder of ['packages', 'apps']) {
    for (const entry of ts.sys.getDirectories(join(repoRoot, folder)).sort()) {
      const readme = join(folder, entry, 'README.md')
      if (ts.sys.fileExists(join(repoRoot, readme))) docs.push(readme)
    }
  }
  return docs
}

/**
 * The examples of one document's text. Throws on a marker it does not know, a
 * `typecheck-only` or `not-checked` without a reason, and a `continues` with
 * nothing before it: a typo there would quietly stop checking a block.
 */
export function extractExamples(doc: string, text: string): Example[] {
  const lines = text.split('\n')
  const examples: Example[] = []
  for (let open = 0; open < lines.length; open++) {
    const fence = /^(\s*)(`{3,})\s*([\w-]*)/.exec(lines[open] ?? '')
    if (fence === null) continue
    const [, indent = '', ticks = '', info = ''] = fence
    const close = lines.findIndex((line, j) => j > open && line.trim() === ticks)
    if (close === -1) throw new Error(`${doc}:${open + 1}: a code block that is never closed`)
    const line = open + 1
    const marker = parseMarker(doc, line, (lines[open - 1] ?? '').trim())
    const language = fencedLanguages[info]
    const body = lines
      .slice(open + 1, close)
      .map((each) => (each.startsWith(indent) ? each.slice(indent.length) : each))
      .join('\n')
    open = close
    if (language === undefined) {
      if (marker.kind !== 'example')
        throw new Error(`${doc}:${line}: an example marker before a ${info || 'plain'} block`)
      continue
    }
    if (marker.kind === 'continues') {
      const head = examples.pop()
      if (head === undefined)
        throw new Error(`${doc}:${line}: \`continues\` with no example before`)
      examples.push({ ...head, code: `${head.code}${body}\n` })
      continue
    }
    const named = fileNamePattern.exec(body.split('\n')[0] ?? '')
    const fileName =
      named?.[1] ?? `${doc.replace(/\.md$/i, '').replace(/[^\w]+/g, '-')}-${line}.${language}`
    examples.push({
      doc,
      line,
      mode: marker.kind === 'example' ? 'run' : marker.kind,
      reason: marker.kind === 'example' ? undefined : marker.reason,
      fileName,
      code: `${body}\n`,
    })
  }
  return examples
}

type Marker =
  | { readonly kind: 'example' }
  | { readonly kind: 'continues' }
  | { readonly kind: 'typecheck-only' | 'not-checked'; readonly reason: string }

function parseMarker(doc: string, line: number, text: string): Marker {
  if (!/^<!--\s*example\b/.test(text)) return { kind: 'example' }
  const match = markerPattern.exec(text)
  if (match === null) throw new Error(`${doc}:${line}: unknown example marker ${text}`)
  const [, kind, reason = ''] = match
  if (kind === 'continues') return { kind }
  if (kind !== 'typecheck-only' && kind !== 'not-checked')
    throw new Error(`${doc}:${line}: unknown example marker ${text}`)
  if (reason === '') throw new Error(`${doc}:${line}: \`${kind}\` needs a reason after a colon`)
  return { kind, reason }
}

/** Every example of every document, read from disk. Throws when two examples claim one file name. */
export function readExamples(): Example[] {
  const examples = exampleDocuments().flatMap((doc) =>
    extractExamples(doc, readFileSync(join(repoRoot, doc), 'utf8')),
  )
  const seen = new Map<string, Example>()
  for (const example of examples) {
    const other = seen.get(example.fileName)
    if (other !== undefined) {
      throw new Error(
        `${example.doc}:${example.line} and ${other.doc}:${other.line} are both ${example.fileName}`,
      )
    }
    seen.set(example.fileName, example)
  }
  return examples
}

/** Writes `examples` (but the `not-checked` ones) to a fresh {@link examplesDir}; returns each one's path. */
export function writeExamples(examples: readonly Example[]): Map<Example, string> {
  rmSync(examplesDir, { recursive: true, force: true })
  mkdirSync(examplesDir, { recursive: true })
  const paths = new Map<Example, string>()
  for (const example of examples) {
    if (example.mode === 'not-checked') continue
    const path = join(examplesDir, example.fileName)
    writeFileSync(path, example.code)
    paths.set(example, path)
  }
  return paths
}

/**
 * Packages the examples import that only one workspace package installs: the
 * AI SDK (`ai` 7 and its providers), a development dependency of
 * @understudy/ai-sdk, whose README shows it.
 */
const exampleDependencies: Readonly<Record<string, string[]>> = {
  ai: [join(repoRoot, 'packages/ai-sdk/node_modules/ai/dist/index.d.ts')],
  '@ai-sdk/*': [join(repoRoot, 'packages/ai-sdk/node_modules/@ai-sdk/*/dist/index.d.ts')],
}

/**
 * Type-checks the files at `paths` as an application would compile them: the
 * repository's strict base options, Node's types, and each `@understudy/*`
 * import resolved to its package's source (as Vitest resolves it). Returns
 * the diagnostics of those files only, formatted; a package's own errors are
 * its typecheck's business.
 */
export function typecheckExamples(paths: readonly string[]): string[] {
  const base = ts.readConfigFile(join(repoRoot, 'tsconfig.base.json'), (path) =>
    ts.sys.readFile(path),
  )
  const parsed = ts.parseJsonConfigFileContent(base.config, ts.sys, repoRoot)
  const options: ts.CompilerOptions = {
    ...parsed.options,
    types: ['node'],
    // An application does not emit declarations, so it need not annotate its exports.
    declaration: false,
    isolatedDeclarations: false,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    paths: {
      ...Object.fromEntries(
        Object.entries(workspaceEntries).map(([specifier, file]) => [specifier, [file]]),
      ),
      ...exampleDependencies,
    },
  }
  const program = ts.createProgram({ rootNames: paths, options })
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...paths.flatMap((path) => {
      const source = program.getSourceFile(path)
      if (source === undefined) throw new Error(`${path} is not in the program`)
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    }),
  ]
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => repoRoot,
    getNewLine: () => '\n',
  }
  return diagnostics.map((diagnostic) => ts.formatDiagnostic(diagnostic, host).trim())
}

/** `path`, relative to the examples' folder, for messages. */
export function exampleName(path: string): string {
  return relative(dirname(examplesDir), path) || basename(path)
}

/**
 * @module Pins what a package's entry point exports, so that a new export
 * (or a lost one) is a decision someone writes down in a diff, not a side
 * effect of `export { … }`. Each package's `src/index.test.ts` calls
 * {@link expectEntryExports} with the list it means to publish.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { expect } from 'vitest'

/**
 * Every name an entry file exports, sorted: a value as its name (`createClient`),
 * a type-only export as `type Name` (`type ChatRequest`). Read from the source
 * with the TypeScript parser, so types are seen although they vanish at runtime;
 * `verbatimModuleSyntax` makes every type-only re-export say `type`.
 */
export function entryExports(file: URL): string[] {
  const path = fileURLToPath(file)
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest)
  const names: string[] = []
  const add = (name: string, typeOnly: boolean): void => {
    names.push(typeOnly ? `type ${name}` : name)
  }
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause
      // `export *` would publish whatever the other file grows; the house style forbids it.
      if (clause === undefined || !ts.isNamedExports(clause))
        throw new Error(`${path}: \`export *\` cannot be pinned; list the names`)
      for (const element of clause.elements)
        add(element.name.text, statement.isTypeOnly || element.isTypeOnly)
      continue
    }
    if (ts.isExportAssignment(statement)) {
      add('default', false)
      continue
    }
    const exported = ts.canHaveModifiers(statement)
      ? ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      : false
    if (!exported) continue
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name)) add(declaration.name.text, false)
    } else if (
      ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isEnumDeclaration(statement)
    ) {
      if (statement.name !== undefined) add(statement.name.text, false)
    } else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
      add(statement.name.text, true)
    }
  }
  return names.sort()
}

/**
 * Checks that the entry file at `file` exports exactly `written` (values by
 * name, types as `type Name`), and that the loaded `module` has exactly those
 * values at runtime. On a difference the failure lists the names added and
 * removed.
 */
export function expectEntryExports(
  file: URL,
  module: Readonly<Record<string, unknown>>,
  written: readonly string[],
): void {
  const declared = entryExports(file)
  const values = declared.filter((name) => !name.startsWith('type '))
  expect(
    Object.keys(module).sort(),
    `${file.pathname}: the module's runtime exports differ from the values its source declares`,
  ).toEqual(values)
  const listed = new Set(written)
  const added = declared.filter((name) => !listed.has(name))
  const removed = [...listed].filter((name) => !declared.includes(name)).sort()
  expect(
    { added, removed },
    `${file.pathname} exports changed. A new export is a public API decision: ` +
      'add it to the written list in this test (and say so in a changeset); ' +
      'a removal is a breaking change.',
  ).toEqual({ added: [], removed: [] })
}

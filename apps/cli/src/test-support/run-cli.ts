import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

/**
 * The built command. The tests run it as a user does, in a process of its
 * own; `pnpm test` builds it first (turbo), and so must whoever runs these
 * tests alone: `pnpm turbo run build --filter=@understudy/cli...`.
 */
export const binPath: string = fileURLToPath(new URL('../../dist/bin.js', import.meta.url))

/** How one run of the command ended, and what it printed. */
export interface CliRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** What a run gets: its environment (on top of `PATH` only, so no real key leaks in) and standard input. */
export interface CliRunOptions {
  readonly env?: Readonly<Record<string, string>>
  /** Written to standard input, which is then closed; without it standard input is closed at once. */
  readonly stdin?: string
}

/** Starts the command: stdout and stderr are pipes, as in `understudy … | jq`. */
export function startCli(args: readonly string[], options: CliRunOptions = {}): ChildProcess {
  if (!existsSync(binPath))
    throw new Error(
      `${binPath} is missing: build the command first (pnpm turbo run build --filter=@understudy/cli...)`,
    )
  const child = spawn(process.execPath, [binPath, ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin?.end(options.stdin ?? '')
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

/** Collects a started command's output until it exits. */
export function finished(child: ChildProcess): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** Runs the command to its end. */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return finished(startCli(args, options))
}

/** Writes `files` into a fresh temporary folder, removed when the test ends; returns each file's path by name. */
export async function writeFiles(
  files: Readonly<Record<string, string>>,
): Promise<Readonly<Record<string, string>>> {
  const folder = await mkdtemp(join(tmpdir(), 'understudy-cli-'))
  onTestFinished(() => rm(folder, { recursive: true, force: true }))
  const paths: Record<string, string> = {}
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(folder, name)
    await writeFile(paths[name], text)
  }
  return paths
}

/** Whether `text` holds an ANSI colour code. */
export function hasAnsi(text: string): boolean {
  return text.includes('\u001b[')
}

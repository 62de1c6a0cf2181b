/**
 * Runs a command and shows its output only when it fails: `node
 * scripts/quietly.mjs "what it does" turbo run build …` prints the one-line
 * description (none when it is empty), then nothing more on success; on
 * failure, everything the command printed, and its exit code. For steps a
 * person does not need to watch (the build before `pnpm demo` and `pnpm
 * understudy`), whose tools have no quiet mode of their own (turbo always
 * prints its scope and summary). Everything goes to stderr, so the stdout
 * of the command that follows (`pnpm understudy chat --json`) is its own.
 */
import { spawn } from 'node:child_process'

const [what, command, ...args] = process.argv.slice(2)
if (what === undefined || command === undefined) {
  process.stderr.write('usage: node scripts/quietly.mjs "<what it does>" <command> [args…]\n')
  process.exit(2)
}
if (what !== '') process.stderr.write(`${what}\n`)
const output = []
// Through a shell on Windows only, where the commands in node_modules/.bin are .cmd files.
const child = spawn(command, args, {
  stdio: ['ignore', 'pipe', 'pipe'],
  shell: process.platform === 'win32',
})
child.stdout.on('data', (chunk) => output.push(chunk))
child.stderr.on('data', (chunk) => output.push(chunk))
child.on('error', (error) => {
  process.stderr.write(`${command}: ${error.message}\n`)
  process.exitCode = 1
})
child.on('close', (code, signal) => {
  if (code === 0) return
  process.stderr.write(Buffer.concat(output))
  process.stderr.write(`${command} failed (${signal ?? `exit code ${code}`})\n`)
  process.exitCode = code ?? 1
})

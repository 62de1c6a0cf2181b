#!/usr/bin/env node
/** @module The `understudy` command. */
import module from 'node:module'

// Node 22.1+ can keep the compiled code of the modules it loads on disk
// (os.tmpdir()/node-compile-cache, as tsc and npm do); a second start then
// skips compiling zod, commander, undici and the engine. Older Node lacks
// it and starts as before; NODE_DISABLE_COMPILE_CACHE=1 turns it off. Set
// before anything else is imported, so everything after it is cached.
const enableCompileCache: unknown = Reflect.get(module, 'enableCompileCache')
if (typeof enableCompileCache === 'function') enableCompileCache()

const { runCommand } = await import('./program.js')

// `understudy demo | head -3`: once the reader is gone, nothing more can be
// said, so the command stops, as a pipeline expects, rather than dying on
// an unhandled EPIPE with a stack.
process.stdout.on('error', (error) => {
  if (Reflect.get(error, 'code') !== 'EPIPE') throw error
  process.exit(process.exitCode ?? 0)
})

// The status is set, never forced with process.exit(): output is flushed, and
// an aborted call's connection is closed, before the process ends on its own.
process.exitCode = await runCommand(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
})

import {
  type ChatResponse,
  createClient,
  isUnderstudyError,
  type UnderstudyError,
} from '@understudy/core'
import type { Dispatcher } from 'undici'
import { type ChatFlags, buildChain } from './build-chain.js'
import { isCliError } from './cli-error.js'
import type { CommandIo } from './command-io.js'
import { type ExitCode, exitCodes } from './exit-codes.js'
import { formatAttempts } from './format-attempts.js'
import { loadConfig } from './load-config.js'
import { readPrompt } from './read-prompt.js'
import { createPaint, type Paint, shouldColor } from './terminal-style.js'

/** `understudy chat`'s options, as the command line gave them. */
export interface ChatCommandOptions extends ChatFlags {
  readonly config?: string
  readonly stream: boolean
  readonly json: boolean
  readonly verbose: boolean
}

/**
 * `understudy chat`: one call with fallbacks, its answer on stdout. Returns
 * the exit status: 0 answered, 1 the call failed (every target, or the
 * deadline; the trace goes to stderr), 2 a usage or config mistake (nothing
 * was sent), 130 interrupted. Ctrl-C aborts the call in flight, which
 * closes its connection; the process then ends on its own.
 */
export async function runChat(
  prompt: string | undefined,
  options: ChatCommandOptions,
  io: CommandIo,
): Promise<ExitCode> {
  const paint = createPaint(shouldColor(io.stderr, io.env))
  const controller = new AbortController()
  let interrupted = false
  const onInterrupt = (): void => {
    // A second Ctrl-C means "now": the first already asked the call to stop.
    if (interrupted) process.exit(exitCodes.interrupted)
    interrupted = true
    controller.abort()
  }
  let dispatcher: Dispatcher | undefined
  try {
    const text = await readPrompt(prompt, io.stdin)
    const loaded = options.config === undefined ? undefined : await loadConfig(options.config)
    for (const warning of loaded?.warnings ?? [])
      io.stderr.write(`understudy: warning: ${warning}\n`)
    // The command's own pool, closed once the call settles: an idle
    // keep-alive connection in undici's global one would hold the process
    // open for a moment after the answer.
    const { Agent } = await import('undici')
    dispatcher = new Agent()
    const chain = await buildChain(text, options, loaded, io.env, { dispatcher })
    const health = loaded?.config.health
    const client = createClient({
      providers: chain.providers,
      ...(health !== undefined && { health }),
    })
    const callOptions = { ...chain.callOptions, signal: controller.signal }

    process.on('SIGINT', onInterrupt)
    let response: ChatResponse
    if (options.stream) {
      const stream = client.stream(chain.request, callOptions)
      let ended = true
      try {
        for await (const event of stream) {
          if (event.type !== 'text' || options.json) continue
          io.stdout.write(event.text)
          ended = event.text.endsWith('\n')
        }
      } finally {
        if (!ended) io.stdout.write('\n')
      }
      response = await stream.response
    } else {
      response = await client.complete(chain.request, callOptions)
    }

    if (options.json) io.stdout.write(`${JSON.stringify(response, null, 2)}\n`)
    else if (!options.stream) io.stdout.write(answerText(response))
    if (options.verbose)
      writeTrace(io, paint, `answered by ${paint.bold(response.target)}`, response)
    return exitCodes.success
  } catch (error) {
    return reportFailure(error, options, io, paint, interrupted)
  } finally {
    process.off('SIGINT', onInterrupt)
    await dispatcher?.close()
  }
}

/** The answer as printed: its text, or its tool calls as JSON when it has only those. */
function answerText(response: ChatResponse): string {
  if (response.text === '' && response.toolCalls.length > 0)
    return `${JSON.stringify(response.toolCalls, null, 2)}\n`
  return response.text.endsWith('\n') ? response.text : `${response.text}\n`
}

function writeTrace(
  io: CommandIo,
  paint: Paint,
  title: string,
  trace: { readonly attempts: readonly ChatResponse['attempts'][number][] },
): void {
  io.stderr.write(`${title}\n`)
  for (const line of formatAttempts(trace.attempts, paint)) io.stderr.write(`  ${line}\n`)
}

/** The exit status of a failed call, after telling the user why (stderr, or one JSON document on stdout). */
function reportFailure(
  error: unknown,
  options: ChatCommandOptions,
  io: CommandIo,
  paint: Paint,
  interrupted: boolean,
): ExitCode {
  const code = exitCodeOf(error, interrupted)
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ error: errorDocument(error), exitCode: code }, null, 2)}\n`)
    return code
  }
  if (isCliError(error)) {
    io.stderr.write(`understudy: ${error.message}\n`)
    if (error.kind === 'usage') io.stderr.write(`(see understudy chat --help)\n`)
    return code
  }
  if (!isUnderstudyError(error)) {
    io.stderr.write(`understudy: unexpected error: ${String(error)}\n`)
    if (options.verbose && error instanceof Error && error.stack !== undefined)
      io.stderr.write(`${error.stack}\n`)
    return code
  }
  if (code === exitCodes.interrupted) {
    io.stderr.write(`understudy: interrupted\n`)
    return code
  }
  io.stderr.write(`understudy: ${paint.red(headline(error))}\n`)
  if (error.attempts.length > 0) writeTrace(io, paint, 'attempts:', error)
  return code
}

function exitCodeOf(error: unknown, interrupted: boolean): ExitCode {
  if (isCliError(error)) return exitCodes.usage
  if (!isUnderstudyError(error)) return exitCodes.callFailed
  if (error.kind === 'config') return exitCodes.usage
  if (error.kind === 'aborted' && interrupted) return exitCodes.interrupted
  return exitCodes.callFailed
}

function headline(error: UnderstudyError): string {
  switch (error.kind) {
    case 'all_failed':
      return `every target failed (all_failed): ${error.message}`
    case 'stream_interrupted':
      return `the stream broke off after its first words (stream_interrupted): ${error.message}`
    case 'config':
      return error.message
    default:
      return `the call failed (${error.kind}): ${error.message}`
  }
}

/** The error as one JSON value: kind, message and, for a call's error, its attempts. */
function errorDocument(error: unknown): object {
  if (isCliError(error)) return { kind: error.kind, message: error.message }
  if (isUnderstudyError(error)) return error.toJSON()
  return { kind: 'unknown', message: String(error) }
}

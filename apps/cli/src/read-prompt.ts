import { CliError } from './cli-error.js'
import type { CommandIo } from './command-io.js'

/**
 * The prompt: the argument when given, else all of standard input (`echo hi
 * | understudy chat`), without its final newline. A {@link CliError} of kind
 * `usage` when there is none: no argument and a terminal on standard input,
 * or only blanks.
 */
export async function readPrompt(
  argument: string | undefined,
  stdin: CommandIo['stdin'],
): Promise<string> {
  let prompt = argument
  if (prompt === undefined) {
    if (stdin.isTTY === true)
      throw new CliError(
        'usage',
        'no prompt: give it as an argument (understudy chat "hi") or on standard input (echo hi | understudy chat)',
      )
    const chunks: Buffer[] = []
    for await (const chunk of stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    prompt = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '')
  }
  if (prompt.trim() === '') throw new CliError('usage', 'the prompt is empty')
  return prompt
}

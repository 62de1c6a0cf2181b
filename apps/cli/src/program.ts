import { readFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import type { CommandIo } from './command-io.js'
import { type ExitCode, exitCodes } from './exit-codes.js'
import { parseCount, parseDuration } from './parse-duration.js'

const chatExamples = `
Examples:
  $ understudy chat --model openai/gpt-4o "Say hi"
  $ understudy chat -m openai/gpt-4o -f anthropic/claude-sonnet-4-5 -f google/gemini-2.5-flash "Say hi"
  $ echo "Summarise this" | understudy chat --config chain.yaml
  $ understudy chat --config chain.yaml --stream --timeout 30s "Tell me a story"
  $ understudy chat --config chain.yaml --json "hi" | jq .attempts
  $ understudy chat --config chain.yaml --verbose --retries 0 "hi"

Keys come from each provider's usual variable (OPENAI_API_KEY, GROQ_API_KEY…)
or the variable a config file names (apiKeyEnv). The config file's shape:
apps/cli/README.md, and config.schema.json beside this command.

Exit status: 0 answered, 1 every target failed (the trace is printed),
2 a usage or config mistake (nothing was sent), 130 interrupted (Ctrl-C).
`

const demoExamples = `
Examples:
  $ understudy demo
  $ understudy demo | less        # plain text when piped
  $ NO_COLOR=1 understudy demo

Starts fake vendors on 127.0.0.1 with a scripted outage and runs a real
client against them: no key, no network beyond loopback, a few seconds.
`

const programExamples = `
Examples:
  $ understudy demo
  $ understudy chat --model openai/gpt-4o --fallback groq/llama-3.3-70b-versatile "Say hi"
  $ understudy chat --help
`

function durationOption(text: string): number {
  const ms = parseDuration(text)
  if (ms === undefined)
    throw new InvalidArgumentError(
      'expected a duration above 0: 30s, 1500ms, 2m, or a number of ms',
    )
  return ms
}

function countOption(text: string): number {
  const count = parseCount(text)
  if (count === undefined) throw new InvalidArgumentError('expected a whole number, 0 or more')
  return count
}

function collect(value: string, previous: readonly string[]): readonly string[] {
  return [...previous, value]
}

/** The command's version: its package's. */
function readVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8')
  const version: unknown = Reflect.get(Object(JSON.parse(text)), 'version')
  return typeof version === 'string' ? version : '0.0.0'
}

/**
 * Runs the command line `argv` (without `node` and the script) and returns
 * its exit status. Each command's work is imported when it runs, so
 * `--version` and `--help` load only the argument parser.
 */
export async function runCommand(argv: readonly string[], io: CommandIo): Promise<ExitCode> {
  let status: ExitCode = exitCodes.success
  const json = argv.includes('--json')
  let parseError: string | undefined
  const program = new Command('understudy')
    .description('Chat completions that survive their model failing: fallbacks from the terminal.')
    .version(readVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addHelpText('after', programExamples)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // With --json, a parse error is told as the other failures are: one JSON document on stdout.
      outputError: (text, write) => {
        if (json) parseError = text.replace(/^error: /, '').trim()
        else write(text)
      },
    })
    .showHelpAfterError('(add --help for usage)')

  program
    .command('chat')
    .description('Send one prompt along a chain of models; print the answer.')
    .argument('[prompt]', 'the prompt; read from standard input when left out')
    .option('-m, --model <target>', 'the primary target, "provider/model" (or "model" in --config)')
    .option(
      '-f, --fallback <target>',
      "a fallback target, in order; repeat for more (replaces the file's)",
      collect,
      [],
    )
    .option(
      '-c, --config <file>',
      'a JSON or YAML config file: providers, chains, retries, timeouts, policy',
    )
    .option('-s, --stream', 'print the answer as it arrives', false)
    .option(
      '--json',
      'print the response with its attempts (or the error) as one JSON document',
      false,
    )
    .addOption(
      new Option('-t, --timeout <duration>', 'the whole call: 30s, 1500ms, 2m or ms').argParser(
        durationOption,
      ),
    )
    .addOption(
      new Option('-r, --retries <count>', 'retries per target (0: one attempt each)').argParser(
        countOption,
      ),
    )
    .option(
      '--verbose',
      'print the attempt trace on stderr: target, outcome, status, retry, time',
      false,
    )
    .addHelpText('after', chatExamples)
    .action(async (prompt: string | undefined, flags: Record<string, unknown>) => {
      const { runChat } = await import('./run-chat.js')
      status = await runChat(
        prompt,
        {
          fallbacks: flags.fallback as readonly string[],
          stream: flags.stream === true,
          json: flags.json === true,
          verbose: flags.verbose === true,
          ...(typeof flags.model === 'string' && { model: flags.model }),
          ...(typeof flags.config === 'string' && { config: flags.config }),
          ...(typeof flags.timeout === 'number' && { timeoutMs: flags.timeout }),
          ...(typeof flags.retries === 'number' && { retries: flags.retries }),
        },
        io,
      )
    })

  program
    .command('demo')
    .description('Watch a fallback happen: fake vendors on 127.0.0.1, a scripted outage, no key.')
    .addHelpText('after', demoExamples)
    .action(async () => {
      const { runDemo } = await import('./demo/run-demo.js')
      status = await runDemo(io)
    })

  try {
    await program.parseAsync(argv, { from: 'user' })
    return status
  } catch (error) {
    // --help and --version end the parse by throwing, with status 0; every other parse error is a usage mistake.
    if (!(error instanceof CommanderError)) throw error
    if (error.exitCode === 0) return exitCodes.success
    if (parseError !== undefined) {
      const document = { error: { kind: 'usage', message: parseError }, exitCode: exitCodes.usage }
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
    }
    return exitCodes.usage
  }
}

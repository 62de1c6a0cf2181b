import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCli } from './test-support/run-cli.js'

const version: unknown = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version

describe('understudy', () => {
  it('prints its version with --version and exits 0', async () => {
    expect(await runCli(['--version'])).toMatchObject({
      code: 0,
      stdout: `${version}\n`,
      stderr: '',
    })
  })

  it.each([
    [['--help'], ['chat', 'demo', 'Examples:', '$ understudy demo']],
    [
      ['chat', '--help'],
      [
        '--model <target>',
        '--fallback <target>',
        '--config <file>',
        '--stream',
        '--json',
        '--timeout <duration>',
        '--retries <count>',
        '--verbose',
        'Examples:',
        'Exit status: 0 answered',
      ],
    ],
    [
      ['demo', '--help'],
      ['Examples:', 'NO_COLOR=1 understudy demo'],
    ],
  ])('prints help with examples for %j and exits 0', async (args, expected) => {
    const run = await runCli(args)
    expect(run.code).toBe(0)
    for (const text of expected) expect(run.stdout).toContain(text)
  })

  it.each([
    [['chat', '--bogus', 'hi'], "unknown option '--bogus'"],
    [
      ['chat', '--timeout', '10h', 'hi'],
      'expected a duration above 0: 30s, 1500ms, 2m, or a number of ms',
    ],
    [['chat', '--timeout', '0', 'hi'], 'expected a duration above 0'],
    [['chat', '--retries', 'two', 'hi'], 'expected a whole number, 0 or more'],
    [['chat', 'one', 'two'], 'too many arguments'],
    [['chat', '--model'], "option '-m, --model <target>' argument missing"],
    [['chats'], "unknown command 'chats'"],
    [['chat', '-m', 'gpt-4o', 'hi'], '--model: expected "provider/model"; received "gpt-4o"'],
    [
      ['chat', '-m', 'openai/gpt-4o', '-f', 'llama', 'hi'],
      '--fallback: expected "provider/model"; received "llama"',
    ],
  ])('refuses %j with a usage error, exit 2, no stack', async (args, message) => {
    const run = await runCli(args)
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(message)
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it('with --json, tells a parse error as one JSON document on stdout', async () => {
    const run = await runCli(['chat', '--json', '--retries', '-1', 'hi'])
    expect(run.code).toBe(2)
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        kind: 'usage',
        message:
          "option '-r, --retries <count>' argument '-1' is invalid. expected a whole number, 0 or more",
      },
      exitCode: 2,
    })
  })

  it('refuses an empty prompt on standard input', async () => {
    const run = await runCli(['chat', '-m', 'openai/gpt-4o'], { stdin: '\n' })
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining('the prompt is empty') })
  })
})

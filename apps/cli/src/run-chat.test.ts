import type { ChatResponse, ErrorKind } from '@understudy/core'
import { errorKinds } from '@understudy/core'
import {
  startFakeAnthropic,
  startFakeGemini,
  startFakeOpenAI,
  testTimeScale,
} from '@understudy/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import * as z from 'zod'
import { finished, hasAnsi, runCli, startCli, writeFiles } from './test-support/run-cli.js'

/** A fake server that each test closes. */
async function fakeServer(...args: Parameters<typeof startFakeOpenAI>) {
  const server = await startFakeOpenAI(...args)
  onTestFinished(() => server.close())
  return server
}

/** `openai/…` pointed at `url` through the environment `openai()` reads. */
const openaiEnv = (url: string): Record<string, string> => ({
  OPENAI_API_KEY: 'key-openai',
  OPENAI_BASE_URL: `${url}/v1`,
})

/** A config file whose primary is `openai/gpt-4o` at `primary` and whose fallback is `groq/llama` at `backup`. */
async function chainFile(primary: string, backup: string, extra = ''): Promise<string> {
  const files = await writeFiles({
    'chain.yaml': [
      'providers:',
      `  openai: { baseURL: "${primary}/v1", apiKeyEnv: PRIMARY_KEY }`,
      `  groq: { baseURL: "${backup}/v1", apiKeyEnv: BACKUP_KEY }`,
      'model: openai/gpt-4o',
      'fallbacks: [groq/llama-3.3-70b]',
      'retries: 0',
      extra,
    ].join('\n'),
  })
  return files['chain.yaml'] as string
}

const keys = { PRIMARY_KEY: 'key-primary', BACKUP_KEY: 'key-backup' }

const attemptSchema = z.strictObject({
  target: z.string(),
  provider: z.string(),
  model: z.string(),
  outcome: z.enum(['ok', 'error', 'skipped', 'hedged']),
  error: z
    .strictObject({
      kind: z.enum(errorKinds as [ErrorKind, ...ErrorKind[]]),
      status: z.number().optional(),
      retryAfterMs: z.number().optional(),
      message: z.string(),
    })
    .optional(),
  status: z.number().optional(),
  retry: z.number().int().min(0),
  durationMs: z.number().min(0),
})

/** `ChatResponse` as JSON: what `--json` prints on success. */
const responseSchema = z.strictObject({
  text: z.string(),
  message: z.strictObject({ role: z.literal('assistant'), content: z.string() }),
  toolCalls: z.array(z.never()),
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'other']),
  usage: z.strictObject({
    inputTokens: z.number().optional(),
    outputTokens: z.number().optional(),
    totalTokens: z.number().optional(),
    cachedInputTokens: z.number().optional(),
    cacheWriteInputTokens: z.number().optional(),
    reasoningTokens: z.number().optional(),
  }),
  reasoning: z.string().optional(),
  status: z.number().optional(),
  requestId: z.string().optional(),
  provider: z.string(),
  model: z.string(),
  target: z.string(),
  attempts: z.array(attemptSchema).min(1),
})

/** Every field of `ChatResponse`: the typecheck fails here when the type gains or loses one, and a test compares it with the schema. */
const responseFields: Readonly<Record<keyof ChatResponse, true>> = {
  text: true,
  message: true,
  toolCalls: true,
  reasoning: true,
  finishReason: true,
  usage: true,
  status: true,
  requestId: true,
  provider: true,
  model: true,
  target: true,
  attempts: true,
}

/** What `--json` prints on failure. */
const failureSchema = z.strictObject({
  error: z.looseObject({
    kind: z.string(),
    message: z.string(),
    attempts: z.array(attemptSchema).optional(),
  }),
  exitCode: z.number(),
})

describe('understudy chat', () => {
  it('prints the answer of the primary and exits 0', async () => {
    const server = await fakeServer({ respond: { text: 'Hi there.' } })
    const run = await runCli(['chat', '--model', 'openai/gpt-4o', 'Say hi'], {
      env: openaiEnv(server.url),
    })
    expect(run).toMatchObject({ code: 0, stdout: 'Hi there.\n', stderr: '' })
    expect(server.requests[0]?.headers.authorization).toBe('Bearer key-openai')
    expect(server.requests[0]?.body).toMatchObject({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Say hi' }],
    })
  })

  it('reads the prompt from standard input when no argument is given', async () => {
    const server = await fakeServer()
    const run = await runCli(['chat', '-m', 'openai/gpt-4o'], {
      env: openaiEnv(server.url),
      stdin: 'A prompt\non two lines\n',
    })
    expect(run.code).toBe(0)
    expect(server.requests[0]?.body).toMatchObject({
      messages: [{ role: 'user', content: 'A prompt\non two lines' }],
    })
  })

  it('falls back to another vendor, each with its own key, and --verbose shows the trace', async () => {
    const primary = await fakeServer({ respond: { status: 429, retryAfter: '30' } })
    const backup = await fakeServer({ respond: { text: 'From the backup.' } })
    const file = await chainFile(primary.url, backup.url)
    const run = await runCli(['chat', '--config', file, '--verbose', 'hi'], { env: keys })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('From the backup.\n')
    expect(run.stderr).toContain('answered by groq/llama-3.3-70b')
    expect(run.stderr).toMatch(/openai\/gpt-4o\s+rate_limit\s+429\s+0\s/)
    expect(run.stderr).toMatch(/groq\/llama-3\.3-70b\s+ok\s+200\s+0\s/)
    expect(run.stderr).toContain('Retry-After 30 s')
    expect(primary.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer key-primary',
    ])
    expect(backup.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer key-backup',
    ])
  })

  it('crosses vendors: OpenAI rate-limited, Claude overloaded, Gemini answers, each key in its own header', async () => {
    const openai = await fakeServer({ respond: { status: 429, retryAfter: '30' } })
    const claude = await startFakeAnthropic({ respond: { status: 529 } })
    onTestFinished(() => claude.close())
    const gemini = await startFakeGemini({ respond: { text: 'From Gemini.' } })
    onTestFinished(() => gemini.close())
    const files = await writeFiles({
      'chain.yaml': [
        'providers:',
        `  openai: { baseURL: "${openai.url}/v1", apiKeyEnv: PRIMARY_KEY }`,
        `  anthropic: { baseURL: "${claude.url}", apiKeyEnv: CLAUDE_KEY }`,
        `  google: { baseURL: "${gemini.url}/v1beta", apiKeyEnv: GEMINI_KEY }`,
        'model: openai/gpt-4o',
        'fallbacks: [anthropic/claude-sonnet-4-5, google/gemini-2.5-flash]',
        'retries: 0',
      ].join('\n'),
    })
    const env = { PRIMARY_KEY: 'key-primary', CLAUDE_KEY: 'key-claude', GEMINI_KEY: 'key-gemini' }
    const run = await runCli(['chat', '-c', files['chain.yaml'] as string, '--verbose', 'hi'], {
      env,
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toBe('From Gemini.\n')
    expect(run.stderr).toContain('answered by google/gemini-2.5-flash')
    expect(run.stderr).toMatch(/anthropic\/claude-sonnet-4-5\s+overloaded\s+529/)
    expect(openai.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer key-primary',
    ])
    expect(claude.requests.map((request) => request.headers['x-api-key'])).toEqual(['key-claude'])
    expect(claude.requests[0]?.headers.authorization).toBeUndefined()
    expect(gemini.requests.map((request) => request.headers['x-goog-api-key'])).toEqual([
      'key-gemini',
    ])
  })

  it("lets --fallback replace the file's fallbacks and --retries its retries", async () => {
    const primary = await fakeServer({ respond: { status: 503 } })
    const backup = await fakeServer()
    const file = await chainFile(primary.url, backup.url)
    const run = await runCli(
      ['chat', '-c', file, '-f', 'groq/other-model', '--retries', '2', '--json', 'hi'],
      { env: keys },
    )
    expect(run.code).toBe(0)
    const response = responseSchema.parse(JSON.parse(run.stdout))
    expect(response.attempts.map((attempt) => [attempt.target, attempt.retry])).toEqual([
      ['openai/gpt-4o', 0],
      ['openai/gpt-4o', 1],
      ['openai/gpt-4o', 2],
      ['groq/other-model', 0],
    ])
  })

  it('exits 1 when every target fails, with the trace on stderr', async () => {
    const primary = await fakeServer({ respond: { status: 503 } })
    const backup = await fakeServer({ respond: { status: 500 } })
    const file = await chainFile(primary.url, backup.url)
    const run = await runCli(['chat', '--config', file, 'hi'], { env: keys })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain('every target failed (all_failed)')
    expect(run.stderr).toMatch(/1\s+openai\/gpt-4o\s+overloaded\s+503/)
    expect(run.stderr).toMatch(/2\s+groq\/llama-3\.3-70b\s+server\s+500/)
    expect(run.stderr).not.toMatch(/\n\s+at /)
    expect(run.stderr).not.toContain('key-primary')
  })

  it('--json prints the response with its attempts as one document that parses as a ChatResponse', async () => {
    const primary = await fakeServer({ respond: { status: 503 } })
    const backup = await fakeServer({ respond: { text: 'Backup answer.' } })
    const file = await chainFile(primary.url, backup.url)
    const run = await runCli(['chat', '--config', file, '--json', 'hi'], { env: keys })
    expect(run.code).toBe(0)
    expect(Object.keys(responseSchema.shape).sort()).toEqual(Object.keys(responseFields).sort())
    const response = responseSchema.parse(JSON.parse(run.stdout))
    expect(response).toMatchObject({
      text: 'Backup answer.',
      provider: 'groq',
      model: 'llama-3.3-70b',
      target: 'groq/llama-3.3-70b',
    })
    expect(response.attempts.map((attempt) => attempt.error?.kind ?? attempt.outcome)).toEqual([
      'overloaded',
      'ok',
    ])
    expect(run.stderr).toBe('')
  })

  it('--json prints a failed call as one document: the error with its attempts, and the exit code', async () => {
    const primary = await fakeServer({ respond: { status: 401 } })
    const backup = await fakeServer({ respond: { status: 503 } })
    const file = await chainFile(primary.url, backup.url)
    const run = await runCli(['chat', '--config', file, '--json', 'hi'], { env: keys })
    expect(run.code).toBe(1)
    const document = failureSchema.parse(JSON.parse(run.stdout))
    expect(document.exitCode).toBe(1)
    expect(document.error.kind).toBe('all_failed')
    expect(document.error.attempts?.map((attempt) => attempt.error?.kind)).toEqual([
      'auth',
      'overloaded',
    ])
    expect(run.stdout).not.toContain('key-primary')
  })

  it('--json prints a config mistake as one document with exit code 2', async () => {
    const run = await runCli(['chat', '--json', '--model', 'gpt-4o', 'hi'])
    expect(run.code).toBe(2)
    expect(failureSchema.parse(JSON.parse(run.stdout))).toEqual({
      error: { kind: 'usage', message: '--model: expected "provider/model"; received "gpt-4o"' },
      exitCode: 2,
    })
  })

  it('--stream prints the text as it arrives, piece by piece', async () => {
    const text = 'One two three four five six.'
    // Words 60 ms apart (scaled on a slow machine): far enough that the pipe hands them over one by one.
    const server = await fakeServer({ respond: { text, chunkDelayMs: 60 * testTimeScale() } })
    const child = startCli(['chat', '--stream', '-m', 'openai/gpt-4o', 'hi'], {
      env: openaiEnv(server.url),
    })
    const pieces: string[] = []
    child.stdout?.on('data', (chunk: Buffer) => pieces.push(chunk.toString('utf8')))
    const run = await finished(child)
    expect(run.code).toBe(0)
    expect(run.stdout).toBe(`${text}\n`)
    expect(pieces.length).toBeGreaterThan(2)
    expect(server.requests[0]?.stream).toBe(true)
  })

  it('--stream falls back before the first token without showing the failure', async () => {
    const primary = await fakeServer({ respond: { status: 503 } })
    const backup = await fakeServer({ respond: { text: 'Streamed by the backup.' } })
    const file = await chainFile(primary.url, backup.url)
    const run = await runCli(['chat', '-c', file, '--stream', 'hi'], { env: keys })
    expect(run).toMatchObject({ code: 0, stdout: 'Streamed by the backup.\n', stderr: '' })
  })

  it('--stream reports a stream cut after its first words, keeping what was printed, and exits 1', async () => {
    const server = await fakeServer({ respond: { fault: 'drop-mid-stream', afterEvents: 3 } })
    const run = await runCli(['chat', '--stream', '-m', 'openai/gpt-4o', 'hi'], {
      env: openaiEnv(server.url),
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('Partial answer\n')
    expect(run.stderr).toContain('(stream_interrupted)')
  })

  it('Ctrl-C mid-stream aborts the call, closes its connection and exits 130 on its own', async () => {
    const server = await fakeServer({ respond: { fault: 'stall', afterEvents: 3 } })
    const child = startCli(['chat', '--stream', '-m', 'openai/gpt-4o', 'hi'], {
      env: openaiEnv(server.url),
    })
    const run = finished(child)
    await new Promise<void>((resolve) => {
      child.stdout?.on('data', () => resolve())
    })
    child.kill('SIGINT')
    const { code, signal, stdout, stderr } = await run
    expect({ code, signal }).toEqual({ code: 130, signal: null })
    expect(stdout).toBe('Partial answer\n')
    expect(stderr).toBe('understudy: interrupted\n')
    const request = await server.settled(0)
    expect(request.closedEarly).toBe(true)
  })

  it('--timeout ends a call that takes too long with the deadline and exits 1', async () => {
    const server = await fakeServer({ respond: { fault: 'hang' } })
    // Long enough for the request to be sent on a busy machine: the server must see it cut.
    const timeout = `${Math.round(1000 * testTimeScale())}ms`
    const run = await runCli(['chat', '--timeout', timeout, '-m', 'openai/gpt-4o', 'hi'], {
      env: openaiEnv(server.url),
    })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('(deadline)')
    expect((await server.settled(0)).closedEarly).toBe(true)
  })

  it('colours the trace only where colour is wanted: never when piped or with NO_COLOR', async () => {
    const server = await fakeServer({ respond: { status: 503 } })
    const args = ['chat', '--retries', '0', '-m', 'openai/gpt-4o', 'hi']
    const piped = await runCli(args, { env: openaiEnv(server.url) })
    const forced = await runCli(args, { env: { ...openaiEnv(server.url), FORCE_COLOR: '1' } })
    const noColor = await runCli(args, {
      env: { ...openaiEnv(server.url), FORCE_COLOR: '1', NO_COLOR: '1' },
    })
    expect([piped.code, forced.code, noColor.code]).toEqual([1, 1, 1])
    expect(piped.stderr).toContain('overloaded')
    expect(hasAnsi(piped.stderr)).toBe(false)
    expect(hasAnsi(forced.stderr)).toBe(true)
    expect(hasAnsi(noColor.stderr)).toBe(false)
  })
})

import { startFakeOpenAI } from '@understudy/testkit'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runCli, writeFiles } from './test-support/run-cli.js'

/** Runs `understudy chat --config <file> hi` with the file holding `text`; nothing listens, so any request would fail. */
async function chatWith(name: string, text: string, env: Record<string, string> = {}) {
  const files = await writeFiles({ [name]: text })
  const file = files[name] as string
  return { file, run: await runCli(['chat', '--config', file, 'hi'], { env }) }
}

/** Each bad file, and the message (after `<file>: `) the command must print. */
const badFiles: readonly (readonly [string, string, string])[] = [
  [
    'a target without its provider',
    'model: openai/gpt-4o\nfallbacks:\n  - groq/llama-3.3-70b\n  - { model: gpt-4o-mini }\n',
    'fallbacks[1].model: expected "provider/model"; received "gpt-4o-mini"',
  ],
  [
    'a misspelled option',
    'model: openai/gpt-4o\nfallback: [groq/llama-3.3-70b]\n',
    'fallback: expected one of',
  ],
  [
    'a zero timeout',
    'model: openai/gpt-4o\ntimeoutMs: 0\n',
    'timeoutMs: expected a positive number of ms, or Infinity; received 0',
  ],
  [
    'retries that are not a whole number',
    'model: openai/gpt-4o\nretries: 1.5\n',
    'retries: expected a whole number of retries; received 1.5',
  ],
  [
    'a policy for a kind that has none',
    'model: openai/gpt-4o\npolicy: { all_failed: { retry: true } }\n',
    'policy.all_failed: expected one of',
  ],
  [
    'an unknown provider type',
    'providers:\n  acme: { type: acme-ai }\nmodel: acme/one\n',
    'providers.acme.type: expected one of "openai"|"azure"|"anthropic"|"google"|"openai-compatible"',
  ],
  [
    'a target base URL that is not http',
    'model: openai/gpt-4o\nfallbacks: [{ model: openai/gpt-4o-mini, baseURL: "ftp://example.com" }]\n',
    'fallbacks[0].baseURL: expected an http: or https: URL',
  ],
  [
    'a health rate above 1',
    'model: openai/gpt-4o\nhealth: { failureRate: 2 }\n',
    'health.failureRate: expected a rate above 0 and at most 1; received 2',
  ],
]

describe('understudy chat --config', () => {
  it.each(badFiles)('names the file and the path of %s, and exits 2', async (_, text, message) => {
    const { file, run } = await chatWith('chain.yaml', text, { OPENAI_API_KEY: 'k' })
    expect(run.code).toBe(2)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(`understudy: ${file}: ${message}`)
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it('reports a file that is not YAML with its line, and exits 2', async () => {
    const { file, run } = await chatWith('chain.yaml', 'model: openai/gpt-4o\nfallbacks: [a, b\n')
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(new RegExp(`^understudy: ${file}: not valid YAML: .*line 3`))
  })

  it('reads a .json file as JSON, reporting bad JSON as such', async () => {
    const { file, run } = await chatWith('chain.json', '{ "model": "openai/gpt-4o", }')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`understudy: ${file}: not valid JSON:`)
  })

  it('reports a file that is not there', async () => {
    const run = await runCli(['chat', '--config', 'no-such-chain.yaml', 'hi'])
    expect(run).toMatchObject({
      code: 2,
      stderr: 'understudy: no-such-chain.yaml: cannot read the config file (no such file)\n',
    })
  })

  it('reports a provider option the factory does not take at its place in the file', async () => {
    const { file, run } = await chatWith(
      'chain.yaml',
      'providers:\n  openai: { baseUrl: "http://127.0.0.1:9/v1" }\nmodel: openai/gpt-4o\n',
      { OPENAI_API_KEY: 'k' },
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`${file}: providers.openai.baseUrl:`)
    expect(run.stderr).toContain('did you mean "baseURL"?')
  })

  it('reports a key variable that is not set', async () => {
    const { file, run } = await chatWith(
      'chain.yaml',
      'providers:\n  openai: { apiKeyEnv: MY_OPENAI_KEY }\nmodel: openai/gpt-4o\n',
    )
    expect(run).toMatchObject({
      code: 2,
      stderr: `understudy: ${file}: providers.openai.apiKeyEnv: MY_OPENAI_KEY is not set\n`,
    })
  })

  it('reports a provider with no key to be found, saying where to set one', async () => {
    const { file, run } = await chatWith('chain.yaml', 'model: openai/gpt-4o\n')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`${file}: providers.openai.apiKey: no API key: set OPENAI_API_KEY`)
  })

  it('reports a bad base URL from the environment, naming the variable', async () => {
    const run = await runCli(['chat', '-m', 'openai/gpt-4o', 'hi'], {
      env: { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'localhost:8080/v1' },
    })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      'understudy: providers.openai: OPENAI_BASE_URL: expected an http: or https: URL',
    )
  })

  it('reports a target whose provider nobody knows', async () => {
    const run = await runCli(['chat', '-m', 'acme/one', 'hi'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('unknown provider "acme"')
  })

  it('reports a chain without a model', async () => {
    const { run } = await chatWith('chain.yaml', 'retries: 1\n')
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('no model: pass --model provider/model')
  })

  it('warns about a key written inline, and still uses it for its own target only', async () => {
    const server = await startFakeOpenAI()
    onTestFinished(() => server.close())
    const { file, run } = await chatWith(
      'chain.yaml',
      `providers:\n  local: { type: openai-compatible, baseURL: "${server.url}/v1", apiKey: sk-inline }\nmodel: local/qwen\n`,
    )
    expect(run.code).toBe(0)
    expect(run.stderr).toBe(
      `understudy: warning: ${file}: providers.local.apiKey holds a key inline; name its environment variable with apiKeyEnv instead\n`,
    )
    expect(server.requests[0]?.headers.authorization).toBe('Bearer sk-inline')
    expect(server.requests[0]?.body).toMatchObject({ model: 'qwen' })
  })

  it('reads a target key from the variable apiKeyEnv names, sending it to that target only', async () => {
    const server = await startFakeOpenAI()
    onTestFinished(() => server.close())
    server.script('gpt-4o', { status: 503 })
    const { run } = await chatWith(
      'chain.yaml',
      [
        'providers:',
        `  openai: { baseURL: "${server.url}/v1", apiKeyEnv: MAIN_KEY }`,
        'model: openai/gpt-4o',
        `fallbacks: [{ model: openai/gpt-4o-mini, apiKeyEnv: BACKUP_KEY }]`,
        'retries: 0',
        'system: Be brief.',
        'params: { temperature: 0.2, maxTokens: 50 }',
      ].join('\n'),
      { MAIN_KEY: 'key-main', BACKUP_KEY: 'key-backup' },
    )
    expect(run).toMatchObject({ code: 0, stdout: 'Hello from the fake server.\n', stderr: '' })
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([
      'Bearer key-main',
      'Bearer key-backup',
    ])
    expect(server.requests[1]?.body).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: 0.2,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
    })
  })
})

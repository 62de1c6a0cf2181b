/**
 * How fast the fake servers answer over keep-alive connections: they must
 * keep up as the upstream of the providers' benchmarks. Prints requests per
 * second; asserts nothing.
 */
import { Agent, request } from 'undici'
import { startFakeAnthropic, startFakeGemini, startFakeOpenAI } from '../dist/index.js'

const durationMs = 2_000
const concurrency = 64
const agent = new Agent({ connections: concurrency, pipelining: 1 })

async function load(name: string, url: string, body: unknown): Promise<void> {
  const payload = JSON.stringify(body)
  let done = 0
  const end = Date.now() + durationMs
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
        body: payload,
      })
      await response.body.json()
      done += 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  console.log(
    `${name.padEnd(36)} ${Math.round(done / (durationMs / 1000))
      .toString()
      .padStart(7)} requests/s at ${concurrency} in flight`,
  )
}

const messages = [{ role: 'user', content: 'Say hi.' }]
const openai = await startFakeOpenAI()
const anthropic = await startFakeAnthropic()
const gemini = await startFakeGemini()
try {
  await load('fake OpenAI /v1/chat/completions', `${openai.url}/v1/chat/completions`, {
    model: 'gpt-4o',
    messages,
  })
  await load('fake Anthropic /v1/messages', `${anthropic.url}/v1/messages`, {
    model: 'claude',
    max_tokens: 64,
    messages,
  })
  await load(
    'fake Gemini :generateContent',
    `${gemini.url}/v1beta/models/gemini-2.5-flash:generateContent`,
    { contents: [{ role: 'user', parts: [{ text: 'Say hi.' }] }] },
  )
} finally {
  await Promise.all([openai.close(), anthropic.close(), gemini.close(), agent.close()])
}

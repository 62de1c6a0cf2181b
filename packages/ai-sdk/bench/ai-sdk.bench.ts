/**
 * What the bridge costs a `generateText` call: the same call, the same fake
 * OpenAI server, through `understudyModel` and on the bare `@ai-sdk/openai`
 * model. `ai` 6 and `@ai-sdk/openai` 3 on Node < 22, `ai` 7 and
 * `@ai-sdk/openai` 4 on Node >= 22 (their engines).
 *
 * The measuring (each row in a fresh process, rounds in rotating order) is
 * the shared bench kit's; the fake servers' process is the OpenAI
 * provider's benchmark's.
 */
import { createClient } from '@understudy/core'
import { openai } from '@understudy/providers-openai'
import {
  callPlan,
  checkFreshBuild,
  describePlan,
  measureIsolated,
  measureRow,
  planFromEnv,
  printTable,
  reportSample,
  type Sample,
  startServerProcess,
  workerRole,
} from '../../../test-support/bench-kit.js'
import { fromAISDK, understudyModel } from '../dist/index.js'

/** Measured rounds, each row in a fresh process; `BENCH_ROUNDS` overrides. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 4)
const plan = planFromEnv(callPlan)

const nodeMajor = Number(process.versions.node.split('.')[0])
const aiMajor = nodeMajor >= 22 ? 7 : 6

/** The two majors' calls the benchmark makes, with the types of `ai` 7. */
interface Sdk {
  readonly generateText: typeof import('ai').generateText
  readonly createOpenAI: typeof import('@ai-sdk/openai').createOpenAI
}

async function loadSdk(): Promise<Sdk> {
  if (aiMajor === 7) {
    const [ai, provider] = await Promise.all([import('ai'), import('@ai-sdk/openai')])
    return { generateText: ai.generateText, createOpenAI: provider.createOpenAI }
  }
  const [ai, provider] = await Promise.all([import('ai6'), import('@ai-sdk/openai3')])
  // ai 6's and @ai-sdk/openai 3's calls are ai 7's for what is used here: a text prompt.
  return {
    generateText: ai.generateText as unknown as Sdk['generateText'],
    createOpenAI: provider.createOpenAI as unknown as Sdk['createOpenAI'],
  }
}

interface Urls {
  readonly up: string
  readonly down: string
  readonly backup: string
}

type Row = readonly [string, () => Promise<unknown>]

function rows(sdk: Sdk, urls: Urls): readonly Row[] {
  const { up, backup } = urls
  const bare = sdk.createOpenAI({ baseURL: `${up}/v1`, apiKey: 'bench-key' })
  const bareModel = bare.chat('gpt-4o')
  const fallbacks = [
    { model: 'openai/gpt-4o-mini', baseURL: `${backup}/v1`, apiKey: 'backup-key' },
    { model: 'openai/gpt-4.1-mini', baseURL: `${backup}/v1`, apiKey: 'backup-key' },
  ]
  const client = createClient({
    providers: [
      openai({ baseURL: `${up}/v1`, apiKey: 'bench-key' }),
      fromAISDK('aisdk', (modelId) => bare.chat(modelId)),
    ],
    retries: 0,
    health: { cooldownMs: 0 },
  })
  const bridged = understudyModel(client, { model: 'openai/gpt-4o', fallbacks })
  const bothWays = understudyModel(client, { model: 'aisdk/gpt-4o', fallbacks })
  const call = (model: Parameters<Sdk['generateText']>[0]['model']) => () =>
    sdk.generateText({ model, prompt: 'Say hi.', maxRetries: 0 })
  return [
    [`generateText, bare @ai-sdk/openai model (ai ${aiMajor})`, call(bareModel)],
    ['generateText, understudyModel over openai(), 2 fallbacks', call(bridged)],
    ['generateText, understudyModel over fromAISDK(@ai-sdk/openai)', call(bothWays)],
  ]
}

const role = workerRole<Urls>()
if (role !== undefined) {
  const row = rows(await loadSdk(), role.context)[role.row]
  if (row === undefined) throw new Error(`no row ${role.row}`)
  await reportSample(await measureRow(row[1], plan))
  process.exit(0)
}

console.log(
  `\ngenerateText through the bridge and on the bare model, ai ${aiMajor} on Node ${process.versions.node}; ` +
    `${rounds} rounds in rotating order, each row in a fresh process: ${describePlan(plan, 'call')}. ` +
    'Figures are medians over the rounds; ratios are per-round ratios to the bare model, median (min–max).',
)
checkFreshBuild(['core', 'provider-kit', 'providers-openai', 'ai-sdk'])
const servers = await startServerProcess<Urls>(
  new URL('../../providers-openai/bench/fake-servers-process.mjs', import.meta.url),
  { testkit: import.meta.resolve('@understudy/testkit') },
)
try {
  const labels = rows(await loadSdk(), servers).map(([label]) => label)
  const samples = await measureIsolated<Sample, Urls>(
    import.meta.url,
    'ai-sdk',
    labels.length,
    rounds,
    servers,
  )
  printTable(labels, samples, 'call')
} finally {
  servers.stop()
}

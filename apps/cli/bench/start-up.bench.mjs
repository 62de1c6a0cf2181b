/**
 * How fast the command starts: `understudy --version`, and `understudy chat`
 * against a fake OpenAI server on 127.0.0.1 (in this process, so the
 * command's own time is what is measured). Each row runs the built command
 * (`dist/bin.js`) `BENCH_RUNS` times (default 15) in fresh processes, one
 * after another, and prints the median with the range. On Node 22+ the
 * command keeps a compile cache; the `cold` rows turn it off
 * (NODE_DISABLE_COMPILE_CACHE=1), as on Node 20, which has none.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startFakeOpenAI } from '@understudy/testkit'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const runs = Number(process.env.BENCH_RUNS ?? 15)

/** Wall time of one run of the command, in ms; rejects when it does not exit with 0. */
function timeRun(args, env) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code === 0) resolve(performance.now() - start)
      else reject(new Error(`understudy ${args.join(' ')} exited with ${code}`))
    })
  })
}

async function measure(args, env) {
  await timeRun(args, env) // fills the compile cache, when there is one
  const times = []
  for (let i = 0; i < runs; i++) times.push(await timeRun(args, env))
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1) }
}

const server = await startFakeOpenAI()
try {
  const chatEnv = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `${server.url}/v1` }
  const chat = ['chat', '--model', 'openai/gpt-4o', 'hi']
  const rows = [
    ['node -e 0 (the floor)', null, {}],
    ['understudy --version', ['--version'], {}],
    ['understudy --version, cold', ['--version'], { NODE_DISABLE_COMPILE_CACHE: '1' }],
    ['understudy chat', chat, chatEnv],
    ['understudy chat, cold', chat, { ...chatEnv, NODE_DISABLE_COMPILE_CACHE: '1' }],
  ]
  console.log(`node ${process.version}, ${runs} runs each (median, min–max, ms)`)
  console.log('| command | median | range |')
  console.log('| --- | --- | --- |')
  for (const [name, args, env] of rows) {
    const result = args === null ? await measureFloor() : await measure(args, env)
    console.log(
      `| ${name} | ${result.median.toFixed(0)} | ${result.min.toFixed(0)}–${result.max.toFixed(0)} |`,
    )
  }
} finally {
  await server.close()
}

async function measureFloor() {
  const once = () =>
    new Promise((resolve, reject) => {
      const start = performance.now()
      const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
      child.on('error', reject)
      child.on('exit', () => resolve(performance.now() - start))
    })
  const times = []
  for (let i = 0; i < runs; i++) times.push(await once())
  times.sort((a, b) => a - b)
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1) }
}

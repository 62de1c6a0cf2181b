/**
 * How fast the command starts: `understudy --version`, and `understudy chat`
 * against a fake OpenAI server on 127.0.0.1 (in this process, so only the
 * command's own work is measured). Each row runs the built command
 * (`dist/bin.js`) `BENCH_RUNS` times (default 15) in fresh processes, one
 * after another, after one unmeasured run, and prints the median and range
 * of two figures: wall time from spawn to exit, and the CPU time (user +
 * system) the process spent, which a busy machine inflates far less than
 * the wall time. On Node 22+ the command keeps a compile cache; the `cold`
 * rows turn it off (NODE_DISABLE_COMPILE_CACHE=1), as on Node 20, which has
 * none. `node -e 0` is the floor: Node starting and stopping.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startFakeOpenAI } from '@understudy/testkit'

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const runs = Number(process.env.BENCH_RUNS ?? 15)

/** Preloaded into each run: reports the process's CPU time on stderr as it exits. */
const reportCpu =
  'data:text/javascript,process.on("exit",()=>{const u=process.cpuUsage();process.stderr.write("\\ncpu-ms "+(u.user+u.system)/1000+"\\n")})'

/** Wall and CPU time of one run, in ms; rejects when it does not exit with 0. */
function timeRun(args, env) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, ['--import', reportCpu, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (text) => {
      stderr += text
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const wall = performance.now() - start
      const cpu = Number(/cpu-ms ([\d.]+)/.exec(stderr)?.[1])
      if (code === 0 && Number.isFinite(cpu)) resolve({ wall, cpu })
      else reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr}`))
    })
  })
}

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]
  return `${median.toFixed(0)} (${sorted[0].toFixed(0)}–${sorted.at(-1).toFixed(0)})`
}

async function measure(args, env) {
  await timeRun(args, env) // fills the compile cache, when there is one
  const samples = []
  for (let i = 0; i < runs; i++) samples.push(await timeRun(args, env))
  return `${summary(samples.map((sample) => sample.wall))} | ${summary(samples.map((sample) => sample.cpu))}`
}

const server = await startFakeOpenAI()
try {
  const chatEnv = { OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: `${server.url}/v1` }
  const chat = [bin, 'chat', '--model', 'openai/gpt-4o', 'hi']
  const cold = { NODE_DISABLE_COMPILE_CACHE: '1' }
  const rows = [
    ['node -e 0 (the floor)', ['-e', '0'], {}],
    ['understudy --version', [bin, '--version'], {}],
    ['understudy --version, cold', [bin, '--version'], cold],
    ['understudy chat', chat, chatEnv],
    ['understudy chat, cold', chat, { ...chatEnv, ...cold }],
  ]
  console.log(`node ${process.version}, ${runs} runs each: median (min–max), ms`)
  console.log('| command | wall | cpu |')
  console.log('| --- | --- | --- |')
  for (const [name, args, env] of rows) console.log(`| ${name} | ${await measure(args, env)} |`)
} finally {
  await server.close()
}

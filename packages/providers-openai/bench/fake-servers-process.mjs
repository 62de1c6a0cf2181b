/**
 * The benchmark's fake OpenAI servers, in their own process (their own event
 * loop and CPU, so the servers' work is not billed to the client being
 * measured): one that answers, one that answers 503, and the fallback. The
 * testkit's entry comes as the first argument; the URLs go back over IPC.
 * It stops when the benchmark kills it or goes away.
 */
const { startFakeOpenAI } = await import(process.argv[2])
const servers = await Promise.all([
  startFakeOpenAI(),
  startFakeOpenAI({ respond: { status: 503 } }),
  startFakeOpenAI(),
])
const stop = () => Promise.all(servers.map((server) => server.close())).then(() => process.exit(0))
process.on('disconnect', stop)
process.on('SIGTERM', stop)
process.send({ up: servers[0].url, down: servers[1].url, backup: servers[2].url })

/**
 * The fake OpenAI server of the transport benchmark, in its own process: the
 * testkit's entry comes as the first argument; the URL goes back over IPC.
 * It stops when the benchmark kills it or goes away.
 */
const { startFakeOpenAI } = await import(process.argv[2])
const server = await startFakeOpenAI()
process.on('disconnect', () => server.close().then(() => process.exit(0)))
process.on('SIGTERM', () => server.close().then(() => process.exit(0)))
process.send(server.url)

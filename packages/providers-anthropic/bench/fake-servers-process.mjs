/**
 * The benchmark's fake Anthropic servers, in their own process (their own
 * event loop and CPU, so the servers' work is not billed to the client being
 * measured): one answering a short message, one streaming a `chunkCount`-piece
 * answer in one burst. The testkit's entry and the chunk count come as
 * arguments; the URLs go back over IPC. It stops when the benchmark kills it
 * or goes away.
 */
const [testkitEntry, chunkCount] = process.argv.slice(2)
const { startFakeAnthropic } = await import(testkitEntry)

const words = Array.from({ length: Number(chunkCount) }, (_, i) => ` word${i}`)
const servers = await Promise.all([
  startFakeAnthropic({
    respond: { text: 'Hi there!', usage: { inputTokens: 12, outputTokens: 4 } },
  }),
  startFakeAnthropic({
    respond: { chunks: words, usage: { inputTokens: 12, outputTokens: Number(chunkCount) } },
  }),
])
const stop = () => Promise.all(servers.map((server) => server.close())).then(() => process.exit(0))
process.on('disconnect', stop)
process.on('SIGTERM', stop)
process.send({ call: servers[0].url, stream: servers[1].url })

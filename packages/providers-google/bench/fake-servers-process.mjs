/**
 * The benchmark's fake Gemini servers, in their own process (their own event
 * loop and CPU, so the servers' work is not billed to the client being
 * measured): `up` answers a short text, and streams it as `chunkCount`
 * pieces in one burst. The testkit's entry and the chunk count come as
 * arguments; the URL goes back over IPC. It stops when the benchmark kills
 * it or goes away.
 */
const [testkitEntry, chunkCount] = process.argv.slice(2)
const { startFakeGemini } = await import(testkitEntry)

const chunks = Array.from({ length: Number(chunkCount) }, (_, i) => ` word${i}`)
const server = await startFakeGemini({
  respond: { chunks, usage: { inputTokens: 12, outputTokens: Number(chunkCount) } },
})
const stop = () => server.close().then(() => process.exit(0))
process.on('disconnect', stop)
process.on('SIGTERM', stop)
process.send({ up: server.url })

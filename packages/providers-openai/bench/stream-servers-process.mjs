/**
 * The streaming benchmark's fake OpenAI servers, in their own process (their
 * own event loop and CPU, so building and writing the chunks is not billed to
 * the client being measured): the primary and the fallback each stream a
 * `chunkCount`-chunk answer in one burst; `paced` streams the same answer one
 * event per write, `pacedDelayMs` apart, as a model does; `large` streams
 * `largeChunkCount` pieces of `largeChunkChars` characters (the slow-reader
 * memory check). The testkit's entry and the sizes come as arguments; the
 * URLs go back over IPC. It stops when the benchmark kills it or goes away.
 */
const [testkitEntry, chunkCount, pacedDelayMs, largeChunkCount, largeChunkChars] =
  process.argv.slice(2)
const { startFakeOpenAI } = await import(testkitEntry)

const words = Array.from({ length: Number(chunkCount) }, (_, i) => ` word${i}`)
const piece = 'lorem ipsum dolor sit amet, consectetur adipiscing elit. '
const largePiece = piece.repeat(Math.ceil(Number(largeChunkChars) / piece.length))
const large = Array.from({ length: Number(largeChunkCount) }, () =>
  largePiece.slice(0, Number(largeChunkChars)),
)
const usage = { inputTokens: 12, outputTokens: Number(chunkCount) }

const servers = await Promise.all([
  startFakeOpenAI({ respond: { chunks: words, usage } }),
  startFakeOpenAI({ respond: { chunks: words, usage } }),
  startFakeOpenAI({ respond: { chunks: words, usage, chunkDelayMs: Number(pacedDelayMs) } }),
  startFakeOpenAI({ respond: { chunks: large, usage } }),
])
const stop = () => Promise.all(servers.map((server) => server.close())).then(() => process.exit(0))
process.on('disconnect', stop)
process.on('SIGTERM', stop)
process.send({
  up: servers[0].url,
  backup: servers[1].url,
  paced: servers[2].url,
  large: servers[3].url,
})

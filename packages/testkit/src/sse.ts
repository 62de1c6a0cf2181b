/** One Server-Sent Event as a fake server writes it. */
export interface SseEvent {
  /** The `event:` field; none for a plain `data:` event. */
  readonly event?: string
  /** The `data:` payload; several lines become several `data:` fields. */
  readonly data: string
}

/** How `formatSseEvent` frames an event. */
export interface SseFormatOptions {
  /**
   * What ends every line, the blank line closing the event included. Gemini
   * frames its events with `\r\n` (`data: {…}\r\n\r\n`).
   * @default '\n'
   */
  readonly lineEnding?: '\n' | '\r\n' | undefined
}

/** The wire text of an event: `event: …\ndata: …\n\n`, or with `\r\n` line endings. */
export function formatSseEvent(event: SseEvent, options: SseFormatOptions = {}): string {
  const end = options.lineEnding ?? '\n'
  const head = event.event === undefined ? '' : `event: ${event.event}${end}`
  const body = event.data
    .split('\n')
    .map((line) => `data: ${line}${end}`)
    .join('')
  return `${head}${body}${end}`
}

/** What the colour decision reads of an output stream. */
export interface StyledStream {
  readonly isTTY?: boolean
  /** A TTY's own answer (Node's `tty.WriteStream`), which reads `TERM` and the colour variables. */
  readonly hasColors?: () => boolean
}

/**
 * Whether to colour what goes to `stream`: never when `NO_COLOR` is set and
 * not empty (https://no-color.org), always when `FORCE_COLOR` is set and not
 * `0`/`false`, else only on a terminal that has colours. Piped output is
 * plain text.
 */
export function shouldColor(stream: StyledStream, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '0' && force !== 'false') return true
  return stream.isTTY === true && (stream.hasColors?.() ?? false)
}

/** Text styles: each wraps its text in ANSI codes when colour is on, and returns it as it is otherwise. */
export interface Paint {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
}

const code =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`

const plain = (text: string): string => text

/** The styles for one stream: ANSI when `color`, the identity otherwise. */
export function createPaint(color: boolean): Paint {
  if (!color)
    return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain }
  return {
    bold: code(1, 22),
    dim: code(2, 22),
    red: code(31, 39),
    green: code(32, 39),
    yellow: code(33, 39),
    cyan: code(36, 39),
  }
}

/** The visible width of `text`: its length without ANSI codes. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI codes start with ESC.
  return text.replace(/\u001b\[\d+m/g, '').length
}

/**
 * Rows as a table of aligned columns, two spaces apart, widths measured
 * without colour codes; the last column is not padded.
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = []
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))
    })
  return rows.map((row) =>
    row
      .map((cell, i) =>
        i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd(),
  )
}

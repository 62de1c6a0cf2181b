/**
 * Why the command stopped before sending anything: `usage` (an argument or
 * option the command cannot use) or `config` (the config file, or a
 * provider's settings, is wrong). Both exit with status 2.
 */
export type CliErrorKind = 'usage' | 'config'

/**
 * A mistake of the person running the command, found before any I/O. Its
 * message is the whole story, printed without a stack trace: where the
 * problem is (`chain.yaml: fallbacks[1].model`) and what was expected.
 */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly kind: CliErrorKind

  constructor(kind: CliErrorKind, message: string) {
    super(message)
    this.kind = kind
  }
}

/** Whether `value` is a {@link CliError}: the command owns the class, so `instanceof` holds. */
export function isCliError(value: unknown): value is CliError {
  return value instanceof CliError
}

/**
 * The command's exit statuses, as the README documents them: `0` success,
 * `1` the call failed (every target, or the deadline), `2` a usage or config
 * error (nothing was sent), `130` interrupted (128 + SIGINT, as shells report it).
 */
export const exitCodes: {
  readonly success: 0
  readonly callFailed: 1
  readonly usage: 2
  readonly interrupted: 130
} = Object.freeze({ success: 0, callFailed: 1, usage: 2, interrupted: 130 })

/** One of {@link exitCodes}. */
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes]

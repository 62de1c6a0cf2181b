/** The streams and environment a command runs with: the process's own, or a test's. */
export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean }
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean; hasColors?: () => boolean }
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean; hasColors?: () => boolean }
  readonly env: NodeJS.ProcessEnv
}

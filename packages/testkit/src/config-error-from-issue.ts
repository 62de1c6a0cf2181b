import { ConfigError } from '@understudy/core'
import type * as z from 'zod'

/**
 * Makes the `ConfigError` for a zod issue found in the value at `path`: the
 * issue's own path is appended in the form code would write it (`[1]`,
 * `.fault`, `["x-request-id"]`), and unknown keys are named
 * (`unknown field "colour"`) rather than left to zod's wording.
 */
export function configErrorFromIssue(path: string, issue: z.core.$ZodIssue): ConfigError {
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`
      : issue.message
  return new ConfigError({ path: `${path}${formatPath(issue.path)}`, message })
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key) =>
      typeof key === 'number'
        ? `[${key}]`
        : typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)
          ? `.${key}`
          : `[${JSON.stringify(String(key))}]`,
    )
    .join('')
}

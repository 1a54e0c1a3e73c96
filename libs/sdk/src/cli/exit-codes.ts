import { SpsError } from '../errors.js';

/** What `sps` exits with; scripts can rely on these (documented in libs/sdk/README.md). */
export const EXIT = {
  /** Everything asked for succeeded. */
  ok: 0,
  /** A request failed (the service refused or could not answer it), or some batch lines failed. */
  failed: 1,
  /** The command line or an input file is wrong; nothing was sent. */
  usage: 2,
  /** No API key, or the key was refused (401) or may not do this (403). */
  auth: 3,
  /** The service is unreachable, unavailable (503) or rate-limited (429) even after retries: try later. */
  unavailable: 4,
} as const;

/** A mistake in how sps was called (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (!(error instanceof SpsError)) return EXIT.failed;
  if (error.status === 401 || error.status === 403) return EXIT.auth;
  if (error.code === 'NETWORK_ERROR' || error.status === 503 || error.status === 429) return EXIT.unavailable;
  return EXIT.failed;
}

/** One line (plus one per refused field) saying what went wrong. */
export function describeError(error: unknown): string {
  if (error instanceof SpsError) {
    const id = error.requestId ? ` (request ${error.requestId})` : '';
    const fields = error.fields.map((f) => `\n  ${f.field}: ${f.reason}`).join('');
    return `error ${error.code}${error.status ? ` [${error.status}]` : ''}: ${error.message}${id}${fields}`;
  }
  if (error instanceof UsageError) return `usage: ${error.message} (see --help)`;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

import type { Logger } from '@sps/observability';

let exiting = false;

/**
 * The one way out for a process that cannot go on (start-up failed, a consumer gave up for good):
 * one fatal log line, then exit code 1 for the supervisor to restart it. The exit waits a moment
 * so that the line is written; nothing else is waited for: redelivery covers uncommitted work.
 */
export function exitFatal(logger: Logger, reason: string, error?: unknown): void {
  if (exiting) return;
  exiting = true;
  logger.fatal({ err: error, reason }, `exiting: ${reason}`);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}

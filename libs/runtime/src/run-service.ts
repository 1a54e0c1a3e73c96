import type { Logger } from '@sps/observability';
import { exitFatal } from './fatal.js';

export interface ServiceHandle {
  /** Stop taking work, finish in-flight work, commit, disconnect — in that order. */
  stop(): Promise<void>;
}

/**
 * Starts a service and stops it gracefully on SIGINT/SIGTERM. A second signal (after a moment:
 * wrappers such as npm or tsx often relay the first one), or a stop that outlives `graceMs`, exits
 * at once: redelivery covers whatever was not committed.
 */
export async function runService(
  logger: Logger,
  start: () => Promise<ServiceHandle>,
  graceMs: number,
): Promise<void> {
  let handle: ServiceHandle;
  try {
    handle = await start();
  } catch (error) {
    exitFatal(logger, 'start-up failed', error);
    return;
  }
  let stoppingSince: number | undefined;
  const stop = async (signal: string) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < 2_000) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'graceful shutdown took too long: exiting');
      process.exit(1);
    }, graceMs + 5_000);
    timer.unref();
    try {
      await handle.stop();
      logger.info('stopped cleanly');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

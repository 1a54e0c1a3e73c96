import type { Consumer, ConsumerRunConfig, Kafka } from 'kafkajs';
import type { Logger } from '@sps/observability';

export interface GroupOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  logger: Logger;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
  /**
   * Longest a fetch waits on the broker for data, and how long the client sleeps while every
   * partition is paused. Runners pause partitions to wait (for room, for a due time), and a resumed
   * partition is read only once this passes: kept short so that resuming is prompt.
   */
  maxWaitTimeMs?: number;
  /**
   * Called when the client gives up on the group for good (a crash it will not restart from).
   * The process must not stay alive and idle: the default exits so that a supervisor restarts it.
   */
  onFatal?: (error: unknown) => void;
}

/** Creates the group's consumer: the one place where runners meet the client's consumer settings. */
export function createGroupConsumer(options: GroupOptions): Consumer {
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    sessionTimeout,
    heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
    // A broker that is away for minutes is waited for: the client restarts the consumer itself.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: Number.MAX_SAFE_INTEGER },
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      options.logger.warn({ err: payload.error, group: options.groupId }, 'consumer crashed; restarting');
      return;
    }
    options.logger.fatal({ err: payload.error, group: options.groupId }, 'consumer gave up');
    (options.onFatal ?? defaultOnFatal)(payload.error);
  });
  return consumer;
}

function defaultOnFatal(): void {
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}

/**
 * Subscribes and runs a consumer, resolving once it has joined its group and holds its
 * partitions — so that "started" means ready to consume, not merely connected.
 */
export async function runGroupConsumer(
  consumer: Consumer,
  topics: string[],
  run: ConsumerRunConfig,
  fromBeginning = true,
): Promise<void> {
  const joined = new Promise<void>((resolve) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      resolve();
    });
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning });
  await consumer.run(run);
  await joined;
}

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
   * Bytes a fetch waits for on the broker (up to maxWaitTimeMs) before it answers. 1 (default): a
   * record is handed over the moment it lands, for stages on a caller's critical path. A consumer
   * that writes in bulk (the sink) sets more: fewer, larger batches for the same records.
   */
  minBytes?: number;
  /**
   * Called when the client gives up on the group for good (a crash it will not restart from).
   * The process must not stay alive and idle: the default exits so that a supervisor restarts it.
   */
  onFatal?: (error: unknown) => void;
}

/**
 * Process-wide consumer settings, set once at boot (libs/runtime's bootService) for every group the
 * process runs, including those that libraries create without exposing their options.
 */
export interface GroupConsumerPolicy {
  /**
   * The retry budget: retries of one client operation, and restarts in a row after a crash (a join
   * resets the count). Once spent the client gives up for good (`onFatal`). Default: unlimited,
   * i.e. a broker that is away for minutes is waited for.
   */
  maxRetries?: number;
  /** Called when a group's client gives up for good; replaces the default exit. */
  onFatal?: (error: unknown, groupId: string) => void;
  /** Told when a group has joined, crashed and will restart, or given up (for readiness). */
  onStatus?: (groupId: string, status: 'joined' | 'restarting' | 'gave-up') => void;
}

let policy: GroupConsumerPolicy = {};

/** Sets the process-wide consumer policy (see GroupConsumerPolicy); consumers created after it use it. */
export function configureGroupConsumers(next: GroupConsumerPolicy): void {
  policy = { ...next };
}

/** Creates the group's consumer: the one place where runners meet the client's consumer settings. */
export function createGroupConsumer(options: GroupOptions): Consumer {
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const { maxRetries, onStatus } = policy;
  let restartsInARow = 0;
  const consumer = options.kafka.consumer({
    groupId: options.groupId,
    sessionTimeout,
    heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
    minBytes: options.minBytes ?? 1,
    // Without a budget, a broker that is away for minutes is waited for: the client restarts the
    // consumer itself. With one (KAFKA_CONSUMER_MAX_RETRIES), it gives up once the budget is spent.
    retry:
      maxRetries === undefined
        ? { initialRetryTime: 300, maxRetryTime: 10_000, retries: Number.MAX_SAFE_INTEGER }
        : {
            initialRetryTime: 300,
            maxRetryTime: 2_000,
            retries: maxRetries,
            restartOnFailure: async () => ++restartsInARow <= maxRetries,
          },
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    restartsInARow = 0;
    onStatus?.(options.groupId, 'joined');
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      options.logger.warn({ err: payload.error, group: options.groupId }, 'consumer crashed; restarting');
      onStatus?.(options.groupId, 'restarting');
      return;
    }
    options.logger.fatal({ err: payload.error, group: options.groupId }, 'consumer gave up');
    onStatus?.(options.groupId, 'gave-up');
    if (options.onFatal) options.onFatal(payload.error);
    else if (policy.onFatal) policy.onFatal(payload.error, options.groupId);
    else defaultOnFatal();
  });
  return consumer;
}

/** Without a policy: the process must not stay alive and idle, so it exits for a supervisor to restart it. */
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

import type { Consumer, ConsumerRunConfig } from 'kafkajs';

/**
 * Subscribes and runs a consumer, resolving once it has joined its group and holds its
 * partitions — so that "started" means ready to consume, not merely connected.
 */
export async function startConsumer(
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
  await consumer.subscribe({ topics, fromBeginning });
  await consumer.run(run);
  await joined;
}

import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@sps/contracts';

/**
 * Creates the missing topics with their explicit settings; existing topics are left as they are
 * (never rely on broker auto-create). Safe to run from every instance at start-up.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], prefix = ''): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(prefix + spec.name));
    if (missing.length === 0) return [];
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: prefix + spec.name,
        numPartitions: spec.partitions,
        replicationFactor: -1,
        configEntries: [
          { name: 'retention.ms', value: String(spec.retentionMs) },
          { name: 'cleanup.policy', value: spec.cleanupPolicy },
          // Pinned (it is Kafka's default) so that the producer's size check matches the broker's.
          { name: 'max.message.bytes', value: '1048588' },
        ],
      })),
    });
    return missing.map((spec) => prefix + spec.name);
  } finally {
    await admin.disconnect();
  }
}

/** Partitions of a topic, from the cluster's metadata (e.g. to check a reply address). */
export async function topicPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

/**
 * A health probe that keeps one admin connection instead of opening one per call (a probe every
 * few seconds would otherwise churn connections on the broker), bounded in time.
 */
export function kafkaHealthProbe(kafka: Kafka, timeoutMs = 2_000): () => Promise<void> {
  let admin: ReturnType<Kafka['admin']> | undefined;
  return async () => {
    const probe = async () => {
      if (!admin) {
        const fresh = kafka.admin();
        await fresh.connect();
        admin = fresh;
      }
      await admin.describeCluster();
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        probe(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Kafka did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      const stale = admin;
      admin = undefined; // reconnect on the next probe
      void stale?.disconnect().catch(() => undefined);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
}

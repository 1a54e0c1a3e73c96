import type { Kafka } from 'kafkajs';
import type { TopicSpec } from '@sps/contracts';

/**
 * Creates the missing topics with their explicit settings; existing topics are left as they are
 * (never rely on broker auto-create). Safe to run from every instance at start-up, at once: a
 * topic another instance created meanwhile is fine, and so is the client's wait for leaders
 * failing on a busy broker (UNKNOWN_TOPIC_OR_PARTITION although the topic was created) — what
 * counts is that every topic exists with its leader afterwards, checked from the metadata.
 */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[], prefix = ''): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const created: string[] = [];
  try {
    for (let attempt = 0; ; attempt++) {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((spec) => !existing.has(prefix + spec.name));
      if (
        missing.length === 0 &&
        (await leadersElected(
          admin,
          specs.map((spec) => prefix + spec.name),
        ))
      )
        return created;
      try {
        if (missing.length > 0) {
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
          created.push(...missing.map((spec) => prefix + spec.name));
        }
      } catch (error) {
        if (attempt >= 9) throw error;
      }
      if (attempt >= 9)
        throw new Error(`topics under "${prefix}" have no leaders after ${attempt + 1} tries`);
      await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
    }
  } finally {
    await admin.disconnect();
  }
}

async function leadersElected(admin: ReturnType<Kafka['admin']>, topics: string[]): Promise<boolean> {
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    return metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
  } catch {
    return false;
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

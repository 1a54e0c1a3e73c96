import { randomUUID } from 'node:crypto';
import type { Database } from '@sps/db';
import type { Kafka } from '@sps/kafka';
import { countLogs } from './pipeline.js';
import { log, sleep } from './env.js';

/** Waits until a consumer group is Stable with `members` members (no rebalance left to run into). */
export async function waitForGroup(
  kafka: Kafka,
  groupId: string,
  members: number,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      if (group && group.state === 'Stable' && group.members.length === members) return;
      if (Date.now() > deadline)
        throw new Error(
          `group ${groupId} not Stable with ${members} members: ${group?.state} ${group?.members.length}`,
        );
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Completion over time: [seconds since start, count] points. */
export type Timeline = [number, number][];

/**
 * The sustained rate: completions per second between the moments 10% and 90% of the work was done,
 * which leaves out the ramp-up (consumers fetching the first batches) and the tail.
 */
export function steadyRate(timeline: Timeline, total: number): number | null {
  const at = (fraction: number) => timeline.find(([, count]) => count >= total * fraction);
  const from = at(0.1);
  const to = at(0.9);
  if (!from || !to || to[0] <= from[0]) return null;
  return Math.round(((to[1] - from[1]) / (to[0] - from[0])) * 10) / 10;
}

/** Polls request_logs for a tenant until `total` rows exist; returns the timeline. */
export async function waitForRows(
  db: Database,
  tenantId: string,
  total: number,
  started: number,
  timeoutMs: number,
  stallMs = Infinity,
): Promise<{ timeline: Timeline; done: boolean; stalled: boolean; elapsed_s: number }> {
  const timeline: Timeline = [];
  let lastLog = 0;
  let lastChange = performance.now();
  let lastCount = -1;
  for (;;) {
    const count = await countLogs(db, tenantId);
    const elapsed = (performance.now() - started) / 1000;
    timeline.push([Math.round(elapsed * 1000) / 1000, count]);
    if (count !== lastCount) [lastCount, lastChange] = [count, performance.now()];
    if (count >= total) return { timeline, done: true, stalled: false, elapsed_s: elapsed };
    if (elapsed * 1000 > timeoutMs) return { timeline, done: false, stalled: false, elapsed_s: elapsed };
    if (count > 0 && performance.now() - lastChange > stallMs)
      return { timeline, done: false, stalled: true, elapsed_s: elapsed };
    if (elapsed - lastLog >= 10) {
      lastLog = elapsed;
      log(`  ${count}/${total} rows after ${Math.round(elapsed)} s`);
    }
    await sleep(200);
  }
}

/** Counts the messages arriving on a topic (from its beginning), with a completion timeline. */
export async function followTopic(kafka: Kafka, topic: string) {
  const consumer = kafka.consumer({
    groupId: `bench-follower-${randomUUID()}`,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let count = 0;
  let failed = 0;
  let started = performance.now();
  const timeline: Timeline = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) if (message.value?.includes('"status":"failed"')) failed++;
      count += batch.messages.length;
      timeline.push([Math.round(performance.now() - started) / 1000, count]);
    },
  });
  await joined;
  return {
    /** Sets time zero of the timeline. */
    mark() {
      started = performance.now();
      timeline.length = 0;
    },
    get count() {
      return count;
    },
    get failed() {
      return failed;
    },
    timeline,
    async waitFor(total: number, timeoutMs: number): Promise<{ done: boolean; elapsed_s: number }> {
      let lastLog = 0;
      for (;;) {
        const elapsed = (performance.now() - started) / 1000;
        if (count >= total)
          return { done: true, elapsed_s: timeline.find(([, c]) => c >= total)?.[0] ?? elapsed };
        if (elapsed * 1000 > timeoutMs) return { done: false, elapsed_s: elapsed };
        if (elapsed - lastLog >= 10) {
          lastLog = elapsed;
          log(`  ${count}/${total} results after ${Math.round(elapsed)} s`);
        }
        await sleep(100);
      }
    },
    stop: () => consumer.disconnect(),
  };
}

/** Keeps at most ~`points` points of a timeline for the JSON file. */
export function thin(timeline: Timeline, points = 60): Timeline {
  if (timeline.length <= points) return timeline;
  const step = timeline.length / points;
  const out: Timeline = [];
  for (let i = 0; i < points; i++) out.push(timeline[Math.floor(i * step)]!);
  out.push(timeline[timeline.length - 1]!);
  return out;
}

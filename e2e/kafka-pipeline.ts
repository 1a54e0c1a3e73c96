import { randomUUID } from 'node:crypto';
import { workKey, type PromptRequestMessage, type ResultMessage } from '@sps/contracts';
import { AssignerProtocol } from 'kafkajs';
import { createProducer, type Kafka } from '@sps/kafka';

/** Produces requests the way a data pipeline does: straight to the requests topic, keyed by work. */
export async function produceRequests(
  kafka: Kafka,
  topic: string,
  requests: PromptRequestMessage[],
): Promise<void> {
  const producer = createProducer(kafka);
  await producer.connect();
  try {
    for (let i = 0; i < requests.length; i += 500) {
      await producer.send({
        topic,
        acks: -1,
        messages: requests
          .slice(i, i + 500)
          .map((request) => ({ key: workKey(request), value: JSON.stringify(request) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export function promptRequests(
  tenantId: string,
  count: number,
  prompt: (i: number) => string,
): PromptRequestMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    request_id: randomUUID(),
    tenant_id: tenantId,
    prompt: prompt(i),
    schema: {
      type: 'object',
      properties: { item: { type: 'string' }, quantity: { type: 'integer' } },
      required: ['item', 'quantity'],
    },
    options: { timeout_ms: 120_000 },
  }));
}

/** Reads a topic from the beginning until `count` distinct request ids have arrived. */
export async function collectResults(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<Map<string, ResultMessage>> {
  const consumer = kafka.consumer({ groupId: `collector-${randomUUID()}` });
  const results = new Map<string, ResultMessage>();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let done!: () => void;
  const complete = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const result = JSON.parse(message.value!.toString()) as ResultMessage;
      results.set(result.request_id, result);
      if (results.size >= count) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await complete;
  clearTimeout(timer);
  await consumer.disconnect();
  return results;
}

/** Follows the results topic for a whole test; `waitFor` resolves when a given request's result arrives. */
export class ResultsFollower {
  private readonly results = new Map<string, ResultMessage>();
  private readonly consumer;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
  ) {
    this.consumer = kafka.consumer({ groupId: `follower-${randomUUID()}` });
  }

  /** Resolves once the follower has joined its group, so nothing produced after it is missed. */
  async start(): Promise<this> {
    const joined = new Promise<void>((resolve) =>
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve()),
    );
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const result = JSON.parse(message.value!.toString()) as ResultMessage;
        this.results.set(result.request_id, result);
      },
    });
    await joined;
    return this;
  }

  async waitFor(requestId: string, timeoutMs = 30_000): Promise<ResultMessage> {
    const deadline = Date.now() + timeoutMs;
    while (!this.results.has(requestId)) {
      if (Date.now() > deadline) throw new Error(`no result for ${requestId} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return this.results.get(requestId)!;
  }

  get size(): number {
    return this.results.size;
  }

  values(): ResultMessage[] {
    return [...this.results.values()];
  }

  async waitForCount(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.results.size < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.results.size} of ${count} results within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** How far `groupId` has committed behind the end of `topic`, summed over its partitions. */
export async function committedLag(kafka: Kafka, groupId: string, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, [committed]] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const position = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
    return ends.reduce((lag, { partition, high }) => {
      const at = position.get(partition) ?? -1n;
      return lag + Number(BigInt(high) - (at < 0n ? 0n : at));
    }, 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Resolves once `groupId` has committed everything on `topic`: the group has finished its work
 * and nothing will be redelivered, so whatever that work causes has happened.
 */
export async function waitForCommitted(
  kafka: Kafka,
  groupId: string,
  topic: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lag = await committedLag(kafka, groupId, topic);
  while (lag > 0) {
    if (Date.now() > deadline)
      throw new Error(`${groupId} still ${lag} behind on ${topic} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    lag = await committedLag(kafka, groupId, topic);
  }
}

/** The partitions of `topic` that each member of `groupId` holds right now (empty while it rebalances). */
export async function groupAssignments(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<{ state: string; members: { memberId: string; partitions: number[] }[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const {
      groups: [group],
    } = await admin.describeGroups([groupId]);
    return {
      state: group!.state,
      members: group!.members.map((member) => ({
        memberId: member.memberId,
        partitions:
          AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[topic] ?? [],
      })),
    };
  } finally {
    await admin.disconnect();
  }
}

/** Records ever written to `topic`: the sum of its partitions' end offsets. */
export async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, { high }) => sum + Number(high), 0);
  } finally {
    await admin.disconnect();
  }
}

import { randomUUID } from 'node:crypto';
import { workKey, type PromptRequestMessage, type ResultMessage } from '@sps/contracts';
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

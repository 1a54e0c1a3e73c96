import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer, ProducerBatch } from 'kafkajs';
import { createLogger } from '@sps/observability';

export const silentLogger = createLogger({ service: 'test', level: 'silent' });

type Listener = (event: { payload: unknown }) => void;

/**
 * A stand-in for the client's consumer in pure unit tests: the test hands batches to the runner's
 * eachBatch itself and sees what it resolved, paused, resumed and committed. (Runners are also
 * exercised against the real broker by the integration tests.)
 */
export class FakeConsumer {
  readonly events = { CRASH: 'crash', GROUP_JOIN: 'join', REBALANCING: 'rebalancing' };
  readonly commits: { topic: string; partition: number; offset: string }[] = [];
  readonly paused = new Set<string>();
  readonly resumed: string[] = [];
  readonly resolved = new Map<string, string>();
  private listeners = new Map<string, Listener[]>();
  private eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  disconnected = false;

  on(event: string, listener: Listener) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return () =>
      this.listeners.set(
        event,
        (this.listeners.get(event) ?? []).filter((l) => l !== listener),
      );
  }
  emit(event: string, payload: unknown = {}) {
    for (const listener of this.listeners.get(event) ?? []) listener({ payload });
  }
  async connect() {}
  async subscribe() {}
  async run(config: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) {
    this.eachBatch = config.eachBatch;
    setImmediate(() => this.emit(this.events.GROUP_JOIN));
  }
  pause(topics: { topic: string; partitions?: number[] }[]) {
    for (const { topic, partitions } of topics)
      for (const p of partitions ?? [-1]) this.paused.add(`${topic}:${p}`);
  }
  resume(topics: { topic: string; partitions: number[] }[]) {
    for (const { topic, partitions } of topics)
      for (const p of partitions) {
        this.paused.delete(`${topic}:${p}`);
        this.resumed.push(`${topic}:${p}`);
      }
  }
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
    this.commits.push(...offsets);
  }
  async disconnect() {
    this.disconnected = true;
  }
  committed(topic: string, partition: number): string | undefined {
    return this.commits.filter((c) => c.topic === topic && c.partition === partition).at(-1)?.offset;
  }

  /** Hands one batch to the runner, as the client's fetch loop would. */
  async deliver(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    if (!this.eachBatch) throw new Error('runner not started');
    const key = `${topic}:${partition}`;
    await this.eachBatch({
      batch: {
        topic,
        partition,
        messages,
        highWatermark: '0',
        isEmpty: () => messages.length === 0,
        firstOffset: () => messages[0]?.offset ?? null,
        lastOffset: () => messages.at(-1)!.offset,
        offsetLag: () => '0',
        offsetLagLow: () => '0',
      },
      resolveOffset: (offset: string) => this.resolved.set(key, offset),
      heartbeat: async () => {},
      pause: () => {
        this.paused.add(key);
        return () => this.resume([{ topic, partitions: [partition] }]);
      },
      commitOffsetsIfNecessary: async () => {},
      uncommittedOffsets: () => ({ topics: [] }),
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload);
  }
}

export function fakeKafka(consumer: FakeConsumer): Kafka {
  return { consumer: () => consumer as unknown as Consumer } as unknown as Kafka;
}

export function message(
  offset: number,
  value: unknown,
  headers: Record<string, string> = {},
  timestamp = Date.now(),
): KafkaMessage {
  return {
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestamp: String(timestamp),
    attributes: 0,
    size: 0,
  } as unknown as KafkaMessage;
}

/** A client producer whose produce requests the test sees, and can make fail. */
export class FakeProducer {
  readonly requests: ProducerBatch[] = [];
  fail: ((batch: ProducerBatch) => Error | undefined) | undefined;
  delayMs = 0;
  async sendBatch(batch: ProducerBatch) {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const error = this.fail?.(batch);
    if (error) throw error;
    this.requests.push(batch);
    return [];
  }
  /** Every record acknowledged so far, with its topic. */
  sent(): { topic: string; key: string; value: string; headers: Record<string, string> }[] {
    return this.requests.flatMap((r) =>
      (r.topicMessages ?? []).flatMap(({ topic, messages }) =>
        messages.map((m) => ({
          topic,
          key: m.key?.toString() ?? '',
          value: m.value?.toString() ?? '',
          headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)])),
        })),
      ),
    );
  }
  asProducer(): Producer {
    return this as unknown as Producer;
  }
}

export async function until(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

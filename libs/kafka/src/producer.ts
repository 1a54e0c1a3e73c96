import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { context, trace } from '@opentelemetry/api';
import {
  contextFromHeaders,
  hasSpan,
  recordFailure,
  SpanKind,
  traceHeaders,
  tracer,
  tracingEnabled,
} from '@sps/observability';
import { PermanentError, TransientError, classifyError } from './errors.js';

/**
 * acks=all and idempotence: an acknowledged message is on every in-sync replica, exactly once.
 * The partitioner is murmur2 like the Java client's, so a pipeline producing with the same key
 * from Java, Python (librdkafka's murmur2_random) or here lands on the same partition. Retries
 * stay bounded so that a send to a dead cluster fails instead of hanging; a send that failed
 * after retrying may still have been written, which the idempotent consumers downstream absorb.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
  });
}

/** What the service produces: no client types. */
export interface OutgoingRecord {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | undefined>;
  partition?: number;
}

export interface SendOptions {
  /** Give up waiting after this long (the record is dropped if it has not left yet). */
  timeoutMs?: number;
}

export interface BatchingProducerOptions {
  /** Records in one produce request at most. */
  maxBatch?: number;
  /**
   * The largest record the topics take, and the most bytes one produce request carries: the
   * broker checks `max.message.bytes` against a whole record batch of a partition, so a request
   * under it can never be refused for size. Default: Kafka's default 1,048,588 less headroom.
   */
  maxRecordBytes?: number;
  /** Records waiting to be sent at most; past it a send fails at once (back-pressure). */
  maxQueued?: number;
}

interface PendingSend {
  topic: string;
  message: Message;
  bytes: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

// Per record batch and per record framing, generously rounded up.
const BATCH_OVERHEAD = 128;
const RECORD_OVERHEAD = 32;

/**
 * Groups the sends made while the previous request is in flight into one produce request
 * (kafkajs sends one request per `send` call, and an idempotent producer allows one request in
 * flight per broker, so without this, throughput is one round trip per message). Every record is
 * checked against the size limit before it is queued, requests are cut under that limit, and a
 * request the broker refuses is retried record by record so that one bad record fails alone.
 */
export class BatchingProducer {
  private pending: PendingSend[] = [];
  private flushing = false;
  private readonly maxBatch: number;
  private readonly maxRecordBytes: number;
  private readonly maxQueued: number;

  constructor(
    readonly producer: Producer,
    options: BatchingProducerOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxRecordBytes = options.maxRecordBytes ?? 1_000_000;
    this.maxQueued = options.maxQueued ?? 20_000;
  }

  get queued(): number {
    return this.pending.length;
  }

  /**
   * Queues one record and resolves once Kafka acknowledged it. Each record gets a PRODUCER span
   * (`send <topic>`, ended at the acknowledgement), child of the active span or, when none is
   * active, of the `traceparent` the record already carries; its own context replaces that
   * `traceparent`. Without tracing the span is a no-op and the headers are sent as given.
   */
  send(topic: string, record: OutgoingRecord, options: SendOptions = {}): Promise<void> {
    if (!tracingEnabled()) return this.enqueue(topic, record, options);
    const active = context.active();
    const parent = hasSpan(active) ? active : contextFromHeaders(record.headers ?? {}, active);
    const key = typeof record.key === 'string' ? record.key : undefined;
    const span = tracer().startSpan(
      `send ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'send',
          ...(key === undefined ? {} : { 'messaging.kafka.message.key': key }),
          ...(record.partition === undefined
            ? {}
            : { 'messaging.destination.partition.id': String(record.partition) }),
        },
      },
      parent,
    );
    const headers = { ...record.headers, ...traceHeaders(trace.setSpan(parent, span)) };
    const sent = this.enqueue(topic, { ...record, headers }, options);
    sent.then(
      () => span.end(),
      (error: unknown) => {
        recordFailure(span, error);
        span.end();
      },
    );
    return sent;
  }

  private enqueue(topic: string, record: OutgoingRecord, options: SendOptions): Promise<void> {
    const message = toMessage(record);
    const bytes = recordBytes(message);
    if (bytes + BATCH_OVERHEAD > this.maxRecordBytes) {
      return Promise.reject(
        new PermanentError(
          'RECORD_TOO_LARGE',
          `record of ${bytes} bytes for ${topic} is over the ${this.maxRecordBytes}-byte limit`,
        ),
      );
    }
    if (this.pending.length >= this.maxQueued) {
      return Promise.reject(new TransientError(`producer queue full (${this.maxQueued} records waiting)`));
    }
    return new Promise<void>((resolve, reject) => {
      const item: PendingSend = { topic, message, bytes, settled: false, resolve, reject };
      item.resolve = () => settle(item, () => resolve());
      item.reject = (error) => settle(item, () => reject(error));
      if (options.timeoutMs !== undefined) {
        const timer = setTimeout(
          () => item.reject(new TransientError(`not acknowledged by Kafka within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
        timer.unref();
        const done = item.resolve;
        const failed = item.reject;
        item.resolve = () => (clearTimeout(timer), done());
        item.reject = (error) => (clearTimeout(timer), failed(error));
      }
      this.pending.push(item);
      this.scheduleFlush();
    });
  }

  /** Sends several records and resolves when all are acknowledged. */
  async sendAll(records: { topic: string; record: OutgoingRecord }[], options?: SendOptions): Promise<void> {
    await Promise.all(records.map(({ topic, record }) => this.send(topic, record, options)));
  }

  /**
   * Latency-aware: when idle, what was sent in this tick leaves at once (after the current
   * microtasks, so a result and its reply share one request); under load, records queue while a
   * request is in flight and leave together in the next one.
   */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.takeBatch();
        if (batch.length === 0) continue;
        try {
          await this.sendBatch(batch);
          for (const item of batch) item.resolve();
        } catch (error) {
          if (batch.length > 1 && classifyError(error) !== 'transient') {
            // One record may be what the broker refused: each one alone, so the others still go.
            for (const item of batch) {
              if (item.settled) continue;
              await this.sendBatch([item]).then(item.resolve, item.reject);
            }
          } else {
            for (const item of batch) item.reject(error);
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The next records that fit one request; records whose caller gave up are dropped unsent. */
  private takeBatch(): PendingSend[] {
    const batch: PendingSend[] = [];
    let bytes = BATCH_OVERHEAD;
    while (this.pending.length > 0 && batch.length < this.maxBatch) {
      const next = this.pending[0]!;
      if (next.settled) {
        this.pending.shift();
        continue;
      }
      if (batch.length > 0 && bytes + next.bytes > this.maxRecordBytes) break;
      this.pending.shift();
      batch.push(next);
      bytes += next.bytes;
    }
    return batch;
  }

  private async sendBatch(batch: PendingSend[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const item of batch) {
      const messages = byTopic.get(item.topic);
      if (messages) messages.push(item.message);
      else byTopic.set(item.topic, [item.message]);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}

function settle(item: PendingSend, action: () => void): void {
  if (item.settled) return;
  item.settled = true;
  action();
}

function toMessage(record: OutgoingRecord): Message {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers ?? {}))
    if (value !== undefined) headers[name] = value;
  return {
    key: record.key ?? null,
    value: record.value,
    headers,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
  };
}

function recordBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {}))
    bytes += Buffer.byteLength(name) + byteLength(value as string | Buffer | undefined) + 8;
  return bytes;
}

function byteLength(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

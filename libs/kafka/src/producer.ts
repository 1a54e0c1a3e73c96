import { Partitioners, type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';

/**
 * acks=all and idempotence: an acknowledged message is on every in-sync replica, exactly once.
 * The partitioner is murmur2 like the Java client's, so a pipeline producing with the same key
 * from Java, Python (librdkafka's murmur2_random) or here lands on the same partition. Retries
 * stay bounded so that a send to a dead cluster fails (503) instead of hanging; a send that failed
 * after retrying may still have been written, which the idempotent consumers downstream absorb.
 */
export function createProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
}

interface PendingSend {
  topic: string;
  message: Message;
  resolve: (metadata: RecordMetadata[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Groups the sends made while the previous request is in flight into one produce request.
 * kafkajs sends one request per `send` call, and an idempotent producer allows one request in
 * flight per broker, so without this, throughput is one round trip per message.
 */
export class BatchingProducer {
  private pending: PendingSend[] = [];
  private flushing = false;

  constructor(
    readonly producer: Producer,
    private readonly maxBatch = 500,
  ) {}

  send(topic: string, message: Message): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, message, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  /** Sends several records and resolves when all are acknowledged. */
  sendAll(records: { topic: string; message: Message }[]): Promise<RecordMetadata[][]> {
    return Promise.all(records.map((record) => this.send(record.topic, record.message)));
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        const byTopic = new Map<string, Message[]>();
        for (const item of batch) byTopic.set(item.topic, [...(byTopic.get(item.topic) ?? []), item.message]);
        try {
          const metadata = await this.producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
          });
          for (const item of batch) item.resolve(metadata.filter((m) => m.topicName === item.topic));
        } catch (error) {
          for (const item of batch) item.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

// The Kafka part of the floor benchmark (bench/floor.ts): produce → consume round trips on the local
// broker, one message at a time, with kafkajs configured exactly as the apps configure it
// (libs/kafka: createKafka, createProducer + BatchingProducer, createGroupConsumer) and with
// @platformatic/kafka (bench/.tools) at its lowest-latency settings.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BatchingProducer, createKafka, createProducer, type Kafka } from '@sps/kafka';
import { createGroupConsumer, runGroupConsumer } from '../../libs/kafka/src/runners/consumer-group.js';
import { createLogger } from '@sps/observability';
import { log, REPO_ROOT, sleep, TOOLS_DIR } from './env.js';
import { fmt, nowUs, summariseUs, type LatencySummary } from './floor-stats.js';

/** One side of a conversation: a producer and any number of consumers, on connections of its own. */
interface Endpoint {
  /** Resolves once the broker acknowledged the record. */
  send(topic: string, key: string, value: string): Promise<void>;
  /** Starts a consumer of `topic` (its own group, from the beginning); resolves once it is assigned. */
  consume(topic: string, onMessage: (key: string, value: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface KafkaFloorClient {
  name: string;
  version: string | undefined;
  /** What the figures depend on: the producer's and the consumers' settings, as used. */
  settings: Record<string, unknown>;
  endpoint(role: string): Promise<Endpoint>;
}

const packageVersion = (path: string) => {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// kafkajs, as the apps use it

export const KAFKAJS_SETTINGS = {
  client:
    'libs/kafka createKafka: connectionTimeout 5000, retry { initialRetryTime 200, retries 10, maxRetryTime 10000 }',
  producer:
    'libs/kafka createProducer (idempotent, maxInFlightRequests 1, DefaultPartitioner) behind BatchingProducer (one sendBatch per flush, acks -1 = all); no linger: a send goes out at once when nothing is in flight',
  consumer:
    'libs/kafka createGroupConsumer: sessionTimeout 30000, heartbeatInterval 3000, maxBytesPerPartition 1 MiB, maxWaitTimeInMs 100 (kafkajs minBytes default 1, maxBytes 10 MiB); run with eachMessage, autoCommit false (as the runners and the reply listener)',
};

export function kafkajsClient(
  brokers: string,
  prefix: string,
  consumerOverrides: { maxWaitTimeMs?: number } = {},
): KafkaFloorClient {
  const logger = createLogger({ service: 'bench-floor', level: 'error' });
  return {
    name: 'kafkajs',
    version: packageVersion(join(REPO_ROOT, 'node_modules/kafkajs/package.json')),
    settings: {
      ...KAFKAJS_SETTINGS,
      ...(consumerOverrides.maxWaitTimeMs === undefined
        ? {}
        : { consumer_override: `maxWaitTimeInMs ${consumerOverrides.maxWaitTimeMs}` }),
    },
    async endpoint(role) {
      const kafka: Kafka = createKafka({ brokers, clientId: `${prefix}${role}`, logger });
      const producer = createProducer(kafka);
      await producer.connect();
      const batching = new BatchingProducer(producer);
      const consumers: { disconnect(): Promise<void> }[] = [];
      return {
        send: (topic, key, value) => batching.send(topic, { key, value }),
        async consume(topic, onMessage) {
          const consumer = createGroupConsumer({
            kafka,
            groupId: `${prefix}${role}-${topic.split('.').pop()}`,
            topics: [topic],
            logger,
            ...(consumerOverrides.maxWaitTimeMs === undefined
              ? {}
              : { maxWaitTimeMs: consumerOverrides.maxWaitTimeMs }),
            onFatal: (error) => log(`kafkajs consumer of ${topic} gave up: ${String(error)}`),
          });
          consumers.push(consumer);
          await runGroupConsumer(
            consumer,
            [topic],
            {
              autoCommit: false,
              eachMessage: async ({ message }) =>
                onMessage(message.key?.toString() ?? '', message.value?.toString() ?? ''),
            },
            true,
          );
        },
        async close() {
          await Promise.all(consumers.map((consumer) => consumer.disconnect()));
          await producer.disconnect();
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// @platformatic/kafka, from bench/.tools (typed here: bench/.tools is outside TypeScript's resolution)

interface PlatformaticMessage {
  key: string;
  value: string;
}
interface PlatformaticStream {
  on(event: 'data', listener: (message: PlatformaticMessage) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  close(): Promise<void>;
}
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => {
    send(options: { messages: { topic: string; key: string; value: string }[] }): Promise<unknown>;
    close(force?: boolean): Promise<void>;
  };
  Consumer: new (options: Record<string, unknown>) => {
    consume(options: Record<string, unknown>): Promise<PlatformaticStream>;
    close(force?: boolean): Promise<void>;
  };
  stringSerializers: unknown;
  stringDeserializers: unknown;
  ProduceAcks: { ALL: number };
}

const PLATFORMATIC_DIR = join(TOOLS_DIR, 'node_modules/@platformatic/kafka');

export async function platformaticClient(
  brokers: string,
  prefix: string,
  consumerOverrides: { maxWaitTimeMs?: number } = {},
): Promise<KafkaFloorClient> {
  const kafka = (await import(
    pathToFileURL(join(PLATFORMATIC_DIR, 'dist/index.js')).href
  )) as PlatformaticModule;
  const bootstrapBrokers = brokers.split(',').map((broker) => broker.trim());
  const maxWaitTime = consumerOverrides.maxWaitTimeMs ?? 100;
  const producerOptions = {
    idempotent: true,
    acks: kafka.ProduceAcks.ALL,
    autocreateTopics: false,
    retries: 8,
  };
  const consumerOptions = { minBytes: 1, maxWaitTime, maxBytes: 10 * 1024 * 1024 };
  const consumeOptions = {
    mode: 'earliest',
    autocommit: false,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  };
  return {
    name: '@platformatic/kafka',
    version: packageVersion(join(PLATFORMATIC_DIR, 'package.json')),
    settings: {
      producer: `new Producer(${JSON.stringify(producerOptions)}) (acks -1 = all), one send({ messages: [record] }) per record, one in flight per producer: no batching or linger in send()`,
      consumer: `new Consumer(${JSON.stringify(consumerOptions)}).consume(${JSON.stringify(consumeOptions)}), messages read from the stream's 'data' event`,
    },
    async endpoint(role) {
      const producer = new kafka.Producer({
        clientId: `${prefix}${role}`,
        bootstrapBrokers,
        serializers: kafka.stringSerializers,
        ...producerOptions,
      });
      let inFlight: Promise<unknown> = Promise.resolve();
      const consumers: {
        consumer: InstanceType<PlatformaticModule['Consumer']>;
        stream: PlatformaticStream;
      }[] = [];
      return {
        // One send in flight per producer, as BatchingProducer does for kafkajs. (A run under load got
        // OUT_OF_ORDER_SEQUENCE_NUMBER on the reply producer: 1.35 advances a partition's sequence
        // number only when a produce response arrives, so overlapping sends would reuse one.)
        send: (topic, key, value) => {
          const sent = inFlight.then(() => producer.send({ messages: [{ topic, key, value }] }));
          inFlight = sent.then(
            () => undefined,
            () => undefined,
          );
          return sent.then(() => undefined);
        },
        async consume(topic, onMessage) {
          const consumer = new kafka.Consumer({
            clientId: `${prefix}${role}-consumer`,
            groupId: `${prefix}${role}-${topic.split('.').pop()}`,
            bootstrapBrokers,
            deserializers: kafka.stringDeserializers,
            ...consumerOptions,
          });
          const stream = await consumer.consume({ topics: [topic], ...consumeOptions });
          stream.on('data', (message) => onMessage(message.key, message.value));
          stream.on('error', (error) => log(`@platformatic/kafka stream of ${topic}: ${error.message}`));
          consumers.push({ consumer, stream });
        },
        async close() {
          for (const { consumer, stream } of consumers) {
            await stream.close().catch(() => undefined);
            await consumer.close(true).catch(() => undefined);
          }
          await producer.close(true).catch(() => undefined);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The measurement

/** An error with its causes (@platformatic/kafka throws AggregateErrors). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = (error as Error & { errors?: unknown[] }).errors ?? [];
  const cause = (error as Error & { cause?: unknown }).cause;
  return [error.message, ...inner.map(describe), ...(cause ? [describe(cause)] : [])].join(' <- ');
}

export interface KafkaFloorOptions {
  topics: { oneHop: string; request: string; reply: string };
  /** Bytes of each record's value (the pipeline's requests carry a prompt and a schema). */
  valueBytes: number;
  twoHops: boolean;
  timeoutMs?: number;
}

export interface KafkaFloorResult {
  client: string;
  /** set for the diagnostic runs with other settings than the apps' */
  variant?: string;
  version: string | undefined;
  settings: Record<string, unknown>;
  /** produce call → broker acknowledgement (acks=all) */
  produce_ack: LatencySummary;
  /** produce call → the consumer's callback has the record (one hop) */
  one_hop: LatencySummary;
  /** request produced → responder consumes it and produces the reply → requester consumes the reply */
  two_hops?: LatencySummary;
  /** of the two hops: request produced → the responder's consumer has it */
  two_hops_request_leg?: LatencySummary;
  /** of the two hops: the responder's consumer has the request → the requester's consumer has the reply */
  two_hops_reply_leg?: LatencySummary;
  /** CPU (user + system) of the benchmark process — producer and consumer sides — per round trip */
  cpu_ms_per_one_hop: number;
  cpu_ms_per_two_hops?: number;
  /** requests the responder's consumer delivered more than once */
  redelivered_requests?: number;
}

export interface KafkaFloorSession {
  /**
   * `count` one-hop round trips, then `count` two-hop ones; recorded unless `warmup`. With `gapMs`,
   * every record waits that long after the previous trip ended (the idle-gap floor: clients and
   * broker idle between records, as at one client in the pipeline).
   */
  round(count: number, warmup?: boolean, gapMs?: number): Promise<void>;
  result(): KafkaFloorResult;
  close(): Promise<void>;
}

/**
 * Sequential round trips: each record is produced only once the previous one was consumed, so every
 * figure is one record's trip through an idle client and broker. Requester and responder are two
 * endpoints (separate clients and connections, as two processes would have) in this process. The
 * session stays open between rounds, so that bench/floor.ts can interleave the clients' rounds.
 */
export async function openKafkaFloor(
  client: KafkaFloorClient,
  options: KafkaFloorOptions,
): Promise<KafkaFloorSession> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const waiters = new Map<string, (atUs: number) => void>();
  const arrived = (key: string) => {
    const at = nowUs();
    const waiter = waiters.get(key);
    if (waiter) {
      waiters.delete(key);
      waiter(at);
    }
  };
  const waitFor = (key: string) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(key);
        reject(new Error(`${client.name}: record ${key} not consumed within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.set(key, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  const requestSeen = new Map<string, number>();
  /** requests the responder received more than once (a consumer re-delivering after a rejoin) */
  const delivered = new Set<string>();
  let duplicates = 0;
  const value = JSON.stringify({ pad: 'x'.repeat(Math.max(0, options.valueBytes - 10)) });

  const requester = await client.endpoint('requester');
  const responder = await client.endpoint('responder');
  const close = async () => {
    await requester.close().catch((error: unknown) => log(`closing requester: ${String(error)}`));
    await responder.close().catch((error: unknown) => log(`closing responder: ${String(error)}`));
  };
  try {
    await responder.consume(options.topics.oneHop, (key) => arrived(key));
    if (options.twoHops) {
      await responder.consume(options.topics.request, (key, body) => {
        if (delivered.has(key)) duplicates++;
        delivered.add(key);
        requestSeen.set(key, nowUs());
        responder
          .send(options.topics.reply, key, body)
          .catch((error: unknown) => log(`${client.name}: reply produce failed: ${describe(error)}`));
      });
      await requester.consume(options.topics.reply, (key) => arrived(key));
    }
  } catch (error) {
    await close();
    throw error;
  }

  const samples = {
    ack: [] as number[],
    oneHop: [] as number[],
    twoHops: [] as number[],
    requestLeg: [] as number[],
    replyLeg: [] as number[],
  };
  const cpuMs = { oneHop: 0, twoHops: 0 };
  const cpuSince = (start: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  };
  const perTrip = (ms: number, trips: number) => Math.round((ms / trips) * 1000) / 1000;
  let sequence = 0;
  return {
    async round(count, warmup = false, gapMs = 0) {
      let cpu = process.cpuUsage();
      for (let i = 0; i < count; i++) {
        if (gapMs > 0) await sleep(gapMs);
        const key = `one-${sequence++}`;
        const consumed = waitFor(key);
        const t0 = nowUs();
        await requester.send(options.topics.oneHop, key, value);
        const tAck = nowUs();
        const tConsumed = await consumed;
        if (!warmup) {
          samples.ack.push(tAck - t0);
          samples.oneHop.push(tConsumed - t0);
        }
      }
      if (!warmup) cpuMs.oneHop += cpuSince(cpu);
      if (!options.twoHops) return;
      cpu = process.cpuUsage();
      for (let i = 0; i < count; i++) {
        if (gapMs > 0) await sleep(gapMs);
        const key = `two-${sequence++}`;
        const replied = waitFor(key);
        const t0 = nowUs();
        await requester.send(options.topics.request, key, value);
        const tReplied = await replied;
        const tSeen = requestSeen.get(key) ?? NaN;
        requestSeen.delete(key);
        if (!warmup) {
          samples.twoHops.push(tReplied - t0);
          samples.requestLeg.push(tSeen - t0);
          samples.replyLeg.push(tReplied - tSeen);
        }
      }
      if (!warmup) cpuMs.twoHops += cpuSince(cpu);
    },
    result() {
      const result: KafkaFloorResult = {
        client: client.name,
        version: client.version,
        settings: client.settings,
        produce_ack: summariseUs(samples.ack),
        one_hop: summariseUs(samples.oneHop),
        cpu_ms_per_one_hop: perTrip(cpuMs.oneHop, samples.oneHop.length),
        ...(options.twoHops
          ? {
              two_hops: summariseUs(samples.twoHops),
              two_hops_request_leg: summariseUs(samples.requestLeg),
              two_hops_reply_leg: summariseUs(samples.replyLeg),
              cpu_ms_per_two_hops: perTrip(cpuMs.twoHops, samples.twoHops.length),
              redelivered_requests: duplicates,
            }
          : {}),
      };
      log(`${client.name}: produce ack   ${fmt(result.produce_ack)}`);
      log(`${client.name}: one hop       ${fmt(result.one_hop)}; cpu ${result.cpu_ms_per_one_hop} ms`);
      if (result.two_hops) {
        log(`${client.name}: two hops      ${fmt(result.two_hops)}; cpu ${result.cpu_ms_per_two_hops} ms`);
        log(`${client.name}:   request leg ${fmt(result.two_hops_request_leg!)}`);
        log(`${client.name}:   reply leg   ${fmt(result.two_hops_reply_leg!)}`);
      }
      return result;
    },
    close,
  };
}

// A freshly started broker is a cold JVM: until its produce and fetch paths are JIT-compiled it
// spends up to three times the CPU per record (0.4-0.6 cores against 0.2 at 4,500 hits/s here,
// 20 s after a start), and the first rounds of a benchmark measure the broker's warm-up rather
// than our code. `bench/run.sh` starts the stack on a fresh clone, so every benchmark that runs on
// the broker calls `warmBroker` first: when the broker started less than BENCH_BROKER_WARM_AFTER_S
// ago, records are pumped through a scratch topic of the apps' partition count for
// BENCH_BROKER_WARMUP_S, produced and consumed the way the apps do it (BatchingProducer, a group
// consumer); an older broker is left alone.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BatchingProducer, createKafka, createProducer, ensureTopics } from '@sps/kafka';
import { createGroupConsumer, runGroupConsumer } from '../../libs/kafka/src/runners/consumer-group.js';
import { createLogger } from '@sps/observability';
import { benchPrefix, brokerProcess, log, sleep, type StackEnv } from './env.js';

export interface BrokerWarmup {
  /** seconds since the broker's JVM started, when the benchmark began; null when it was not found */
  broker_uptime_s: number | null;
  /** seconds of pumping (0: the broker was already warm) */
  warmed_s: number;
  records_produced: number;
  records_consumed: number;
}

const WARMUP_S = Number(process.env.BENCH_BROKER_WARMUP_S ?? 20);
const WARM_AFTER_S = Number(process.env.BENCH_BROKER_WARM_AFTER_S ?? 600);
const PARTITIONS = 12;
const IN_FLIGHT = 64;

/** Seconds since the broker listening on `brokers`' port started (from /proc), or null when not found. */
export function brokerUptimeSeconds(brokers: string): number | null {
  const broker = brokerProcess(brokers);
  if (!broker) return null;
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux architecture Node runs on
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  // /proc/PID/stat: field 22 is the start time in ticks after boot; the command name (field 2) may
  // hold spaces, so count from its closing parenthesis.
  const stat = readFileSync(`/proc/${broker.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Math.round(uptime - Number(fields[19]) / ticksPerSecond);
}

export async function warmBroker(stack: StackEnv): Promise<BrokerWarmup> {
  const uptime = brokerUptimeSeconds(stack.KAFKA_BROKERS);
  if (WARMUP_S <= 0 || (uptime !== null && uptime >= WARM_AFTER_S)) {
    return { broker_uptime_s: uptime, warmed_s: 0, records_produced: 0, records_consumed: 0 };
  }
  log(`the broker started ${uptime ?? '?'} s ago: warming it for ${WARMUP_S} s`);
  // 'fatal': a broker seconds old answers "coordinator loading" at first, which kafkajs logs at error and retries.
  const logger = createLogger({ service: 'bench-warmup', level: 'fatal' });
  const kafka = createKafka({ brokers: stack.KAFKA_BROKERS, clientId: 'bench-warmup', logger });
  const prefix = benchPrefix('warmup');
  const topic = `${prefix}pump`;
  await ensureTopics(
    kafka,
    [{ name: 'pump', partitions: PARTITIONS, retentionMs: 600_000, cleanupPolicy: 'delete' }],
    prefix,
  );
  const producer = createProducer(kafka);
  await producer.connect();
  const batching = new BatchingProducer(producer);
  let consumed = 0;
  const consumer = createGroupConsumer({
    kafka,
    groupId: `${prefix}pump`,
    topics: [topic],
    logger,
    onFatal: (error) => log(`warm-up consumer gave up: ${String(error)}`),
  });
  await runGroupConsumer(
    consumer,
    [topic],
    { autoCommit: false, eachMessage: async () => void consumed++ },
    true,
  );
  const value = randomBytes(512).toString('hex'); // about a result's size
  const started = performance.now();
  let produced = 0;
  const until = started + WARMUP_S * 1_000;
  // IN_FLIGHT senders in a closed loop, keyed across the partitions like the apps' records.
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, sender) => {
      for (let i = 0; performance.now() < until; i++) {
        await batching.send(topic, { key: `${sender}-${i}`, value });
        produced++;
      }
    }),
  );
  for (let waited = 0; consumed < produced && waited < 10_000; waited += 100) await sleep(100);
  const warmed = (performance.now() - started) / 1_000;
  await consumer.disconnect().catch(() => undefined);
  await producer.disconnect().catch(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
  log(`broker warmed: ${produced} records produced, ${consumed} consumed in ${warmed.toFixed(1)} s`);
  return {
    broker_uptime_s: uptime,
    warmed_s: Math.round(warmed * 10) / 10,
    records_produced: produced,
    records_consumed: consumed,
  };
}

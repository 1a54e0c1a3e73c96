// npm run bench:floor — the physical floors the other figures are bounded by, measured in one run on
// this machine: a Kafka produce → consume round trip on the local broker (kafkajs as the apps
// configure it, and @platformatic/kafka), one and two hops; a Redis GET (ioredis); a bare Fastify
// route under autocannon; a bare OpenAI SDK call to the fake provider (default fetch, a pooled undici
// Agent, and no SDK at all); the same steps one at a time after an idle gap each (`idle`); and the
// skeleton pipeline, our two-hop design with the same libraries and nothing else (`skeleton`).
// Writes bench/results/floor.json.
import { createKafka, ensureTopics } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import {
  benchPrefix,
  ensureStack,
  loadAverage,
  log,
  machineInfo,
  relative,
  sleep,
  waitForQuietMachine,
  writeResult,
} from './lib/env.js';
import { measureHttpFloor } from './lib/floor-http.js';
import {
  kafkajsClient,
  openKafkaFloor,
  platformaticClient,
  type KafkaFloorClient,
  type KafkaFloorResult,
  type KafkaFloorSession,
} from './lib/floor-kafka.js';
import { measureOpenAIFloor } from './lib/floor-openai.js';
import { measureIdleFloor, type IdleFloorResult } from './lib/floor-idle.js';
import { measureRedisFloor } from './lib/floor-redis.js';
import { measureSkeleton, type SkeletonResult } from './lib/floor-skeleton.js';
import { cpuMeter, spawnFakeProvider, stackGroups, stopAll, type CpuShare } from './lib/procs.js';
import { warmBroker } from './lib/broker-warmup.js';

const numbers = (text: string | undefined, fallback: number[]) =>
  text ? text.split(',').filter(Boolean).map(Number) : fallback;
const SECTIONS = (process.env.BENCH_FLOOR_SECTIONS ?? 'kafka,redis,http,openai,idle,skeleton').split(',');
const CONFIG = {
  sections: SECTIONS,
  kafka: {
    warmup: Number(process.env.BENCH_FLOOR_KAFKA_WARMUP ?? 50),
    messages: Number(process.env.BENCH_FLOOR_KAFKA_MESSAGES ?? 500),
    /** the measured records of each client are split into this many rounds, interleaved across clients */
    rounds: Number(process.env.BENCH_FLOOR_ROUNDS ?? 5),
    value_bytes: 1024,
    two_hops: process.env.BENCH_FLOOR_TWO_HOPS !== '0',
    topics: 'three topics of one partition each under the run prefix (one hop; request and reply)',
    method:
      'each record is produced only after the previous one was consumed; requester and responder are separate clients (own connections) in the benchmark process; times from performance.now()',
    /** extra kafkajs runs with another consumer maxWaitTimeInMs (diagnostic; the apps use 100) */
    kafkajs_max_wait_variants: numbers(process.env.BENCH_FLOOR_KAFKAJS_MAX_WAIT, []),
    /** extra kafkajs runs on topics of this many partitions (diagnostic; the apps' topics have 12) */
    kafkajs_partition_variants: numbers(process.env.BENCH_FLOOR_KAFKAJS_PARTITIONS, []),
  },
  redis: {
    warmup: 500,
    sequential: Number(process.env.BENCH_FLOOR_REDIS_GETS ?? 5000),
    concurrency: 64,
    duration_s: 5,
    value_bytes: 2048,
  },
  http: {
    connections: numbers(process.env.BENCH_FLOOR_HTTP_CONNECTIONS, [1, 32, 64]),
    warmup_s: 2,
    duration_s: Number(process.env.BENCH_FLOOR_HTTP_DURATION_S ?? 5),
  },
  openai: {
    warmup: 100,
    rounds: Number(process.env.BENCH_FLOOR_ROUNDS ?? 5),
    latencies: [
      { ms: 0, calls: Number(process.env.BENCH_FLOOR_OPENAI_CALLS_0MS ?? 1000) },
      { ms: 50, calls: Number(process.env.BENCH_FLOOR_OPENAI_CALLS_50MS ?? 200) },
    ],
  },
  idle: {
    /** idle time before every sample: the provider latency of the pipeline figures */
    gap_ms: Number(process.env.BENCH_FLOOR_IDLE_GAP_MS ?? 50),
    samples: Number(process.env.BENCH_FLOOR_IDLE_SAMPLES ?? 300),
    warmup: 20,
    value_bytes: { kafka: 1024, redis: 2048 },
  },
  skeleton: {
    provider_latency_ms: Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 50),
    miss_concurrencies: numbers(process.env.BENCH_FLOOR_SKELETON_MISS_CONCURRENCY, [1, 32]),
    hit_concurrencies: numbers(process.env.BENCH_FLOOR_SKELETON_HIT_CONCURRENCY, [1, 64]),
    /** misses again with the real sink storing every result (the design's row per request) */
    sink_concurrencies: numbers(process.env.BENCH_FLOOR_SKELETON_SINK_CONCURRENCY, [32]),
    /** hits with the sink storing each hit's row, as ingest-api's hits get theirs */
    sink_hit_concurrencies: numbers(process.env.BENCH_FLOOR_SKELETON_SINK_HIT_CONCURRENCY, [64]),
    runs: Number(process.env.BENCH_FLOOR_SKELETON_RUNS ?? 3),
    duration_s: Number(process.env.BENCH_FLOOR_SKELETON_DURATION_S ?? 4),
    warmup_s: Number(process.env.BENCH_FLOOR_SKELETON_WARMUP_S ?? 1),
    hit_value_bytes: 2048,
  },
};

const started = new Date();
const stack = ensureStack();
const quiet = await waitForQuietMachine();
const brokerWarmup = await warmBroker(stack);
const machine = machineInfo(stack);
log(
  `machine: ${machine.cores} cores, ${machine.memory_gib} GiB, node ${machine.node}, kafka ${machine.kafka}; load ${quiet.load_average.join(' ')}`,
);
const groups = stackGroups(stack);
const cpu: Record<string, CpuShare> = {};
const metered = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
  const meter = cpuMeter([{ name: 'bench', pid: process.pid }, ...groups]);
  try {
    return await work();
  } finally {
    cpu[name] = meter.stop();
  }
};
const failures: Record<string, string> = {};
const attempt = async <T>(name: string, work: () => Promise<T>, meter = true): Promise<T | undefined> => {
  try {
    return await (meter ? metered(name, work) : work());
  } catch (error) {
    failures[name] = (error as Error).stack ?? String(error);
    log(`${name} failed: ${(error as Error).message}`);
    return undefined;
  }
};

// 1. Kafka: each client gets topics and consumer groups of its own (a consumer reading from the
// beginning must not see another client's records). All clients are opened first, warmed up, then
// measured in interleaved rounds, so that drift in the machine's load falls on every client alike.
let kafkaResults: KafkaFloorResult[] | undefined;
if (SECTIONS.includes('kafka')) {
  const prefix = benchPrefix('floor');
  const kafka = createKafka({
    brokers: stack.KAFKA_BROKERS,
    clientId: `${prefix}admin`,
    logger: createLogger({ service: 'bench-floor', level: 'error' }),
  });
  const created: string[] = [];
  const sessions: { name: string; session: KafkaFloorSession; partitions: number }[] = [];
  try {
    const clients: [string, (prefix: string) => Promise<KafkaFloorClient>, number?][] = [
      ['kafkajs', async (p) => kafkajsClient(stack.KAFKA_BROKERS, p)],
      ['platformatic', (p) => platformaticClient(stack.KAFKA_BROKERS, p)],
      ...CONFIG.kafka.kafkajs_max_wait_variants.map(
        (ms): [string, (prefix: string) => Promise<KafkaFloorClient>] => [
          `kafkajs-maxwait-${ms}`,
          async (p) => kafkajsClient(stack.KAFKA_BROKERS, p, { maxWaitTimeMs: ms }),
        ],
      ),
      ...CONFIG.kafka.kafkajs_partition_variants.map(
        (partitions): [string, (prefix: string) => Promise<KafkaFloorClient>, number] => [
          `kafkajs-partitions-${partitions}`,
          async (p) => kafkajsClient(stack.KAFKA_BROKERS, p),
          partitions,
        ],
      ),
    ];
    for (const [name, make, partitions = 1] of clients) {
      const clientPrefix = `${prefix}${name}.`;
      const topics = {
        oneHop: `${clientPrefix}one-hop`,
        request: `${clientPrefix}request`,
        reply: `${clientPrefix}reply`,
      };
      await attempt(
        `kafka-${name}`,
        async () => {
          created.push(...Object.values(topics));
          await ensureTopics(
            kafka,
            Object.values(topics).map((topic) => ({
              name: topic,
              partitions,
              retentionMs: 3_600_000,
              cleanupPolicy: 'delete' as const,
            })),
          );
          const session = await openKafkaFloor(await make(clientPrefix), {
            topics,
            valueBytes: CONFIG.kafka.value_bytes,
            twoHops: CONFIG.kafka.two_hops,
          });
          sessions.push({ name, session, partitions });
          await session.round(CONFIG.kafka.warmup, true);
        },
        false,
      );
    }
    const perRound = Math.ceil(CONFIG.kafka.messages / CONFIG.kafka.rounds);
    await metered('kafka', async () => {
      for (let round = 0; round < CONFIG.kafka.rounds; round++) {
        for (const { name, session } of [...sessions]) {
          await attempt(`kafka-${name}`, () => session.round(perRound), false);
          if (failures[`kafka-${name}`]) {
            await session.close();
            sessions.splice(
              sessions.findIndex((s) => s.name === name),
              1,
            );
          }
        }
      }
    });
    kafkaResults = sessions.map(({ name, session, partitions }) => {
      const result = session.result();
      if (partitions !== 1)
        result.settings = {
          ...result.settings,
          topics_override: `${partitions} partitions per topic (a unique key per record, spread by the DefaultPartitioner); the consumers fetch every partition`,
        };
      return name.startsWith('kafkajs-') ? { ...result, variant: name } : result;
    });
  } finally {
    for (const { session } of sessions) await session.close();
    const admin = kafka.admin();
    await admin.connect();
    if (created.length)
      await admin
        .deleteTopics({ topics: created, timeout: 30_000 })
        .catch((error: unknown) => log(`deleting topics: ${String(error)}`));
    const groupIds = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((id) => id.startsWith(prefix));
    if (groupIds.length)
      await admin.deleteGroups(groupIds).catch((error: unknown) => log(`deleting groups: ${String(error)}`));
    await admin.disconnect();
  }
}

// 2. Redis
const redis = SECTIONS.includes('redis')
  ? await attempt('redis', () =>
      measureRedisFloor(stack.REDIS_URL, {
        sequential: CONFIG.redis.sequential,
        warmup: CONFIG.redis.warmup,
        concurrency: CONFIG.redis.concurrency,
        durationS: CONFIG.redis.duration_s,
        valueBytes: CONFIG.redis.value_bytes,
      }),
    )
  : undefined;

// 3. Bare Fastify
const http = SECTIONS.includes('http')
  ? await attempt('http', () =>
      measureHttpFloor({
        connections: CONFIG.http.connections,
        warmupS: CONFIG.http.warmup_s,
        durationS: CONFIG.http.duration_s,
      }),
    )
  : undefined;

// 4. Provider call through the OpenAI SDK
let openai: Awaited<ReturnType<typeof measureOpenAIFloor>> | undefined;
if (SECTIONS.includes('openai')) {
  const fake = await spawnFakeProvider(0);
  try {
    await sleep(200);
    openai = await attempt('openai', () =>
      measureOpenAIFloor(fake, {
        latencies: CONFIG.openai.latencies,
        warmup: CONFIG.openai.warmup,
        rounds: CONFIG.openai.rounds,
      }),
    );
  } finally {
    await stopAll([fake]);
  }
}

// 5. The same steps after an idle gap each (what one client sees: every process idles between steps)
let idle: IdleFloorResult | undefined;
if (SECTIONS.includes('idle')) {
  const fake = await spawnFakeProvider(0);
  try {
    await sleep(200);
    idle = await attempt('idle', () =>
      measureIdleFloor(stack, fake, {
        gapMs: CONFIG.idle.gap_ms,
        samples: CONFIG.idle.samples,
        warmup: CONFIG.idle.warmup,
        valueBytes: CONFIG.idle.value_bytes,
      }),
    );
    for (const [part, error] of Object.entries(idle?.failures ?? {})) failures[`idle-${part}`] = error;
  } finally {
    await stopAll([fake]);
  }
}

// 6. The skeleton pipeline: our design with the same libraries and nothing else
let skeleton: SkeletonResult | undefined;
if (SECTIONS.includes('skeleton')) {
  const fake = await spawnFakeProvider(CONFIG.skeleton.provider_latency_ms);
  try {
    await sleep(200);
    skeleton = await attempt(
      'skeleton',
      () =>
        measureSkeleton(stack, fake, {
          providerLatencyMs: CONFIG.skeleton.provider_latency_ms,
          missConcurrencies: CONFIG.skeleton.miss_concurrencies,
          hitConcurrencies: CONFIG.skeleton.hit_concurrencies,
          sinkConcurrencies: CONFIG.skeleton.sink_concurrencies,
          sinkHitConcurrencies: CONFIG.skeleton.sink_hit_concurrencies,
          runs: CONFIG.skeleton.runs,
          durationS: CONFIG.skeleton.duration_s,
          warmupS: CONFIG.skeleton.warmup_s,
          hitValueBytes: CONFIG.skeleton.hit_value_bytes,
        }),
      false,
    );
  } finally {
    await stopAll([fake]);
  }
}

const output = {
  benchmark: 'floor',
  started_at: started.toISOString(),
  finished_at: new Date().toISOString(),
  machine: {
    ...machine,
    platformatic_kafka: kafkaResults?.find((r) => r.client === '@platformatic/kafka')?.version,
  },
  quiet_wait: quiet,
  broker_warmup: brokerWarmup,
  load_average_at_end: loadAverage(),
  config: CONFIG,
  failures,
  kafka: kafkaResults,
  redis,
  http,
  openai,
  idle,
  skeleton,
  cpu,
  profiles: {},
};
// BENCH_FLOOR_RESULT: another name under bench/results (a partial run must not replace floor.json)
const path = writeResult(process.env.BENCH_FLOOR_RESULT ?? 'floor', output);
log(`wrote ${relative(path)}`);
// A part that failed is recorded in the result (and the report); the run fails only if nothing was
// measured. kafkajs and ioredis may keep timers alive a moment after closing: exit explicitly.
process.exit(kafkaResults?.length || redis || http || openai || idle || skeleton ? 0 : 1);

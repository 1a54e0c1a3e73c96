// The skeleton pipeline of the floor benchmark (bench/floor.ts): the design's floor. Our two-hop
// design implemented with the same libraries and nothing else, in two processes besides the load
// generator — an edge (bench/lib/floor-skeleton-edge.ts: Fastify, Redis GET, BatchingProducer,
// ReplyListener) and a worker (bench/lib/floor-skeleton-worker.ts: ConcurrentRunner, Redis GET,
// OpenAI SDK, BatchingProducer) — on topics of the apps' partition counts, measured the way
// bench:overhead measures the pipeline: cache misses against direct calls to the fake provider in
// the same round (the overhead), and cache hits. With `sinkConcurrencies`, the misses are measured
// once more (after the others, before the hits) with our real sink (apps/sink) storing each result's row in
// Postgres, as the design requires of every request: the skeleton with its third durable write; with
// `sinkHitConcurrencies`, the hits too (each hit's result gets its row, as ingest-api's hits do).
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@sps/contracts';
import { createRedis } from '@sps/cache';
import { createKafka, ensureTopics } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import { benchPrefix, log, sleep, type StackEnv } from './env.js';
import { startFloorProcess } from './floor-http.js';
import { chatBody } from './floor-openai.js';
import {
  FIGURES,
  runMetered,
  spread,
  summarise,
  type Figure,
  type LoadFigures,
  type Spread,
  type Target,
  describeRun,
} from './load.js';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest, type Database } from '@sps/db';
import { invoicePrompt } from './pipeline.js';
import {
  spawnApp,
  stackGroups,
  type CpuShare,
  type FakeProvider,
  type PidGroup,
  type Proc,
} from './procs.js';

export interface SkeletonOptions {
  providerLatencyMs: number;
  missConcurrencies: number[];
  hitConcurrencies: number[];
  runs: number;
  durationS: number;
  warmupS: number;
  /** bytes of the cached answer a hit reads and produces */
  hitValueBytes: number;
  /** concurrencies of the misses measured with the sink storing every result (none: not measured) */
  sinkConcurrencies?: number[];
  /** concurrencies of the hits measured with the sink storing every hit's result (none: not measured) */
  sinkHitConcurrencies?: number[];
}

type Run = LoadFigures & { cpu: CpuShare };

export interface SkeletonCase {
  target: 'direct' | 'skeleton-miss' | 'skeleton-hit' | 'skeleton-sink-miss' | 'skeleton-sink-hit';
  concurrency: number;
  runs: Run[];
  summary: ReturnType<typeof summarise>;
  /** median over runs of cores used per process */
  cpu_cores: Record<string, number>;
}

export interface SkeletonResult {
  design: string;
  edge: string;
  worker: string;
  topics: string;
  provider_latency_ms: number;
  runs: number;
  duration_s: number;
  warmup_s: number;
  hit_value_bytes: number;
  /** bytes of the result record a miss produces (one sample) */
  miss_result_bytes?: number;
  results: SkeletonCase[];
  /** skeleton-miss minus direct, paired by round, per concurrency: median, min, max */
  miss_overhead: Record<string, Record<Figure, Spread>>;
  sink?: string;
  /** skeleton-sink-miss minus direct, paired by round, per concurrency (when measured) */
  sink_miss_overhead?: Record<string, Record<Figure, Spread>>;
}

/**
 * A cached answer of about `bytes` bytes, shaped as our result contract (libs/contracts
 * ResultMessage), so that the sink stores a hit's result as it stores ingest-api's.
 */
function cachedAnswer(bytes: number, tenant: string): string {
  const answer = {
    request_id: '00000000-0000-4000-8000-000000000000',
    tenant_id: tenant,
    status: 'succeeded',
    output: {
      data: {
        invoice_number: '12345',
        date: '2025-01-15',
        total_amount: 1250,
        currency: 'USD',
        vendor: { name: 'Acme Supplies Ltd.', address: '1 Industrial Way, Springfield' },
        pad: '',
      },
      output_format: 'json',
      validation_status: 'passed',
      provider_used: 'openai',
      model: 'gpt-4o-mini',
      cached: true,
      repaired: false,
      original_language: 'en',
    },
    prompt: 'Extract the invoice fields.',
    request_params: {},
    attempts: [],
    processing_time_ms: 0,
    completed_at: new Date().toISOString(),
  };
  answer.output.data.pad = 'x'.repeat(Math.max(0, bytes - JSON.stringify(answer).length));
  return JSON.stringify(answer);
}

/** Until the fake provider's call count stood still over two looks (autocannon leaves answers unwaited). */
async function drain(fake: FakeProvider): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = -1;
  let stable = 0;
  while (stable < 2 && Date.now() < deadline) {
    await sleep(200);
    const calls = await fake.calls();
    stable = calls === last ? stable + 1 : 0;
    last = calls;
  }
}

/** A running skeleton pipeline: its load targets, its processes, and what `close` removes. */
export interface Skeleton {
  prefix: string;
  tenant: string;
  targets: Record<SkeletonCase['target'], Target>;
  /** the edge's and the worker's processes, for the CPU meter */
  groups: PidGroup[];
  /** bytes of the answer to one miss (the smoke test's) */
  missResultBytes: number;
  /** bytes of the cached answer a hit reads */
  hitValueBytes: number;
  db: Database;
  /** rows the skeleton's sink stored (0 without `sink`) */
  rows(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the skeleton (topics of its own, worker, then edge) and smoke-tests a miss and a hit.
 * bench:floor measures it alone; bench:overhead adds its misses to the pipeline's rounds, so that
 * the design's floor and our figure share every round.
 */
export async function startSkeleton(
  stack: StackEnv,
  fake: FakeProvider,
  options: {
    hitValueBytes: number;
    /**
     * Our sink (apps/sink) storing every result's row, for the skeleton's whole life: the design's
     * floor as the design requires it (a row for every request), measured in bench:overhead's rounds.
     */
    sink?: boolean;
  },
): Promise<Skeleton> {
  const prefix = benchPrefix('floor-skeleton');
  const logger = createLogger({ service: 'bench-floor', level: 'error' });
  const kafka = createKafka({ brokers: stack.KAFKA_BROKERS, clientId: `${prefix}admin`, logger });
  // the sink also writes to the results DLQ and the job events
  const specs = [
    TOPICS.requests,
    TOPICS.results,
    TOPICS.replies,
    TOPICS.requestsDlq,
    TOPICS.resultsDlq,
    TOPICS.jobEvents,
  ];
  const names = {
    requests: `${prefix}${TOPICS.requests.name}`,
    results: `${prefix}${TOPICS.results.name}`,
    replies: `${prefix}${TOPICS.replies.name}`,
    dlq: `${prefix}${TOPICS.requestsDlq.name}`,
    resultsDlq: `${prefix}${TOPICS.resultsDlq.name}`,
    jobEvents: `${prefix}${TOPICS.jobEvents.name}`,
  };
  const tenant = `${prefix.slice(0, -1)}`.slice(0, 64);
  const db = createDatabase({ url: stack.DATABASE_URL, applicationName: 'bench-floor-skeleton' });
  // the edge's ReplyListener instance id (its consumer group is sps-ingest-replies-<id>)
  const instanceId = randomUUID();
  const redis = createRedis(stack.REDIS_URL);
  const procs: { stop(): Promise<void> }[] = [];
  const close = async () => {
    for (const proc of procs.reverse())
      await proc.stop().catch((error: unknown) => log(`stopping skeleton process: ${String(error)}`));
    await redis.del(`${prefix}hot`).catch(() => undefined);
    await sql`delete from request_logs where tenant_id = ${tenant}`.execute(db).catch(() => undefined);
    await db.destroy();
    redis.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: Object.values(names), timeout: 30_000 })
      .catch((error: unknown) => log(`deleting skeleton topics: ${String(error)}`));
    const groupIds = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((id) => id.startsWith(prefix) || id === `sps-ingest-replies-${instanceId}`);
    if (groupIds.length)
      await admin
        .deleteGroups(groupIds)
        .catch((error: unknown) => log(`deleting skeleton groups: ${String(error)}`));
    await admin.disconnect();
  };
  try {
    // bench:floor runs first in bench:all: on a fresh stack no app has made request_logs yet, and
    // the skeleton's rows are stored, counted and deleted there
    await migrateToLatest(db);
    await ensureTopics(kafka, specs, prefix);
    await new Promise<void>((resolve, reject) => {
      if (redis.status === 'ready') resolve();
      redis.once('ready', resolve);
      redis.once('end', () => reject(new Error('redis connection ended')));
    });
    const hotValue = cachedAnswer(options.hitValueBytes, tenant);
    await redis.set(`${prefix}hot`, hotValue, 'EX', 3_600);
    const env = {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      REDIS_URL: stack.REDIS_URL,
      SKELETON_REQUESTS_TOPIC: names.requests,
      SKELETON_RESULTS_TOPIC: names.results,
      SKELETON_REPLIES_TOPIC: names.replies,
      SKELETON_DLQ_TOPIC: names.dlq,
      SKELETON_KEY_PREFIX: prefix,
      SKELETON_TENANT: tenant,
      SKELETON_GROUP_ID: `${prefix}worker`,
      SKELETON_OPENAI_BASE_URL: fake.openaiBaseUrl,
      SKELETON_INSTANCE_ID: instanceId,
    };
    // one after the other, each kept for the cleanup as soon as it runs
    const worker = await startFloorProcess('bench/lib/floor-skeleton-worker.ts', {
      name: 'skeleton worker',
      ready: /skeleton worker consuming/,
      env,
      timeoutMs: 90_000,
    });
    procs.push(worker);
    const edge = await startFloorProcess('bench/lib/floor-skeleton-edge.ts', {
      name: 'skeleton edge',
      ready: /listening on (http:\/\/\S+)/,
      env,
      timeoutMs: 90_000,
    });
    procs.push(edge);
    const groups: PidGroup[] = [
      { name: 'edge', pid: edge.pid },
      { name: 'worker', pid: worker.pid },
    ];
    if (options.sink) {
      const sink = await spawnSkeletonSink(stack, prefix, 'skeleton-sink');
      procs.push(sink);
      groups.push({ name: 'skeleton-sink', pid: sink.pid });
    }
    const run = prefix.slice(0, -1);
    const targets: Skeleton['targets'] = {
      direct: {
        name: 'direct',
        url: `${fake.openaiBaseUrl}/chat/completions`,
        headers: { authorization: 'Bearer sk-fake' },
        body: (i) => JSON.stringify(chatBody(invoicePrompt(i))),
      },
      'skeleton-miss': {
        name: 'skeleton-miss',
        url: `${edge.ready}/`,
        headers: {},
        body: (i) => JSON.stringify({ key: `${run}-miss-${i}`, prompt: invoicePrompt(i) }),
      },
      'skeleton-sink-miss': {
        name: 'skeleton-sink-miss',
        url: `${edge.ready}/`,
        headers: {},
        body: (i) => JSON.stringify({ key: `${run}-sink-miss-${i}`, prompt: invoicePrompt(i) }),
      },
      'skeleton-hit': {
        name: 'skeleton-hit',
        url: `${edge.ready}/`,
        headers: {},
        body: () => JSON.stringify({ key: 'hot' }),
      },
      'skeleton-sink-hit': {
        name: 'skeleton-sink-hit',
        url: `${edge.ready}/`,
        headers: {},
        body: () => JSON.stringify({ key: 'hot' }),
      },
    };
    // smoke test: a miss comes back with the provider's answer, a hit with the cached one
    let missResultBytes = 0;
    for (const name of ['skeleton-miss', 'skeleton-hit'] as const) {
      const response = await fetch(targets[name].url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: targets[name].body(-1),
      });
      const text = await response.text();
      if (!response.ok || !text.includes('invoice_number'))
        throw new Error(`${name}: HTTP ${response.status}: ${text.slice(0, 300)}`);
      if (name === 'skeleton-miss') missResultBytes = Buffer.byteLength(text);
    }
    return {
      prefix,
      tenant,
      targets,
      groups,
      missResultBytes,
      hitValueBytes: Buffer.byteLength(hotValue),
      db,
      rows: async () => {
        const { rows } = await sql<{ count: string }>`
          select count(*) as count from request_logs where tenant_id = ${tenant}`.execute(db);
        return Number(rows[0]?.count ?? 0);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Our sink (apps/sink) on the skeleton's topics, storing every result's row as it stores ours. */
function spawnSkeletonSink(stack: StackEnv, prefix: string, name: string): Promise<Proc> {
  return spawnApp(
    'sink',
    {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      DATABASE_URL: stack.DATABASE_URL,
      KAFKA_TOPIC_PREFIX: prefix,
      SINK_GROUP_ID: `${prefix}sink`,
      MIGRATE_ON_START: 'false',
    },
    { name },
  );
}

export async function measureSkeleton(
  stack: StackEnv,
  fake: FakeProvider,
  options: SkeletonOptions,
): Promise<SkeletonResult> {
  await fake.setLatency(options.providerLatencyMs);
  const skeleton = await startSkeleton(stack, fake, { hitValueBytes: options.hitValueBytes });
  const { prefix, targets, missResultBytes, hitValueBytes } = skeleton;
  try {
    const groups: PidGroup[] = [
      { name: 'load-generator', pid: process.pid },
      { name: 'fake-provider', pid: fake.pid },
      ...skeleton.groups,
      ...stackGroups(stack),
    ];
    const results: SkeletonCase[] = [];
    const measure = async (names: SkeletonCase['target'][], concurrency: number): Promise<SkeletonCase[]> => {
      const byTarget = new Map(names.map((name) => [name, [] as Run[]]));
      for (let round = 1; round <= options.runs; round++) {
        for (const name of names) {
          const target = targets[name];
          const { figures, cpu } = await runMetered(target, concurrency, options.durationS, {
            warmupS: options.warmupS,
            groups,
          });
          await drain(fake);
          await fake.reset(); // the fake provider keeps every call it answered
          byTarget.get(name)!.push({ ...figures, cpu });
          log(`skeleton c=${concurrency} round ${round} ${name.padEnd(13)} ${describeRun(figures, cpu)}`);
        }
      }
      const cases: SkeletonCase[] = [];
      for (const name of names) {
        const runs = byTarget.get(name)!;
        const procNames = Object.keys(runs[0]!.cpu.cores);
        cases.push({
          target: name,
          concurrency,
          runs,
          summary: summarise(runs),
          cpu_cores: Object.fromEntries(
            [...procNames, 'other', 'machine'].map((proc) => [
              proc,
              spread(
                runs.map((r) =>
                  proc === 'other'
                    ? r.cpu.other_cores
                    : proc === 'machine'
                      ? r.cpu.machine_busy_cores
                      : r.cpu.cores[proc]!,
                ),
              ).median,
            ]),
          ),
        });
      }
      results.push(...cases);
      return cases;
    };
    // as bench:overhead: each round's figure minus the direct run of the same round
    const overheadOf = ([direct, miss]: SkeletonCase[]): Record<Figure, Spread> => {
      const overhead = Object.fromEntries(
        FIGURES.map((figure) => [
          figure,
          spread(miss!.runs.map((r, i) => r[figure] - direct!.runs[i]![figure])),
        ]),
      ) as Record<Figure, Spread>;
      log(
        `${miss!.target} overhead c=${miss!.concurrency}: p50 ${overhead.p50_ms.median} (${overhead.p50_ms.min}–${overhead.p50_ms.max}) p99 ${overhead.p99_ms.median} (${overhead.p99_ms.min}–${overhead.p99_ms.max}) ms`,
      );
      return overhead;
    };
    const missOverhead: SkeletonResult['miss_overhead'] = {};
    for (const concurrency of options.missConcurrencies)
      missOverhead[String(concurrency)] = overheadOf(await measure(['direct', 'skeleton-miss'], concurrency));
    // Then the same misses with the sink storing every result, and the hits with it storing each
    // hit's result (as ingest-api publishes a hit's result for its row). It first stores the
    // results of the runs above. The plain hits come after it stopped.
    const sinkOverhead: NonNullable<SkeletonResult['sink_miss_overhead']> = {};
    if (options.sinkConcurrencies?.length || options.sinkHitConcurrencies?.length) {
      const sink = await spawnSkeletonSink(stack, prefix, 'sink');
      groups.push({ name: 'sink', pid: sink.pid });
      const stored = skeleton.rows;
      try {
        // caught up once the count stood still for 2 s (the group join comes first)
        const expectRows = options.missConcurrencies.length > 0;
        const deadline = Date.now() + 60_000;
        for (let last = -1, still = 0; still < 4 && Date.now() < deadline;) {
          await sleep(500);
          const now = await stored();
          still = now === last && (now > 0 || !expectRows) ? still + 1 : 0;
          last = now;
        }
        const before = await stored();
        for (const concurrency of options.sinkConcurrencies ?? [])
          sinkOverhead[String(concurrency)] = overheadOf(
            await measure(['direct', 'skeleton-sink-miss'], concurrency),
          );
        for (const concurrency of options.sinkHitConcurrencies ?? [])
          await measure(['skeleton-sink-hit'], concurrency);
        await sleep(500);
        log(
          `skeleton with sink: ${before} rows of the earlier runs, then ${(await stored()) - before} stored`,
        );
      } finally {
        await sink.stop();
        groups.pop();
      }
    }
    for (const concurrency of options.hitConcurrencies) await measure(['skeleton-hit'], concurrency);

    return {
      design:
        'edge: POST / → Redis GET → hit: produce the result (acks=all) and answer; miss: produce the request with its reply address, answer the reply. worker: consume → Redis GET (miss) → one OpenAI SDK call → result + reply produced in one tick',
      edge: 'own process: Fastify (no logger, no plugins), libs/cache createRedis, libs/kafka createKafka + createProducer + BatchingProducer (maxQueued 5000, 2 s produce timeout, as ingest-api) + ReplyListener; a hit parses the cached answer, sets its own request id and writes it once (the same text produced and answered)',
      worker:
        'own process: libs/kafka ConcurrentRunner (maxInFlight 256 as PROCESSOR_MAX_IN_FLIGHT, createGroupConsumer settings), libs/cache createRedis, OpenAI SDK with libs/llm createHttpClient fetch/fetchOptions, one BatchingProducer; no cache write, validation, retries or coalescing',
      topics: `fresh topics per run with the apps' partition counts (requests, results, replies ${TOPICS.replies.partitions}, DLQ ${TOPICS.requestsDlq.partitions}); a miss's key is unique, a hit's key constant`,
      provider_latency_ms: options.providerLatencyMs,
      runs: options.runs,
      duration_s: options.durationS,
      warmup_s: options.warmupS,
      hit_value_bytes: hitValueBytes,
      miss_result_bytes: missResultBytes,
      results,
      miss_overhead: missOverhead,
      ...(options.sinkConcurrencies?.length || options.sinkHitConcurrencies?.length
        ? {
            sink: "apps/sink as deployed (its own process, LOG_LEVEL info), consuming the results topic the worker and the edge's hits write, storing each row in Postgres; started after the plain miss runs (it first stores their results), stopped before the plain hits",
            sink_miss_overhead: sinkOverhead,
          }
        : {}),
    };
  } finally {
    await skeleton.close();
  }
}

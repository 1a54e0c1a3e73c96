// The skeleton pipeline of the floor benchmark (bench/floor.ts): the design's floor. Our two-hop
// design implemented with the same libraries and nothing else, in two processes besides the load
// generator — an edge (bench/lib/floor-skeleton-edge.ts: Fastify, Redis GET, BatchingProducer,
// ReplyListener) and a worker (bench/lib/floor-skeleton-worker.ts: ConcurrentRunner, Redis GET,
// OpenAI SDK, BatchingProducer) — on topics of the apps' partition counts, measured the way
// bench:overhead measures the pipeline: cache misses against direct calls to the fake provider in
// the same round (the overhead), and cache hits.
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@sps/contracts';
import { createRedis } from '@sps/cache';
import { createKafka, ensureTopics } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import { benchPrefix, log, sleep, type StackEnv } from './env.js';
import { startFloorProcess, type FloorProcess } from './floor-http.js';
import { chatBody } from './floor-openai.js';
import {
  FIGURES,
  runLoad,
  spread,
  summarise,
  type Figure,
  type LoadFigures,
  type Spread,
  type Target,
  describeRun,
} from './load.js';
import { invoicePrompt } from './pipeline.js';
import { cpuMeter, stackGroups, type CpuShare, type FakeProvider, type PidGroup } from './procs.js';

export interface SkeletonOptions {
  providerLatencyMs: number;
  missConcurrencies: number[];
  hitConcurrencies: number[];
  runs: number;
  durationS: number;
  warmupS: number;
  /** bytes of the cached answer a hit reads and produces */
  hitValueBytes: number;
}

type Run = LoadFigures & { cpu: CpuShare };

export interface SkeletonCase {
  target: 'direct' | 'skeleton-miss' | 'skeleton-hit';
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
}

/** A cached answer of about `bytes` bytes, shaped like a result. */
function cachedAnswer(bytes: number): string {
  const answer = {
    request_id: '00000000-0000-4000-8000-000000000000',
    status: 'completed',
    result: {
      invoice_number: '12345',
      date: '2025-01-15',
      total_amount: 1250,
      currency: 'USD',
      vendor: { name: 'Acme Supplies Ltd.', address: '1 Industrial Way, Springfield' },
    },
    model: 'gpt-4o-mini',
    usage: { prompt_tokens: 312, completion_tokens: 64, total_tokens: 376 },
    pad: '',
  };
  answer.pad = 'x'.repeat(Math.max(0, bytes - JSON.stringify(answer).length));
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

export async function measureSkeleton(
  stack: StackEnv,
  fake: FakeProvider,
  options: SkeletonOptions,
): Promise<SkeletonResult> {
  const prefix = benchPrefix('floor-skeleton');
  const logger = createLogger({ service: 'bench-floor', level: 'error' });
  const kafka = createKafka({ brokers: stack.KAFKA_BROKERS, clientId: `${prefix}admin`, logger });
  const specs = [TOPICS.requests, TOPICS.results, TOPICS.replies, TOPICS.requestsDlq];
  const names = {
    requests: `${prefix}${TOPICS.requests.name}`,
    results: `${prefix}${TOPICS.results.name}`,
    replies: `${prefix}${TOPICS.replies.name}`,
    dlq: `${prefix}${TOPICS.requestsDlq.name}`,
  };
  // the edge's ReplyListener instance id (its consumer group is sps-ingest-replies-<id>)
  const instanceId = randomUUID();
  const redis = createRedis(stack.REDIS_URL);
  const procs: FloorProcess[] = [];
  try {
    await fake.setLatency(options.providerLatencyMs);
    await ensureTopics(kafka, specs, prefix);
    await new Promise<void>((resolve, reject) => {
      if (redis.status === 'ready') resolve();
      redis.once('ready', resolve);
      redis.once('end', () => reject(new Error('redis connection ended')));
    });
    await redis.set(`${prefix}hot`, cachedAnswer(options.hitValueBytes), 'EX', 3_600);
    const env = {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      REDIS_URL: stack.REDIS_URL,
      SKELETON_REQUESTS_TOPIC: names.requests,
      SKELETON_RESULTS_TOPIC: names.results,
      SKELETON_REPLIES_TOPIC: names.replies,
      SKELETON_DLQ_TOPIC: names.dlq,
      SKELETON_KEY_PREFIX: prefix,
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
      { name: 'load-generator', pid: process.pid },
      { name: 'fake-provider', pid: fake.pid },
      { name: 'edge', pid: edge.pid },
      { name: 'worker', pid: worker.pid },
      ...stackGroups(stack),
    ];
    const run = prefix.slice(0, -1);
    const targets: Record<SkeletonCase['target'], Target> = {
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
      'skeleton-hit': {
        name: 'skeleton-hit',
        url: `${edge.ready}/`,
        headers: {},
        body: () => JSON.stringify({ key: 'hot' }),
      },
    };
    // smoke test: a miss comes back with the provider's answer, a hit with the cached one
    let missResultBytes: number | undefined;
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

    const results: SkeletonCase[] = [];
    const measure = async (names: SkeletonCase['target'][], concurrency: number): Promise<void> => {
      const byTarget = new Map(names.map((name) => [name, [] as Run[]]));
      for (let round = 1; round <= options.runs; round++) {
        for (const name of names) {
          const target = targets[name];
          await runLoad(target, concurrency, options.warmupS);
          await drain(fake);
          const meter = cpuMeter(groups);
          const figures = await runLoad(target, concurrency, options.durationS);
          const cpu = meter.stop();
          await drain(fake);
          await fake.reset(); // the fake provider keeps every call it answered
          byTarget.get(name)!.push({ ...figures, cpu });
          log(`skeleton c=${concurrency} round ${round} ${name.padEnd(13)} ${describeRun(figures, cpu)}`);
        }
      }
      for (const name of names) {
        const runs = byTarget.get(name)!;
        const procNames = Object.keys(runs[0]!.cpu.cores);
        results.push({
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
    };
    for (const concurrency of options.missConcurrencies)
      await measure(['direct', 'skeleton-miss'], concurrency);
    for (const concurrency of options.hitConcurrencies) await measure(['skeleton-hit'], concurrency);

    // as bench:overhead: each round's figure minus the direct run of the same round
    const missOverhead: SkeletonResult['miss_overhead'] = {};
    for (const result of results.filter((r) => r.target === 'skeleton-miss')) {
      const direct = results.find((r) => r.target === 'direct' && r.concurrency === result.concurrency)!;
      missOverhead[String(result.concurrency)] = Object.fromEntries(
        FIGURES.map((figure) => [
          figure,
          spread(result.runs.map((r, i) => r[figure] - direct.runs[i]![figure])),
        ]),
      ) as Record<Figure, Spread>;
      const o = missOverhead[String(result.concurrency)]!;
      log(
        `skeleton miss overhead c=${result.concurrency}: p50 ${o.p50_ms.median} (${o.p50_ms.min}–${o.p50_ms.max}) p99 ${o.p99_ms.median} (${o.p99_ms.min}–${o.p99_ms.max}) ms`,
      );
    }
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
      hit_value_bytes: Buffer.byteLength(cachedAnswer(options.hitValueBytes)),
      ...(missResultBytes === undefined ? {} : { miss_result_bytes: missResultBytes }),
      results,
      miss_overhead: missOverhead,
    };
  } finally {
    for (const proc of procs.reverse())
      await proc.stop().catch((error: unknown) => log(`stopping skeleton process: ${String(error)}`));
    await redis.del(`${prefix}hot`).catch(() => undefined);
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
  }
}

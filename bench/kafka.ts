// npm run bench:kafka — Kafka-native throughput: a data pipeline produces N requests straight to the
// requests topic (as e2e/kafka-pipeline.ts does); the time until every result row is in Postgres
// (request_logs), with one and with two processor instances. Each run of ours is followed by the
// same run with the design's floor in the processors' place: as many skeleton workers
// (bench/lib/floor-skeleton-worker.ts: libs/kafka's ConcurrentRunner, one Redis GET, one OpenAI SDK
// call, the result produced; no validation, detection, coalescing, cache write, metrics or logs),
// with our sink storing the rows. What the skeleton reaches, and the CPU a request costs its
// workers, bound our figures on this machine. Then the same skeleton doing the product's required
// work as well (SKELETON_REQUIRED_WORK, see floor-skeleton-worker.ts: the answer validated, the
// prompt's language detected, the answer cached, the request counted): what any implementation of
// the service pays on this machine, so that the processor's own cost above it can be told apart.
// Writes bench/results/kafka.json.
import { randomBytes } from 'node:crypto';
import { produceRequests, promptRequests } from '../e2e/kafka-pipeline.js';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.js';
import {
  ensureStack,
  loadAverage,
  log,
  machineInfo,
  relative,
  waitForQuietMachine,
  writeResult,
} from './lib/env.js';
import { spread } from './lib/load.js';
import {
  countLogs,
  createBenchPipeline,
  deleteTenantLogs,
  invoicePrompt,
  type BenchPipeline,
} from './lib/pipeline.js';
import { steadyRate, thin, waitForGroup, waitForRows } from './lib/progress.js';
import {
  cpuMeter,
  profileDuring,
  round,
  spawnFakeProvider,
  stackGroups,
  stopAll,
  type CpuShare,
  type Proc,
} from './lib/procs.js';
import { sql } from 'kysely';
import { warmBroker } from './lib/broker-warmup.js';
import { startFloorProcess, type FloorProcess } from './lib/floor-http.js';

const CONFIG = {
  requests: Number(process.env.BENCH_KAFKA_REQUESTS ?? 50_000),
  processor_instances: (process.env.BENCH_KAFKA_INSTANCES ?? '1,2').split(',').map(Number),
  runs: Number(process.env.BENCH_KAFKA_RUNS ?? 1),
  provider_latency_ms: Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 50),
  timeout_s: Number(process.env.BENCH_KAFKA_TIMEOUT_S ?? 900),
  profile_requests: Number(process.env.BENCH_KAFKA_PROFILE_REQUESTS ?? 10_000),
  /** after each run of ours, the same run with skeleton workers instead of processors (0: not run) */
  skeleton: process.env.BENCH_KAFKA_SKELETON !== '0',
  /** and then skeleton workers doing the product's required work too (0: not run) */
  skeleton_with_work:
    process.env.BENCH_KAFKA_SKELETON !== '0' && process.env.BENCH_KAFKA_SKELETON_WORK !== '0',
  request:
    'e2e/kafka-pipeline.ts promptRequests: unique prompt, schema {item, quantity}, options.timeout_ms 120000; produced in sends of 500 (acks=all)',
  app_settings:
    'defaults (PROCESSOR_MAX_IN_FLIGHT 256, LLM_MAX_CONCURRENCY 256, LOG_LEVEL info, 12 partitions per topic), one sink',
};

type Contender = 'ours' | 'skeleton' | 'skeleton+work';
const CONTENDERS: readonly Contender[] = [
  'ours',
  ...(CONFIG.skeleton ? (['skeleton'] as const) : []),
  ...(CONFIG.skeleton_with_work ? (['skeleton+work'] as const) : []),
];

interface Run {
  /** ours: apps/processor; skeleton: the design's floor in its place (bench/lib/floor-skeleton-worker.ts); skeleton+work: that floor doing the product's required work too */
  contender: Contender;
  processors: number;
  run: number;
  produce_s: number;
  /** from the first produce to the last row in request_logs */
  elapsed_s: number;
  /** requests / elapsed_s */
  throughput_per_s: number;
  /** rows per second between 10% and 90% done */
  steady_rows_per_s: number | null;
  rows: number;
  failed_rows: number;
  done: boolean;
  cpu: CpuShare;
  /** CPU of the processors (or skeleton workers) per request, over the run */
  worker_cpu_ms_per_request: number;
  timeline: [number, number][];
}

const stack = ensureStack();
const quiet = await waitForQuietMachine();
const brokerWarmup = await warmBroker(stack);
const machine = machineInfo(stack);
const started = new Date();
log(
  `kafka throughput: ${CONFIG.requests} requests, processors ${CONFIG.processor_instances.join(' and ')}; load ${quiet.load_average.join(' ')}`,
);
const fake = await spawnFakeProvider(CONFIG.provider_latency_ms);
const runs: Run[] = [];
let profiles: Record<string, ProfileSummary> = {};

/** Skeleton workers on the pipeline's topics, in one consumer group, writing the run's tenant. */
async function startSkeletonWorkers(
  pipeline: BenchPipeline,
  tenant: string,
  count: number,
  requiredWork: boolean,
): Promise<FloorProcess[]> {
  const env = {
    SKELETON_REQUIRED_WORK: requiredWork ? (process.env.BENCH_KAFKA_SKELETON_WORK ?? '1') : '0',
    KAFKA_BROKERS: stack.KAFKA_BROKERS,
    REDIS_URL: stack.REDIS_URL,
    SKELETON_REQUESTS_TOPIC: pipeline.topics.requests,
    SKELETON_RESULTS_TOPIC: pipeline.topics.results,
    SKELETON_DLQ_TOPIC: pipeline.topics.requestsDlq,
    SKELETON_KEY_PREFIX: `${pipeline.prefix}skeleton:`,
    SKELETON_TENANT: tenant,
    SKELETON_GROUP_ID: `${pipeline.prefix}skeleton-worker`,
    SKELETON_OPENAI_BASE_URL: fake.openaiBaseUrl,
  };
  const workers: FloorProcess[] = [];
  try {
    for (let i = 1; i <= count; i++)
      workers.push(
        await startFloorProcess('bench/lib/floor-skeleton-worker.ts', {
          name: `skeleton worker ${i}`,
          ready: /skeleton worker consuming/,
          env,
          timeoutMs: 90_000,
        }),
      );
    await waitForGroup(pipeline.kafka, env.SKELETON_GROUP_ID, count);
    return workers;
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw error;
  }
}

async function oneRun(processors: number, requests: number, contender: Contender, profile = false) {
  const pipeline = await createBenchPipeline(stack, `kafka${processors}`, fake);
  const tenant = `bench-kafka-${randomBytes(4).toString('hex')}`;
  const procs: Proc[] = [];
  let workers: { name: string; pid: number }[] = [];
  let skeleton: FloorProcess[] = [];
  try {
    procs.push(await pipeline.spawn('sink', { name: 'sink', profile }));
    if (contender !== 'ours') {
      skeleton = await startSkeletonWorkers(pipeline, tenant, processors, contender === 'skeleton+work');
      workers = skeleton.map((worker, i) => ({ name: `skeleton-worker-${i + 1}`, pid: worker.pid }));
    } else {
      for (let i = 1; i <= processors; i++)
        procs.push(await pipeline.spawn('processor', { name: `processor-${i}`, profile }));
      await waitForGroup(pipeline.kafka, pipeline.env.PROCESSOR_GROUP_ID!, processors);
      workers = procs.slice(1).map((proc) => ({ name: proc.name, pid: proc.pid }));
    }
    const messages = promptRequests(tenant, requests, invoicePrompt);
    const meter = cpuMeter([
      { name: 'load-generator', pid: process.pid },
      { name: 'fake-provider', pid: fake.pid },
      ...stackGroups(stack),
      { name: 'sink', pid: procs[0]!.pid },
      ...workers,
    ]);
    const t0 = performance.now();
    const measure = async () => {
      await produceRequests(pipeline.kafka, pipeline.topics.requests, messages);
      const produced = (performance.now() - t0) / 1000;
      log(`  produced ${requests} requests in ${round(produced, 1)} s`);
      const rows = await waitForRows(pipeline.db, tenant, requests, t0, CONFIG.timeout_s * 1000);
      return { produced, rows };
    };
    const windowed = profile
      ? await profileDuring(procs, measure)
      : { result: await measure(), files: {} as Record<string, string> };
    const cpu = meter.stop();
    const { produced, rows } = windowed.result;
    const { rows: failedRows } = await sql<{
      count: string;
    }>`select count(*) as count from request_logs where tenant_id = ${tenant} and status <> 'succeeded'`.execute(
      pipeline.db,
    );
    const count = await countLogs(pipeline.db, tenant);
    const workerCores = workers.reduce((sum, worker) => sum + (cpu.cores[worker.name] ?? 0), 0);
    return {
      produce_s: round(produced, 2),
      elapsed_s: round(rows.elapsed_s, 2),
      throughput_per_s: round(count / rows.elapsed_s, 1),
      steady_rows_per_s: steadyRate(rows.timeline, requests),
      rows: count,
      failed_rows: Number(failedRows[0]?.count ?? 0),
      done: rows.done,
      cpu,
      worker_cpu_ms_per_request: round((workerCores * cpu.wall_s * 1000) / requests, 3),
      timeline: thin(rows.timeline),
      files: windowed.files,
    };
  } finally {
    await Promise.all(skeleton.map((worker) => worker.stop()));
    await stopAll(procs);
    await fake.reset();
    await deleteTenantLogs(pipeline.db, tenant);
    await pipeline.close();
  }
}

try {
  for (let run = 1; run <= CONFIG.runs; run++) {
    for (const processors of CONFIG.processor_instances) {
      for (const contender of CONTENDERS) {
        log(`run ${run}: ${processors} ${contender === 'ours' ? 'processor(s)' : `${contender} worker(s)`}`);
        const { files: _files, ...result } = await oneRun(processors, CONFIG.requests, contender);
        runs.push({ contender, processors, run, ...result });
        log(
          `  ${result.rows}/${CONFIG.requests} rows in ${result.elapsed_s} s = ${result.throughput_per_s} req/s (steady ${result.steady_rows_per_s}/s); ${result.worker_cpu_ms_per_request} ms worker CPU a request; cpu ${Object.entries(
            result.cpu.cores,
          )
            .map(([name, cores]) => `${name} ${cores}`)
            .join(', ')}, other ${result.cpu.other_cores}`,
        );
      }
    }
  }
  if (CONFIG.profile_requests > 0) {
    log(`profiling pass: 1 processor, ${CONFIG.profile_requests} requests`);
    const { files, ...result } = await oneRun(1, CONFIG.profile_requests, 'ours', true);
    profiles = Object.fromEntries(
      Object.entries(files).map(([name, file]) => [name, summariseProfile(file)]),
    );
    log(`  profiled: ${result.throughput_per_s} req/s; ${Object.values(files).map(relative).join(', ')}`);
  }
} finally {
  await stopAll([fake]);
}

const summaryOf = (contender: Contender) =>
  Object.fromEntries(
    CONFIG.processor_instances.map((processors) => {
      const mine = runs.filter((run) => run.processors === processors && run.contender === contender);
      return [
        String(processors),
        {
          elapsed_s: spread(mine.map((run) => run.elapsed_s)),
          throughput_per_s: spread(mine.map((run) => run.throughput_per_s)),
          steady_rows_per_s: spread(mine.map((run) => run.steady_rows_per_s ?? 0)),
          worker_cpu_ms_per_request: spread(mine.map((run) => run.worker_cpu_ms_per_request)),
          cpu_cores: mine[0]?.cpu.cores,
          machine_busy_cores: mine[0]?.cpu.machine_busy_cores,
          other_cores: mine[0]?.cpu.other_cores,
        },
      ];
    }),
  );
const summary = summaryOf('ours');
const skeletonSummary = CONFIG.skeleton ? summaryOf('skeleton') : undefined;
const skeletonWithWorkSummary = CONFIG.skeleton_with_work ? summaryOf('skeleton+work') : undefined;
const path = writeResult('kafka', {
  benchmark: 'kafka',
  started_at: started.toISOString(),
  finished_at: new Date().toISOString(),
  machine,
  quiet_wait: quiet,
  broker_warmup: brokerWarmup,
  load_average_at_end: loadAverage(),
  config: CONFIG,
  summary,
  skeleton_summary: skeletonSummary,
  skeleton_with_work_summary: skeletonWithWorkSummary,
  runs,
  profiles,
});
log(`wrote ${relative(path)}`);

// npm run bench:kafka — Kafka-native throughput: a data pipeline produces N requests straight to the
// requests topic (as e2e/kafka-pipeline.ts does); the time until every result row is in Postgres
// (request_logs), with one and with two processor instances. Writes bench/results/kafka.json.
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
import { countLogs, createBenchPipeline, deleteTenantLogs, invoicePrompt } from './lib/pipeline.js';
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

const CONFIG = {
  requests: Number(process.env.BENCH_KAFKA_REQUESTS ?? 50_000),
  processor_instances: (process.env.BENCH_KAFKA_INSTANCES ?? '1,2').split(',').map(Number),
  runs: Number(process.env.BENCH_KAFKA_RUNS ?? 1),
  provider_latency_ms: Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 50),
  timeout_s: Number(process.env.BENCH_KAFKA_TIMEOUT_S ?? 900),
  profile_requests: Number(process.env.BENCH_KAFKA_PROFILE_REQUESTS ?? 10_000),
  request:
    'e2e/kafka-pipeline.ts promptRequests: unique prompt, schema {item, quantity}, options.timeout_ms 120000; produced in sends of 500 (acks=all)',
  app_settings:
    'defaults (PROCESSOR_MAX_IN_FLIGHT 256, LLM_MAX_CONCURRENCY 256, LOG_LEVEL info, 12 partitions per topic), one sink',
};

interface Run {
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

async function oneRun(processors: number, requests: number, profile = false) {
  const pipeline = await createBenchPipeline(stack, `kafka${processors}`, fake);
  const tenant = `bench-kafka-${randomBytes(4).toString('hex')}`;
  const procs: Proc[] = [];
  try {
    procs.push(await pipeline.spawn('sink', { name: 'sink', profile }));
    for (let i = 1; i <= processors; i++)
      procs.push(await pipeline.spawn('processor', { name: `processor-${i}`, profile }));
    await waitForGroup(pipeline.kafka, pipeline.env.PROCESSOR_GROUP_ID!, processors);
    const messages = promptRequests(tenant, requests, invoicePrompt);
    const meter = cpuMeter([
      { name: 'load-generator', pid: process.pid },
      { name: 'fake-provider', pid: fake.pid },
      ...stackGroups(stack),
      ...procs.map((proc) => ({ name: proc.name, pid: proc.pid })),
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
    return {
      produce_s: round(produced, 2),
      elapsed_s: round(rows.elapsed_s, 2),
      throughput_per_s: round(count / rows.elapsed_s, 1),
      steady_rows_per_s: steadyRate(rows.timeline, requests),
      rows: count,
      failed_rows: Number(failedRows[0]?.count ?? 0),
      done: rows.done,
      cpu,
      timeline: thin(rows.timeline),
      files: windowed.files,
    };
  } finally {
    await stopAll(procs);
    await fake.reset();
    await deleteTenantLogs(pipeline.db, tenant);
    await pipeline.close();
  }
}

try {
  for (let run = 1; run <= CONFIG.runs; run++) {
    for (const processors of CONFIG.processor_instances) {
      log(`run ${run}: ${processors} processor(s)`);
      const { files: _files, ...result } = await oneRun(processors, CONFIG.requests);
      runs.push({ processors, run, ...result });
      log(
        `  ${result.rows}/${CONFIG.requests} rows in ${result.elapsed_s} s = ${result.throughput_per_s} req/s (steady ${result.steady_rows_per_s}/s); cpu ${Object.entries(
          result.cpu.cores,
        )
          .map(([name, cores]) => `${name} ${cores}`)
          .join(', ')}, other ${result.cpu.other_cores}`,
      );
    }
  }
  if (CONFIG.profile_requests > 0) {
    log(`profiling pass: 1 processor, ${CONFIG.profile_requests} requests`);
    const { files, ...result } = await oneRun(1, CONFIG.profile_requests, true);
    profiles = Object.fromEntries(
      Object.entries(files).map(([name, file]) => [name, summariseProfile(file)]),
    );
    log(`  profiled: ${result.throughput_per_s} req/s; ${Object.values(files).map(relative).join(', ')}`);
  }
} finally {
  await stopAll([fake]);
}

const summary = Object.fromEntries(
  CONFIG.processor_instances.map((processors) => {
    const mine = runs.filter((run) => run.processors === processors);
    return [
      String(processors),
      {
        elapsed_s: spread(mine.map((run) => run.elapsed_s)),
        throughput_per_s: spread(mine.map((run) => run.throughput_per_s)),
        steady_rows_per_s: spread(mine.map((run) => run.steady_rows_per_s ?? 0)),
        cpu_cores: mine[0]?.cpu.cores,
        machine_busy_cores: mine[0]?.cpu.machine_busy_cores,
        other_cores: mine[0]?.cpu.other_cores,
      },
    ];
  }),
);
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
  runs,
  profiles,
});
log(`wrote ${relative(path)}`);

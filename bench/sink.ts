// npm run bench:sink — rows per second into Postgres: fill a results topic with N valid
// ResultMessage values (libs/contracts/src/result.ts), then start the sink and time until every row
// is in request_logs. Each run is followed by its floors on the same machine: the same rows through
// the skeleton sink (bench/lib/floor-skeleton-sink.ts: the same runner and statement, nothing else)
// and through the sink's statement alone, from memory (bench/lib/floor-sink.ts: Postgres's part).
// Writes bench/results/sink.json.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compileContract, ResultMessage } from '@sps/contracts';
import { createDatabase, migrateToLatest, type Database } from '@sps/db';
import { sql } from 'kysely';
import { createProducer } from '@sps/kafka';
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
import { createBenchPipeline, deleteTenantLogs, INVOICE_SCHEMA, type BenchPipeline } from './lib/pipeline.js';
import { steadyRate, thin, waitForRows } from './lib/progress.js';
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
import { warmBroker } from './lib/broker-warmup.js';
import { startFloorProcess } from './lib/floor-http.js';
import { postgresFloor, type PostgresFloor } from './lib/floor-sink.js';

const CONFIG = {
  /**
   * 100,000 rows = about 8,300 per partition, four seconds of work: long enough that the sink's
   * start (joining the group, the first fetch: ≈0.1–0.15 s after "ready") is not a sixth of the run,
   * as it was with the 24,000 rows measured before issue 12 (those runs lasted under a second and
   * were quantised by the 0.2 s polling). A fresh sink fetches up to maxBytesPerPartition (4 MiB,
   * ≈4,600 rows) of a partition as one batch and stores it in one statement (one bind parameter per
   * column, whatever the row count; before issue 12 a multi-row VALUES of 25 parameters a row, which
   * had to be cut in slices under Postgres's 65,535).
   */
  rows: Number(process.env.BENCH_SINK_ROWS ?? 100_000),
  /** one more run with this many rows, to show what a larger backlog does */
  backlog_rows: Number(process.env.BENCH_SINK_BACKLOG_ROWS ?? 200_000),
  /** a run whose row count has not moved for this long is stopped and reported as stalled */
  stall_s: Number(process.env.BENCH_SINK_STALL_S ?? 30),
  runs: Number(process.env.BENCH_SINK_RUNS ?? 3),
  timeout_s: Number(process.env.BENCH_SINK_TIMEOUT_S ?? 600),
  profile_rows: Number(process.env.BENCH_SINK_PROFILE_ROWS ?? 20_000),
  /** after each run, the same rows through the skeleton sink and through Postgres alone (0: not) */
  floors: process.env.BENCH_SINK_FLOORS !== '0',
  /**
   * Postgres alone: rows a statement and statements at once. A fresh sink stores a partition's
   * fetch (up to 4 MiB, ≈4,600 rows) a statement, 3 partitions at once (partitionsConsumedConcurrently).
   */
  postgres_batch: Number(process.env.BENCH_SINK_POSTGRES_BATCH ?? 4_000),
  postgres_lanes: Number(process.env.BENCH_SINK_POSTGRES_LANES ?? 3),
  /**
   * A database of its own on the stack's Postgres (created and migrated when missing, kept
   * afterwards) instead of the shared one: for comparing schema changes, e.g. an index dropped there
   * by hand, without touching the shared database. Unset: the shared database.
   */
  database: process.env.BENCH_SINK_DATABASE || undefined,
  result:
    'a succeeded ResultMessage with a 4-field JSON output and one provider attempt (about 900 bytes), keyed by request id',
  app_settings:
    'one sink, defaults (DATABASE_POOL_SIZE 10, partitionsConsumedConcurrently 3, maxBytesPerPartition 4 MiB), 12 partitions',
};

/** The URL of database `name` on the server of `url`, created (and migrated) if missing. */
async function ownDatabase(url: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`BENCH_SINK_DATABASE: not a plain name: ${name}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const shared = createDatabase({ url, poolSize: 1 });
  try {
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_database where datname = ${name}`.execute(shared);
    if (rows[0]!.n === 0) await sql`create database ${sql.id(name)}`.execute(shared);
  } finally {
    await shared.destroy();
  }
  const db = createDatabase({ url: own.toString(), poolSize: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  return own.toString();
}

function resultMessage(tenantId: string, i: number): ResultMessage {
  const prompt = `Extract key details from Invoice #${100000 + i}, Date: 2025-01-15, Amount: $1,250.00`;
  return {
    request_id: randomUUID(),
    tenant_id: tenantId,
    status: 'succeeded',
    output: {
      data: { invoice_number: String(100000 + i), date: '2025-01-15', amount: 1250, currency: 'USD' },
      output_format: 'json',
      validation_status: 'passed',
      provider_used: 'openai',
      model: 'gpt-4o-mini',
      cached: false,
      repaired: false,
      original_language: 'en',
    },
    prompt,
    request_params: { format: 'json', schema: INVOICE_SCHEMA, options: {} },
    attempts: [
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        outcome: 'valid',
        tokens_in: 120,
        tokens_out: 30,
        cost_usd: 0.000036,
        latency_ms: 52,
      },
    ],
    processing_time_ms: 55,
    completed_at: new Date().toISOString(),
  };
}

type Contender = 'ours' | 'skeleton';

interface Run {
  run: number;
  rows: number;
  stalled: boolean;
  retried_batches: number;
  last_error?: string;
  fill_s: number;
  /** sink process start (spawn) to the last row */
  from_spawn_s: number;
  /** sink ready ("sink consuming") to the last row */
  from_ready_s: number;
  rows_per_s: number;
  steady_rows_per_s: number | null;
  done: boolean;
  cpu: CpuShare;
  timeline: [number, number][];
}

const stack = ensureStack();
if (CONFIG.database) stack.DATABASE_URL = await ownDatabase(stack.DATABASE_URL, CONFIG.database);
const quiet = await waitForQuietMachine();
const brokerWarmup = await warmBroker(stack);
const machine = machineInfo(stack);
const started = new Date();
const check = compileContract(ResultMessage);
// The sink does not call providers; the pipeline settings still name one.
const fake = await spawnFakeProvider(0);
const runs: Run[] = [];
const skeletonRuns: Run[] = [];
const postgresRuns: (PostgresFloor & { run: number })[] = [];
let profiles: Record<string, ProfileSummary> = {};
let backlog: Record<string, unknown> | undefined;

/** The skeleton sink on the pipeline's results topic, in its own process. */
function startSkeletonSink(pipeline: BenchPipeline) {
  return startFloorProcess('bench/lib/floor-skeleton-sink.ts', {
    name: 'skeleton sink',
    ready: /skeleton sink consuming/,
    env: {
      KAFKA_BROKERS: stack.KAFKA_BROKERS,
      DATABASE_URL: stack.DATABASE_URL,
      SKELETON_GROUP_ID: `${pipeline.prefix}skeleton-sink`,
      SKELETON_RESULTS_TOPIC: pipeline.topics.results,
      SKELETON_DLQ_TOPIC: pipeline.topics.resultsDlq,
    },
    timeoutMs: 90_000,
  });
}

/** Postgres alone: `rows` results of a tenant of its own through the sink's statement, from memory. */
async function postgresAlone(db: Database, rows: number): Promise<PostgresFloor> {
  const tenant = `bench-sink-pg-${randomBytes(4).toString('hex')}`;
  const results = Array.from({ length: rows }, (_, i) => resultMessage(tenant, i));
  try {
    return await postgresFloor(db, results, {
      batch: CONFIG.postgres_batch,
      lanes: CONFIG.postgres_lanes,
      groups: stackGroups(stack),
    });
  } finally {
    await deleteTenantLogs(db, tenant);
  }
}

async function oneRun(rows: number, contender: Contender, profile = false) {
  const pipeline = await createBenchPipeline(stack, 'sink', fake);
  const tenant = `bench-sink-${randomBytes(4).toString('hex')}`;
  const procs: Proc[] = [];
  let stopSkeleton: (() => Promise<void>) | undefined;
  try {
    const fillStarted = performance.now();
    const producer = createProducer(pipeline.kafka);
    await producer.connect();
    for (let i = 0; i < rows; i += 500) {
      const messages = Array.from({ length: Math.min(500, rows - i) }, (_, j) =>
        resultMessage(tenant, i + j),
      );
      if (i === 0) {
        const verdict = check(messages[0]);
        if (!verdict.ok)
          throw new Error(`generated result breaks the contract: ${JSON.stringify(verdict.errors)}`);
      }
      await producer.send({
        topic: pipeline.topics.results,
        acks: -1,
        messages: messages.map((m) => ({ key: m.request_id, value: JSON.stringify(m) })),
      });
    }
    await producer.disconnect();
    const fill = (performance.now() - fillStarted) / 1000;
    log(`  filled ${pipeline.topics.results} with ${rows} results in ${round(fill, 1)} s`);

    const spawned = performance.now();
    const measure = async () =>
      waitForRows(pipeline.db, tenant, rows, spawned, CONFIG.timeout_s * 1000, CONFIG.stall_s * 1000);
    const sink = contender === 'ours' ? await pipeline.spawn('sink', { name: 'sink', profile }) : undefined;
    const skeleton = contender === 'skeleton' ? await startSkeletonSink(pipeline) : undefined;
    if (sink) procs.push(sink);
    stopSkeleton = skeleton?.stop;
    const ready = performance.now();
    const meter = cpuMeter([
      { name: 'load-generator', pid: process.pid },
      ...stackGroups(stack),
      { name: contender === 'ours' ? 'sink' : 'skeleton-sink', pid: (sink ?? skeleton)!.pid },
    ]);
    const windowed =
      profile && sink
        ? await profileDuring([sink], measure)
        : { result: await measure(), files: {} as Record<string, string> };
    const cpu = meter.stop();
    const { timeline, elapsed_s, done, stalled } = windowed.result;
    const fromReady = elapsed_s - (ready - spawned) / 1000;
    // the sink logs why it keeps retrying a batch ("insert failed; retrying the batch")
    const errors = (sink ? readFileSync(sink.logFile, 'utf8') : '').split('\n').flatMap((line) => {
      const message = /"message":"([^"]+)"/.exec(line)?.[1];
      return line.includes('retrying the batch') && message ? [message] : [];
    });
    return {
      stalled,
      retried_batches: errors.length,
      last_error: errors.at(-1),
      rows: timeline[timeline.length - 1]![1],
      fill_s: round(fill, 2),
      from_spawn_s: round(elapsed_s, 2),
      from_ready_s: round(fromReady, 2),
      rows_per_s: round(rows / fromReady, 1),
      steady_rows_per_s: steadyRate(timeline, rows),
      done,
      cpu,
      timeline: thin(timeline),
      files: windowed.files,
    };
  } finally {
    await stopSkeleton?.();
    await stopAll(procs);
    await deleteTenantLogs(pipeline.db, tenant);
    await pipeline.close();
  }
}

try {
  log(`sink: ${CONFIG.rows} rows x ${CONFIG.runs} runs; load ${quiet.load_average.join(' ')}`);
  const floorDb = createDatabase({ url: stack.DATABASE_URL, poolSize: CONFIG.postgres_lanes });
  try {
    for (let run = 1; run <= CONFIG.runs; run++) {
      for (const contender of CONFIG.floors ? (['ours', 'skeleton'] as const) : (['ours'] as const)) {
        const { files: _files, ...result } = await oneRun(CONFIG.rows, contender);
        (contender === 'ours' ? runs : skeletonRuns).push({ run, ...result });
        if (result.stalled) log(`  run ${run} stalled: ${result.last_error}`);
        log(
          `  run ${run}, ${contender === 'ours' ? 'sink' : 'skeleton sink'}: ${result.rows} rows in ${result.from_ready_s} s after ready = ${result.rows_per_s} rows/s (steady ${result.steady_rows_per_s}/s); cpu ${Object.entries(
            result.cpu.cores,
          )
            .map(([name, cores]) => `${name} ${cores}`)
            .join(', ')}, other ${result.cpu.other_cores}`,
        );
      }
      if (CONFIG.floors) {
        const alone = await postgresAlone(floorDb, CONFIG.rows);
        postgresRuns.push({ run, ...alone });
        log(
          `  run ${run}, Postgres alone (${alone.lanes} × ${alone.batch} rows): ${alone.rows_per_s} rows/s; per row Postgres ${alone.postgres_cpu_us_per_row} µs, client ${alone.client_cpu_us_per_row} µs of CPU; machine ${alone.cpu.machine_busy_cores} cores`,
        );
      }
    }
  } finally {
    await floorDb.destroy();
  }
  if (CONFIG.backlog_rows > 0) {
    log(
      `backlog run: ${CONFIG.backlog_rows} rows (about ${Math.round(CONFIG.backlog_rows / 12)} per partition)`,
    );
    const { files: _files, ...result } = await oneRun(CONFIG.backlog_rows, 'ours');
    backlog = { ...result, rows_expected: CONFIG.backlog_rows };
    log(
      `  ${result.rows}/${CONFIG.backlog_rows} rows; stalled ${result.stalled}; ${result.retried_batches} batch retries; last error: ${result.last_error ?? 'none'}`,
    );
  }
  if (CONFIG.profile_rows > 0) {
    log(`profiling pass: ${CONFIG.profile_rows} rows`);
    const { files, ...result } = await oneRun(CONFIG.profile_rows, 'ours', true);
    profiles = Object.fromEntries(
      Object.entries(files).map(([name, file]) => [name, summariseProfile(file)]),
    );
    log(`  profiled: ${result.rows_per_s} rows/s; ${Object.values(files).map(relative).join(', ')}`);
  }
} finally {
  await stopAll([fake]);
}

const path = writeResult('sink', {
  benchmark: 'sink',
  started_at: started.toISOString(),
  finished_at: new Date().toISOString(),
  machine,
  quiet_wait: quiet,
  broker_warmup: brokerWarmup,
  load_average_at_end: loadAverage(),
  config: CONFIG,
  summary: {
    rows_per_s: spread(runs.map((run) => run.rows_per_s)),
    steady_rows_per_s: spread(runs.map((run) => run.steady_rows_per_s ?? 0)),
    from_ready_s: spread(runs.map((run) => run.from_ready_s)),
    from_spawn_s: spread(runs.map((run) => run.from_spawn_s)),
  },
  runs,
  floors: CONFIG.floors
    ? {
        skeleton_sink: {
          design:
            'bench/lib/floor-skeleton-sink.ts: BatchRunner with the sink fetch settings, JSON.parse, insertResults, commit; its own process',
          rows_per_s: spread(skeletonRuns.map((run) => run.rows_per_s)),
          steady_rows_per_s: spread(skeletonRuns.map((run) => run.steady_rows_per_s ?? 0)),
          runs: skeletonRuns,
        },
        postgres_alone: {
          design:
            "bench/lib/floor-sink.ts: the sink's statement (insertResults) from memory, no Kafka, no decoding",
          rows_per_s: spread(postgresRuns.map((run) => run.rows_per_s)),
          postgres_cpu_us_per_row: spread(postgresRuns.map((run) => run.postgres_cpu_us_per_row)),
          client_cpu_us_per_row: spread(postgresRuns.map((run) => run.client_cpu_us_per_row)),
          runs: postgresRuns,
        },
      }
    : undefined,
  backlog,
  profiles,
});
log(`wrote ${relative(path)}`);

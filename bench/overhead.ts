// npm run bench:overhead — POST /v1/analyze through the whole pipeline versus the same HTTP client
// calling the fake provider directly, and versus LiteLLM's proxy and Portkey's gateway forwarding to
// the same fake provider, in the same run. `npm run bench:peers` (bench/peers.ts) runs this module
// without the pipeline. Writes bench/results/overhead.json (or peers.json).
import { pathToFileURL } from 'node:url';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.js';
import {
  ensureStack,
  loadAverage,
  log,
  machineInfo,
  relative,
  sleep,
  waitForQuietMachine,
  writeResult,
} from './lib/env.js';
import {
  FIGURES,
  runLoad,
  runMetered,
  spread,
  summarise,
  type Figure,
  type LoadFigures,
  type Spread,
  type Target,
  describeRun,
} from './lib/load.js';
import {
  cleanUpKey,
  countKeyLogs,
  createBenchKey,
  pipelineBreakdown,
  createBenchPipeline,
  INVOICE_SCHEMA,
  invoicePrompt,
  MODEL,
  type BenchKey,
  type BenchPipeline,
} from './lib/pipeline.js';
import {
  profileDuring,
  spawnFakeProvider,
  spawnLiteLLM,
  spawnPortkey,
  stackGroups,
  stopAll,
  type CpuShare,
  type FakeProvider,
  type Gateway,
  type PidGroup,
  type Proc,
} from './lib/procs.js';
import { startSkeleton, type Skeleton } from './lib/floor-skeleton.js';
import { warmBroker } from './lib/broker-warmup.js';

const numbers = (text: string | undefined, fallback: number[]) =>
  text ? text.split(',').map(Number) : fallback;
const CONFIG = {
  provider_latency_ms: Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 50),
  concurrencies: numbers(process.env.BENCH_CONCURRENCY, [1, 32, 64, 256]),
  runs: Number(process.env.BENCH_RUNS ?? 3),
  duration_s: Number(process.env.BENCH_DURATION_S ?? 10),
  /**
   * Load before each measured window, in the same autocannon run (see runLoad): a separate warm-up
   * run ended every round with its clients idle, and the measured run then started all of them at
   * the same instant — a lock-step wave whose first second set the window's p99 (stage traces of
   * every request, stop 15).
   */
  warmup_s: Number(process.env.BENCH_WARMUP_S ?? 3),
  /**
   * Before the first measured round, every target runs this long at 32 clients: the apps, the
   * gateways and the broker start cold (JIT), and the first rounds at one client measured their
   * warm-up (a p99 of 102 ms in round 1 against 66 in rounds 2 and 3, for ours and the skeleton alike).
   */
  target_warmup_s: Number(process.env.BENCH_TARGET_WARMUP_S ?? 10),
  profile_duration_s: Number(process.env.BENCH_PROFILE_DURATION_S ?? 10),
  peers: process.env.BENCH_PEERS !== '0',
  /** the skeleton pipeline's misses in the same rounds (bench/lib/floor-skeleton.ts): the design's floor */
  skeleton: process.env.BENCH_OVERHEAD_SKELETON !== '0',
  /**
   * The skeleton's results stored by our sink, a row each (as ours are): the design's floor as it
   * must run. Without it the skeleton skips the row, which no request of ours may.
   */
  skeleton_sink: process.env.BENCH_OVERHEAD_SKELETON_SINK !== '0',
  /** targets left out (comma-separated, e.g. `pipeline-hit,skeleton-miss`): for quick A/B runs of one path */
  skip: (process.env.BENCH_OVERHEAD_SKIP ?? '').split(',').filter(Boolean),
  load_generator:
    'autocannon (closed loop: one request in flight per connection); latency of 2xx answers in an HDR histogram (µs)',
  cache_miss: 'a unique prompt per request (so a unique work key: cache and coalescing never apply)',
  cache_hit: 'one prompt repeated (answered from the Redis cache after the first)',
  schema: INVOICE_SCHEMA,
  app_settings:
    'defaults (PROCESSOR_MAX_IN_FLIGHT 256, LLM_MAX_CONCURRENCY 256, LOG_LEVEL info, 12 partitions per topic), one instance of each app',
};

/** What the processor sends to OpenAI for this schema (libs/llm/src/engine/prompts.ts, response-format.ts). */
function openaiBody(prompt: string): string {
  const system = [
    'You turn natural-language prompts into structured data.',
    'Extract from the user prompt the data described by the JSON Schema below.',
    'Answer with one JSON value that satisfies this JSON Schema, and nothing else:',
    JSON.stringify(INVOICE_SCHEMA),
  ].join('\n');
  return JSON.stringify({
    model: MODEL,
    temperature: 0.1,
    max_completion_tokens: 2048,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: prompt },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'response', schema: INVOICE_SCHEMA, strict: false },
    },
  });
}

const HOT_PROMPT = 'Extract key details from Invoice #12345, Date: 2025-01-15, Amount: $1,250.00';

interface TargetResult {
  target: string;
  concurrency: number;
  runs: (LoadFigures & { cpu: CpuShare; breakdown?: Breakdown })[];
  summary: ReturnType<typeof summarise>;
  /** median over runs of cores used per process */
  cpu_cores: Record<string, number>;
  /** pipeline only: medians over runs of the processor's time and the provider call (request_logs) */
  breakdown?: Record<string, number | null>;
}

type Overhead = Record<Figure, Spread>;
type Breakdown = Awaited<ReturnType<typeof pipelineBreakdown>>;

async function smokeTest(target: Target): Promise<void> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: target.body(-1),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${target.name}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  if (!text.includes('invoice_number'))
    throw new Error(`${target.name}: answer without the schema's fields: ${text.slice(0, 500)}`);
}

/**
 * Waits until nothing is in flight any more: autocannon stops at the end of its duration without
 * waiting for the answers it has not had, and the gateway or pipeline still works them off. The
 * next run must not start with that backlog. Idle = the fake provider's call count (and, for the
 * pipeline, the run's rows in request_logs) unchanged over a second.
 */
async function drain(fake: FakeProvider, rows?: () => Promise<number>): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  let stable = 0;
  while (stable < 4 && Date.now() < deadline) {
    await sleep(250);
    const now = `${await fake.calls()}/${rows ? await rows() : 0}`;
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

export async function runOverhead(mode: 'overhead' | 'peers'): Promise<void> {
  const started = new Date();
  const stack = ensureStack();
  const quiet = await waitForQuietMachine();
  const brokerWarmup = await warmBroker(stack);
  const machine = machineInfo(stack);
  log(
    `machine: ${machine.cores} cores, ${machine.memory_gib} GiB, node ${machine.node}, kafka ${machine.kafka}; load ${quiet.load_average.join(' ')}`,
  );

  const procs: Proc[] = [];
  let pipeline: BenchPipeline | undefined;
  let key: BenchKey | undefined;
  let skeleton: Skeleton | undefined;
  const failures: Record<string, string> = {};
  const fake: FakeProvider = await spawnFakeProvider(CONFIG.provider_latency_ms);
  procs.push(fake);
  try {
    const targets: Target[] = [
      {
        name: 'direct',
        url: `${fake.openaiBaseUrl}/chat/completions`,
        headers: { authorization: 'Bearer sk-fake' },
        body: (i) => openaiBody(invoicePrompt(i)),
      },
    ];
    const groups: PidGroup[] = [
      { name: 'load-generator', pid: process.pid },
      { name: 'fake-provider', pid: fake.pid },
      ...stackGroups(stack),
    ];
    let rowCount: (() => Promise<number>) | undefined;
    let ingest: Proc | undefined;
    let processor: Proc | undefined;
    if (mode === 'overhead') {
      pipeline = await createBenchPipeline(stack, 'overhead', fake);
      key = createBenchKey(stack);
      const { db } = pipeline;
      const keyId = key.apiKeyId;
      rowCount = async () => countKeyLogs(db, keyId);
      // Settled, not all: when one app fails to start, the ones that did must still be stopped
      // (`finally` stops what is in procs), or they outlive the run and load the next ones.
      const started = await Promise.allSettled([
        pipeline.spawn('sink', { name: 'sink' }),
        pipeline.spawn('processor', { name: 'processor', profile: true }),
        pipeline.spawn('ingest-api', { name: 'ingest-api', profile: true }),
      ]);
      for (const outcome of started) if (outcome.status === 'fulfilled') procs.push(outcome.value);
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
      const apps = started.map((outcome) => (outcome as PromiseFulfilledResult<Proc>).value);
      [, processor, ingest] = apps;
      for (const app of apps) groups.push({ name: app.name, pid: app.pid });
      const analyze = `http://127.0.0.1:${pipeline.port}/v1/analyze`;
      const auth = { authorization: `Bearer ${key.key}` };
      targets.push(
        {
          name: 'pipeline-miss',
          url: analyze,
          headers: auth,
          body: (i) => JSON.stringify({ prompt: invoicePrompt(i), schema: INVOICE_SCHEMA }),
        },
        {
          name: 'pipeline-hit',
          url: analyze,
          headers: auth,
          body: () => JSON.stringify({ prompt: HOT_PROMPT, schema: INVOICE_SCHEMA }),
        },
      );
      if (CONFIG.skeleton) {
        // Our design with nothing of ours, measured in the same rounds as the pipeline: at one
        // client the floor moves from run to run (idle wake-ups on this VM), so only a paired
        // figure says how far ours is from it.
        try {
          skeleton = await startSkeleton(stack, fake, { hitValueBytes: 1_024, sink: CONFIG.skeleton_sink });
          targets.push(skeleton.targets['skeleton-miss']);
          groups.push(...skeleton.groups);
        } catch (error) {
          failures.skeleton = (error as Error).message;
          log(`the skeleton could not be started: ${failures.skeleton}`);
        }
      }
    }
    if (CONFIG.peers) {
      const peers: [string, () => Promise<Gateway>][] = [
        ['litellm', () => spawnLiteLLM(fake.openaiBaseUrl, MODEL)],
        ['portkey', () => spawnPortkey(fake.openaiBaseUrl)],
      ];
      for (const [name, spawn] of peers) {
        try {
          const gateway = await spawn();
          procs.push(gateway);
          groups.push({ name, pid: gateway.pid });
          targets.push({
            name,
            url: gateway.url,
            headers: gateway.headers,
            body: (i) => openaiBody(invoicePrompt(i)),
          });
        } catch (error) {
          failures[name] = (error as Error).message;
          log(`${name} could not be started: ${failures[name]}`);
        }
      }
    }
    for (const name of CONFIG.skip) {
      const skipped = targets.findIndex((target) => target.name === name);
      if (skipped >= 0 && name !== 'direct') targets.splice(skipped, 1);
    }
    for (const target of [...targets]) {
      try {
        await smokeTest(target);
      } catch (error) {
        failures[target.name] = (error as Error).message;
        log(`smoke test failed, ${target.name} left out: ${failures[target.name]}`);
        targets.splice(targets.indexOf(target), 1);
      }
    }
    if (!targets.some((target) => target.name === 'direct'))
      throw new Error(`the direct baseline failed: ${failures.direct}`);

    // The pipeline's targets are drained by their rows too (requests still on their way to Postgres).
    const rowsOf = (target: Target) =>
      target.name.startsWith('pipeline')
        ? rowCount
        : target.name === 'skeleton-miss' && CONFIG.skeleton_sink
          ? skeleton?.rows
          : undefined;
    for (const target of CONFIG.target_warmup_s > 0 ? targets : []) {
      const warm = await runLoad(target, 32, CONFIG.target_warmup_s);
      await drain(fake, rowsOf(target));
      await fake.reset();
      log(
        `warmed ${target.name}: ${warm.requests_per_s} req/s at 32 clients for ${CONFIG.target_warmup_s} s`,
      );
    }

    // Measured runs, interleaved: for each concurrency, each round runs every target once, so drift
    // in the machine's load (other engineers' runs) spreads over all targets alike.
    const results: TargetResult[] = [];
    for (const concurrency of CONFIG.concurrencies) {
      const byTarget = new Map(targets.map((target) => [target.name, [] as TargetResult['runs']]));
      for (let round = 1; round <= CONFIG.runs; round++) {
        for (const target of targets) {
          const rows = rowsOf(target);
          const { figures, cpu, since } = await runMetered(target, concurrency, CONFIG.duration_s, {
            warmupS: CONFIG.warmup_s,
            groups,
          });
          await drain(fake, rows);
          await fake.reset();
          const breakdown =
            rows && pipeline && key ? await pipelineBreakdown(pipeline.db, key.apiKeyId, since) : undefined;
          byTarget.get(target.name)!.push({ ...figures, cpu, ...(breakdown ? { breakdown } : {}) });
          log(`c=${concurrency} round ${round} ${target.name.padEnd(13)} ${describeRun(figures, cpu)}`);
        }
      }
      for (const target of targets) {
        const runs = byTarget.get(target.name)!;
        const names = Object.keys(runs[0]!.cpu.cores);
        const cpuCores = Object.fromEntries(
          [...names, 'other', 'machine'].map((name) => [
            name,
            spread(
              runs.map((run) =>
                name === 'other'
                  ? run.cpu.other_cores
                  : name === 'machine'
                    ? run.cpu.machine_busy_cores
                    : run.cpu.cores[name]!,
              ),
            ).median,
          ]),
        );
        const breakdowns = runs.flatMap((run) => (run.breakdown ? [run.breakdown] : []));
        const medianOf = (field: keyof Breakdown) => {
          const values = breakdowns.flatMap((b) => (b[field] === null ? [] : [Number(b[field])]));
          return values.length ? spread(values).median : null;
        };
        const breakdown = breakdowns.length
          ? {
              processor_ms_p50: medianOf('processor_ms_p50'),
              processor_ms_p99: medianOf('processor_ms_p99'),
              provider_call_ms_p50: medianOf('provider_call_ms_p50'),
              provider_call_ms_p99: medianOf('provider_call_ms_p99'),
            }
          : undefined;
        results.push({
          target: target.name,
          concurrency,
          runs,
          summary: summarise(runs),
          cpu_cores: cpuCores,
          ...(breakdown ? { breakdown } : {}),
        });
      }
    }

    // Overhead: each round's figure minus the direct run of the same round, then median/min/max.
    const overhead: Record<string, Record<string, Overhead>> = {};
    for (const result of results) {
      if (result.target === 'direct') continue;
      const direct = results.find((r) => r.target === 'direct' && r.concurrency === result.concurrency)!;
      const paired = (figure: Figure) =>
        spread(result.runs.map((run, i) => run[figure] - direct.runs[i]![figure]));
      (overhead[result.target] ??= {})[String(result.concurrency)] = Object.fromEntries(
        FIGURES.map((figure) => [figure, paired(figure)]),
      ) as Overhead;
    }
    // Ours minus the skeleton of the same round: what our code adds to the design's floor.
    const overSkeleton: Record<string, Overhead> = {};
    for (const result of results) {
      if (result.target !== 'pipeline-miss') continue;
      const floor = results.find((r) => r.target === 'skeleton-miss' && r.concurrency === result.concurrency);
      if (!floor) continue;
      overSkeleton[String(result.concurrency)] = Object.fromEntries(
        FIGURES.map((figure) => [
          figure,
          spread(result.runs.map((run, i) => run[figure] - floor.runs[i]![figure])),
        ]),
      ) as Overhead;
    }
    const ratios: Record<string, Record<string, number | null>> = {};
    if (overhead['pipeline-miss']) {
      for (const peer of ['litellm', 'portkey']) {
        if (!overhead[peer]) continue;
        ratios[peer] = Object.fromEntries(
          CONFIG.concurrencies.map((c) => {
            const ours = overhead['pipeline-miss']![String(c)]!.p50_ms.median;
            const theirs = overhead[peer]![String(c)]!.p50_ms.median;
            return [String(c), theirs > 0 ? Math.round((ours / theirs) * 100) / 100 : null];
          }),
        );
      }
    }

    // Where the time goes: V8 CPU profiles of ingest-api and processor over one more run per case.
    const profiles: Record<string, Record<string, ProfileSummary>> = {};
    if (mode === 'overhead' && ingest && processor) {
      const cases: [string, number][] = [
        ['pipeline-miss', Math.max(...CONFIG.concurrencies)],
        ['pipeline-hit', Math.max(...CONFIG.concurrencies)],
        ['pipeline-miss', Math.min(...CONFIG.concurrencies)],
      ];
      for (const [name, concurrency] of cases) {
        const target = targets.find((t) => t.name === name);
        if (!target) continue;
        await runLoad(target, concurrency, CONFIG.warmup_s);
        await drain(fake, rowCount);
        const { result, files } = await profileDuring([ingest, processor], () =>
          runLoad(target, concurrency, CONFIG.profile_duration_s),
        );
        profiles[`${name}@${concurrency}`] = Object.fromEntries(
          Object.entries(files).map(([proc, file]) => [proc, summariseProfile(file)]),
        );
        log(
          `profiled ${name} at c=${concurrency}: ${result.requests_per_s} req/s; ${Object.values(files).map(relative).join(', ')}`,
        );
        await drain(fake, rowCount);
        await fake.reset();
      }
    }

    const output = {
      benchmark: mode,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      machine,
      quiet_wait: quiet,
      broker_warmup: brokerWarmup,
      load_average_at_end: loadAverage(),
      config: CONFIG,
      failures,
      results: results.map(({ runs, ...rest }) => ({
        ...rest,
        runs: runs.map(({ cpu, ...figures }) => ({ ...figures, cpu })),
      })),
      overhead,
      ...(Object.keys(overSkeleton).length ? { pipeline_miss_over_skeleton: overSkeleton } : {}),
      ratio_ours_to_peer_p50: ratios,
      profiles,
    };
    const path = writeResult(mode, output);
    log(`wrote ${relative(path)}`);
  } finally {
    await stopAll(procs.filter((proc) => proc !== fake).reverse());
    await skeleton?.close().catch((error: unknown) => log(`skeleton cleanup: ${String(error)}`));
    await stopAll([fake]);
    if (pipeline && key)
      await cleanUpKey(pipeline.db, key).catch((error: unknown) => log(`cleanup: ${String(error)}`));
    await pipeline?.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runOverhead('overhead');
}

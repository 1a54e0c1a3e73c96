// npm run bench:slow — slow-provider concurrency: the fake provider answers after 1 s; how many
// requests per second one processor sustains for PROCESSOR_MAX_IN_FLIGHT (= LLM_MAX_CONCURRENCY) of
// 16, 64, 256 and 1024. Requests are produced straight to the requests topic; results are counted
// on the results topic. Beside each run at BENCH_SLOW_FLOOR_IN_FLIGHT's bounds, the floor
// (bench/lib/floor-slow.ts): the same calls to the same fake provider at the same bound with
// nothing of the pipeline, through the bare transport and through libs/llm's SDK call.
// Writes bench/results/slow.json.
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
import { measureSlowFloor, type SlowFloorRun } from './lib/floor-slow.js';
import { createBenchPipeline, invoicePrompt } from './lib/pipeline.js';
import { followTopic, steadyRate, thin, waitForGroup } from './lib/progress.js';
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

const CONFIG = {
  provider_latency_ms: Number(process.env.BENCH_SLOW_LATENCY_MS ?? 1000),
  /** provider calls in flight at most (LLM_MAX_CONCURRENCY): what the ideal rate is computed from */
  in_flight: (process.env.BENCH_SLOW_IN_FLIGHT ?? '16,64,256,1024').split(',').map(Number),
  /**
   * Records in flight (PROCESSOR_MAX_IN_FLIGHT) above the provider bound, as a fraction of it: a
   * record also spends time before its call (decode, admission) and after it (validation, the
   * result's acknowledgement), and with equal bounds those records would leave provider slots idle.
   * The processor's defaults keep the same margin (320 records, 256 calls a provider). The extra
   * run with equal bounds shows what the margin changes (on a quiet machine: nothing measurable).
   */
  record_headroom: Number(process.env.BENCH_SLOW_RECORD_HEADROOM ?? 0.25),
  /** one more run at this provider bound with records = calls (no headroom), for comparison; 0: none */
  equal_bounds_in_flight: Number(process.env.BENCH_SLOW_EQUAL_BOUNDS ?? 1024),
  /** requests per run: in-flight x this many seconds of ideal work, within [min, max] */
  seconds_of_work: Number(process.env.BENCH_SLOW_SECONDS ?? 20),
  min_requests: 400,
  max_requests: Number(process.env.BENCH_SLOW_MAX_REQUESTS ?? 20_000),
  timeout_s: Number(process.env.BENCH_SLOW_TIMEOUT_S ?? 300),
  /** bounds at which the floor runs beside the processor's run (same calls, same provider) */
  floor_in_flight: (process.env.BENCH_SLOW_FLOOR_IN_FLIGHT ?? '256,1024')
    .split(',')
    .filter(Boolean)
    .map(Number),
  profile_in_flight: Number(process.env.BENCH_SLOW_PROFILE_IN_FLIGHT ?? 1024),
  profile_requests: Number(process.env.BENCH_SLOW_PROFILE_REQUESTS ?? 8_000),
  request:
    'e2e/kafka-pipeline.ts promptRequests: unique prompt (no cache hit, no coalescing), schema {item, quantity}',
  app_settings:
    'one processor, no sink (results counted on the results topic), LOG_LEVEL info, 12 partitions',
};

interface Run {
  in_flight: number;
  /** PROCESSOR_MAX_IN_FLIGHT of the run */
  records_in_flight: number;
  requests: number;
  /** in_flight / provider latency: what a processor with free CPU would do */
  ideal_per_s: number;
  elapsed_s: number;
  throughput_per_s: number;
  steady_per_s: number | null;
  /** steady_per_s / ideal_per_s */
  efficiency: number | null;
  failed: number;
  done: boolean;
  cpu: CpuShare;
  timeline: [number, number][];
  /** the floor at this bound, measured just before this run (none: not at a floor bound) */
  floor?: SlowFloorRun[];
}

const stack = ensureStack();
const quiet = await waitForQuietMachine();
const brokerWarmup = await warmBroker(stack);
const machine = machineInfo(stack);
const started = new Date();
const fake = await spawnFakeProvider(CONFIG.provider_latency_ms);
const runs: Run[] = [];
let profiles: Record<string, ProfileSummary> = {};

const recordsFor = (inFlight: number) => inFlight + Math.ceil(inFlight * CONFIG.record_headroom);

async function oneRun(inFlight: number, requests: number, profile = false, records = recordsFor(inFlight)) {
  const pipeline = await createBenchPipeline(stack, `slow${inFlight}`, fake, {
    env: { PROCESSOR_MAX_IN_FLIGHT: String(records), LLM_MAX_CONCURRENCY: String(inFlight) },
  });
  const procs: Proc[] = [];
  try {
    const processor = await pipeline.spawn('processor', { name: 'processor', profile });
    procs.push(processor);
    await waitForGroup(pipeline.kafka, pipeline.env.PROCESSOR_GROUP_ID!, 1);
    const follower = await followTopic(pipeline.kafka, pipeline.topics.results);
    const messages = promptRequests(`bench-slow-${randomBytes(4).toString('hex')}`, requests, invoicePrompt);
    const meter = cpuMeter([
      { name: 'load-generator', pid: process.pid },
      { name: 'fake-provider', pid: fake.pid },
      ...stackGroups(stack),
      { name: 'processor', pid: processor.pid },
    ]);
    follower.mark();
    const measure = async () => {
      await produceRequests(pipeline.kafka, pipeline.topics.requests, messages);
      return follower.waitFor(requests, CONFIG.timeout_s * 1000);
    };
    const windowed = profile
      ? await profileDuring([processor], measure)
      : { result: await measure(), files: {} as Record<string, string> };
    const cpu = meter.stop();
    await follower.stop();
    const ideal = inFlight / (CONFIG.provider_latency_ms / 1000);
    const steady = steadyRate(follower.timeline, requests);
    return {
      in_flight: inFlight,
      records_in_flight: records,
      requests,
      ideal_per_s: ideal,
      elapsed_s: round(windowed.result.elapsed_s, 2),
      throughput_per_s: round(follower.count / windowed.result.elapsed_s, 1),
      steady_per_s: steady,
      efficiency: steady === null ? null : round(steady / ideal, 3),
      failed: follower.failed,
      done: windowed.result.done,
      cpu,
      timeline: thin(follower.timeline),
      files: windowed.files,
    };
  } finally {
    await stopAll(procs);
    await fake.reset();
    await pipeline.close();
  }
}

const requestsFor = (inFlight: number) =>
  Math.min(CONFIG.max_requests, Math.max(CONFIG.min_requests, inFlight * CONFIG.seconds_of_work));
const plan = CONFIG.in_flight.map((inFlight) => ({ inFlight, records: recordsFor(inFlight) }));
if (CONFIG.equal_bounds_in_flight > 0)
  plan.push({ inFlight: CONFIG.equal_bounds_in_flight, records: CONFIG.equal_bounds_in_flight });

try {
  for (const { inFlight, records } of plan) {
    const requests = requestsFor(inFlight);
    log(
      `in flight ${inFlight} (records ${records}): ${requests} requests, provider latency ${CONFIG.provider_latency_ms} ms`,
    );
    const floor: SlowFloorRun[] = [];
    if (CONFIG.floor_in_flight.includes(inFlight) && records !== inFlight) {
      for (const variant of ['transport', 'sdk'] as const) {
        const run = await measureSlowFloor(fake, variant, inFlight, requests, CONFIG.provider_latency_ms);
        await fake.reset();
        floor.push(run);
        log(
          `  floor ${variant}: steady ${run.steady_per_s}/s (${run.efficiency} of ideal), mean call ${run.mean_call_ms} ms, ${run.cpu_us_per_call} µs CPU a call, failed ${run.failed}`,
        );
      }
    }
    const { files: _files, ...result } = await oneRun(inFlight, requests, false, records);
    runs.push(floor.length > 0 ? { ...result, floor } : result);
    log(
      `  ${result.throughput_per_s} req/s overall, steady ${result.steady_per_s}/s of ideal ${result.ideal_per_s}/s; failed ${result.failed}; cpu ${Object.entries(
        result.cpu.cores,
      )
        .map(([name, cores]) => `${name} ${cores}`)
        .join(', ')}, other ${result.cpu.other_cores}`,
    );
  }
  if (CONFIG.profile_requests > 0) {
    log(`profiling pass: in flight ${CONFIG.profile_in_flight}, ${CONFIG.profile_requests} requests`);
    const { files, ...result } = await oneRun(CONFIG.profile_in_flight, CONFIG.profile_requests, true);
    profiles = Object.fromEntries(
      Object.entries(files).map(([name, file]) => [name, summariseProfile(file)]),
    );
    log(`  profiled: steady ${result.steady_per_s}/s; ${Object.values(files).map(relative).join(', ')}`);
  }
} finally {
  await stopAll([fake]);
}

const path = writeResult('slow', {
  benchmark: 'slow',
  started_at: started.toISOString(),
  finished_at: new Date().toISOString(),
  machine,
  quiet_wait: quiet,
  broker_warmup: brokerWarmup,
  load_average_at_end: loadAverage(),
  config: CONFIG,
  runs,
  profiles,
});
log(`wrote ${relative(path)}`);

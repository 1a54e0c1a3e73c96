// npm run bench:report — rewrites the generated section of bench/README.md (between the
// bench:report markers) from bench/results/*.json, and draws bench/results/overhead-vs-concurrency.svg.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChart, type Series } from './lib/chart.js';
import { BENCH_DIR, RESULTS_DIR } from './lib/env.js';
import { median, spread } from './lib/load.js';

interface Spread {
  median: number;
  min: number;
  max: number;
}
type Figures = Record<'requests_per_s' | 'p50_ms' | 'p90_ms' | 'p99_ms' | 'max_ms', Spread>;
interface Machine {
  cores: number;
  cpu_model?: string;
  memory_gib: number;
  node: string;
  kafka?: string;
  kafkajs?: string;
  postgres?: string;
  redis?: string;
  autocannon?: string;
  litellm?: string;
  portkey_gateway?: string;
  git_commit?: string;
  git_dirty?: boolean;
}
interface ProfileSummary {
  busy_pct: number;
  duration_ms: number;
  top_functions: { name: string; where: string; self_pct: number }[];
  by_module: { module: string; self_pct: number }[];
  top_own_inclusive: { name: string; where: string; total_pct: number }[];
}
interface Common {
  started_at: string;
  finished_at: string;
  machine: Machine;
  quiet_wait: { load_average: number[]; waited_s: number };
  /** absent in results from before the broker warm-up (bench/lib/broker-warmup.ts) */
  broker_warmup?: { broker_uptime_s: number | null; warmed_s: number; records_produced: number };
  load_average_at_end: number[];
  profiles: Record<string, unknown>;
}
interface CpuShare {
  wall_s: number;
  cores: Record<string, number>;
  other_cores: number;
  machine_busy_cores: number;
}
interface OverheadResult extends Common {
  config: {
    provider_latency_ms: number;
    concurrencies: number[];
    runs: number;
    duration_s: number;
    warmup_s: number;
    target_warmup_s?: number;
    /** the skeleton's rounds ran with our sink storing every row (absent in older results) */
    skeleton_sink?: boolean;
  };
  failures: Record<string, string>;
  results: {
    target: string;
    concurrency: number;
    summary: Figures & { errors: number; non_2xx: number; ok: number };
    cpu_cores: Record<string, number>;
    breakdown?: Record<string, number | null>;
    runs: { p99_ms: number; warmup?: { p99_ms: number } }[];
  }[];
  overhead: Record<string, Record<string, Figures>>;
  /** pipeline-miss minus skeleton-miss of the same round, per concurrency (absent in older results) */
  pipeline_miss_over_skeleton?: Record<string, Figures>;
  ratio_ours_to_peer_p50: Record<string, Record<string, number | null>>;
  profiles: Record<string, Record<string, ProfileSummary>>;
}
interface KafkaResult extends Common {
  config: { requests: number; provider_latency_ms: number };
  runs: {
    /** absent in results before the skeleton floor was measured beside ours */
    contender?: 'ours' | 'skeleton' | 'skeleton+work';
    worker_cpu_ms_per_request?: number;
    processors: number;
    run: number;
    produce_s: number;
    elapsed_s: number;
    throughput_per_s: number;
    steady_rows_per_s: number | null;
    rows: number;
    failed_rows: number;
    done: boolean;
    cpu: CpuShare;
    /** bench/lib/floor-slow.ts at this bound (absent in older results) */
    floor?: {
      variant: string;
      steady_per_s: number | null;
      efficiency: number | null;
      mean_call_ms: number;
    }[];
  }[];
  profiles: Record<string, ProfileSummary>;
}
interface SlowResult extends Common {
  config: { provider_latency_ms: number };
  runs: {
    in_flight: number;
    records_in_flight?: number;
    requests: number;
    ideal_per_s: number;
    elapsed_s: number;
    throughput_per_s: number;
    steady_per_s: number | null;
    efficiency: number | null;
    failed: number;
    done: boolean;
    cpu: CpuShare;
    /** bench/lib/floor-slow.ts at this bound (absent in older results) */
    floor?: {
      variant: string;
      steady_per_s: number | null;
      efficiency: number | null;
      mean_call_ms: number;
    }[];
  }[];
  profiles: Record<string, ProfileSummary>;
}
interface SinkRun {
  run: number;
  rows: number;
  rows_per_s: number;
  steady_rows_per_s: number | null;
  from_ready_s: number;
  cpu: CpuShare;
}
interface SinkResult extends Common {
  config: { rows: number; runs: number; postgres_batch?: number; postgres_lanes?: number };
  summary: { rows_per_s: Spread; steady_rows_per_s: Spread; from_ready_s: Spread; from_spawn_s: Spread };
  runs: SinkRun[];
  floors?: {
    skeleton_sink: { rows_per_s: Spread; steady_rows_per_s: Spread; runs: SinkRun[] };
    postgres_alone: {
      rows_per_s: Spread;
      postgres_cpu_us_per_row: Spread;
      client_cpu_us_per_row: Spread;
      runs: { run: number; rows_per_s: number; cpu: CpuShare }[];
    };
  };
  backlog?: {
    rows: number;
    rows_expected: number;
    stalled: boolean;
    retried_batches: number;
    last_error?: string;
    from_ready_s: number;
  };
  profiles: Record<string, ProfileSummary>;
}

interface Latency {
  n: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}
interface FloorResult extends Common {
  machine: Machine & { platformatic_kafka?: string };
  config: {
    kafka: { warmup: number; messages: number; rounds?: number; value_bytes: number; method: string };
    openai?: { warmup: number; rounds?: number };
    redis: { sequential: number; concurrency: number; duration_s: number; value_bytes: number };
    http: { connections: number[]; warmup_s: number; duration_s: number };
  };
  failures: Record<string, string>;
  kafka?: {
    client: string;
    variant?: string;
    version?: string;
    settings: Record<string, string>;
    produce_ack: Latency;
    one_hop: Latency;
    two_hops?: Latency;
    two_hops_request_leg?: Latency;
    two_hops_reply_leg?: Latency;
    cpu_ms_per_one_hop?: number;
    cpu_ms_per_two_hops?: number;
  }[];
  redis?: {
    settings: string;
    value_bytes: number;
    sequential: Latency;
    concurrent: Latency & { concurrency: number; requests_per_s: number };
  };
  http?: {
    fastify?: string;
    route: string;
    runs: Record<
      string,
      {
        requests_per_s: number;
        p50_ms: number;
        p90_ms: number;
        p99_ms: number;
        max_ms: number;
        cpu: CpuShare;
      }
    >;
  };
  openai?: {
    openai?: string;
    undici?: string;
    node_bundled_undici?: string;
    results: (Latency & {
      variant: string;
      description: string;
      provider_latency_ms: number;
      over_provider_p50_ms: number;
      cpu_ms_per_call: number;
    })[];
  };
  /** bench/lib/floor-idle.ts (absent in older results) */
  idle?: {
    gap_ms: number;
    samples: number;
    method: string;
    kafka?: {
      topics: string;
      value_bytes: number;
      produce_ack: Latency;
      one_hop: Latency;
      two_hops?: Latency;
      two_hops_request_leg?: Latency;
      two_hops_reply_leg?: Latency;
    };
    redis?: { settings: string; value_bytes: number; get: Latency };
    http?: { route: string; client: string; request: Latency };
    openai?: {
      provider_latency_ms: number;
      sdk: Latency & { description: string };
      bare: Latency & { description: string };
      sdk_over_bare_p50_ms: number;
      sdk_over_bare_p99_ms: number;
    };
  };
  /** bench/lib/floor-skeleton.ts (absent in older results) */
  skeleton?: {
    design: string;
    edge: string;
    worker: string;
    topics: string;
    provider_latency_ms: number;
    runs: number;
    duration_s: number;
    warmup_s: number;
    hit_value_bytes: number;
    miss_result_bytes?: number;
    results: {
      target: 'direct' | 'skeleton-miss' | 'skeleton-hit' | 'skeleton-sink-miss' | 'skeleton-sink-hit';
      concurrency: number;
      summary: Figures & { errors: number; non_2xx: number; ok: number };
      cpu_cores: Record<string, number>;
    }[];
    miss_overhead: Record<string, Figures>;
    /** the misses with apps/sink storing every result (absent in older results) */
    sink_miss_overhead?: Record<string, Figures>;
  };
  cpu: Record<string, CpuShare>;
}

function read<T>(name: string): T | undefined {
  const path = join(RESULTS_DIR, `${name}.json`);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

const n = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined
    ? '—'
    : Number.isInteger(value) && digits <= 1
      ? String(value)
      : value.toFixed(digits);
const cell = (spread: Spread | undefined, digits = 1) =>
  spread ? `${n(spread.median, digits)} <sub>${n(spread.min, digits)}–${n(spread.max, digits)}</sub>` : '—';
const signed = (value: number, digits = 1) => `${value > 0 ? '+' : ''}${value.toFixed(digits)}`;
const signedCell = (spread: Spread | undefined) =>
  spread ? `${signed(spread.median)} <sub>${signed(spread.min)}…${signed(spread.max)}</sub>` : '—';
const cores = (share: Record<string, number>, skip: string[] = [], top = 5) =>
  Object.entries(share)
    .filter(([name, value]) => !skip.includes(name) && value >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, value]) => `${name} ${value.toFixed(2)}`)
    .join(', ');

function context(title: string, result: Common): string {
  const m = result.machine;
  return (
    `*${title}: ${result.started_at.slice(0, 16).replace('T', ' ')}–${result.finished_at.slice(11, 16)} UTC; ${m.cores} cores (${m.cpu_model ?? '?'}), ${m.memory_gib} GiB; ` +
    `Node ${m.node}, Kafka ${m.kafka ?? '?'} (kafkajs ${m.kafkajs ?? '?'}), Postgres ${m.postgres ?? '?'}, Redis ${m.redis ?? '?'}; commit ${m.git_commit ?? '?'}${m.git_dirty ? ' + uncommitted changes' : ''}; ` +
    `load average at start ${result.quiet_wait.load_average.join(' ')}, at end ${result.load_average_at_end.join(' ')}` +
    `${brokerWarmup(result.broker_warmup)}.*`
  );
}

function brokerWarmup(warmup: Common['broker_warmup']): string {
  if (!warmup) return '';
  if (warmup.warmed_s === 0) return `; the broker had run ${warmup.broker_uptime_s ?? '?'} s (warm)`;
  return `; the broker had run ${warmup.broker_uptime_s ?? '?'} s and was warmed first (${warmup.records_produced} records in ${warmup.warmed_s} s)`;
}

function profileLines(label: string, summary: ProfileSummary | undefined, top = 6): string[] {
  if (!summary) return [];
  const functions = summary.top_functions
    .slice(0, top)
    .map((f) => `${f.name}${f.where ? ` (${f.where.replace(/:\d+$/, '')})` : ''} ${f.self_pct}%`)
    .join('; ');
  const modules = summary.by_module
    .slice(0, top)
    .map((m) => `${m.module} ${m.self_pct}%`)
    .join('; ');
  const own = summary.top_own_inclusive
    .slice(0, 5)
    .map((f) => `${f.name} ${f.total_pct}%`)
    .join('; ');
  return [`| ${label} | ${summary.busy_pct}% | ${functions} | ${modules} | ${own} |`];
}

const PROFILE_HEADER = [
  '| process (case) | main thread busy | top self time (% of busy) | self time by module | own functions, inclusive |',
  '|---|---|---|---|---|',
];

const LABELS: Record<string, string> = {
  direct: 'direct (fake provider)',
  'pipeline-miss': '**ours, cache miss**',
  'pipeline-hit': 'ours, cache hit',
  'skeleton-miss': 'skeleton pipeline, cache miss (same rounds)',
  litellm: 'LiteLLM proxy',
  portkey: 'Portkey gateway',
};
const COLORS: Record<string, string> = {
  'pipeline-miss': '#d62728',
  'pipeline-hit': '#ff9896',
  litellm: '#1f77b4',
  portkey: '#2ca02c',
};

function overheadSection(result: OverheadResult, title: string, floors?: Floors): string[] {
  const withSink = result.config.skeleton_sink === true;
  const out: string[] = [];
  const { config } = result;
  out.push(
    context(title, result),
    '',
    `Fake provider latency ${config.provider_latency_ms} ms for every path. Each cell: median of ${config.runs} runs of ${config.duration_s} s ` +
      `(after a ${config.warmup_s} s warm-up in the same run: the clients go on from it into the measured window, and only requests sent in the window count${config.target_warmup_s ? `; before the first round, every target ran ${config.target_warmup_s} s at 32 clients` : ''}), with <sub>min–max</sub>. Latencies in ms, throughput in requests/s (2xx only).`,
    '',
  );
  for (const concurrency of config.concurrencies) {
    out.push(
      `**Concurrency ${concurrency}**`,
      '',
      '| path | req/s | p50 | p90 | p99 | max | overhead p50 | overhead p99 | errors | CPU cores (median) |',
      '|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const row of result.results.filter((r) => r.concurrency === concurrency)) {
      const overhead = result.overhead[row.target]?.[String(concurrency)];
      const s = row.summary;
      out.push(
        `| ${(withSink && row.target === 'skeleton-miss' ? SKELETON_WITH_SINK : LABELS[row.target]) ?? row.target} | ${cell(s.requests_per_s)} | ${cell(s.p50_ms)} | ${cell(s.p90_ms)} | ${cell(s.p99_ms)} | ${cell(s.max_ms)} | ` +
          `${row.target === 'direct' ? '—' : signedCell(overhead?.p50_ms)} | ${row.target === 'direct' ? '—' : signedCell(overhead?.p99_ms)} | ${s.errors + s.non_2xx} | ${cores(row.cpu_cores, ['machine'])} |`,
      );
    }
    out.push('');
    if (floors) out.push(...floorLines(result, concurrency, floors));
  }
  out.push(...startBurstLines(result));
  const peers = Object.keys(result.ratio_ours_to_peer_p50);
  const missFloorValue = floors ? missFloor(floors).value : undefined;
  const skeletonColumn = config.concurrencies.some((c) => floors?.skeleton?.missOverhead(c));
  // the skeleton measured in this run's own rounds (bench:overhead with the skeleton)
  const pairedColumn = Boolean(result.overhead['skeleton-miss']);
  const sinkColumn = config.concurrencies.some((c) => floors?.skeleton?.sinkMissOverhead(c));
  const skeletonPair = (concurrency: number, withSink = false) => {
    const o = withSink
      ? floors?.skeleton?.sinkMissOverhead(concurrency)
      : floors?.skeleton?.missOverhead(concurrency);
    return o ? `${signed(o.p50_ms.median)} / ${signed(o.p99_ms.median)}` : '—';
  };
  if (result.overhead['pipeline-miss'] && peers.length > 0) {
    out.push(
      "**Overhead side by side** (path minus direct, same round; p50 / p99 in ms; ratio = our p50 overhead ÷ the peer's; the p99 ratio is taken in each round, ours and the peer's p99 overhead of that round, median with <sub>min–max</sub>)" +
        (floors ? `; floor = ${missFloor(floors).text} (\`bench:floor\`, p50)` : ''),
      '',
      `| concurrency | ours (miss) | ${floors ? 'floor of our miss overhead (p50) | ' : ''}${pairedColumn ? `skeleton${withSink ? ' + sink' : ''} (miss), same rounds | ours over it, same round | ` : ''}${skeletonColumn ? 'skeleton pipeline (miss), bench:floor | ' : ''}${sinkColumn ? 'skeleton + sink (miss) | ' : ''}${peers.map((p) => LABELS[p]).join(' | ')} | ${peers.map((p) => `ours ÷ ${p}`).join(' | ')} | ${peers.map((p) => `ours ÷ ${p}, p99 per round`).join(' | ')} |${pairedColumn ? peers.map((p) => ` skeleton ÷ ${p}, p99 per round |`).join('') : ''}`,
      `|---|---|${pairedColumn ? peers.map(() => '---|').join('') : ''}${floors ? '---|' : ''}${pairedColumn ? '---|---|' : ''}${skeletonColumn ? '---|' : ''}${sinkColumn ? '---|' : ''}${peers.map(() => '---|').join('')}${peers.map(() => '---|').join('')}${peers.map(() => '---|').join('')}`,
    );
    const overSkeleton = (concurrency: number) => {
      const o = result.pipeline_miss_over_skeleton?.[String(concurrency)];
      return o
        ? `${signed(o.p50_ms.median)} (${signed(o.p50_ms.min)}…${signed(o.p50_ms.max)}) / ${signed(o.p99_ms.median)} (${signed(o.p99_ms.min)}…${signed(o.p99_ms.max)})`
        : '—';
    };
    // The 32-client target compares p99s within a round: the machine's load moves both alike.
    const p99Ratio = (peer: string, concurrency: number, mine = 'pipeline-miss') => {
      const runsOf = (target: string) =>
        result.results.find((r) => r.target === target && r.concurrency === concurrency)?.runs;
      const [ours, theirs, direct] = [runsOf(mine), runsOf(peer), runsOf('direct')];
      if (!ours || !theirs || !direct) return '—';
      const ratios = ours.flatMap((run, i) => {
        const their = theirs[i]!.p99_ms - direct[i]!.p99_ms;
        return their > 0 ? [(run.p99_ms - direct[i]!.p99_ms) / their] : [];
      });
      if (ratios.length === 0) return '—';
      const r = spread(ratios);
      return `${n(r.median, 2)} <sub>${n(r.min, 2)}–${n(r.max, 2)}</sub>`;
    };
    for (const concurrency of config.concurrencies) {
      const pair = (target: string) => {
        const o = result.overhead[target]?.[String(concurrency)];
        return o ? `${signed(o.p50_ms.median)} / ${signed(o.p99_ms.median)}` : '—';
      };
      out.push(
        `| ${concurrency} | ${pair('pipeline-miss')} | ${floors ? `${missFloorValue === undefined ? '—' : `+${fl(missFloorValue)}`} | ` : ''}${pairedColumn ? `${pair('skeleton-miss')} | ${overSkeleton(concurrency)} | ` : ''}${skeletonColumn ? `${skeletonPair(concurrency)} | ` : ''}${sinkColumn ? `${skeletonPair(concurrency, true)} | ` : ''}${peers.map(pair).join(' | ')} | ${peers.map((p) => n(result.ratio_ours_to_peer_p50[p]?.[String(concurrency)], 2)).join(' | ')} | ${peers.map((p) => p99Ratio(p, concurrency)).join(' | ')} |${pairedColumn ? peers.map((p) => ` ${p99Ratio(p, concurrency, 'skeleton-miss')} |`).join('') : ''}`,
      );
    }
    out.push('');
  }
  const broken = result.results.filter((r) => r.breakdown);
  // the skeleton's end-to-end p50 of the same path at the same concurrency, where measured
  const skeletonRuns = floors?.skeletonRuns;
  const skeletonE2e =
    skeletonRuns && broken.some((r) => skeletonRuns(r.target, r.concurrency))
      ? (target: string, concurrency: number) =>
          skeletonRuns(target, concurrency)?.summary.p50_ms.median ?? null
      : undefined;
  if (broken.length > 0) {
    out.push(
      "**Where a pipeline request's time goes** (medians over runs; from request_logs: the processor's time per request and the provider call as the OpenAI SDK saw it)",
      '',
      `| path | concurrency | end-to-end p50 |${skeletonE2e ? ' skeleton pipeline end-to-end p50 (same path and concurrency) |' : ''} processor p50 | provider call p50 (SDK) | outside the processor (ingest-api, Kafka hops, reply) |${floors ? ' its floor (bare Fastify + two Kafka hops; a hit: + one produce acknowledged) |' : ''} processor besides the call | SDK call minus provider latency |${floors ? ' its floor (SDK over a bare undici request) |' : ''}`,
      `|---|---|---|---|---|---|---|---|${skeletonE2e ? '---|' : ''}${floors ? '---|---|' : ''}`,
    );
    for (const r of broken) {
      const total = r.summary.p50_ms.median;
      const processor = r.breakdown!.processor_ms_p50 ?? null;
      const call = r.breakdown!.provider_call_ms_p50 ?? null;
      const outsideFloor = floors
        ? sum([
            floors.fastify(r.concurrency)?.p50,
            r.target === 'pipeline-hit' ? floors.produceAck : floors.twoHops?.p50,
          ])
        : undefined;
      out.push(
        `| ${LABELS[r.target] ?? r.target} | ${r.concurrency} | ${n(total)} |${skeletonE2e ? ` ${n(skeletonE2e(r.target, r.concurrency))} |` : ''} ${n(processor)} | ${n(call)} | ${processor === null ? '—' : n(total - processor)} |${floors ? ` ${fl(outsideFloor)} |` : ''} ${processor === null ? '—' : call === null ? n(processor) : n(processor - call)} | ${call === null ? '—' : n(call - config.provider_latency_ms)} |${floors ? ` ${call === null ? '—' : fl(floors.sdk?.p50)} |` : ''}`,
      );
    }
    out.push('');
  }
  const failures = Object.entries(result.failures ?? {});
  if (failures.length > 0) {
    out.push('Left out of this run:', '');
    for (const [name, message] of failures)
      out.push(`- **${name}**: \`${message.split('\n')[0]!.slice(0, 400)}\``);
    out.push('');
  }
  const profileRows = Object.entries(result.profiles ?? {}).flatMap(([name, byProcess]) =>
    Object.entries(byProcess).flatMap(([proc, summary]) => profileLines(`${proc} (${name})`, summary)),
  );
  if (profileRows.length > 0)
    out.push(
      'CPU profiles (one more run per case, V8 sampling profiler over the load window only):',
      '',
      ...PROFILE_HEADER,
      ...profileRows,
      '',
    );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Floors (bench/floor.ts): the figures each measured one is bounded by

/** ms with the resolution that matters at its size (floors go down to tens of µs) */
const fl = (value: number | null | undefined) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : value < 1
      ? value.toFixed(3)
      : value < 10
        ? value.toFixed(2)
        : value.toFixed(1);

interface Floors {
  /** kafkajs with the apps' settings: request → responder → reply, p50 (measured; else 2 × one hop) */
  twoHops?: { p50: number; label: string };
  redisGet?: number;
  /** kafkajs with the apps' settings: produce until acknowledged (acks=all), p50 */
  produceAck?: number;
  /** OpenAI SDK (default fetch) p50 minus a bare undici request's p50, same provider latency */
  sdk?: { p50: number; latency: number };
  fastify(concurrency: number): { p50: number; at: number } | undefined;
  /** one client: the same steps one at a time after an idle gap each (bench/lib/floor-idle.ts) */
  idle?: { gap: number; miss: IdleSum };
  /** the skeleton pipeline (bench/lib/floor-skeleton.ts), where measured at this concurrency */
  skeleton?: {
    latency: number;
    hit(concurrency: number): { summary: Figures; cpu_cores: Record<string, number> } | undefined;
    /** the hits with the sink storing each hit's row (absent in older results) */
    sinkHit(concurrency: number): { summary: Figures; cpu_cores: Record<string, number> } | undefined;
    missOverhead(concurrency: number): Figures | undefined;
    sinkMissOverhead(concurrency: number): Figures | undefined;
  };
  /** the skeleton's run of the same path (pipeline-miss / pipeline-hit) at this concurrency */
  skeletonRuns?: (target: string, concurrency: number) => { summary: Figures } | undefined;
}

/** A floor summed from idle-gap steps: the p50s, the p99s (a pessimistic p99), what went in. */
interface IdleSum {
  p50?: number;
  p99?: number;
  text: string;
}

function floorsOf(floor: FloorResult | undefined, providerLatency: number): Floors | undefined {
  if (!floor) return undefined;
  const kafkajs = floor.kafka?.find((k) => k.client === 'kafkajs' && !k.variant);
  const twoHops = kafkajs?.two_hops
    ? {
        p50: kafkajs.two_hops.p50_ms,
        label: 'two Kafka hops (kafkajs, request → consumer → reply → consumer)',
      }
    : kafkajs
      ? { p50: 2 * kafkajs.one_hop.p50_ms, label: '2 × one Kafka hop (kafkajs)' }
      : undefined;
  const calls = floor.openai?.results ?? [];
  const latencies = [...new Set(calls.map((r) => r.provider_latency_ms))];
  const latency = latencies.includes(providerLatency) ? providerLatency : latencies[latencies.length - 1];
  const sdkCall = calls.find((r) => r.variant === 'sdk-default' && r.provider_latency_ms === latency);
  const bare = calls.find((r) => r.variant === 'undici-request' && r.provider_latency_ms === latency);
  const http = Object.entries(floor.http?.runs ?? {})
    .map(([c, run]) => ({ at: Number(c), p50: run.p50_ms }))
    .sort((a, b) => a.at - b.at);
  return {
    twoHops,
    redisGet: floor.redis?.sequential.p50_ms,
    produceAck: kafkajs?.produce_ack?.p50_ms,
    sdk:
      sdkCall && bare && latency !== undefined ? { p50: sdkCall.p50_ms - bare.p50_ms, latency } : undefined,
    fastify(concurrency) {
      // the largest measured connection count not above this concurrency (a lower bound of it)
      const below = http.filter((run) => run.at <= concurrency);
      return below[below.length - 1] ?? http[0];
    },
    idle: idleFloors(floor),
    skeleton: floor.skeleton && {
      latency: floor.skeleton.provider_latency_ms,
      hit: (c) => floor.skeleton!.results.find((r) => r.target === 'skeleton-hit' && r.concurrency === c),
      sinkHit: (c) =>
        floor.skeleton!.results.find((r) => r.target === 'skeleton-sink-hit' && r.concurrency === c),
      missOverhead: (c) => floor.skeleton!.miss_overhead[String(c)],
      sinkMissOverhead: (c) => floor.skeleton!.sink_miss_overhead?.[String(c)],
    },
    skeletonRuns:
      floor.skeleton &&
      ((target, c) =>
        floor.skeleton!.results.find(
          (r) => r.target === target.replace('pipeline-', 'skeleton-') && r.concurrency === c,
        )),
  };
}

function idleFloors(floor: FloorResult): Floors['idle'] {
  const idle = floor.idle;
  if (!idle) return undefined;
  const parts = (steps: [string, Latency | { p50_ms: number; p99_ms: number } | undefined][]): IdleSum => ({
    p50: sum(steps.map(([, step]) => step?.p50_ms)),
    p99: sum(steps.map(([, step]) => step?.p99_ms)),
    text: steps.map(([name, step]) => `${name} ${fl(step?.p50_ms)} / ${fl(step?.p99_ms)}`).join(' + '),
  });
  const sdk = idle.openai && {
    p50_ms: idle.openai.sdk_over_bare_p50_ms,
    p99_ms: idle.openai.sdk_over_bare_p99_ms,
  };
  return {
    gap: idle.gap_ms,
    miss: parts([
      ['bare Fastify request', idle.http?.request],
      ['two Kafka hops', idle.kafka?.two_hops],
      ['Redis GET', idle.redis?.get],
      [
        `OpenAI SDK over a bare undici request (provider at ${idle.openai?.provider_latency_ms ?? 0} ms)`,
        sdk,
      ],
    ]),
  };
}

const sum = (parts: (number | undefined)[]) =>
  parts.some((part) => part === undefined) ? undefined : parts.reduce<number>((a, b) => a + b!, 0);

/**
 * The cache-hit p50 floor: ingest-api answers a hit itself (issue 12), so bare Fastify at this
 * concurrency + one Redis GET + one produce of the result until acknowledged (acks=all).
 */
function hitFloor(floors: Floors, concurrency: number) {
  const http = floors.fastify(concurrency);
  return {
    value: sum([http?.p50, floors.redisGet, floors.produceAck]),
    text:
      `bare Fastify ${fl(http?.p50)}${http && http.at !== concurrency ? ` (measured at ${http.at} connections)` : ''} + ` +
      `Redis GET ${fl(floors.redisGet)} + Kafka produce until acknowledged (kafkajs) ${fl(floors.produceAck)}`,
  };
}

/** The cache-miss overhead floor: two Kafka hops + one Redis GET + the OpenAI SDK over a bare HTTP client. */
function missFloor(floors: Floors) {
  return {
    value: sum([floors.twoHops?.p50, floors.redisGet, floors.sdk?.p50]),
    text:
      `${floors.twoHops?.label ?? 'two Kafka hops'} ${fl(floors.twoHops?.p50)} + Redis GET ${fl(floors.redisGet)} + ` +
      `OpenAI SDK over a bare undici request ${fl(floors.sdk?.p50)}${floors.sdk ? ` (provider at ${floors.sdk.latency} ms)` : ''}`,
  };
}

/** kafkajs-maxwait-10 → "maxWaitTimeInMs 10, diagnostic" */
const variantLabel = (variant: string) => {
  const ms = /^kafkajs-maxwait-(\d+)$/.exec(variant)?.[1];
  const partitions = /^kafkajs-partitions-(\d+)$/.exec(variant)?.[1];
  return ms
    ? `maxWaitTimeInMs ${ms}, diagnostic`
    : partitions
      ? `topics of ${partitions} partitions, diagnostic`
      : variant;
};

function floorSection(floor: FloorResult): string[] {
  const out: string[] = [
    context('Run', floor),
    '',
    `What the other figures are bounded by on this machine, one client at a time unless stated: ${floor.config.kafka.method}. Latencies in ms (µs resolution, every sample kept, nearest-rank percentiles).`,
    '',
  ];
  const kafka = floor.kafka ?? [];
  const openaiCalls = floor.openai?.results ?? [];
  const summary: string[] = [];
  for (const k of kafka) {
    const name = `${k.client}${k.variant ? ` (${variantLabel(k.variant)})` : k.client === 'kafkajs' ? " (the apps' settings)" : ''}`;
    summary.push(
      `| Kafka one hop (produce → consumed), ${name} | ${fl(k.one_hop.p50_ms)} | ${fl(k.one_hop.p99_ms)} |`,
    );
    if (k.two_hops)
      summary.push(
        `| Kafka two hops (request → consumer → reply → consumer), ${name} | ${fl(k.two_hops.p50_ms)} | ${fl(k.two_hops.p99_ms)} |`,
      );
  }
  if (floor.redis)
    summary.push(
      `| Redis GET, sequential (ioredis) | ${fl(floor.redis.sequential.p50_ms)} | ${fl(floor.redis.sequential.p99_ms)} |`,
    );
  for (const [c, run] of Object.entries(floor.http?.runs ?? {}))
    summary.push(
      `| bare Fastify route, ${c} connection${c === '1' ? '' : 's'} (${n(run.requests_per_s, 0)} req/s) | ${fl(run.p50_ms)} | ${fl(run.p99_ms)} |`,
    );
  for (const r of openaiCalls.filter((r) => r.variant === 'sdk-default' || r.variant === 'undici-request'))
    summary.push(
      `| provider call at ${r.provider_latency_ms} ms, ${r.variant === 'sdk-default' ? 'OpenAI SDK (default fetch)' : 'bare undici request'}: time over the provider's latency | ${fl(r.over_provider_p50_ms)} | ${fl(r.p99_ms - r.provider_latency_ms)} |`,
    );
  if (summary.length) out.push('**Floors**', '', '| floor | p50 | p99 |', '|---|---|---|', ...summary, '');

  if (kafka.length) {
    out.push(
      `**Kafka round trip on the local broker** (${floor.config.kafka.messages} records after ${floor.config.kafka.warmup} warm-up${floor.config.kafka.rounds ? `, in ${floor.config.kafka.rounds} rounds interleaved across the clients` : ''}, value ${floor.config.kafka.value_bytes} bytes, topics of one partition, acks=all, idempotent producers)`,
      '',
      '| client | produce → ack p50 / p99 | one hop p50 | p90 | p99 | max | two hops p50 | p90 | p99 | max | request leg p50 | reply leg p50 | client CPU ms per one hop / two hops | CPU cores, all clients (bench, kafka; other) |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const k of kafka) {
      const cpu = floor.cpu?.kafka;
      out.push(
        `| ${k.client} ${k.version ?? ''}${k.variant ? ` (${variantLabel(k.variant)})` : ''} | ${fl(k.produce_ack.p50_ms)} / ${fl(k.produce_ack.p99_ms)} | **${fl(k.one_hop.p50_ms)}** | ${fl(k.one_hop.p90_ms)} | ${fl(k.one_hop.p99_ms)} | ${fl(k.one_hop.max_ms)} | ` +
          `**${fl(k.two_hops?.p50_ms)}** | ${fl(k.two_hops?.p90_ms)} | ${fl(k.two_hops?.p99_ms)} | ${fl(k.two_hops?.max_ms)} | ${fl(k.two_hops_request_leg?.p50_ms)} | ${fl(k.two_hops_reply_leg?.p50_ms)} | ${fl(k.cpu_ms_per_one_hop)} / ${fl(k.cpu_ms_per_two_hops)} | ` +
          `${cpu ? `${n(cpu.cores.bench, 2)}, ${n(cpu.cores.kafka, 2)}; ${n(cpu.other_cores, 2)}` : '—'} |`,
      );
    }
    out.push('', 'Settings:', '');
    for (const k of kafka)
      for (const [part, text] of Object.entries(k.settings)) {
        // a diagnostic variant differs from its client's main run only in its override
        if (k.variant && !part.endsWith('override')) continue;
        out.push(
          `- ${k.client}${k.variant ? ` (${variantLabel(k.variant)})` : ''}, ${part.replace(/_/g, ' ')}: ${text}`,
        );
      }
    out.push('');
  }
  if (floor.redis) {
    const r = floor.redis;
    out.push(
      `**Redis GET** (${r.value_bytes}-byte value; ${r.settings})`,
      '',
      '| callers | GET/s | p50 | p90 | p99 | max |',
      '|---|---|---|---|---|---|',
      `| 1 (sequential, ${r.sequential.n} GETs) | ${n(1000 / r.sequential.mean_ms, 0)} | ${fl(r.sequential.p50_ms)} | ${fl(r.sequential.p90_ms)} | ${fl(r.sequential.p99_ms)} | ${fl(r.sequential.max_ms)} |`,
      `| ${r.concurrent.concurrency} | ${n(r.concurrent.requests_per_s, 0)} | ${fl(r.concurrent.p50_ms)} | ${fl(r.concurrent.p90_ms)} | ${fl(r.concurrent.p99_ms)} | ${fl(r.concurrent.max_ms)} |`,
      '',
    );
  }
  if (floor.http) {
    out.push(
      `**Bare Fastify** ${floor.http.fastify ?? ''} (${floor.http.route}), autocannon closed loop, ${floor.config.http.duration_s} s after ${floor.config.http.warmup_s} s warm-up`,
      '',
      '| connections | req/s | p50 | p90 | p99 | max | CPU cores (fastify, load generator; other) |',
      '|---|---|---|---|---|---|---|',
      ...Object.entries(floor.http.runs).map(
        ([c, run]) =>
          `| ${c} | ${n(run.requests_per_s, 0)} | ${fl(run.p50_ms)} | ${fl(run.p90_ms)} | ${fl(run.p99_ms)} | ${fl(run.max_ms)} | ${n(run.cpu.cores.fastify, 2)}, ${n(run.cpu.cores['load-generator'], 2)}; ${n(run.cpu.other_cores, 2)} |`,
      ),
      '',
    );
  }
  if (openaiCalls.length) {
    const o = floor.openai!;
    out.push(
      `**Provider call, one client** (the fake provider in its own process; ${floor.config.openai ? `${floor.config.openai.warmup} warm-up calls per client, then the calls in ${floor.config.openai.rounds ?? 1} rounds interleaved across the clients; ` : ''}openai ${o.openai ?? '?'}, undici ${o.undici ?? '?'} from npm, Node's bundled undici ${o.node_bundled_undici ?? '?'}; CPU = this process's user + system time per call)`,
      '',
      '| client | provider latency | p50 | p90 | p99 | max | p50 over the provider | CPU ms per call |',
      '|---|---|---|---|---|---|---|---|',
      ...openaiCalls.map(
        (r) =>
          `| ${r.variant} | ${r.provider_latency_ms} | ${fl(r.p50_ms)} | ${fl(r.p90_ms)} | ${fl(r.p99_ms)} | ${fl(r.max_ms)} | ${fl(r.over_provider_p50_ms)} | **${fl(r.cpu_ms_per_call)}** |`,
      ),
      '',
      ...[...new Map(openaiCalls.map((r) => [r.variant, r.description])).entries()].map(
        ([variant, description]) => `- ${variant}: ${description}`,
      ),
      '',
    );
  }
  out.push(...idleSection(floor), ...skeletonSection(floor));
  const failures = Object.entries(floor.failures ?? {});
  if (failures.length) {
    out.push('Failed parts of this run:', '');
    for (const [name, message] of failures)
      out.push(`- **${name}**: \`${message.split('\n')[0]!.slice(0, 400)}\``);
    out.push('');
  }
  return out;
}

/** The idle-gap floors beside the hot ones of the same run. */
function idleSection(floor: FloorResult): string[] {
  const idle = floor.idle;
  if (!idle) return [];
  const kafkajs = floor.kafka?.find((k) => k.client === 'kafkajs' && !k.variant);
  const call = (variant: string) =>
    floor.openai?.results.find((r) => r.variant === variant && r.provider_latency_ms === 0);
  const hotSdk = call('sdk-default');
  const hotBare = call('undici-request');
  const hotHttp = floor.http?.runs['1'];
  const row = (
    step: string,
    hot: { p50_ms: number; p99_ms: number } | undefined,
    cold: { p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number } | undefined,
  ) =>
    cold
      ? [
          `| ${step} | ${fl(hot?.p50_ms)} | ${fl(hot?.p99_ms)} | **${fl(cold.p50_ms)}** | ${fl(cold.p90_ms)} | **${fl(cold.p99_ms)}** | ${fl(cold.max_ms)} |`,
        ]
      : [];
  const sub = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : Math.round((a - b) * 1000) / 1000;
  const o = idle.openai;
  return [
    `**Idle-gap floors**: ${idle.method}; ${idle.samples} samples per step. The hot floors (back to back, from the tables above) beside them.`,
    '',
    '| step | hot p50 | hot p99 | after an idle gap: p50 | p90 | p99 | max |',
    '|---|---|---|---|---|---|---|',
    ...row(
      "Kafka produce until acknowledged (kafkajs, the apps' settings)",
      kafkajs?.produce_ack,
      idle.kafka?.produce_ack,
    ),
    ...row('Kafka one hop (produce → consumed)', kafkajs?.one_hop, idle.kafka?.one_hop),
    ...row('Kafka two hops (request → consumer → reply → consumer)', kafkajs?.two_hops, idle.kafka?.two_hops),
    ...row('&nbsp;&nbsp;request leg', kafkajs?.two_hops_request_leg, idle.kafka?.two_hops_request_leg),
    ...row('&nbsp;&nbsp;reply leg', kafkajs?.two_hops_reply_leg, idle.kafka?.two_hops_reply_leg),
    ...row(
      `Redis GET (${idle.redis?.value_bytes ?? '?'} bytes, ioredis)`,
      floor.redis?.sequential,
      idle.redis?.get,
    ),
    ...row(
      `bare Fastify route, one keep-alive connection (${idle.http?.client ?? ''}; hot: autocannon, 1 connection)`,
      hotHttp,
      idle.http?.request,
    ),
    ...row(
      "provider call at 0 ms, OpenAI SDK (idle: libs/llm's createHttpClient fetch; hot: default fetch)",
      hotSdk,
      o?.sdk,
    ),
    ...row('provider call at 0 ms, bare undici request', hotBare, o?.bare),
    ...(o
      ? [
          `| the SDK over a bare undici request (difference of the two rows above) | ${fl(sub(hotSdk?.p50_ms, hotBare?.p50_ms))} | ${fl(sub(hotSdk?.p99_ms, hotBare?.p99_ms))} | **${fl(o.sdk_over_bare_p50_ms)}** | — | **${fl(o.sdk_over_bare_p99_ms)}** | — |`,
        ]
      : []),
    '',
  ];
}

/** The skeleton pipeline's runs: our design with the same libraries and nothing else. */
function skeletonSection(floor: FloorResult): string[] {
  const sk = floor.skeleton;
  if (!sk) return [];
  const label: Record<string, string> = {
    direct: 'direct (fake provider)',
    'skeleton-miss': '**skeleton, cache miss**',
    'skeleton-hit': '**skeleton, cache hit**',
    'skeleton-sink-miss': '**skeleton + sink, cache miss**',
    'skeleton-sink-hit': '**skeleton + sink, cache hit** (each hit stored)',
  };
  return [
    `**Skeleton pipeline** (the design's floor: our two-hop design with the same libraries and nothing else; fake provider at ${sk.provider_latency_ms} ms; each cell: median of ${sk.runs} runs of ${sk.duration_s} s after ${sk.warmup_s} s warm-up, <sub>min–max</sub>; overhead = the miss run minus the direct run of the same round, as bench:overhead; hit value ${sk.hit_value_bytes} bytes${sk.miss_result_bytes ? `, a miss's answer ${sk.miss_result_bytes} bytes` : ''})`,
    '',
    '| path | concurrency | req/s | p50 | p90 | p99 | max | overhead p50 | overhead p99 | errors | CPU cores (median) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...sk.results.map((r) => {
      const o =
        r.target === 'skeleton-miss'
          ? sk.miss_overhead[String(r.concurrency)]
          : r.target === 'skeleton-sink-miss'
            ? sk.sink_miss_overhead?.[String(r.concurrency)]
            : undefined;
      const s = r.summary;
      return (
        `| ${label[r.target] ?? r.target} | ${r.concurrency} | ${cell(s.requests_per_s)} | ${cell(s.p50_ms)} | ${cell(s.p90_ms)} | ${cell(s.p99_ms)} | ${cell(s.max_ms)} | ` +
        `${o ? signedCell(o.p50_ms) : '—'} | ${o ? signedCell(o.p99_ms) : '—'} | ${s.errors + s.non_2xx} | ${cores(r.cpu_cores, ['machine'], 6)} |`
      );
    }),
    '',
    `- design: ${sk.design}`,
    `- edge: ${sk.edge}`,
    `- worker: ${sk.worker}`,
    `- topics: ${sk.topics}`,
    '',
  ];
}

const hitFigures = (s: Figures) =>
  `${n(s.requests_per_s.median, 0)} req/s, p50 ${n(s.p50_ms.median)}, p99 ${n(s.p99_ms.median)}`;

/** Under a concurrency table: what our p50s are bounded by (bench:floor) and how far above it they are. */
/**
 * The warm-ups' own p99: every client starts at the same instant, so this is what a burst of
 * simultaneous callers meets (absent in results measured before the warm-up ran into the window).
 */
const SKELETON_WITH_SINK = 'skeleton pipeline + our sink, cache miss (same rounds)';

function startBurstLines(result: OverheadResult): string[] {
  const withBurst = result.results.filter((r) => r.runs.every((run) => run.warmup));
  if (withBurst.length === 0) return [];
  const targets = [...new Set(withBurst.map((r) => r.target))];
  const lines = [
    `**The start of each round** (its ${result.config.warmup_s} s warm-up, every client sending its first request at the same instant: what a burst of simultaneous callers meets; p99 in ms, median of the rounds with <sub>min–max</sub>; not part of the figures above)`,
    '',
    `| concurrency | ${targets.map((t) => LABELS[t] ?? t).join(' | ')} |`,
    `|---|${targets.map(() => '---|').join('')}`,
  ];
  for (const concurrency of result.config.concurrencies) {
    const cells = targets.map((target) => {
      const row = withBurst.find((r) => r.target === target && r.concurrency === concurrency);
      return row ? cell(spread(row.runs.map((run) => run.warmup!.p99_ms))) : '—';
    });
    lines.push(`| ${concurrency} | ${cells.join(' | ')} |`);
  }
  return [...lines, ''];
}

function floorLines(result: OverheadResult, concurrency: number, floors: Floors): string[] {
  const row = (target: string) =>
    result.results.find((r) => r.target === target && r.concurrency === concurrency);
  const hit = row('pipeline-hit');
  const missOverhead = result.overhead['pipeline-miss']?.[String(concurrency)]?.p50_ms.median;
  const parts: string[] = [];
  if (hit) {
    const floor = hitFloor(floors, concurrency);
    const ours = hit.summary.p50_ms.median;
    parts.push(
      `cache hit p50 ${n(ours)} vs. floor **${fl(floor.value)}** = ${floor.text}` +
        (floor.value ? ` (${(ours / floor.value).toFixed(1)}× the floor)` : ''),
    );
  }
  if (missOverhead !== undefined) {
    const floor = missFloor(floors);
    parts.push(
      `cache-miss overhead p50 ${signed(missOverhead)} vs. floor **${floor.value === undefined ? '—' : `+${fl(floor.value)}`}** = ${floor.text}` +
        (floor.value ? ` (${(missOverhead / floor.value).toFixed(1)}× the floor)` : ''),
    );
  }
  const out = parts.length ? [`Floors (\`bench:floor\`, p50, ms): ${parts.join('; ')}.`, ''] : [];
  const idle = floors.idle;
  if (idle && concurrency === 1) {
    const idleParts: string[] = [];
    const pair = (sum: IdleSum) => `**${fl(sum.p50)}** / ${fl(sum.p99)}`;
    // (not for hits: at one client they come back to back, nothing idles between their steps)
    const missO = result.overhead['pipeline-miss']?.[String(concurrency)];
    if (missO)
      idleParts.push(
        `cache-miss overhead p50 / p99 ${signed(missO.p50_ms.median)} / ${signed(missO.p99_ms.median)} vs. floor +${pair(idle.miss)} = ${idle.miss.text}`,
      );
    if (idleParts.length)
      out.push(
        `Idle-gap floor (each step alone after ${idle.gap} ms of idling, as every process idles between a miss's steps at one client; p50 / sum of the steps' p99s, ms): ${idleParts.join('; ')}.`,
        '',
      );
  }
  const skeleton = floors.skeleton;
  if (skeleton) {
    const skParts: string[] = [];
    const skHit = skeleton.hit(concurrency);
    if (hit && skHit)
      skParts.push(
        `cache hit ours ${hitFigures(hit.summary)} vs. skeleton **${hitFigures(skHit.summary)}** (edge ${n(skHit.cpu_cores.edge, 2)} cores)`,
      );
    const skSinkHit = skeleton.sinkHit(concurrency);
    if (hit && skSinkHit)
      skParts.push(
        `the skeleton's hits with the sink storing each hit's row (as ours are) **${hitFigures(skSinkHit.summary)}** (edge ${n(skSinkHit.cpu_cores.edge, 2)}, sink ${n(skSinkHit.cpu_cores.sink, 2)}, Postgres ${n(skSinkHit.cpu_cores.postgres, 2)} cores)`,
      );
    const skMiss = skeleton.missOverhead(concurrency);
    const missO = result.overhead['pipeline-miss']?.[String(concurrency)];
    if (missO && skMiss)
      skParts.push(
        `cache-miss overhead p50 / p99 ours ${signed(missO.p50_ms.median)} / ${signed(missO.p99_ms.median)} vs. skeleton **${signed(skMiss.p50_ms.median)} / ${signed(skMiss.p99_ms.median)}**` +
          (skeleton.latency !== result.config.provider_latency_ms
            ? ` (provider at ${skeleton.latency} ms)`
            : ''),
      );
    if (skParts.length)
      out.push(
        `Skeleton pipeline (our two-hop design with the same libraries and nothing else, \`bench:floor\`; medians of its runs, ms): ${skParts.join('; ')}.`,
        '',
      );
  }
  return out;
}

function chart(result: OverheadResult): string | undefined {
  const targets = ['pipeline-miss', 'pipeline-hit', 'litellm', 'portkey'].filter((t) => result.overhead[t]);
  if (targets.length === 0) return undefined;
  const series = (figure: 'p50_ms' | 'p99_ms'): Series[] =>
    targets.map((target) => ({
      name: `${LABELS[target]!.replace(/\*/g, '')}`,
      color: COLORS[target]!,
      dashed: target === 'pipeline-hit',
      points: result.config.concurrencies.map((c) => [
        c,
        result.overhead[target]?.[String(c)]?.[figure].median ?? null,
      ]),
    }));
  return lineChart({
    title: 'Latency overhead over calling the provider directly',
    subtitle: `fake provider at ${result.config.provider_latency_ms} ms; median of ${result.config.runs} runs; ${result.machine.cores} cores, load average ${result.quiet_wait.load_average[0]} at start; log scale (values <= 0, i.e. faster than direct, are in the tables only)`,
    logY: true,
    xLabel: 'concurrent clients (log scale)',
    xTicks: result.config.concurrencies,
    panels: [
      { title: 'p50 overhead', yLabel: 'ms added (path − direct), log', series: series('p50_ms') },
      { title: 'p99 overhead', yLabel: 'ms added (path − direct), log', series: series('p99_ms') },
    ],
  });
}

/** Median over runs of the CPU all named processes spent per row, in µs. */
function cpuPerRow(runs: { rows?: number; cpu: CpuShare }[], rows: number): number | undefined {
  const each = runs.map(
    (r) => (Object.values(r.cpu.cores).reduce((a, b) => a + b, 0) * r.cpu.wall_s * 1e6) / (r.rows ?? rows),
  );
  return each.length ? median(each) : undefined;
}

function sinkFloorLines(sink: SinkResult): string[] {
  const floors = sink.floors;
  if (!floors) return [];
  const ours = cpuPerRow(sink.runs, sink.config.rows);
  const skeleton = cpuPerRow(floors.skeleton_sink.runs, sink.config.rows);
  const pg = floors.postgres_alone;
  const ceiling = (us: number | undefined) => (us ? `${n((sink.machine.cores * 1e6) / us, 0)} rows/s` : '—');
  return [
    `**Floors, after each run on the same rows:** the **skeleton sink** (bench/lib/floor-skeleton-sink.ts: libs/kafka's BatchRunner with the sink's fetch settings, JSON.parse, the sink's statement, commit; its own process) and **Postgres alone** (bench/lib/floor-sink.ts: the sink's statement from memory, ${sink.config.postgres_lanes ?? '?'} statements of ${sink.config.postgres_batch ?? '?'} rows at once, no Kafka, no decoding). CPU per row = every measured process (sink, Postgres, Kafka, Redis, the bench) over the run; the ceiling is what ${sink.machine.cores} cores allow at that cost with every process overlapped perfectly.`,
    '',
    '| contender | rows/s | rows/s steady (10–90%) | CPU µs a row, all processes | ceiling at that cost | CPU cores (run 1) |',
    '|---|---|---|---|---|---|',
    `| ours | **${cell(sink.summary.rows_per_s, 0)}** | ${cell(sink.summary.steady_rows_per_s, 0)} | ${n(ours, 1)} | ${ceiling(ours)} | ${sink.runs[0] ? cores(sink.runs[0].cpu.cores) : '—'} |`,
    `| skeleton sink | ${cell(floors.skeleton_sink.rows_per_s, 0)} | ${cell(floors.skeleton_sink.steady_rows_per_s, 0)} | ${n(skeleton, 1)} | ${ceiling(skeleton)} | ${floors.skeleton_sink.runs[0] ? cores(floors.skeleton_sink.runs[0].cpu.cores) : '—'} |`,
    `| Postgres alone | ${cell(pg.rows_per_s, 0)} | — | Postgres ${cell(pg.postgres_cpu_us_per_row)} + statement building ${cell(pg.client_cpu_us_per_row)} | — | ${pg.runs[0] ? cores(pg.runs[0].cpu.cores) : '—'} |`,
    '',
  ];
}

const lines: string[] = [];
const overhead = read<OverheadResult>('overhead');
const peers = read<OverheadResult>('peers');
const kafka = read<KafkaResult>('kafka');
const slow = read<SlowResult>('slow');
const sink = read<SinkResult>('sink');
const floor = read<FloorResult>('floor');

if (floor) lines.push('### Floors (`npm run bench:floor`)', '', ...floorSection(floor));
if (overhead) {
  lines.push(
    '### 1. Pipeline overhead (`npm run bench:overhead`), with the peers in the same run',
    '',
    ...overheadSection(overhead, 'Run', floorsOf(floor, overhead.config.provider_latency_ms)),
  );
  const svg = chart(overhead);
  if (svg) {
    writeFileSync(join(RESULTS_DIR, 'overhead-vs-concurrency.svg'), svg);
    lines.push('![overhead vs concurrency](results/overhead-vs-concurrency.svg)', '');
  }
}
if (kafka) {
  lines.push(
    '### 2. Kafka-native throughput (`npm run bench:kafka`)',
    '',
    context('Run', kafka),
    '',
    `${kafka.config.requests} requests produced straight to the requests topic, fake provider at ${kafka.config.provider_latency_ms} ms; time from the first produce to the last row in request_logs.`,
    '',
    "**Floor** (rows marked skeleton, each right after ours): the design's floor in the processors' place, as many skeleton workers (bench/lib/floor-skeleton-worker.ts: libs/kafka's ConcurrentRunner, a Redis GET, one OpenAI SDK call, the result produced; nothing else), our sink storing the rows. Rows marked **skeleton+work** (where measured): the same workers also doing, the cheapest way, the work the product requires of every answer (the answer validated against the schema by Ajv, the prompt's language detected by ELD in a worker thread, the answer written to the cache with one SET, the request counted and timed): what any implementation of the service costs on this machine. Worker CPU = the processors' (or skeleton workers') CPU per request over the run.",
    '',
    '| processors | contender | run | produce s | until last row s | requests/s overall | rows/s steady (10–90%) | worker CPU ms a request | failed rows | complete | CPU cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...kafka.runs.map(
      (r) =>
        `| ${r.processors} | ${r.contender ?? 'ours'} | ${r.run} | ${n(r.produce_s)} | ${n(r.elapsed_s)} | **${n(r.throughput_per_s)}** | ${n(r.steady_rows_per_s)} | ${n(r.worker_cpu_ms_per_request, 2)} | ${r.failed_rows} | ${r.done ? 'yes' : `no (${r.rows})`} | ${cores(r.cpu.cores)}; other ${r.cpu.other_cores.toFixed(2)} |`,
    ),
    '',
  );
  const rows = Object.entries(kafka.profiles ?? {}).flatMap(([proc, summary]) =>
    profileLines(`${proc} (1 processor)`, summary),
  );
  if (rows.length) lines.push(...PROFILE_HEADER, ...rows, '');
}
if (slow) {
  lines.push(
    '### 3. Slow provider, one processor (`npm run bench:slow`)',
    '',
    context('Run', slow),
    '',
    `Fake provider latency ${slow.config.provider_latency_ms} ms; in flight = LLM_MAX_CONCURRENCY (provider calls at once); records = PROCESSOR_MAX_IN_FLIGHT (a record is also in flight before and after its call); ideal = in flight ÷ latency.`,
    '',
    "Floor (bench/lib/floor-slow.ts, measured just before the run at the same bound, same calls, same fake provider, in the benchmark process): **transport** = undici.request alone; **SDK** = libs/llm's provider call as the processor makes it (ResilientProvider → OpenAI SDK over libs/llm's transport), without Kafka, the cache or validation; sustained req/s and efficiency as for the processor.",
    '',
    '| in flight | records | requests | ideal req/s | **sustained req/s** (10–90%) | overall req/s | efficiency | floor: transport | floor: SDK | failed | processor CPU cores | machine busy cores |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...slow.runs.map((r) => {
      const pct = (value: number | null | undefined) =>
        value === null || value === undefined ? '—' : `${Math.round(value * 1000) / 10}%`;
      const floor = (variant: string) => {
        const f = r.floor?.find((x) => x.variant === variant);
        return f ? `${n(f.steady_per_s)} (${pct(f.efficiency)}; call ${n(f.mean_call_ms, 0)} ms)` : '—';
      };
      return `| ${r.in_flight} | ${r.records_in_flight ?? r.in_flight} | ${r.requests} | ${r.ideal_per_s} | **${n(r.steady_per_s)}** | ${n(r.throughput_per_s)} | ${pct(r.efficiency)} | ${floor('transport')} | ${floor('sdk')} | ${r.failed} | ${n(r.cpu.cores.processor, 2)} | ${n(r.cpu.machine_busy_cores, 2)} |`;
    }),
    '',
  );
  const rows = Object.entries(slow.profiles ?? {}).flatMap(([proc, summary]) =>
    profileLines(`${proc} (largest in-flight)`, summary),
  );
  if (rows.length) lines.push(...PROFILE_HEADER, ...rows, '');
}
if (sink) {
  lines.push(
    '### 4. Sink (`npm run bench:sink`)',
    '',
    context('Run', sink),
    '',
    `${sink.config.rows} valid ResultMessage values pre-filled in the results topic; the sink starts; time until every row is in request_logs. Median of ${sink.config.runs} runs <sub>min–max</sub>.`,
    '',
    '| rows/s (from sink ready) | rows/s steady (10–90%) | s from ready | s from process start | CPU cores (run 1) |',
    '|---|---|---|---|---|',
    `| **${cell(sink.summary.rows_per_s, 0)}** | ${cell(sink.summary.steady_rows_per_s, 0)} | ${cell(sink.summary.from_ready_s, 2)} | ${cell(sink.summary.from_spawn_s, 2)} | ${sink.runs[0] ? cores(sink.runs[0].cpu.cores) : '—'} |`,
    '',
    ...sinkFloorLines(sink),
  );
  const backlog = sink.backlog;
  if (backlog) {
    lines.push(
      backlog.stalled
        ? `**Backlog run: ${backlog.rows_expected} rows (about ${Math.round(backlog.rows_expected / 12)} per partition) — the sink stalled** at ${backlog.rows} rows ` +
            `and retried the same batches ${backlog.retried_batches} times until stopped, each failing with \`${backlog.last_error ?? '?'}\`. ` +
            'See "Bottlenecks" below.'
        : `Backlog run: ${backlog.rows_expected} rows: ${backlog.rows} rows in ${n(backlog.from_ready_s, 2)} s, ${backlog.retried_batches} batch retries.`,
      '',
    );
  }
  const rows = Object.entries(sink.profiles ?? {}).flatMap(([proc, summary]) => profileLines(proc, summary));
  if (rows.length) lines.push(...PROFILE_HEADER, ...rows, '');
}
if (peers) lines.push('### 5. Peers alone (`npm run bench:peers`)', '', ...overheadSection(peers, 'Run'));
if (lines.length === 0) lines.push('No results yet: run `npm run bench:all`.', '');

const readmePath = join(BENCH_DIR, 'README.md');
const START =
  '<!-- bench:report:start (generated by bench/report.ts from bench/results/*.json; do not edit by hand) -->';
const END = '<!-- bench:report:end -->';
const readme = existsSync(readmePath)
  ? readFileSync(readmePath, 'utf8')
  : `# Benchmarks\n\n${START}\n${END}\n`;
const from = readme.indexOf(START);
const to = readme.indexOf(END);
if (from < 0 || to < from) throw new Error(`bench/README.md has no ${START} ... ${END} section`);
writeFileSync(
  readmePath,
  `${readme.slice(0, from + START.length)}\n\n${lines.join('\n')}\n${readme.slice(to)}`,
);
console.log(
  `rewrote the results section of bench/README.md${overhead ? ' and bench/results/overhead-vs-concurrency.svg' : ''}`,
);

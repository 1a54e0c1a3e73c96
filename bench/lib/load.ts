import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TOOLS_DIR } from './env.js';
import type { CpuShare } from './procs.js';

// autocannon and its HDR histogram come from bench/.tools (bench/setup.sh), not the repo's dependencies.
const toolsRequire = createRequire(join(TOOLS_DIR, 'package.json'));

interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  requests: AutocannonRequest[];
}
interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}
interface AutocannonResult {
  duration: number;
  latency: Percentiles;
  requests: { total: number; average: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}
interface AutocannonInstance {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void,
  ): void;
}
type Autocannon = (
  options: AutocannonOptions,
  done: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
interface Histogram {
  recordValue(value: number): void;
  getValueAtPercentile(percentile: number): number;
  readonly maxValue: number;
  readonly mean: number;
  readonly totalCount: number;
}
interface HdrModule {
  build(options: {
    lowestDiscernibleValue: number;
    highestTrackableValue: number;
    numberOfSignificantValueDigits: number;
  }): Histogram;
}

function loadTools(): { autocannon: Autocannon; hdr: HdrModule } {
  if (!existsSync(join(TOOLS_DIR, 'node_modules/autocannon'))) {
    throw new Error('autocannon is not installed: run bash bench/setup.sh');
  }
  return {
    autocannon: toolsRequire('autocannon') as Autocannon,
    hdr: toolsRequire('hdr-histogram-js') as HdrModule,
  };
}

/** Something to load: an HTTP endpoint and the body of the i-th request. */
export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: (i: number) => string;
}

export interface LoadFigures {
  requests_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  ok: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
  duration_s: number;
  /** autocannon's own histogram (whole milliseconds), as a cross-check */
  autocannon_ms: { p50: number; p90: number; p99: number; max: number };
  status_codes?: Record<string, number>;
}

let sequence = 0;

/**
 * One closed-loop run of autocannon: `connections` clients, each sending its next request when the
 * previous answer arrives, for `durationS`. Latencies of 2xx answers also go into an HDR histogram
 * with microsecond resolution (autocannon's own records whole milliseconds).
 */
export async function runLoad(target: Target, connections: number, durationS: number): Promise<LoadFigures> {
  const { autocannon, hdr } = loadTools();
  const url = new URL(target.url);
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 300_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.origin,
        connections,
        duration: durationS,
        timeout: 60,
        requests: [
          {
            method: 'POST',
            path: url.pathname,
            headers: { 'content-type': 'application/json', ...target.headers },
            setupRequest: (request) => ({ ...request, body: target.body(sequence++) }),
          },
        ],
      },
      (error, value) => (error ? reject(error) : resolve(value)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300)
        histogram.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  });
  const ms = (us: number) => Math.round(us / 10) / 100;
  const ok = result['2xx'];
  return {
    requests_per_s: Math.round((ok / result.duration) * 10) / 10,
    p50_ms: ms(histogram.getValueAtPercentile(50)),
    p90_ms: ms(histogram.getValueAtPercentile(90)),
    p99_ms: ms(histogram.getValueAtPercentile(99)),
    max_ms: ms(histogram.maxValue),
    mean_ms: ms(histogram.mean),
    ok,
    non_2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    duration_s: result.duration,
    autocannon_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    ...(result.non2xx > 0 && result.statusCodeStats
      ? {
          status_codes: Object.fromEntries(
            Object.entries(result.statusCodeStats).map(([code, stat]) => [code, stat.count]),
          ),
        }
      : {}),
  };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function spread(values: number[]): Spread {
  const round = (value: number) => Math.round(value * 100) / 100;
  return { median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)) };
}

export const FIGURES = ['requests_per_s', 'p50_ms', 'p90_ms', 'p99_ms', 'max_ms'] as const;
export type Figure = (typeof FIGURES)[number];

/** Median, min and max of each figure over repeated runs. */
export function summarise(
  runs: LoadFigures[],
): Record<Figure, Spread> & { errors: number; non_2xx: number; ok: number } {
  const out = Object.fromEntries(
    FIGURES.map((figure) => [figure, spread(runs.map((run) => run[figure]))]),
  ) as Record<Figure, Spread>;
  return {
    ...out,
    ok: runs.reduce((sum, run) => sum + run.ok, 0),
    errors: runs.reduce((sum, run) => sum + run.errors + run.timeouts, 0),
    non_2xx: runs.reduce((sum, run) => sum + run.non_2xx, 0),
  };
}

/** One measured run as the benchmarks log it: throughput, latencies, failures if any, CPU per process. */
export function describeRun(figures: LoadFigures, cpu: CpuShare): string {
  const failures = figures.errors + figures.timeouts;
  return (
    `${String(figures.requests_per_s).padStart(7)} req/s  p50 ${figures.p50_ms} p90 ${figures.p90_ms} p99 ${figures.p99_ms} max ${figures.max_ms} ms` +
    (figures.non_2xx || failures ? `  non-2xx ${figures.non_2xx} errors ${failures}` : '') +
    `  cpu ${Object.entries(cpu.cores)
      .map(([name, cores]) => `${name} ${cores}`)
      .join(', ')}, other ${cpu.other_cores}`
  );
}

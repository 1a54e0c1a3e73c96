import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TOOLS_DIR } from './env.js';
import { cpuMeter, type CpuShare, type PidGroup } from './procs.js';

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
  /** autocannon's own histogram (whole milliseconds, the whole run with its warm-up), as a cross-check */
  autocannon_ms: { p50: number; p90: number; p99: number; max: number };
  /**
   * The warm-up before the window, every client starting at once: what a burst of simultaneous
   * callers meets (answers to requests sent before the window opened).
   */
  warmup?: { seconds: number; ok: number; p50_ms: number; p99_ms: number; max_ms: number };
  status_codes?: Record<string, number>;
}

let sequence = 0;

export interface LoadOptions {
  /**
   * Seconds of load before the measured window, in the same run: the clients keep going from the
   * warm-up into the window, so the window sees the target in its steady state. (A warm-up run
   * followed by a fresh one starts every client at the same instant, and with a fixed provider
   * latency the clients then move in lock-step waves for a second or more: that wave, not the
   * steady state, set the p99 of a 10 s window.) Answers to requests sent before the window opened
   * are left out of the window's figures, and described in `warmup`.
   */
  warmupS?: number;
  /** Called when the measured window opens (start CPU meters here). */
  onMeasure?: () => void;
}

/**
 * One closed-loop run of autocannon: `connections` clients, each sending its next request when the
 * previous answer arrives, for `warmupS` + `durationS`. Latencies of 2xx answers to requests sent
 * in the measured window go into an HDR histogram with microsecond resolution (autocannon's own
 * records whole milliseconds, over the whole run).
 */
export async function runLoad(
  target: Target,
  connections: number,
  durationS: number,
  options: LoadOptions = {},
): Promise<LoadFigures> {
  const { autocannon, hdr } = loadTools();
  const url = new URL(target.url);
  const build = () =>
    hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 300_000_000,
      numberOfSignificantValueDigits: 3,
    });
  const histogram = build();
  const warmupHistogram = build();
  const warmupMs = (options.warmupS ?? 0) * 1000;
  // performance.now() when the window opened; until then every answer belongs to the warm-up.
  let opened = warmupMs > 0 ? Infinity : performance.now();
  let okInWindow = 0;
  let non2xxInWindow = 0;
  const statusCodes: Record<string, number> = {};
  const timer =
    warmupMs > 0
      ? setTimeout(() => {
          opened = performance.now();
          options.onMeasure?.();
        }, warmupMs)
      : undefined;
  if (warmupMs === 0) options.onMeasure?.();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: url.origin,
        connections,
        duration: (options.warmupS ?? 0) + durationS,
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
      const now = performance.now();
      const ok = statusCode >= 200 && statusCode < 300;
      if (now < opened) {
        if (ok) warmupHistogram.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
        return;
      }
      // Throughput counts every answer the window saw; latency only requests sent in it.
      if (ok) okInWindow += 1;
      else {
        non2xxInWindow += 1;
        statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      }
      if (ok && now - responseTimeMs >= opened)
        histogram.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)));
    });
  }).finally(() => clearTimeout(timer));
  const windowS = (performance.now() - (Number.isFinite(opened) ? opened : performance.now())) / 1000;
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    requests_per_s: windowS > 0 ? Math.round((okInWindow / windowS) * 10) / 10 : 0,
    p50_ms: ms(histogram.getValueAtPercentile(50)),
    p90_ms: ms(histogram.getValueAtPercentile(90)),
    p99_ms: ms(histogram.getValueAtPercentile(99)),
    max_ms: ms(histogram.maxValue),
    mean_ms: ms(histogram.mean),
    ok: okInWindow,
    non_2xx: non2xxInWindow,
    errors: result.errors,
    timeouts: result.timeouts,
    duration_s: Math.round(windowS * 100) / 100,
    autocannon_ms: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    ...(warmupMs > 0
      ? {
          warmup: {
            seconds: options.warmupS!,
            ok: warmupHistogram.totalCount,
            p50_ms: ms(warmupHistogram.getValueAtPercentile(50)),
            p99_ms: ms(warmupHistogram.getValueAtPercentile(99)),
            max_ms: ms(warmupHistogram.maxValue),
          },
        }
      : {}),
    ...(non2xxInWindow > 0 ? { status_codes: statusCodes } : {}),
  };
}

/**
 * `runLoad` with the CPU of `groups` metered over the measured window only (from the moment the
 * window opens to the end of the run); `since` is when the window opened.
 */
export async function runMetered(
  target: Target,
  connections: number,
  durationS: number,
  options: { warmupS: number; groups: PidGroup[] },
): Promise<{ figures: LoadFigures; cpu: CpuShare; since: Date }> {
  let since = new Date();
  let meter: ReturnType<typeof cpuMeter> | undefined;
  const figures = await runLoad(target, connections, durationS, {
    warmupS: options.warmupS,
    onMeasure: () => {
      since = new Date();
      meter = cpuMeter(options.groups);
    },
  });
  return { figures, cpu: meter!.stop(), since };
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

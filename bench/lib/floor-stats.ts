// Latency summaries of the floor benchmark (bench/floor.ts): every sample kept, in microseconds, and
// read off the sorted array (nearest rank), so no histogram rounding enters the figures.

export interface LatencySummary {
  n: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
}

/** A clock with sub-microsecond resolution, in microseconds. */
export const nowUs = (): number => performance.now() * 1000;

const ms = (us: number) => Math.round(us) / 1000;

/** Nearest-rank percentiles of samples in microseconds, reported in ms with µs resolution. */
export function summariseUs(samplesUs: number[]): LatencySummary {
  if (samplesUs.length === 0)
    return { n: 0, p50_ms: NaN, p90_ms: NaN, p99_ms: NaN, max_ms: NaN, mean_ms: NaN };
  const sorted = Float64Array.from(samplesUs).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50_ms: ms(at(50)),
    p90_ms: ms(at(90)),
    p99_ms: ms(at(99)),
    max_ms: ms(sorted[sorted.length - 1]!),
    mean_ms: ms(sum / sorted.length),
  };
}

export const fmt = (s: LatencySummary): string =>
  `p50 ${s.p50_ms} p90 ${s.p90_ms} p99 ${s.p99_ms} max ${s.max_ms} ms (n ${s.n})`;

/** CPU time (user + system) of this process over `work`, in ms. */
export async function cpuDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: T; cpu_ms: number; wall_ms: number }> {
  const started = performance.now();
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  return {
    result,
    cpu_ms: (used.user + used.system) / 1000,
    wall_ms: performance.now() - started,
  };
}

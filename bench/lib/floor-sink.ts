// The sink's Postgres floor (bench/sink.ts): the same results stored through the sink's own
// statement (@sps/results-sink insertResults: one INSERT … SELECT FROM unnest a batch, ON CONFLICT
// DO NOTHING) from memory, with nothing else: no Kafka fetch, no decoding, no contract check, no
// offsets. `lanes` batches are in flight at once, as the sink's runner stores up to
// partitionsConsumedConcurrently (3) partitions' batches at once. What it reaches is the most the
// sink could store on this machine with this table, its indexes and this statement; the Postgres
// CPU per row it measures is what every row costs whatever the sink does.
import type { ResultMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import { insertResults } from '@sps/results-sink';
import { cpuMeter, round, type CpuShare, type PidGroup } from './procs.js';

export interface PostgresFloor {
  rows: number;
  batch: number;
  lanes: number;
  rows_per_s: number;
  /** CPU per row of Postgres (all its processes) and of this process (building the statements) */
  postgres_cpu_us_per_row: number;
  client_cpu_us_per_row: number;
  cpu: CpuShare;
}

export async function postgresFloor(
  db: Database,
  results: ResultMessage[],
  options: { batch: number; lanes: number; groups: PidGroup[] },
): Promise<PostgresFloor> {
  const batches: ResultMessage[][] = [];
  for (let i = 0; i < results.length; i += options.batch) batches.push(results.slice(i, i + options.batch));
  let next = 0;
  const meter = cpuMeter([{ name: 'load-generator', pid: process.pid }, ...options.groups]);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: options.lanes }, async () => {
      while (next < batches.length) await insertResults(db, batches[next++]!);
    }),
  );
  const wall = (performance.now() - started) / 1000;
  const cpu = meter.stop();
  const perRow = (cores: number | undefined) => round(((cores ?? 0) * wall * 1e6) / results.length, 1);
  return {
    rows: results.length,
    batch: options.batch,
    lanes: options.lanes,
    rows_per_s: round(results.length / wall, 1),
    postgres_cpu_us_per_row: perRow(cpu.cores.postgres),
    client_cpu_us_per_row: perRow(cpu.cores['load-generator']),
    cpu,
  };
}

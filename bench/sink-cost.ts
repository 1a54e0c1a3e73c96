// What request_logs costs the sink per row: its indexes, its jsonb columns, and the bulk insert
// statement. Not part of `bench/run.sh`; run it against the local stack:
//
//   set -a; source <(bash deploy/local/stack.sh env); set +a; node --import tsx bench/sink-cost.ts
//
// Each case inserts SINK_COST_ROWS results (default 50,000; the bench/sink.ts message) in
// transactions of SINK_COST_BATCH rows (default 2,000, about what the sink fetches per partition)
// into a fresh copy of request_logs in a scratch schema (dropped at the end; the copy takes the
// live table's columns and index definitions from the catalog, so it follows the migrations), over
// one connection. It reports, per row, the wall time, the CPU of that connection's Postgres backend
// (from /proc, so other load on the machine barely moves it) and the CPU of this process (building
// the statement and its parameters): medians of SINK_COST_REPEATS runs (default 3).
//
// Cases: the insert methods on the full table (the multi-row VALUES the sink used before, `insertValues`, the
// unnest insert of @sps/results-sink, jsonb_to_recordset, and COPY into a temp table followed by
// INSERT … SELECT when `pg-copy-streams` resolves — it is not a dependency: point
// SINK_COST_COPY_MODULE at an install of it, e.g. `npm i --prefix /tmp/pcs pg-copy-streams` and
// SINK_COST_COPY_MODULE=/tmp/pcs/node_modules/pg-copy-streams/index.js); then, with the unnest
// insert, the table with only its primary key and the request_id unique index, with each other index
// alone on top of that, with all indexes but one; and the jsonb columns against text. Writes
// bench/results/sink-cost.json.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline as pump } from 'node:stream/promises';
import type { ResultMessage } from '@sps/contracts';
import type { DatabaseSchema } from '@sps/db';
import {
  arrayLiteral,
  insertResults as insertUnnest,
  REQUEST_LOG_COLUMNS,
  requestLogRow,
  type Cell,
} from '@sps/results-sink';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ensureStack, log, writeResult } from './lib/env.js';
import { INVOICE_SCHEMA } from './lib/pipeline.js';

const CONFIG = {
  rows: Number(process.env.SINK_COST_ROWS ?? 50_000),
  batch: Number(process.env.SINK_COST_BATCH ?? 2_000),
  repeats: Number(process.env.SINK_COST_REPEATS ?? 3),
  copy_module: process.env.SINK_COST_COPY_MODULE ?? 'pg-copy-streams',
};
const JSON_COLUMNS = ['request_params', 'response_data', 'error_details', 'attempts'];

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

type Method = 'values' | 'unnest' | 'unnest_arrays' | 'json_to_recordset' | 'jsonb_to_recordset' | 'copy';
interface Case {
  name: string;
  method: Method;
  /** secondary indexes of the live table to create (the primary key and request_id's are always there) */
  indexes: string[];
  jsonAsText?: boolean;
}
interface Measured {
  wall_us_per_row: number;
  server_cpu_us_per_row: number;
  client_cpu_us_per_row: number;
  rows_per_s: number;
}

const stack = ensureStack();
const schema = `sink_cost_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: stack.DATABASE_URL });
await admin.connect();
const { rows: indexRows } = await admin.query<{ indexname: string; indexdef: string }>(
  `select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename = 'request_logs' order by indexname`,
);
const keyIndexes = indexRows.filter((i) => /_pkey$|_request_id_key$/.test(i.indexname));
const secondary = indexRows.filter((i) => !keyIndexes.includes(i));
const copyModule = await import(CONFIG.copy_module).catch(() => undefined);
const copyFrom = copyModule?.from as ((text: string) => NodeJS.WritableStream & pg.Submittable) | undefined;

/** The Postgres backend's user+system CPU in ms (the database runs on this machine). */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
}

async function freshTable(c: Case): Promise<void> {
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.query(`create schema ${schema}`);
  await admin.query(`create table ${schema}.request_logs (like public.request_logs including defaults)`);
  await admin.query(`create sequence ${schema}.request_logs_id_seq owned by ${schema}.request_logs.id`);
  await admin.query(
    `alter table ${schema}.request_logs alter column id set default nextval('${schema}.request_logs_id_seq')`,
  );
  if (c.jsonAsText) {
    for (const column of JSON_COLUMNS)
      await admin.query(
        `alter table ${schema}.request_logs alter column ${column} drop default, alter column ${column} type text`,
      );
  }
  for (const index of [...keyIndexes, ...secondary.filter((i) => c.indexes.includes(i.indexname))])
    await admin.query(index.indexdef.replace(' ON public.request_logs ', ` ON ${schema}.request_logs `));
  await admin.query(`analyze ${schema}.request_logs`);
}

const recordsetStatement = (json: 'json' | 'jsonb') => {
  const names = REQUEST_LOG_COLUMNS.map(([name]) => name).join(', ');
  const defs = REQUEST_LOG_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
  return `insert into request_logs (${names}) select ${names} from ${json}_to_recordset($1::${json}) as r(${defs}) on conflict (request_id) do nothing returning request_id`;
};

// Every column as an array, the jsonb ones as jsonb[] (JSON text escaped into an array literal).
// With the json columns as text, they travel as text[] (no JSON parsing anywhere).
const unnestArraysStatement = (jsonAsText = false) => {
  const names = REQUEST_LOG_COLUMNS.map(([name]) => name).join(', ');
  const arrays = REQUEST_LOG_COLUMNS.map(
    ([, type], i) => `$${i + 1}::${jsonAsText && type === 'jsonb' ? 'text' : type}[]`,
  ).join(', ');
  return `insert into request_logs (${names}) select * from unnest(${arrays}) on conflict (request_id) do nothing returning request_id`;
};

const jsonText = (value: Cell | object): string | null => (value === null ? null : JSON.stringify(value));

function copyText(results: ResultMessage[]): string {
  const escape = (value: string) =>
    value.replace(/[\\\n\r\t]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  let text = '';
  for (const result of results) {
    const row = requestLogRow(result);
    text +=
      REQUEST_LOG_COLUMNS.map(([name]) => {
        const value = row[name];
        if (value === null) return '\\N';
        return escape(typeof value === 'object' ? JSON.stringify(value) : String(value));
      }).join('\t') + '\n';
  }
  return text;
}

async function insertBatch(
  c: Case,
  db: Kysely<DatabaseSchema>,
  client: pg.PoolClient,
  batch: ResultMessage[],
): Promise<number> {
  switch (c.method) {
    case 'values':
      return db.transaction().execute(async (trx) => (await insertValues(trx, batch)).length);
    case 'unnest':
      return db.transaction().execute(async (trx) => (await insertUnnest(trx, batch)).length);
    case 'unnest_arrays': {
      const rows = batch.map(requestLogRow);
      const params = REQUEST_LOG_COLUMNS.map(([name, type]) =>
        arrayLiteral(rows.map((row) => (type === 'jsonb' ? jsonText(row[name]) : (row[name] as Cell)))),
      );
      await client.query('begin');
      const { rowCount } = await client.query(unnestArraysStatement(c.jsonAsText), params);
      await client.query('commit');
      return rowCount ?? 0;
    }
    case 'json_to_recordset':
    case 'jsonb_to_recordset': {
      const rows = batch.map(requestLogRow);
      await client.query('begin');
      const { rowCount } = await client.query(
        recordsetStatement(c.method === 'json_to_recordset' ? 'json' : 'jsonb'),
        [JSON.stringify(rows)],
      );
      await client.query('commit');
      return rowCount ?? 0;
    }
    case 'copy': {
      const names = REQUEST_LOG_COLUMNS.map(([name]) => name).join(', ');
      const defs = REQUEST_LOG_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');
      await client.query('begin');
      await client.query(`create temp table if not exists sink_staging (${defs}) on commit delete rows`);
      await pump(
        Readable.from([copyText(batch)]),
        client.query(copyFrom!(`copy sink_staging (${names}) from stdin`)),
      );
      const { rowCount } = await client.query(
        `insert into request_logs (${names}) select ${names} from sink_staging on conflict (request_id) do nothing returning request_id`,
      );
      await client.query('commit');
      return rowCount ?? 0;
    }
  }
}

async function measure(c: Case, results: ResultMessage[]): Promise<Measured> {
  await freshTable(c);
  // One connection: the kysely methods and the raw ones use the same backend, whose CPU is read.
  const pool = new pg.Pool({
    connectionString: stack.DATABASE_URL,
    max: 1,
    options: `-c search_path=${schema}`,
  });
  const db = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  const client = await pool.connect();
  try {
    const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    client.release();
    const held = ['unnest_arrays', 'json_to_recordset', 'jsonb_to_recordset', 'copy'].includes(c.method)
      ? await pool.connect()
      : undefined;
    const server = backendCpuMs(pid);
    const cpu = process.cpuUsage();
    const started = performance.now();
    let stored = 0;
    for (let i = 0; i < results.length; i += CONFIG.batch)
      stored += await insertBatch(c, db, held!, results.slice(i, i + CONFIG.batch));
    const wallMs = performance.now() - started;
    const clientCpu = process.cpuUsage(cpu);
    const serverMs = backendCpuMs(pid) - server;
    held?.release();
    if (stored !== results.length) throw new Error(`${c.name}: stored ${stored} of ${results.length}`);
    const perRow = (ms: number) => Math.round((ms * 1000 * 10) / results.length) / 10;
    return {
      wall_us_per_row: perRow(wallMs),
      server_cpu_us_per_row: perRow(serverMs),
      client_cpu_us_per_row: perRow((clientCpu.user + clientCpu.system) / 1000),
      rows_per_s: Math.round(results.length / (wallMs / 1000)),
    };
  } finally {
    await db.destroy();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const all = secondary.map((i) => i.indexname);
const cases: Case[] = [
  { name: 'values (the sink before), all indexes', method: 'values', indexes: all },
  { name: 'unnest + json arrays (chosen), all indexes', method: 'unnest', indexes: all },
  { name: 'unnest (jsonb[] too), all indexes', method: 'unnest_arrays', indexes: all },
  { name: 'json_to_recordset, all indexes', method: 'json_to_recordset', indexes: all },
  { name: 'jsonb_to_recordset, all indexes', method: 'jsonb_to_recordset', indexes: all },
  ...(copyFrom ? [{ name: 'copy + insert select, all indexes', method: 'copy' as const, indexes: all }] : []),
  { name: 'unnest, pkey + request_id only', method: 'unnest', indexes: [] },
  ...all.map((index) => ({
    name: `unnest, pkey + request_id + ${index}`,
    method: 'unnest' as const,
    indexes: [index],
  })),
  ...all.map((index) => ({
    name: `unnest, all indexes but ${index}`,
    method: 'unnest' as const,
    indexes: all.filter((i) => i !== index),
  })),
  // jsonb against text: every column as an array (text[] for the json columns when they are text,
  // so that neither side parses JSON it does not have to)
  { name: 'jsonb: unnest (jsonb[] too), pkey + request_id only', method: 'unnest_arrays', indexes: [] },
  {
    name: 'text: unnest (text[]), pkey + request_id only, json columns as text',
    method: 'unnest_arrays',
    indexes: [],
    jsonAsText: true,
  },
  {
    name: 'text: unnest (text[]), all indexes, json columns as text',
    method: 'unnest_arrays',
    indexes: all,
    jsonAsText: true,
  },
];
const only = process.env.SINK_COST_ONLY;
const selected = only ? cases.filter((c) => c.name.includes(only)) : cases;

const figures: Record<string, Measured & { runs: Measured[] }> = {};
try {
  log(
    `sink-cost: ${CONFIG.rows} rows in batches of ${CONFIG.batch}, ${CONFIG.repeats} runs a case, scratch schema ${schema}${copyFrom ? '' : ' (no pg-copy-streams: COPY skipped)'}`,
  );
  for (const c of selected) {
    const runs: Measured[] = [];
    for (let run = 0; run < CONFIG.repeats; run++) {
      const tenant = `sink-cost-${run}`;
      const results = Array.from({ length: CONFIG.rows }, (_, i) => resultMessage(tenant, i));
      runs.push(await measure(c, results));
    }
    const summary: Measured = {
      wall_us_per_row: median(runs.map((r) => r.wall_us_per_row)),
      server_cpu_us_per_row: median(runs.map((r) => r.server_cpu_us_per_row)),
      client_cpu_us_per_row: median(runs.map((r) => r.client_cpu_us_per_row)),
      rows_per_s: median(runs.map((r) => r.rows_per_s)),
    };
    figures[c.name] = { ...summary, runs };
    log(
      `  ${c.name}: ${summary.rows_per_s} rows/s; per row: wall ${summary.wall_us_per_row} µs, postgres ${summary.server_cpu_us_per_row} µs, client ${summary.client_cpu_us_per_row} µs`,
    );
  }
} finally {
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
}
writeResult('sink-cost', {
  benchmark: 'sink-cost',
  at: new Date().toISOString(),
  config: CONFIG,
  indexes: Object.fromEntries(indexRows.map((i) => [i.indexname, i.indexdef])),
  figures,
});

/**
 * The sink's insert before this one, kept here as the baseline: Kysely's multi-row VALUES, 1,000
 * rows a statement (26 parameters a row, under Postgres's 65,535), jsonb values as JSON text.
 */
async function insertValues(db: Kysely<DatabaseSchema>, results: ResultMessage[]): Promise<unknown[]> {
  const jsonbColumns = ['request_params', 'response_data', 'error_details', 'attempts'];
  const inserted: unknown[] = [];
  for (let i = 0; i < results.length; i += 1_000) {
    const rows = results.slice(i, i + 1_000).map((result) => {
      const row: Record<string, unknown> = { ...requestLogRow(result) };
      for (const column of jsonbColumns) if (row[column] !== null) row[column] = JSON.stringify(row[column]);
      return row;
    });
    inserted.push(
      ...(await db
        .insertInto('request_logs')
        .values(rows as never)
        .onConflict((oc) => oc.column('request_id').doNothing())
        .returning('request_id')
        .execute()),
    );
  }
  return inserted;
}

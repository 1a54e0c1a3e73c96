import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SpsClient } from '../client.js';
import { AuthenticationError, SpsError } from '../errors.js';
import { UsageError } from './exit-codes.js';
import { Progress, type ProgressOptions } from './progress.js';

/** One line of the input: `"a prompt"` or `{"prompt", "schema"?, "options"?, "format"?, "id"?}`. */
export interface BatchItem {
  /** 1-based line number in the input file. */
  line: number;
  id?: string;
  prompt: string;
  schema?: Record<string, unknown>;
  options?: Record<string, unknown>;
  format?: 'json' | 'xml';
}

/** One line of the output, in completion order; `line` (and `id`) say which input it answers. */
export interface BatchRecord {
  line: number;
  id?: string;
  ok: boolean;
  request_id?: string;
  data?: unknown;
  validation_status?: string;
  provider_used?: string;
  model?: string;
  cached?: boolean;
  processing_time_ms?: number;
  error?: { code: string; message: string; status: number; fields?: unknown[] };
}

export interface BatchSummary {
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  seconds: number;
  out: string;
}

/** Reads a JSONL batch; any bad line is a usage error naming it (nothing is sent). */
export async function readBatchInput(path: string): Promise<BatchItem[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const items: BatchItem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new UsageError(`${path}:${i + 1}: not JSON (each line is "a prompt" or {"prompt": …})`);
    }
    const line = i + 1;
    if (typeof value === 'string' && value.length > 0) {
      items.push({ line, prompt: value });
      continue;
    }
    const item = value as Partial<BatchItem> & { id?: unknown };
    if (typeof item !== 'object' || item === null || typeof item.prompt !== 'string' || item.prompt === '') {
      throw new UsageError(`${path}:${line}: needs a non-empty "prompt"`);
    }
    const object = (v: unknown) =>
      v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v));
    if (!object(item.schema) || !object(item.options)) {
      throw new UsageError(`${path}:${line}: "schema" and "options" must be objects`);
    }
    if (item.format !== undefined && item.format !== 'json' && item.format !== 'xml') {
      throw new UsageError(`${path}:${line}: "format" is json or xml`);
    }
    items.push({
      line,
      prompt: item.prompt,
      ...(item.id === undefined ? {} : { id: String(item.id) }),
      ...(item.schema ? { schema: item.schema } : {}),
      ...(item.options ? { options: item.options } : {}),
      ...(item.format ? { format: item.format } : {}),
    });
  }
  return items;
}

const keyOf = (item: { line: number; id?: string }) =>
  item.id !== undefined ? `id:${item.id}` : `line:${item.line}`;

/** The input lines the output already answers successfully (by id when the line has one, else by line). */
export async function alreadyDone(out: string): Promise<Set<string>> {
  const done = new Set<string>();
  if (!existsSync(out)) return done;
  for (const raw of (await readFile(out, 'utf8')).split('\n')) {
    if (raw.trim() === '') continue;
    try {
      const record = JSON.parse(raw) as BatchRecord;
      if (typeof record.line !== 'number') continue;
      if (record.ok) done.add(keyOf(record));
      else done.delete(keyOf(record)); // the last word counts
    } catch {
      // a line cut short by a crash: that item runs again
    }
  }
  return done;
}

export interface RunBatchOptions {
  input: string;
  out: string;
  concurrency: number;
  schema?: Record<string, unknown>;
  options?: Record<string, unknown>;
  format?: 'json' | 'xml';
  progress: ProgressOptions;
}

/**
 * Runs every line not yet answered successfully in `out`, `concurrency` at a time, appending one
 * record per line as it finishes (so an interrupted run resumes where it stopped; failed lines run
 * again). A refused key stops the run (every line would fail the same way).
 */
export async function runBatch(client: SpsClient, options: RunBatchOptions): Promise<BatchSummary> {
  const items = await readBatchInput(options.input);
  const done = await alreadyDone(options.out);
  const todo = items.filter((item) => !done.has(keyOf(item)));
  const started = Date.now();
  const state = {
    done: items.length - todo.length,
    total: items.length,
    ok: 0,
    failed: 0,
    skipped: items.length - todo.length,
  };
  const progress = new Progress({ label: 'batch', ...options.progress });
  progress.update(state);
  const out = createWriteStream(options.out, { flags: 'a' });
  const opened = new Promise<void>((resolve, reject) =>
    out.once('open', () => resolve()).once('error', reject),
  );
  await opened;
  const write = (record: BatchRecord) =>
    new Promise<void>((resolve, reject) =>
      out.write(`${JSON.stringify(record)}\n`, (e) => (e ? reject(e) : resolve())),
    );
  const abort = new AbortController();
  let fatal: unknown;
  let next = 0;
  const worker = async () => {
    while (!abort.signal.aborted && next < todo.length) {
      const item = todo[next++]!;
      const record = await runOne(client, item, options, abort.signal).catch((error: unknown) => {
        if (error instanceof AuthenticationError) {
          fatal ??= error;
          abort.abort();
        }
        return failure(item, error);
      });
      if (abort.signal.aborted && fatal) break;
      await write(record);
      state.done++;
      if (record.ok) state.ok++;
      else state.failed++;
      progress.update(state);
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(options.concurrency, todo.length)) }, worker),
    );
  } finally {
    progress.finish();
    await new Promise<void>((resolve) => out.end(resolve));
  }
  if (fatal) throw fatal;
  return {
    total: items.length,
    ok: state.ok,
    failed: state.failed,
    skipped: state.skipped,
    seconds: (Date.now() - started) / 1000,
    out: options.out,
  };
}

async function runOne(
  client: SpsClient,
  item: BatchItem,
  options: RunBatchOptions,
  signal: AbortSignal,
): Promise<BatchRecord> {
  const schema = item.schema ?? options.schema;
  const format = item.format ?? options.format;
  const merged = { ...options.options, ...item.options };
  const answer = await client.analyze(
    {
      prompt: item.prompt,
      ...(schema ? { schema } : {}),
      ...(format ? { format } : {}),
      ...(Object.keys(merged).length > 0 ? { options: merged } : {}),
    } as Parameters<SpsClient['analyze']>[0],
    { signal },
  );
  return {
    line: item.line,
    ...(item.id !== undefined ? { id: item.id } : {}),
    ok: true,
    request_id: answer.request_id,
    data: answer.data,
    validation_status: answer.validation_status,
    provider_used: answer.provider_used,
    model: answer.model,
    cached: answer.cached,
    processing_time_ms: answer.processing_time_ms,
  };
}

function failure(item: BatchItem, error: unknown): BatchRecord {
  const sps = error instanceof SpsError ? error : undefined;
  return {
    line: item.line,
    ...(item.id !== undefined ? { id: item.id } : {}),
    ok: false,
    ...(sps?.requestId ? { request_id: sps.requestId } : {}),
    error: {
      code: sps?.code ?? 'CLIENT_ERROR',
      message: error instanceof Error ? error.message : String(error),
      status: sps?.status ?? 0,
      ...(sps && sps.fields.length > 0 ? { fields: sps.fields } : {}),
    },
  };
}

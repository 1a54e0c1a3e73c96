/**
 * The pure parts of `npm run dlq`: argument parsing, reading the `dlq-*` headers of a dead letter,
 * choosing what to read and replay, and formatting. Nothing here talks to Kafka.
 */
import { parseArgs } from 'node:util';
import type { IHeaders, Message } from 'kafkajs';
import { DLQ_HEADERS, DLQ_TOPICS, topicNames, type TopicKey } from '@sps/contracts';

export type DlqName = 'requests' | 'results' | 'webhooks';
export type DlqTopicKey = keyof typeof DLQ_TOPICS;

/** The short names the CLI accepts, each with its DLQ topic. */
export const DLQ_NAMES: Record<DlqName, DlqTopicKey> = {
  requests: 'requestsDlq',
  results: 'resultsDlq',
  webhooks: 'webhooksDlq',
};
const NAMES = Object.keys(DLQ_NAMES) as DlqName[];

/** The header a replayed record carries: `<dlq topic>:<partition>:<offset>` it was replayed from. */
export const REPLAYED_FROM_HEADER = 'dlq-replayed-from';

export const DEFAULT_LIMIT = 20;
export const DEFAULT_TIMEOUT_SECONDS = 15;

/** A mistake in the command line, or a request the CLI refuses: exit 2, one line, no stack. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Print the usage text after the message. */
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export const USAGE = `usage: npm run dlq -- <command> [options]

Inspect and replay the dead-letter topics (${NAMES.join(', ')}).

commands:
  list [--topic T] [--limit N] [--json]     records per DLQ and the latest N of each (default ${DEFAULT_LIMIT})
  show T:PARTITION:OFFSET [--json]           one dead letter as JSON (key, headers, value, dlq fields)
  replay T (--offset P:O ... | --all) [--dry-run]
                                             produce records back to their dlq-source-topic, without
                                             the dlq-* headers, with dlq-replayed-from: <dlq>:<p>:<o>

options:
  --topic T          ${NAMES.join(' | ')}
  --limit N          records shown per DLQ by list (default ${DEFAULT_LIMIT})
  --offset P:O       a record of the DLQ to replay (repeat, or comma-separate, for several)
  --all              replay every record of the DLQ
  --dry-run          print what replay would produce; produce nothing
  --json             machine-readable output (list, show)
  --timeout S        give up after S seconds (default ${DEFAULT_TIMEOUT_SECONDS})
  --verbose          kafkajs warnings and errors on stderr
  -h, --help         this text

environment: KAFKA_BROKERS (default 127.0.0.1:19092), KAFKA_TOPIC_PREFIX (default empty)
exit status: 0 done, 1 failed (Kafka unreachable, timeout), 2 usage error or refused replay`;

export interface CommonOptions {
  timeoutMs: number;
  verbose: boolean;
}

export interface RecordRef {
  partition: number;
  offset: bigint;
}

export type Command =
  | { kind: 'help' }
  | ({ kind: 'list'; topics: DlqName[]; limit: number; json: boolean } & CommonOptions)
  | ({ kind: 'show'; topic: DlqName; ref: RecordRef; json: boolean } & CommonOptions)
  | ({
      kind: 'replay';
      topic: DlqName;
      selection: { all: true } | { all: false; refs: RecordRef[] };
      dryRun: boolean;
    } & CommonOptions);

const OPTIONS = {
  topic: { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command takes (the common ones aside). */
const ALLOWED: Record<'list' | 'show' | 'replay', (keyof typeof OPTIONS)[]> = {
  list: ['topic', 'limit', 'json'],
  show: ['json'],
  replay: ['offset', 'all', 'dry-run'],
};
const COMMON: (keyof typeof OPTIONS)[] = ['timeout', 'verbose', 'help'];

/** Parses the arguments after `dlq`; throws UsageError for anything it cannot run. */
export function parseCommand(argv: string[]): Command {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeParseError(error), true);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('missing command (list, show or replay)', true);
  if (command !== 'list' && command !== 'show' && command !== 'replay')
    throw new UsageError(`unknown command '${command}' (list, show or replay)`, true);
  for (const name of Object.keys(values) as (keyof typeof OPTIONS)[])
    if (!ALLOWED[command].includes(name) && !COMMON.includes(name))
      throw new UsageError(`${command} does not take --${name}`, true);
  const common: CommonOptions = {
    timeoutMs: positiveInteger(values.timeout, '--timeout', DEFAULT_TIMEOUT_SECONDS, 3_600) * 1_000,
    verbose: values.verbose ?? false,
  };

  if (command === 'list') {
    if (rest.length > 0) throw new UsageError(`list takes no arguments, got '${rest.join(' ')}'`, true);
    return {
      kind: 'list',
      topics: values.topic === undefined ? NAMES : [dlqName(values.topic)],
      limit: positiveInteger(values.limit, '--limit', DEFAULT_LIMIT, 10_000),
      json: values.json ?? false,
      ...common,
    };
  }
  if (command === 'show') {
    if (rest.length !== 1) throw new UsageError('show needs one record: T:PARTITION:OFFSET', true);
    const { topic, ref } = parseTopicRef(rest[0]!);
    return { kind: 'show', topic, ref, json: values.json ?? false, ...common };
  }
  if (rest.length !== 1) throw new UsageError(`replay needs one topic (${NAMES.join(', ')})`, true);
  const topic = dlqName(rest[0]!);
  const offsets = (values.offset ?? []).flatMap((value) => value.split(',')).filter((v) => v !== '');
  if (values.all && offsets.length > 0)
    throw new UsageError('replay takes --all or --offset, not both', true);
  if (!values.all && offsets.length === 0)
    throw new UsageError('replay needs --offset P:O (one or more) or --all', true);
  return {
    kind: 'replay',
    topic,
    selection: values.all ? { all: true } : { all: false, refs: uniqueRefs(offsets.map(parseRef)) },
    dryRun: values['dry-run'] ?? false,
    ...common,
  };
}

function describeParseError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /'([^']*)'/.exec(message ?? '')?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) return `unknown option '${quoted}'`;
  // "Option '--limit <value>' argument missing" and the like: keep the first sentence.
  return (message ?? 'invalid arguments').split(/\.\s|\n/)[0]!.replace(/\.$/, '');
}

function dlqName(value: string): DlqName {
  if ((NAMES as string[]).includes(value)) return value as DlqName;
  throw new UsageError(`unknown DLQ '${value}' (one of: ${NAMES.join(', ')})`);
}

function positiveInteger(value: string | undefined, option: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new UsageError(`${option} must be a whole number from 1 to ${max}, got '${value}'`);
  return Number(value);
}

/** `P:O`, e.g. `0:42`. */
export function parseRef(value: string): RecordRef {
  const match = /^(\d+):(\d+)$/.exec(value.trim());
  if (!match) throw new UsageError(`'${value}' is not PARTITION:OFFSET (e.g. 0:42)`);
  return { partition: Number(match[1]), offset: BigInt(match[2]!) };
}

/** `T:P:O`, e.g. `requests:0:42`. */
export function parseTopicRef(value: string): { topic: DlqName; ref: RecordRef } {
  const separator = value.indexOf(':');
  if (separator < 0) throw new UsageError(`'${value}' is not T:PARTITION:OFFSET (e.g. requests:0:42)`);
  return { topic: dlqName(value.slice(0, separator)), ref: parseRef(value.slice(separator + 1)) };
}

function uniqueRefs(refs: RecordRef[]): RecordRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = refText(ref);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function refText(ref: { partition: number; offset: bigint | string }): string {
  return `${ref.partition}:${ref.offset}`;
}

// ---------------------------------------------------------------------------------------------
// Records

/** One record as read from a DLQ topic (the fields of kafkajs' KafkaMessage that matter here). */
export interface RawRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/** What the `dlq-*` headers say; a header that is missing (older or foreign records) is null. */
export interface DlqFields {
  reason: string | null;
  errorCode: string | null;
  stage: string | null;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
  failedAt: string | null;
  attempts: number | null;
}

export interface DeadLetter extends RawRecord {
  /** The DLQ topic it was read from (with the prefix). */
  topic: string;
  headers: IHeaders;
  dlq: DlqFields;
}

export function readDeadLetter(topic: string, record: RawRecord): DeadLetter {
  const headers = record.headers ?? {};
  const text = (name: string) => headerText(headers, name) ?? null;
  const integer = (name: string) => {
    const value = text(name);
    return value !== null && /^\d+$/.test(value.trim()) ? Number(value) : null;
  };
  return {
    ...record,
    topic,
    headers,
    dlq: {
      reason: text(DLQ_HEADERS.reason),
      errorCode: text(DLQ_HEADERS.errorCode),
      stage: text(DLQ_HEADERS.stage),
      sourceTopic: text(DLQ_HEADERS.sourceTopic),
      sourcePartition: integer(DLQ_HEADERS.sourcePartition),
      sourceOffset: text(DLQ_HEADERS.sourceOffset),
      failedAt: text(DLQ_HEADERS.failedAt),
      attempts: integer(DLQ_HEADERS.attempts),
    },
  };
}

/** The first value of a header as utf-8 text. */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : first.toString();
}

/** Headers as utf-8 strings; a header repeated in the record becomes an array. */
export function headersAsStrings(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    if (raw === undefined) continue;
    out[name] = Array.isArray(raw) ? raw.map((value) => value.toString()) : raw.toString();
  }
  return out;
}

export function isDlqHeader(name: string): boolean {
  return name.toLowerCase().startsWith('dlq-');
}

/** The original headers: every `dlq-*` header removed, the others untouched (same bytes). */
export function stripDlqHeaders(headers: IHeaders | undefined): IHeaders {
  const out: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined && !isDlqHeader(name)) out[name] = value;
  return out;
}

/** The record to produce for a replay: original key, value and headers, plus where it came from. */
export function replayMessage(letter: DeadLetter): Message {
  return {
    key: letter.key,
    value: letter.value,
    headers: {
      ...stripDlqHeaders(letter.headers),
      [REPLAYED_FROM_HEADER]: `${letter.topic}:${letter.partition}:${letter.offset}`,
    },
  };
}

export type ValueView =
  | { valueFormat: 'null'; value: null }
  | { valueFormat: 'json'; value: unknown }
  | { valueFormat: 'utf-8'; value: string }
  | { valueFormat: 'base64'; value: string };

/** The value parsed as JSON when it parses, else its utf-8 text, else (not utf-8) base64. */
export function describeValue(value: Buffer | null): ValueView {
  if (value === null) return { valueFormat: 'null', value: null };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return { valueFormat: 'base64', value: value.toString('base64') };
  }
  try {
    return { valueFormat: 'json', value: JSON.parse(text) as unknown };
  } catch {
    return { valueFormat: 'utf-8', value: text };
  }
}

function isoTimestamp(timestamp: string): string | null {
  const ms = Number(timestamp);
  return Number.isFinite(ms) && ms >= 0 ? new Date(ms).toISOString() : null;
}

/** `show`: the whole record. */
export function showView(letter: DeadLetter) {
  return {
    topic: letter.topic,
    partition: letter.partition,
    offset: letter.offset,
    timestamp: isoTimestamp(letter.timestamp),
    key: letter.key === null ? null : letter.key.toString('utf8'),
    headers: headersAsStrings(letter.headers),
    ...describeValue(letter.value),
    dlq: letter.dlq,
  };
}

export function formatShow(letter: DeadLetter, json: boolean): string {
  return JSON.stringify(showView(letter), null, json ? undefined : 2);
}

// ---------------------------------------------------------------------------------------------
// What to read

/** Watermarks of one partition: records are at offsets [low, high). */
export interface PartitionOffsets {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Offsets to read from one partition: [from, to). */
export interface ReadRange {
  partition: number;
  from: bigint;
  to: bigint;
}

export function totalRecords(partitions: PartitionOffsets[]): bigint {
  return partitions.reduce((sum, p) => sum + (p.high > p.low ? p.high - p.low : 0n), 0n);
}

/** The last `limit` records of each partition (empty partitions left out). */
export function latestRanges(partitions: PartitionOffsets[], limit: number): ReadRange[] {
  return partitions
    .map(({ partition, low, high }) => {
      const from = high - BigInt(limit) > low ? high - BigInt(limit) : low;
      return { partition, from, to: high };
    })
    .filter((range) => range.from < range.to);
}

/** Every record of every partition. */
export function allRanges(partitions: PartitionOffsets[]): ReadRange[] {
  return partitions
    .map(({ partition, low, high }) => ({ partition, from: low, to: high }))
    .filter((range) => range.from < range.to);
}

/** One range per requested record; refuses a record that is not (or no longer) in its partition. */
export function refRanges(topic: string, partitions: PartitionOffsets[], refs: RecordRef[]): ReadRange[] {
  return refs.map((ref) => {
    const found = partitions.find((p) => p.partition === ref.partition);
    if (!found)
      throw new UsageError(
        `${topic} has no partition ${ref.partition} (partitions 0..${partitions.length - 1})`,
      );
    if (ref.offset < found.low || ref.offset >= found.high)
      throw new UsageError(
        `${topic} has no record at ${refText(ref)} (partition ${ref.partition} holds ` +
          (found.low < found.high ? `offsets ${found.low}..${found.high - 1n})` : 'no records)'),
      );
    return { partition: ref.partition, from: ref.offset, to: ref.offset + 1n };
  });
}

/** Merges ranges of the same partition that touch or overlap, so that each is read once. */
export function mergeRanges(ranges: ReadRange[]): ReadRange[] {
  const sorted = [...ranges].sort((a, b) =>
    a.partition !== b.partition ? a.partition - b.partition : a.from < b.from ? -1 : a.from > b.from ? 1 : 0,
  );
  const out: ReadRange[] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && last.partition === range.partition && range.from <= last.to) {
      if (range.to > last.to) last.to = range.to;
    } else out.push({ ...range });
  }
  return out;
}

/** Oldest first: by the time the record was written to the DLQ, then partition and offset. */
export function compareRecords(a: RawRecord, b: RawRecord): number {
  const byTime = Number(a.timestamp) - Number(b.timestamp);
  if (byTime !== 0 && Number.isFinite(byTime)) return byTime;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const [x, y] = [BigInt(a.offset), BigInt(b.offset)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The `limit` most recent records, oldest first. */
export function latestRecords<T extends RawRecord>(records: T[], limit: number): T[] {
  return [...records].sort(compareRecords).slice(-limit);
}

/** Only the records asked for, in the order they were asked for; throws if one was not read. */
export function selectRecords<T extends RawRecord>(topic: string, records: T[], refs: RecordRef[]): T[] {
  const byRef = new Map(records.map((record) => [refText(record), record]));
  return refs.map((ref) => {
    const record = byRef.get(refText(ref));
    if (!record) throw new UsageError(`${topic} has no record at ${refText(ref)}`);
    return record;
  });
}

// ---------------------------------------------------------------------------------------------
// Replay

/** Topics a replay may write to: the service's topics for the prefix, except the DLQs themselves. */
export function replayTargets(prefix: string): Set<string> {
  const names = topicNames(prefix);
  return new Set(
    (Object.keys(names) as TopicKey[]).filter((key) => !(key in DLQ_TOPICS)).map((key) => names[key]),
  );
}

export interface ReplayPlan {
  /** Records grouped by the topic they go back to, each group in DLQ order. */
  byTarget: Map<string, DeadLetter[]>;
  count: number;
}

/**
 * Checks every record before anything is produced: each needs a `dlq-source-topic` that is one
 * of the service's topics for this prefix. Throws UsageError listing every refused record.
 */
export function planReplay(letters: DeadLetter[], prefix: string): ReplayPlan {
  const targets = replayTargets(prefix);
  const problems: string[] = [];
  const byTarget = new Map<string, DeadLetter[]>();
  for (const letter of [...letters].sort(compareByPosition)) {
    const source = letter.dlq.sourceTopic;
    const where = `${letter.topic}:${refText(letter)}`;
    if (source === null) problems.push(`${where} has no ${DLQ_HEADERS.sourceTopic} header`);
    else if (!targets.has(source))
      problems.push(
        `${where} comes from '${source}', which is not a topic of this service` +
          (prefix ? ` with prefix '${prefix}'` : ''),
      );
    else byTarget.set(source, [...(byTarget.get(source) ?? []), letter]);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new UsageError(`refusing to replay: ${shown}${more}; nothing was produced`);
  }
  return { byTarget, count: letters.length };
}

function compareByPosition(a: RawRecord, b: RawRecord): number {
  if (a.partition !== b.partition) return a.partition - b.partition;
  const [x, y] = [BigInt(a.offset), BigInt(b.offset)];
  return x < y ? -1 : x > y ? 1 : 0;
}

export function formatReplayLine(letter: DeadLetter, target: string, dryRun: boolean): string {
  const key = letter.key === null ? 'null' : oneLine(letter.key.toString('utf8'), 60);
  return `${dryRun ? 'would replay' : 'replayed'} ${refText(letter)} -> ${target}  key=${key}`;
}

// ---------------------------------------------------------------------------------------------
// list

export interface DlqSummary {
  name: DlqName;
  topic: string;
  /** False when the topic does not exist (wrong prefix, or never created). */
  exists: boolean;
  partitions: PartitionOffsets[];
  /** The latest records, oldest first. */
  records: DeadLetter[];
}

/** Whitespace runs (newlines included) become one space; longer text ends with an ellipsis. */
export function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Rows as columns padded to the widest cell (the last column is not padded). */
export function alignColumns(rows: string[][], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index]!)))
        .join('  ')
        .trimEnd(),
  );
}

export function formatList(summaries: DlqSummary[]): string {
  const lines: string[] = [];
  for (const summary of summaries) {
    if (lines.length > 0) lines.push('');
    if (!summary.exists) {
      lines.push(`${summary.name}  ${summary.topic}  topic does not exist`);
      continue;
    }
    const total = totalRecords(summary.partitions);
    lines.push(`${summary.name}  ${summary.topic}  ${total} record${total === 1n ? '' : 's'}`);
    if (summary.records.length === 0) continue;
    const dash = (value: string | null) => value ?? '-';
    lines.push(
      ...alignColumns(
        [
          ['PARTITION:OFFSET', 'FAILED AT', 'STAGE', 'ERROR CODE', 'SOURCE TOPIC', 'REASON'],
          ...summary.records.map((record) => [
            refText(record),
            dash(record.dlq.failedAt),
            dash(record.dlq.stage),
            dash(record.dlq.errorCode),
            dash(record.dlq.sourceTopic),
            record.dlq.reason === null ? '-' : oneLine(record.dlq.reason),
          ]),
        ],
        '  ',
      ),
    );
    if (BigInt(summary.records.length) < total)
      lines.push(`  (latest ${summary.records.length} of ${total}; --limit N for more)`);
  }
  return lines.join('\n');
}

export function listView(summaries: DlqSummary[]) {
  return {
    topics: summaries.map((summary) => ({
      name: summary.name,
      topic: summary.topic,
      exists: summary.exists,
      total: Number(totalRecords(summary.partitions)),
      partitions: summary.partitions.map(({ partition, low, high }) => ({
        partition,
        low: low.toString(),
        high: high.toString(),
      })),
      records: summary.records.map((record) => ({
        partition: record.partition,
        offset: record.offset,
        timestamp: isoTimestamp(record.timestamp),
        key: record.key === null ? null : record.key.toString('utf8'),
        dlq: record.dlq,
      })),
    })),
  };
}

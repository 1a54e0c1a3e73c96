import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, topicNames } from '@sps/contracts';
import {
  UsageError,
  allRanges,
  describeValue,
  formatList,
  formatShow,
  headersAsStrings,
  latestRanges,
  latestRecords,
  listView,
  mergeRanges,
  oneLine,
  parseCommand,
  planReplay,
  readDeadLetter,
  refRanges,
  replayMessage,
  selectRecords,
  stripDlqHeaders,
  totalRecords,
  type RawRecord,
} from '../src/cli/dlq-format.js';

const topics = topicNames('p.');

function raw(partition: number, offset: number, extra: Partial<RawRecord> = {}): RawRecord {
  return {
    partition,
    offset: String(offset),
    timestamp: String(1_750_000_000_000 + offset * 1_000 + partition),
    key: Buffer.from(`key-${partition}-${offset}`),
    value: Buffer.from(JSON.stringify({ n: offset })),
    headers: {
      'correlation-id': Buffer.from(`c-${offset}`),
      [DLQ_HEADERS.reason]: Buffer.from(`reason ${partition}:${offset}`),
      [DLQ_HEADERS.errorCode]: Buffer.from('CONTRACT_VIOLATION'),
      [DLQ_HEADERS.stage]: Buffer.from('decode'),
      [DLQ_HEADERS.sourceTopic]: Buffer.from(topics.requests),
      [DLQ_HEADERS.sourcePartition]: Buffer.from('7'),
      [DLQ_HEADERS.sourceOffset]: Buffer.from('123'),
      [DLQ_HEADERS.failedAt]: Buffer.from('2025-06-01T10:00:00.000Z'),
      [DLQ_HEADERS.attempts]: Buffer.from('2'),
    },
    ...extra,
  };
}

const usage = (argv: string[]) => {
  try {
    parseCommand(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
};

describe('parseCommand', () => {
  it('reads list, show and replay with their defaults', () => {
    expect(parseCommand(['list'])).toEqual({
      kind: 'list',
      topics: ['requests', 'results', 'webhooks'],
      limit: 20,
      json: false,
      timeoutMs: 15_000,
      verbose: false,
    });
    expect(
      parseCommand(['list', '--topic', 'webhooks', '--limit', '5', '--json', '--timeout', '3']),
    ).toMatchObject({ topics: ['webhooks'], limit: 5, json: true, timeoutMs: 3_000 });
    expect(parseCommand(['show', 'results:2:41', '--json'])).toMatchObject({
      kind: 'show',
      topic: 'results',
      ref: { partition: 2, offset: 41n },
      json: true,
    });
    expect(
      parseCommand(['replay', 'requests', '--offset', '0:1', '--offset', '2:5,0:1', '--dry-run']),
    ).toEqual({
      kind: 'replay',
      topic: 'requests',
      selection: {
        all: false,
        refs: [
          { partition: 0, offset: 1n },
          { partition: 2, offset: 5n },
        ],
      },
      dryRun: true,
      timeoutMs: 15_000,
      verbose: false,
    });
    expect(parseCommand(['replay', 'webhooks', '--all'])).toMatchObject({
      selection: { all: true },
      dryRun: false,
    });
  });

  it('answers help wherever it is asked', () => {
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommand(['replay', '-h', '--bogus'])).toEqual({ kind: 'help' });
  });

  it('refuses what it cannot run, in one line', () => {
    expect(usage(['list', '--bogus'])).toBe("unknown option '--bogus'");
    expect(usage([])).toMatch(/missing command/);
    expect(usage(['purge'])).toMatch(/unknown command 'purge'/);
    expect(usage(['list', '--topic', 'replies'])).toBe(
      "unknown DLQ 'replies' (one of: requests, results, webhooks)",
    );
    expect(usage(['list', '--limit', '0'])).toMatch(/--limit must be a whole number/);
    expect(usage(['list', '--limit', 'x'])).toMatch(/--limit must be a whole number/);
    expect(usage(['list', '--limit'])).toMatch(/argument missing/);
    expect(usage(['list', '--dry-run'])).toBe('list does not take --dry-run');
    expect(usage(['show'])).toMatch(/show needs one record/);
    expect(usage(['show', 'requests:0'])).toMatch(/is not PARTITION:OFFSET/);
    expect(usage(['show', 'requests:0:-1'])).toMatch(/is not PARTITION:OFFSET/);
    expect(usage(['show', 'requests:0:1', '--all'])).toBe('show does not take --all');
    expect(usage(['replay', 'requests'])).toMatch(/--offset P:O .* or --all/);
    expect(usage(['replay', 'requests', '--all', '--offset', '0:1'])).toMatch(/not both/);
    expect(usage(['replay', 'requests', '--json', '--all'])).toBe('replay does not take --json');
    for (const argv of [['list', '--bogus'], ['list', '--limit'], ['purge']])
      expect(usage(argv)).not.toContain('\n');
  });
});

describe('dead letters', () => {
  it('reads the dlq-* headers; missing ones are null', () => {
    const letter = readDeadLetter(topics.requestsDlq, raw(1, 4));
    expect(letter.dlq).toEqual({
      reason: 'reason 1:4',
      errorCode: 'CONTRACT_VIOLATION',
      stage: 'decode',
      sourceTopic: topics.requests,
      sourcePartition: 7,
      sourceOffset: '123',
      failedAt: '2025-06-01T10:00:00.000Z',
      attempts: 2,
    });
    expect(readDeadLetter(topics.requestsDlq, raw(0, 0, { headers: {} })).dlq).toEqual({
      reason: null,
      errorCode: null,
      stage: null,
      sourceTopic: null,
      sourcePartition: null,
      sourceOffset: null,
      failedAt: null,
      attempts: null,
    });
  });

  it('describes a value as JSON, else utf-8 text, else base64', () => {
    expect(describeValue(Buffer.from('{"a":[1]}'))).toEqual({ valueFormat: 'json', value: { a: [1] } });
    expect(describeValue(Buffer.from('"text"'))).toEqual({ valueFormat: 'json', value: 'text' });
    expect(describeValue(Buffer.from('not json {'))).toEqual({ valueFormat: 'utf-8', value: 'not json {' });
    expect(describeValue(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({ valueFormat: 'base64', value: '//4A' });
    expect(describeValue(null)).toEqual({ valueFormat: 'null', value: null });
  });

  it('shows headers as strings, repeated ones as arrays', () => {
    expect(headersAsStrings({ a: Buffer.from('1'), b: [Buffer.from('x'), 'y'], c: undefined })).toEqual({
      a: '1',
      b: ['x', 'y'],
    });
  });

  it('formats show as JSON with key, headers, value and dlq fields', () => {
    const letter = readDeadLetter(topics.requestsDlq, raw(2, 9));
    const shown = JSON.parse(formatShow(letter, true));
    expect(shown).toMatchObject({
      topic: topics.requestsDlq,
      partition: 2,
      offset: '9',
      timestamp: new Date(1_750_000_009_002).toISOString(),
      key: 'key-2-9',
      headers: { 'correlation-id': 'c-9', [DLQ_HEADERS.reason]: 'reason 2:9' },
      valueFormat: 'json',
      value: { n: 9 },
      dlq: { reason: 'reason 2:9', sourcePartition: 7 },
    });
    expect(formatShow(letter, true)).not.toContain('\n');
    expect(formatShow(letter, false)).toContain('\n  "key": "key-2-9"');
  });
});

describe('replay', () => {
  it('strips every dlq-* header and keeps the others byte for byte', () => {
    const binary = Buffer.from([0, 1, 2, 255]);
    expect(
      stripDlqHeaders({
        'correlation-id': 'c',
        bin: binary,
        'dlq-reason': 'x',
        'DLQ-Stage': 'y',
        'dlq-replayed-from': 'old',
        'dlqish-but-not': 'kept',
      }),
    ).toEqual({ 'correlation-id': 'c', bin: binary, 'dlqish-but-not': 'kept' });
  });

  it('replays the original key, value and headers, marked with where they came from', () => {
    const record = raw(1, 3);
    const message = replayMessage(readDeadLetter(topics.requestsDlq, record));
    expect(message.key).toBe(record.key);
    expect(message.value).toBe(record.value);
    expect(message.headers).toEqual({
      'correlation-id': Buffer.from('c-3'),
      'dlq-replayed-from': `${topics.requestsDlq}:1:3`,
    });
    expect(message.partition).toBeUndefined();
  });

  it('groups records by their source topic, in DLQ order', () => {
    const letters = [raw(1, 0), raw(0, 5), raw(0, 2)].map((r) => readDeadLetter(topics.requestsDlq, r));
    const plan = planReplay(letters, 'p.');
    expect(plan.count).toBe(3);
    expect([...plan.byTarget.keys()]).toEqual([topics.requests]);
    expect(plan.byTarget.get(topics.requests)!.map((l) => `${l.partition}:${l.offset}`)).toEqual([
      '0:2',
      '0:5',
      '1:0',
    ]);
  });

  it('refuses the whole replay when any record has an unknown or missing source topic', () => {
    const withSource = (offset: number, source: string | undefined) => {
      const record = raw(0, offset);
      const headers = { ...record.headers };
      if (source === undefined) delete headers[DLQ_HEADERS.sourceTopic];
      else headers[DLQ_HEADERS.sourceTopic] = source;
      return readDeadLetter(topics.requestsDlq, { ...record, headers });
    };
    const refuse = (letters: ReturnType<typeof withSource>[]) => {
      try {
        planReplay(letters, 'p.');
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    // A topic of another prefix, a DLQ itself, a foreign topic, none at all.
    expect(refuse([withSource(0, topics.requests), withSource(1, 'sps.requests.v1')])).toMatch(
      /0:1 comes from 'sps.requests.v1', which is not a topic of this service with prefix 'p.'; nothing was produced/,
    );
    expect(refuse([withSource(0, topics.requestsDlq)])).toMatch(/not a topic of this service/);
    expect(refuse([withSource(0, 'elsewhere')])).toMatch(/comes from 'elsewhere'/);
    expect(refuse([withSource(0, undefined)])).toMatch(/has no dlq-source-topic header/);
    // Every known non-DLQ topic of the prefix is a valid target.
    expect(planReplay([withSource(0, topics.jobEvents), withSource(1, topics.results)], 'p.').count).toBe(2);
  });
});

describe('what to read', () => {
  const partitions = [
    { partition: 0, low: 0n, high: 50n },
    { partition: 1, low: 10n, high: 12n },
    { partition: 2, low: 7n, high: 7n },
  ];

  it('counts records from watermarks', () => {
    expect(totalRecords(partitions)).toBe(52n);
    expect(totalRecords([])).toBe(0n);
  });

  it('reads the last N of each partition and nothing of empty ones', () => {
    expect(latestRanges(partitions, 20)).toEqual([
      { partition: 0, from: 30n, to: 50n },
      { partition: 1, from: 10n, to: 12n },
    ]);
    expect(allRanges(partitions)).toEqual([
      { partition: 0, from: 0n, to: 50n },
      { partition: 1, from: 10n, to: 12n },
    ]);
  });

  it('reads requested offsets only when they exist', () => {
    expect(
      refRanges('dlq', partitions, [
        { partition: 0, offset: 49n },
        { partition: 1, offset: 10n },
      ]),
    ).toEqual([
      { partition: 0, from: 49n, to: 50n },
      { partition: 1, from: 10n, to: 11n },
    ]);
    expect(() => refRanges('dlq', partitions, [{ partition: 0, offset: 50n }])).toThrow(
      'dlq has no record at 0:50 (partition 0 holds offsets 0..49)',
    );
    expect(() => refRanges('dlq', partitions, [{ partition: 1, offset: 3n }])).toThrow(UsageError);
    expect(() => refRanges('dlq', partitions, [{ partition: 2, offset: 7n }])).toThrow(/holds no records/);
    expect(() => refRanges('dlq', partitions, [{ partition: 3, offset: 0n }])).toThrow(/no partition 3/);
  });

  it('merges ranges of a partition that touch or overlap', () => {
    expect(
      mergeRanges([
        { partition: 1, from: 5n, to: 6n },
        { partition: 0, from: 3n, to: 4n },
        { partition: 0, from: 1n, to: 2n },
        { partition: 0, from: 2n, to: 3n },
        { partition: 1, from: 9n, to: 10n },
      ]),
    ).toEqual([
      { partition: 0, from: 1n, to: 4n },
      { partition: 1, from: 5n, to: 6n },
      { partition: 1, from: 9n, to: 10n },
    ]);
  });

  it('keeps the latest N records over all partitions, oldest first', () => {
    const records = [raw(0, 3), raw(1, 1), raw(0, 1), raw(2, 2)];
    expect(latestRecords(records, 3).map((r) => `${r.partition}:${r.offset}`)).toEqual(['1:1', '2:2', '0:3']);
  });

  it('selects the requested records in the requested order', () => {
    const records = [raw(0, 1), raw(0, 2), raw(1, 1)];
    expect(
      selectRecords('dlq', records, [
        { partition: 1, offset: 1n },
        { partition: 0, offset: 1n },
      ]).map((r) => `${r.partition}:${r.offset}`),
    ).toEqual(['1:1', '0:1']);
    expect(() => selectRecords('dlq', records, [{ partition: 0, offset: 3n }])).toThrow(
      'dlq has no record at 0:3',
    );
  });
});

describe('list output', () => {
  it('aligns one line per record, the reason on one line', () => {
    const long = readDeadLetter(
      topics.requestsDlq,
      raw(0, 1, {
        headers: { ...raw(0, 1).headers, [DLQ_HEADERS.reason]: `line one\nline two ${'x'.repeat(200)}` },
      }),
    );
    const text = formatList([
      {
        name: 'requests',
        topic: topics.requestsDlq,
        exists: true,
        partitions: [{ partition: 0, low: 0n, high: 30n }],
        records: [long, readDeadLetter(topics.requestsDlq, raw(0, 12, { headers: {} }))],
      },
      { name: 'results', topic: topics.resultsDlq, exists: true, partitions: [], records: [] },
      { name: 'webhooks', topic: topics.webhooksDlq, exists: false, partitions: [], records: [] },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`requests  ${topics.requestsDlq}  30 records`);
    expect(lines[1]).toMatch(
      /^ {2}PARTITION:OFFSET {2}FAILED AT {17}STAGE {3}ERROR CODE {10}SOURCE TOPIC +REASON$/,
    );
    expect(lines[2]).toMatch(
      /^ {2}0:1 {15}2025-06-01T10:00:00.000Z {2}decode {2}CONTRACT_VIOLATION {2}p.sps.requests.v1 {2}line one line two x+…$/,
    );
    expect(lines[2]!.indexOf('line one')).toBe(lines[1]!.indexOf('REASON'));
    expect(lines[3]).toMatch(/^ {2}0:12 +- +- +- +- +-$/);
    expect(lines[4]).toBe('  (latest 2 of 30; --limit N for more)');
    expect(lines.slice(5)).toEqual([
      '',
      `results  ${topics.resultsDlq}  0 records`,
      '',
      `webhooks  ${topics.webhooksDlq}  topic does not exist`,
    ]);
  });

  it('gives machine-readable totals and full reasons with --json', () => {
    const view = listView([
      {
        name: 'requests',
        topic: topics.requestsDlq,
        exists: true,
        partitions: [{ partition: 0, low: 2n, high: 5n }],
        records: [readDeadLetter(topics.requestsDlq, raw(0, 4))],
      },
    ]);
    expect(JSON.parse(JSON.stringify(view))).toEqual({
      topics: [
        {
          name: 'requests',
          topic: topics.requestsDlq,
          exists: true,
          total: 3,
          partitions: [{ partition: 0, low: '2', high: '5' }],
          records: [
            {
              partition: 0,
              offset: '4',
              timestamp: new Date(1_750_000_004_000).toISOString(),
              key: 'key-0-4',
              dlq: expect.objectContaining({ reason: 'reason 0:4', errorCode: 'CONTRACT_VIOLATION' }),
            },
          ],
        },
      ],
    });
  });

  it('flattens and truncates text to one line', () => {
    expect(oneLine('a\n  b\tc ')).toBe('a b c');
    expect(oneLine('x'.repeat(10), 5)).toBe('xxxx…');
  });
});

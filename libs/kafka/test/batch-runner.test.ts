import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@sps/contracts';
import { BatchingProducer } from '../src/producer.js';
import { DeadLetters } from '../src/dead-letters.js';
import { PermanentError, TransientError } from '../src/errors.js';
import { BatchRunner, type BatchRunnerOptions } from '../src/runners/batch-runner.js';
import { FakeConsumer, FakeProducer, fakeKafka, message, silentLogger, until } from './support/fake-kafka.js';

interface Row {
  n: number;
  text: string;
}

function setup(overrides: Partial<BatchRunnerOptions<Row>> = {}) {
  const consumer = new FakeConsumer();
  const producer = new FakeProducer();
  const stored: number[] = [];
  const calls: number[] = [];
  const runner = new BatchRunner<Row>({
    kafka: fakeKafka(consumer),
    groupId: 'g',
    topics: ['results'],
    logger: silentLogger,
    retry: { maxAttempts: 2, baseMs: 1, capMs: 5 },
    decode: (record) => JSON.parse(record.value!.toString()) as Row,
    // Like Postgres: a statement with one refused row stores nothing.
    handleBatch: async (records) => {
      calls.push(records.length);
      const bad = records.find((r) => r.value.text.includes('\u0000'));
      if (bad)
        throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' });
      stored.push(...records.map((r) => r.value.n));
    },
    classify: (error) =>
      (error as { code?: string }).code === '22021'
        ? 'permanent'
        : error instanceof TransientError
          ? 'transient'
          : 'unknown',
    deadLetters: new DeadLetters(
      new BatchingProducer(producer.asProducer()),
      { topic: 'results.dlq', stage: 'sink' },
      silentLogger,
    ),
    ...overrides,
  });
  return { consumer, producer, runner, stored, calls };
}

const rows = (count: number, bad: number[] = []) =>
  Array.from({ length: count }, (_, n) => message(n, { n, text: bad.includes(n) ? 'a\u0000b' : 'ok' }));

describe('BatchRunner', () => {
  it('stores the batch in one call and commits past it', async () => {
    const { consumer, runner, stored, calls } = setup();
    await runner.start();
    await consumer.deliver('results', 0, rows(50));
    expect(calls).toEqual([50]);
    expect(stored).toHaveLength(50);
    expect(consumer.committed('results', 0)).toBe('50');
  });

  it('finds a refused record by bisection: it alone goes to the DLQ, every other row is stored', async () => {
    const refused: string[] = [];
    const { consumer, producer, runner, stored, calls } = setup({
      onRefused: async (record) => void refused.push(record.offset),
    });
    await runner.start();
    await consumer.deliver('results', 2, rows(64, [37]));
    expect(stored.sort((a, b) => a - b)).toEqual([...Array(64).keys()].filter((n) => n !== 37));
    expect(consumer.committed('results', 2)).toBe('64');
    // One full try, then two halves per level down to the single record: 1 + 2·log2(64) calls.
    expect(calls).toHaveLength(1 + 2 * 6);
    const letters = producer.sent();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.headers[DLQ_HEADERS.sourceOffset]).toBe('37');
    expect(letters[0]!.headers[DLQ_HEADERS.errorCode]).toBe('DATA_REFUSED');
    expect(letters[0]!.headers[DLQ_HEADERS.reason]).toContain('0x00');
    expect(refused).toEqual(['37']);
  });

  it('waits for a dependency that is down (same batch, in order), then stores it', async () => {
    let failures = 5;
    const states: boolean[] = [];
    const { consumer, producer, runner, stored } = setup({
      handleBatch: async (records) => {
        if (failures-- > 0) throw new TransientError('connection refused');
        stored.push(...records.map((r) => r.value.n));
      },
      onDependencyDown: (down) => states.push(down),
    });
    await runner.start();
    await consumer.deliver('results', 0, rows(10));
    expect(stored).toEqual([...Array(10).keys()]);
    expect(producer.sent()).toEqual([]);
    expect(states.at(0)).toBe(true);
    expect(states.at(-1)).toBe(false);
  });

  it('dead-letters a record that does not decode and stores its neighbours', async () => {
    const { consumer, producer, runner, stored } = setup({
      decode: (record) => {
        const row = JSON.parse(record.value!.toString()) as Row;
        if (row.n === 3)
          throw new PermanentError(
            'CONTRACT_VIOLATION',
            '/status: must be equal to one of the allowed values',
          );
        return row;
      },
    });
    await runner.start();
    await consumer.deliver('results', 0, rows(5));
    expect(stored).toEqual([0, 1, 2, 4]);
    expect(producer.sent().map((l) => l.headers[DLQ_HEADERS.errorCode])).toEqual(['CONTRACT_VIOLATION']);
    expect(consumer.committed('results', 0)).toBe('5');
  });

  it('stops during an outage without committing, so the batch is redelivered', async () => {
    const { consumer, runner } = setup({
      retry: { maxAttempts: 2, baseMs: 60_000, capMs: 60_000 },
      handleBatch: async () => {
        throw new TransientError('down');
      },
    });
    await runner.start();
    const delivered = consumer.deliver('results', 0, rows(3));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await runner.stop();
    await delivered;
    expect(Date.now() - started).toBeLessThan(500);
    expect(consumer.committed('results', 0)).toBeUndefined();
    await until(() => consumer.disconnected);
  });
});

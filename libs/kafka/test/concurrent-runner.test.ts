import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '@sps/contracts';
import { BatchingProducer } from '../src/producer.js';
import { DeadLetters } from '../src/dead-letters.js';
import { PermanentError, TransientError } from '../src/errors.js';
import { ConcurrentRunner, type ConcurrentRunnerOptions } from '../src/runners/concurrent-runner.js';
import type { ConsumedRecord, RawRecord } from '../src/records.js';
import { FakeConsumer, FakeProducer, fakeKafka, message, silentLogger, until } from './support/fake-kafka.js';

interface Value {
  n: number;
}

function setup(overrides: Partial<ConcurrentRunnerOptions<Value>> = {}) {
  const consumer = new FakeConsumer();
  const producer = new FakeProducer();
  const refused: { record: RawRecord; code: string }[] = [];
  const runner = new ConcurrentRunner<Value>({
    kafka: fakeKafka(consumer),
    groupId: 'g',
    topics: ['in'],
    logger: silentLogger,
    maxInFlight: 10,
    commitIntervalMs: 5,
    retry: { maxAttempts: 3, baseMs: 1, capMs: 5 },
    decode: (record) => {
      const value = JSON.parse(record.value?.toString() ?? '') as Value;
      if (typeof value.n !== 'number') throw new PermanentError('CONTRACT_VIOLATION', '/n: must be a number');
      return value;
    },
    handle: async () => {},
    deadLetters: new DeadLetters(
      new BatchingProducer(producer.asProducer()),
      { topic: 'in.dlq', stage: 'test' },
      silentLogger,
    ),
    onRefused: async (record, reason) => void refused.push({ record, code: reason.code }),
    ...overrides,
  });
  return { consumer, producer, runner, refused };
}

/** A handler whose calls the test finishes one by one. */
function controlledHandler() {
  const pending = new Map<number, () => void>();
  const started: number[] = [];
  return {
    started,
    handle: (record: ConsumedRecord<Value>) =>
      new Promise<void>((resolve) => {
        started.push(record.value.n);
        pending.set(record.value.n, resolve);
      }),
    finish(n: number) {
      pending.get(n)!();
      pending.delete(n);
    },
  };
}

describe('ConcurrentRunner', () => {
  it('runs a partition concurrently and commits only the contiguous finished prefix', async () => {
    const handler = controlledHandler();
    const { consumer, runner } = setup({ handle: handler.handle });
    await runner.start();
    await consumer.deliver(
      'in',
      0,
      [0, 1, 2, 3].map((n) => message(n, { n })),
    );
    expect(handler.started).toEqual([0, 1, 2, 3]); // all four in flight at once
    handler.finish(2);
    handler.finish(3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(consumer.committed('in', 0)).toBeUndefined(); // 0 and 1 still running
    handler.finish(0);
    await until(() => consumer.committed('in', 0) === '1');
    handler.finish(1);
    await until(() => consumer.committed('in', 0) === '4');
    await runner.stop(100);
  });

  it('dead-letters a record that breaks its contract with the reason, alone, and commits past it', async () => {
    const handled: number[] = [];
    const { consumer, producer, runner, refused } = setup({
      handle: async (r) => void handled.push(r.value.n),
    });
    await runner.start();
    await consumer.deliver('in', 3, [
      message(0, { n: 0 }),
      message(1, { n: 'x' }, { trace: 't1' }),
      message(2, 'not json'),
      message(3, { n: 3 }),
    ]);
    await until(() => consumer.committed('in', 3) === '4');
    expect(handled).toEqual([0, 3]);
    const letters = producer.sent();
    expect(
      letters.map((l) => [
        l.topic,
        l.key,
        l.headers[DLQ_HEADERS.sourceOffset],
        l.headers[DLQ_HEADERS.errorCode],
      ]),
    ).toEqual([
      ['in.dlq', 'k1', '1', 'CONTRACT_VIOLATION'],
      ['in.dlq', 'k2', '2', 'CONTRACT_VIOLATION'],
    ]);
    expect(letters[0]!.headers[DLQ_HEADERS.reason]).toBe('/n: must be a number');
    expect(letters[0]!.headers.trace).toBe('t1'); // the original headers travel with it
    expect(letters[0]!.value).toBe('{"n":"x"}'); // the original bytes, untouched
    expect(letters[0]!.headers[DLQ_HEADERS.sourceTopic]).toBe('in');
    expect(letters[1]!.headers[DLQ_HEADERS.reason]).toMatch(/JSON/);
    expect(refused.map((r) => r.record.offset)).toEqual(['1', '2']);
    await runner.stop(100);
  });

  it('dead-letters on a permanent error at once, and after maxAttempts on an unclassified one', async () => {
    const calls = new Map<number, number>();
    const { consumer, producer, runner } = setup({
      handle: async ({ value: { n } }) => {
        calls.set(n, (calls.get(n) ?? 0) + 1);
        if (n === 1) throw new PermanentError('DATA_REFUSED', 'refused by the database');
        if (n === 2) throw new Error('bug');
      },
    });
    await runner.start();
    await consumer.deliver(
      'in',
      0,
      [0, 1, 2].map((n) => message(n, { n })),
    );
    await until(() => consumer.committed('in', 0) === '3');
    expect(Object.fromEntries(calls)).toEqual({ 0: 1, 1: 1, 2: 3 });
    expect(
      producer.sent().map((l) => [l.key, l.headers[DLQ_HEADERS.errorCode], l.headers[DLQ_HEADERS.attempts]]),
    ).toEqual([
      ['k1', 'DATA_REFUSED', '1'],
      ['k2', 'RETRIES_EXHAUSTED', '3'],
    ]);
    await runner.stop(100);
  });

  it('waits out a dependency that is down past maxAttempts, without dead-lettering', async () => {
    let calls = 0;
    const { consumer, producer, runner } = setup({
      handle: async () => {
        calls += 1;
        if (calls < 8) throw new TransientError('redis is down');
      },
    });
    await runner.start();
    await consumer.deliver('in', 0, [message(0, { n: 0 })]);
    await until(() => consumer.committed('in', 0) === '1');
    expect(calls).toBe(8); // far past maxAttempts (3): a transient failure is never the record's fault
    expect(producer.sent()).toEqual([]);
    await runner.stop(100);
  });

  it('waits at the in-flight bound, heartbeating, and takes a slot the moment one frees', async () => {
    const handler = controlledHandler();
    const { consumer, runner } = setup({ handle: handler.handle, maxInFlight: 4 });
    await runner.start();
    const delivered = consumer.deliver(
      'in',
      0,
      [0, 1, 2, 3, 4, 5].map((n) => message(n, { n })),
    );
    await until(() => handler.started.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handler.started).toEqual([0, 1, 2, 3]); // the bound holds
    expect(runner.inFlightCount).toBe(4);
    expect(consumer.resolved.get('in:0')).toBe('3');
    handler.finish(2);
    await until(() => handler.started.length === 5);
    expect(handler.started.at(-1)).toBe(4);
    expect(runner.inFlightCount).toBe(4);
    handler.finish(0);
    await delivered; // the whole batch was taken, none of it paused or refetched
    expect(handler.started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(consumer.paused.has('in:0')).toBe(false);
    for (const n of [1, 3, 4, 5]) handler.finish(n);
    await until(() => consumer.committed('in', 0) === '6');
    await runner.stop(100);
  });

  it('never runs more than maxInFlight when several partitions wait for the last slots', async () => {
    const handler = controlledHandler();
    const { consumer, runner } = setup({
      handle: handler.handle,
      maxInFlight: 4,
      partitionsConsumedConcurrently: 3,
    });
    await runner.start();
    // Three partitions' batches arrive together and compete for the same four slots.
    const deliveries = [0, 1, 2].map((partition) =>
      consumer.deliver(
        'in',
        partition,
        [0, 1, 2].map((i) => message(i, { n: partition * 10 + i })),
      ),
    );
    await until(() => handler.started.length >= 4);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(handler.started).toHaveLength(4); // the bound holds across partitions
    expect(runner.inFlightCount).toBe(4);
    // Each freed slot is taken by exactly one waiting record.
    for (let freed = 1; freed <= 5; freed++) {
      handler.finish(handler.started[freed - 1]!);
      await until(() => handler.started.length === 4 + freed);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(handler.started).toHaveLength(4 + freed);
      expect(runner.inFlightCount).toBe(4);
    }
    for (const n of handler.started.slice(5)) handler.finish(n);
    await Promise.all(deliveries);
    await runner.stop(100);
  });

  it('bounds the uncommitted span of a partition behind a record that does not finish', async () => {
    const handler = controlledHandler();
    const { consumer, runner } = setup({
      handle: handler.handle,
      maxInFlight: 100,
      maxUncommittedPerPartition: 5,
    });
    await runner.start();
    await consumer.deliver(
      'in',
      0,
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => message(n, { n })),
    );
    for (const n of [1, 2, 3, 4]) handler.finish(n);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Offset 0 is stuck: 1..4 are done but the span 0..4 is what a crash would redo, so no more start.
    expect(handler.started).toEqual([0, 1, 2, 3, 4]);
    expect(consumer.paused.has('in:0')).toBe(true);
    expect(consumer.committed('in', 0)).toBeUndefined();
    handler.finish(0);
    await until(() => consumer.committed('in', 0) === '5');
    await until(() => !consumer.paused.has('in:0'));
    await runner.stop(100);
  });

  it('holds a record that is not due: the partition is paused unread and resumed when it is', async () => {
    const handled: number[] = [];
    const dueAt = Date.now() + 150;
    const { consumer, runner } = setup({
      handle: async (r) => void handled.push(r.value.n),
      holdFor: (record) => (record.offset === '1' ? Math.max(0, dueAt - Date.now()) : 0),
    });
    await runner.start();
    await consumer.deliver(
      'in',
      0,
      [0, 1, 2].map((n) => message(n, { n })),
    );
    await until(() => handled.length === 1);
    expect(consumer.resolved.get('in:0')).toBe('0'); // 1 and 2 are read again after the pause
    expect(consumer.paused.has('in:0')).toBe(true);
    await until(() => consumer.resumed.includes('in:0'), 1_000);
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt - 5);
    await runner.stop(100);
  });

  it('starts nothing new once stopping, even from a batch that was waiting for a slot', async () => {
    const handler = controlledHandler();
    const { consumer, runner } = setup({ handle: handler.handle, maxInFlight: 2 });
    await runner.start();
    const delivered = consumer.deliver(
      'in',
      0,
      [0, 1, 2, 3].map((n) => message(n, { n })),
    );
    await until(() => handler.started.length === 2);
    const stopped = runner.stop(1_000);
    handler.finish(0); // frees a slot while stopping
    handler.finish(1);
    await stopped;
    await delivered;
    expect(handler.started).toEqual([0, 1]);
    expect(consumer.committed('in', 0)).toBe('2');
  });

  it('stops without waiting for a backoff, and leaves the unfinished record uncommitted', async () => {
    const { consumer, runner } = setup({
      retry: { maxAttempts: 3, baseMs: 60_000, capMs: 60_000 },
      handle: async () => {
        throw new TransientError('down');
      },
    });
    await runner.start();
    await consumer.deliver('in', 0, [message(0, { n: 0 })]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    await runner.stop(50);
    expect(Date.now() - started).toBeLessThan(500);
    expect(consumer.committed('in', 0)).toBeUndefined();
    expect(consumer.disconnected).toBe(true);
  });
});

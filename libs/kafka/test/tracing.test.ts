import { SpanKind, context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSpans } from '@sps/observability/testing';
import { BatchingProducer } from '../src/producer.js';
import { DeadLetters } from '../src/dead-letters.js';
import { BatchRunner } from '../src/runners/batch-runner.js';
import { ConcurrentRunner } from '../src/runners/concurrent-runner.js';
import type { ConsumedRecord } from '../src/records.js';
import { FakeConsumer, FakeProducer, fakeKafka, message, silentLogger, until } from './support/fake-kafka.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

describe('Kafka tracing', () => {
  let recorder: ReturnType<typeof recordSpans>;
  beforeAll(() => void (recorder = recordSpans()));
  afterAll(() => recorder.stop());
  beforeEach(() => recorder.reset());

  it('makes a PRODUCER span per record, child of the active span, and sends its traceparent', async () => {
    const client = new FakeProducer();
    const producer = new BatchingProducer(client.asProducer());
    const parent = trace.getTracer('test').startSpan('parent');
    await context.with(trace.setSpan(context.active(), parent), () =>
      producer.send('requests', { key: 'k1', value: 'v', headers: { 'x-other': 'kept' } }),
    );
    parent.end();
    const [span] = recorder.spans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(span!.name).toBe('send requests');
    expect(span!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span!.attributes).toEqual({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'requests',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.kafka.message.key': 'k1',
    });
    const [sent] = client.sent();
    expect(sent!.headers).toEqual({
      'x-other': 'kept',
      traceparent: traceparent(span!.spanContext().traceId, span!.spanContext().spanId),
    });
  });

  it('without an active span, continues the traceparent the record carries; a failed send marks the span', async () => {
    const client = new FakeProducer();
    client.fail = () => Object.assign(new Error('broker says no'), { retriable: false });
    const producer = new BatchingProducer(client.asProducer());
    await expect(
      producer.send('results', {
        value: 'v',
        partition: 3,
        headers: { traceparent: traceparent(TRACE, PARENT) },
      }),
    ).rejects.toThrow('broker says no');
    const [span] = recorder.spans();
    expect(span!.spanContext().traceId).toBe(TRACE);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT);
    expect(span!.attributes['messaging.destination.partition.id']).toBe('3');
    expect(span!.status.code).toBe(2); // ERROR
  });

  it('runs each consumed record inside a CONSUMER span joined to its traceparent', async () => {
    const consumer = new FakeConsumer();
    const seen: { traceId?: string; parent?: string }[] = [];
    const runner = new ConcurrentRunner<{ n: number }>({
      kafka: fakeKafka(consumer),
      groupId: 'g',
      topics: ['in'],
      logger: silentLogger,
      maxInFlight: 4,
      commitIntervalMs: 5,
      decode: (record) => JSON.parse(record.value!.toString()) as { n: number },
      handle: async () => {
        const active = trace.getActiveSpan()!;
        seen.push({ traceId: active.spanContext().traceId });
      },
      deadLetters: new DeadLetters(
        new BatchingProducer(new FakeProducer().asProducer()),
        { topic: 'in.dlq', stage: 'test' },
        silentLogger,
      ),
    });
    await runner.start();
    await consumer.deliver('in', 2, [message(7, { n: 1 }, { traceparent: traceparent(TRACE, PARENT) })]);
    await until(() => seen.length === 1);
    await runner.stop(100);
    const [span] = recorder.spans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(span!.name).toBe('process in');
    expect(span!.spanContext().traceId).toBe(TRACE);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT);
    expect(seen[0]!.traceId).toBe(TRACE);
    expect(span!.attributes).toEqual({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'in',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.consumer.group.name': 'g',
      'messaging.destination.partition.id': '2',
      'messaging.kafka.offset': 7,
    });
  });

  it('runs a batch of several records in one CONSUMER span linked to each record', async () => {
    const consumer = new FakeConsumer();
    const batches: ConsumedRecord<{ n: number }>[][] = [];
    const runner = new BatchRunner<{ n: number }>({
      kafka: fakeKafka(consumer),
      groupId: 'sink',
      topics: ['results'],
      logger: silentLogger,
      decode: (record) => JSON.parse(record.value!.toString()) as { n: number },
      handleBatch: async (records) => void batches.push(records),
      deadLetters: new DeadLetters(
        new BatchingProducer(new FakeProducer().asProducer()),
        { topic: 'results.dlq', stage: 'test' },
        silentLogger,
      ),
    });
    await runner.start();
    const other = '1bf7651916cd43dd8448eb211c80319d';
    await consumer.deliver('results', 0, [
      message(0, { n: 0 }, { traceparent: traceparent(TRACE, PARENT) }),
      message(1, { n: 1 }, { traceparent: traceparent(other, PARENT) }),
      message(2, { n: 2 }),
    ]);
    // One record alone: the span is the child of its context.
    await consumer.deliver('results', 1, [message(0, { n: 3 }, { traceparent: traceparent(other, PARENT) })]);
    await runner.stop();
    const spans = recorder.spans().filter((s) => s.kind === SpanKind.CONSUMER);
    expect(spans).toHaveLength(2);
    const [batch, single] = spans;
    expect(batch!.name).toBe('process results');
    expect(batch!.parentSpanContext).toBeUndefined();
    expect(batch!.links.map((l) => l.context.traceId)).toEqual([TRACE, other]);
    expect(batch!.attributes['messaging.batch.message_count']).toBe(3);
    expect(single!.spanContext().traceId).toBe(other);
    expect(single!.links).toEqual([]);
  });
});

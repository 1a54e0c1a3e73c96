import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BatchingProducer } from '../src/producer.js';
import { DeadLetters } from '../src/dead-letters.js';
import { BatchRunner } from '../src/runners/batch-runner.js';
import { ConcurrentRunner } from '../src/runners/concurrent-runner.js';
import { FakeConsumer, FakeProducer, fakeKafka, message, silentLogger, until } from './support/fake-kafka.js';

async function sample(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  return metric ? (await metric.get()).values : [];
}

describe('runner metrics (given a registry)', () => {
  it('the concurrent runner reports lag per group and partition, records in flight, and dead letters', async () => {
    const registry = new Registry();
    const consumer = new FakeConsumer();
    const producer = new FakeProducer();
    const runner = new ConcurrentRunner<{ n: number }>({
      kafka: fakeKafka(consumer),
      groupId: 'g',
      topics: ['in'],
      logger: silentLogger,
      maxInFlight: 10,
      commitIntervalMs: 5,
      registry,
      decode: (record) => {
        const value = JSON.parse(record.value!.toString()) as { n: number };
        if (value.n === 3) throw new Error('bad');
        return value;
      },
      handle: async () => {},
      deadLetters: new DeadLetters(
        new BatchingProducer(producer.asProducer()),
        { topic: 'in.dlq', stage: 'processor', registry },
        silentLogger,
      ),
    });
    await runner.start();
    await consumer.deliver(
      'in',
      1,
      Array.from({ length: 5 }, (_, n) => message(n, { n })),
    );
    await until(() => consumer.committed('in', 1) === '5');
    expect(await sample(registry, 'sps_kafka_consumer_lag')).toEqual([
      { labels: { group: 'g', topic: 'in', partition: '1' }, value: 0 },
    ]);
    expect(await sample(registry, 'sps_kafka_records_in_flight')).toEqual([
      { labels: { group: 'g' }, value: 0 },
    ]);
    expect(await sample(registry, 'sps_dead_letters_total')).toEqual([
      { labels: { stage: 'processor', code: 'CONTRACT_VIOLATION' }, value: 1 },
    ]);
    await runner.stop(100);
  });

  it('two runners share one registry (one gauge, a series per group); none given, nothing registered', async () => {
    const registry = new Registry();
    const deadLetters = new DeadLetters(
      new BatchingProducer(new FakeProducer().asProducer()),
      { topic: 'dlq', stage: 'sink', registry },
      silentLogger,
    );
    const make = (groupId: string, withRegistry = true) =>
      new BatchRunner<unknown>({
        kafka: fakeKafka(new FakeConsumer()),
        groupId,
        topics: ['t'],
        logger: silentLogger,
        decode: () => ({}),
        handleBatch: async () => {},
        deadLetters,
        registry: withRegistry ? registry : undefined,
      });
    make('a');
    make('b');
    make('c', false);
    expect(
      registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .sort(),
    ).toEqual(['sps_dead_letters_total', 'sps_kafka_consumer_lag']);
  });
});

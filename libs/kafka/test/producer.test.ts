import { describe, expect, it } from 'vitest';
import { BatchingProducer } from '../src/producer.js';
import { PermanentError, TransientError } from '../src/errors.js';
import { FakeProducer } from './support/fake-kafka.js';

const kb = (n: number) => 'x'.repeat(n * 1024);

describe('BatchingProducer', () => {
  it('sends what arrives in one tick as one request at once when idle, and batches behind a request in flight', async () => {
    const client = new FakeProducer();
    client.delayMs = 20;
    const producer = new BatchingProducer(client.asProducer());
    // A result and its reply, published together: one request, not the reply behind the result.
    const pair = [
      producer.send('results', { key: 'r', value: '1' }),
      producer.send('replies', { key: 'r', value: '1', partition: 3 }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 5)); // the pair is in flight
    const behind = [1, 2, 3].map((i) => producer.send('results', { key: `b${i}`, value: '1' }));
    await Promise.all([...pair, ...behind]);
    expect(client.requests.map((r) => r.topicMessages!.flatMap((t) => t.messages.map((m) => m.key)))).toEqual(
      [
        ['r', 'r'],
        ['b1', 'b2', 'b3'],
      ],
    );
  });

  it('refuses a record over the size limit alone, before sending; its neighbours go', async () => {
    const client = new FakeProducer();
    const producer = new BatchingProducer(client.asProducer(), { maxRecordBytes: 100_000 });
    const results = await Promise.allSettled([
      producer.send('t', { key: 'a', value: 'small' }),
      producer.send('t', { key: 'b', value: kb(200) }),
      producer.send('t', { key: 'c', value: 'small too' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (results[1] as PromiseRejectedResult).reason as PermanentError;
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.code).toBe('RECORD_TOO_LARGE');
    expect(client.sent().map((r) => r.key)).toEqual(['a', 'c']);
  });

  it('cuts produce requests under the limit: 100 replies of 46 KB to one partition all arrive', async () => {
    const client = new FakeProducer();
    client.delayMs = 2;
    // The broker refuses a partition's record batch over max.message.bytes (1,048,588 by default).
    client.fail = (batch) => {
      const bytes = batch
        .topicMessages!.flatMap((t) => t.messages)
        .reduce((n, m) => n + (m.value?.length ?? 0), 0);
      return bytes > 1_048_588
        ? Object.assign(new Error('MESSAGE_TOO_LARGE'), { retriable: false })
        : undefined;
    };
    const producer = new BatchingProducer(client.asProducer());
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        producer.send('replies', { key: `r${i}`, value: kb(46), partition: 7 }),
      ),
    );
    expect(client.sent()).toHaveLength(100);
    expect(client.requests.length).toBeGreaterThanOrEqual(5); // 4.6 MB in requests of at most ~1 MB
    for (const request of client.requests) {
      const bytes = request
        .topicMessages!.flatMap((t) => t.messages)
        .reduce((n, m) => n + (m.value?.length ?? 0), 0);
      expect(bytes).toBeLessThanOrEqual(1_000_000);
    }
  });

  it('retries a refused request record by record, so one bad record fails alone', async () => {
    const client = new FakeProducer();
    client.delayMs = 1;
    client.fail = (batch) =>
      batch.topicMessages!.some((t) => t.topic === 'unknown')
        ? Object.assign(new Error('This server does not host this topic-partition'), {
            name: 'KafkaJSProtocolError',
            retriable: false,
          })
        : undefined;
    const producer = new BatchingProducer(client.asProducer());
    const first = producer.send('t', { key: 'warm-up', value: '1' }); // holds the line so the rest batch up
    const rest = ['a', 'b', 'c'].map((key) =>
      producer.send(key === 'b' ? 'unknown' : 't', { key, value: key }),
    );
    const results = await Promise.allSettled([first, ...rest]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(client.sent().map((r) => r.key)).toEqual(['warm-up', 'a', 'c']);
  });

  it('fails fast when its queue is full, and drops a record whose caller gave up before it left', async () => {
    const client = new FakeProducer();
    client.delayMs = 200; // a broker that is slow to answer
    const producer = new BatchingProducer(client.asProducer(), { maxQueued: 3 });
    const inFlight = producer.send('t', { key: 'first', value: '1' });
    await new Promise((resolve) => setImmediate(resolve)); // it leaves alone (nothing else in its tick)
    const queued = [1, 2, 3].map((i) => producer.send('t', { key: `q${i}`, value: '1' }, { timeoutMs: 50 }));
    const started = Date.now();
    await expect(producer.send('t', { key: 'over', value: '1' })).rejects.toBeInstanceOf(TransientError);
    expect(Date.now() - started).toBeLessThan(20);
    const settled = await Promise.allSettled(queued);
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(((settled[0] as PromiseRejectedResult).reason as Error).message).toMatch(/within 50 ms/);
    await inFlight;
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(client.sent().map((r) => r.key)).toEqual(['first']); // the abandoned ones never left
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReplyListener } from '../src/request-reply.js';
import { FakeAdmin, FakeConsumer, fakeKafka, message, silentLogger, withKey } from './support/fake-kafka.js';

const TOPIC = 'sps.replies.v1';
// The partition is the instance id's first 8 hex digits modulo the partition count: 0x0000000a % 12.
const INSTANCE = '0000000a-1111-4222-8333-444444444444';
const PARTITION = 10;

async function started(partitions = 12) {
  const consumer = new FakeConsumer();
  const admin = new FakeAdmin({ [TOPIC]: partitions });
  const listener = new ReplyListener(fakeKafka(consumer, admin), TOPIC, silentLogger, INSTANCE);
  await listener.start();
  let offset = 0;
  /** A reply on the listener's partition, keyed by its correlation id. */
  const reply = (key: string | null, value: string | null) =>
    consumer.deliver(TOPIC, PARTITION, [withKey(message(offset++, value), key)]);
  return { consumer, admin, listener, reply };
}

/** What a promise has settled to so far (`pending` while it has not). */
function observe<T>(promise: Promise<T>): { state: 'pending' } | { state: 'settled'; value: T } {
  const seen: { state: 'pending' } | { state: 'settled'; value: T } = { state: 'pending' };
  void promise.then((value) => Object.assign(seen, { state: 'settled', value }));
  return seen;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('ReplyListener', () => {
  it('owns one partition of the reply topic, read by its own group with a fixed assignment', async () => {
    const { consumer, admin, listener } = await started();
    expect(listener.replyAddress).toEqual({ topic: TOPIC, partition: PARTITION });
    expect(admin.metadataRequests).toEqual([[TOPIC]]);
    expect(admin.disconnects).toBe(admin.connects); // the admin connection is not kept
    expect(consumer.config?.groupId).toBe(`sps-ingest-replies-${INSTANCE}`);
    expect(consumer.config?.partitionAssigners).toHaveLength(1);
    expect(consumer.subscriptions).toEqual([{ topics: [TOPIC], fromBeginning: false }]);
    expect(consumer.runConfig?.autoCommit).toBe(false);
    await listener.stop();
    expect(consumer.disconnected).toBe(true);
  });

  it('has no reply address before it started', () => {
    const listener = new ReplyListener(fakeKafka(new FakeConsumer()), TOPIC, silentLogger, INSTANCE);
    expect(() => listener.replyAddress).toThrow('reply listener not started');
  });

  it('hands each reply to the waiter whose correlation id is its key, and only to it', async () => {
    const { listener, reply } = await started();
    const a = observe(listener.waitFor('corr-a', 10_000));
    const b = observe(listener.waitFor('corr-b', 10_000));
    expect(listener.pending).toBe(2);

    await reply('corr-b', '{"for":"b"}');
    await flush();
    expect(b).toEqual({ state: 'settled', value: Buffer.from('{"for":"b"}') });
    expect(a).toEqual({ state: 'pending' });
    expect(listener.pending).toBe(1);

    await reply('corr-a', '{"for":"a"}');
    await flush();
    expect(a).toEqual({ state: 'settled', value: Buffer.from('{"for":"a"}') });
    expect(listener.pending).toBe(0);
    await listener.stop();
  });

  it('tells a reply without a value (null) from no reply (undefined)', async () => {
    const { listener, reply } = await started();
    const waiting = listener.waitFor('corr-null', 10_000);
    await reply('corr-null', null);
    expect(await waiting).toBeNull();
    await listener.stop();
  });

  it('ignores a reply nobody waits for, a reply without a key, and a second reply', async () => {
    const { listener, reply } = await started();
    const a = observe(listener.waitFor('corr-a', 10_000));
    await reply('corr-nobody', 'stray');
    await reply(null, 'no key');
    await reply('', 'empty key');
    await flush();
    expect(a).toEqual({ state: 'pending' });
    expect(listener.pending).toBe(1);

    await reply('corr-a', 'first');
    await reply('corr-a', 'second'); // a redelivered reply: nobody waits any more
    await flush();
    expect(a).toEqual({ state: 'settled', value: Buffer.from('first') });
    expect(listener.pending).toBe(0);
    await listener.stop();
  });

  it('resolves undefined once its timeout has passed, not before, and forgets the waiter', async () => {
    const { listener, reply } = await started();
    vi.useFakeTimers();
    const timers = vi.getTimerCount();
    const a = observe(listener.waitFor('corr-a', 5_000));
    const b = observe(listener.waitFor('corr-b', 8_000));
    expect(vi.getTimerCount()).toBe(timers + 2);

    await vi.advanceTimersByTimeAsync(4_999);
    expect(a).toEqual({ state: 'pending' });
    await vi.advanceTimersByTimeAsync(1);
    expect(a).toEqual({ state: 'settled', value: undefined });
    expect(listener.pending).toBe(1); // b is still waited for
    expect(b).toEqual({ state: 'pending' });

    await reply('corr-a', 'too late'); // ignored: the waiter is gone
    expect(listener.pending).toBe(1);
    expect(a).toEqual({ state: 'settled', value: undefined });

    await reply('corr-b', 'in time');
    await vi.advanceTimersByTimeAsync(0);
    expect(b).toEqual({ state: 'settled', value: Buffer.from('in time') });
    expect(vi.getTimerCount()).toBe(timers); // an answered waiter's timer is cleared
    await listener.stop();
  });

  it('cancel forgets a waiter and its timer: neither a reply nor the timeout settles it', async () => {
    const { listener, reply } = await started();
    vi.useFakeTimers();
    const timers = vi.getTimerCount();
    const a = observe(listener.waitFor('corr-a', 5_000));
    const b = observe(listener.waitFor('corr-b', 5_000));
    listener.cancel('corr-a');
    listener.cancel('corr-unknown'); // no effect
    expect(listener.pending).toBe(1);
    expect(vi.getTimerCount()).toBe(timers + 1);

    await reply('corr-a', 'after cancel');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a).toEqual({ state: 'pending' });
    expect(b).toEqual({ state: 'settled', value: undefined });
    expect(listener.pending).toBe(0);
    await listener.stop();
  });

  it('stop clears the timers of the waiters left', async () => {
    const { listener } = await started();
    vi.useFakeTimers();
    const timers = vi.getTimerCount();
    void listener.waitFor('corr-a', 5_000);
    void listener.waitFor('corr-b', 5_000);
    expect(vi.getTimerCount()).toBe(timers + 2);
    await listener.stop();
    expect(vi.getTimerCount()).toBe(timers);
  });

  it('picks its partition within the topic, and partition 0 of a topic it cannot see', async () => {
    const { listener } = await started(7); // 10 % 7
    expect(listener.replyAddress.partition).toBe(3);
    const unknown = new ReplyListener(
      fakeKafka(new FakeConsumer(), new FakeAdmin({})),
      TOPIC,
      silentLogger,
      INSTANCE,
    );
    await unknown.start();
    expect(unknown.replyAddress).toEqual({ topic: TOPIC, partition: 0 });
  });
});

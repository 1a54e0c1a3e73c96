import { describe, expect, it } from 'vitest';
import { HEADERS } from '@sps/contracts';
import { BatchingProducer } from '../src/producer.js';
import { RetrySchedule } from '../src/runners/delayed-retry-runner.js';
import { FakeProducer } from './support/fake-kafka.js';

const tiers = [
  { topic: 'r.1s', delayMs: 1_000 },
  { topic: 'r.1m', delayMs: 60_000 },
  { topic: 'r.1h', delayMs: 3_600_000 },
];

describe('RetrySchedule', () => {
  const client = new FakeProducer();
  const schedule = new RetrySchedule(new BatchingProducer(client.asProducer()), tiers);

  it('puts a retry on the longest tier not longer than its wait, else the shortest', () => {
    expect(schedule.tierFor(300).topic).toBe('r.1s');
    expect(schedule.tierFor(1_500).topic).toBe('r.1s');
    expect(schedule.tierFor(90_000).topic).toBe('r.1m');
    expect(schedule.tierFor(86_400_000).topic).toBe('r.1h');
  });

  it('writes the due time in a header', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    await schedule.schedule({ key: 'job', value: '{}' }, now + 90_000, now);
    expect(client.sent()).toEqual([
      { topic: 'r.1m', key: 'job', value: '{}', headers: { [HEADERS.dueAt]: '2026-01-01T00:01:30.000Z' } },
    ]);
  });

  it('releases a record at its tier delay or its due time, whichever comes first', () => {
    const now = 1_000_000;
    const due = (ms: number) => ({ [HEADERS.dueAt]: new Date(ms).toISOString() });
    // Due in an hour but on the 1 s tier (e.g. queued in front of a 1 s retry): released after 1 s.
    expect(schedule.holdFor({ topic: 'r.1s', timestamp: now, headers: due(now + 3_600_000) }, now)).toBe(
      1_000,
    );
    // Due in 300 ms on the 1 s tier: released at its due time.
    expect(schedule.holdFor({ topic: 'r.1s', timestamp: now, headers: due(now + 300) }, now)).toBe(300);
    // Written 61 s ago on the 1 min tier: released.
    expect(
      schedule.holdFor({ topic: 'r.1m', timestamp: now - 61_000, headers: due(now + 600_000) }, now),
    ).toBe(0);
    // Not a tier: never held.
    expect(schedule.holdFor({ topic: 'other', timestamp: now, headers: due(now + 5_000) }, now)).toBe(0);
  });
});

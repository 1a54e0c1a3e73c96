import { HEADERS } from '@sps/contracts';
import type { BatchingProducer } from '../producer.js';
import type { ConsumedRecord, RawRecord } from '../records.js';
import { ConcurrentRunner, type ConcurrentRunnerOptions } from './concurrent-runner.js';

export interface DelayTier {
  topic: string;
  delayMs: number;
}

export interface ScheduledRecord {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
}

/**
 * A durable schedule made of delay tiers (topics). A record written to the tier of delay D is
 * released D after it was written, or at its due time if that comes first. Release times therefore
 * grow with offsets within a tier (nothing waits behind a longer delay: at most the smallest tier's
 * delay), and a record due later than its tier releases it is written again to the tier that fits
 * what is left. Exact to within the smallest tier, for any delay, with no consumer ever sleeping.
 */
export class RetrySchedule {
  private readonly tiers: DelayTier[];

  constructor(
    private readonly producer: BatchingProducer,
    tiers: DelayTier[],
  ) {
    this.tiers = [...tiers].sort((a, b) => a.delayMs - b.delayMs);
    if (this.tiers.length === 0) throw new Error('a retry schedule needs at least one delay tier');
  }

  get topics(): string[] {
    return this.tiers.map((tier) => tier.topic);
  }

  /** The longest tier not longer than the wait, else the shortest. */
  tierFor(waitMs: number): DelayTier {
    let chosen = this.tiers[0]!;
    for (const tier of this.tiers) if (tier.delayMs <= waitMs) chosen = tier;
    return chosen;
  }

  async schedule(record: ScheduledRecord, dueAt: number, now = Date.now()): Promise<void> {
    const tier = this.tierFor(dueAt - now);
    await this.producer.send(tier.topic, {
      key: record.key,
      value: record.value,
      headers: { ...record.headers, [HEADERS.dueAt]: new Date(dueAt).toISOString() },
    });
  }

  /** Milliseconds before a record read from a tier may be looked at (0: now). */
  holdFor(record: Pick<RawRecord, 'topic' | 'timestamp' | 'headers'>, now = Date.now()): number {
    const tier = this.tiers.find((t) => t.topic === record.topic);
    if (!tier) return 0;
    const release = Math.min(record.timestamp + tier.delayMs, dueAtOf(record));
    return Math.max(0, release - now);
  }
}

function dueAtOf(record: Pick<RawRecord, 'headers'>): number {
  const due = Date.parse(record.headers[HEADERS.dueAt] ?? '');
  return Number.isNaN(due) ? 0 : due;
}

export interface DelayedRetryRunnerOptions<T> extends Omit<ConcurrentRunnerOptions<T>, 'topics' | 'holdFor'> {
  schedule: RetrySchedule;
}

/**
 * Consumes the delay tiers of a RetrySchedule with the concurrent runner: a record is held unread
 * until its tier releases it, re-queued if it is still not due, and otherwise handed to `handle`
 * — concurrently with its neighbours, so one slow endpoint does not serialise the others.
 */
export class DelayedRetryRunner<T> {
  private readonly runner: ConcurrentRunner<T>;

  constructor(options: DelayedRetryRunnerOptions<T>) {
    const { schedule, handle } = options;
    this.runner = new ConcurrentRunner<T>({
      ...options,
      topics: schedule.topics,
      holdFor: (record) => schedule.holdFor(record),
      handle: async (record: ConsumedRecord<T>) => {
        const due = dueAtOf(record);
        if (due - Date.now() > 20) {
          await schedule.schedule({ key: record.key, value: rawValue(record), headers: record.headers }, due);
          return;
        }
        await handle(record);
      },
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(deadlineMs: number): Promise<void> {
    return this.runner.stop(deadlineMs);
  }
}

function rawValue<T>(record: ConsumedRecord<T>): string | Buffer {
  const value = record.value as unknown;
  if (Buffer.isBuffer(value) || typeof value === 'string') return value;
  return JSON.stringify(value);
}

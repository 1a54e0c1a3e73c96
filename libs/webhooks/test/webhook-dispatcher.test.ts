import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DLQ_HEADERS,
  HEADERS,
  JobEventMessage,
  WEBHOOK_RETRY_TIERS_MS,
  WebhookDeliveryMessage,
  compileContract,
  topicNames,
  type TopicKey,
} from '@sps/contracts';
import type { Database } from '@sps/db';
import { BatchingProducer, RetrySchedule } from '@sps/kafka';
import { FakeConsumer, FakeProducer, fakeKafka, message, silentLogger, until } from '@sps/kafka/testing';
import type { DeliveryOutcome } from '../src/deliver.js';
import { DEFAULT_RETRY_DELAYS_MS, WebhookDispatcher, type WebhookStatus } from '../src/webhook-dispatcher.js';

const topics = topicNames('wh-test.');
const GROUP = 'webhooks';
const checkEvent = compileContract(JobEventMessage);
const checkRetry = compileContract(WebhookDeliveryMessage);

/** The delay tiers as the dispatcher builds them: the `webhookRetry*` topics, shortest first. */
const TIER_KEYS = (Object.keys(topics) as TopicKey[]).filter((key) => key.startsWith('webhookRetry'));
const TIERS = TIER_KEYS.map((key, i) => ({ topic: topics[key], delayMs: WEBHOOK_RETRY_TIERS_MS[i]! }));
const tierFor = (waitMs: number) =>
  new RetrySchedule(new BatchingProducer(new FakeProducer().asProducer()), TIERS).tierFor(waitMs).topic;

function jobEvent(overrides: Partial<JobEventMessage> = {}): JobEventMessage {
  return {
    event_id: randomUUID(),
    type: 'job.completed',
    job_id: randomUUID(),
    tenant_id: 'acme',
    status: 'completed',
    webhook_url: 'https://hooks.example.com/sps',
    summary: { total: 3, successful: 3, failed: 0 },
    occurred_at: new Date().toISOString(),
    ...overrides,
  };
}

type Outcome = (event: JobEventMessage, attempt: number) => DeliveryOutcome;

async function setup(outcome: Outcome, retryDelaysMs: number[] = DEFAULT_RETRY_DELAYS_MS) {
  const first = new FakeConsumer();
  const retries = new FakeConsumer();
  const producer = new FakeProducer();
  const deliveries: [string, number][] = [];
  const statuses: [string, WebhookStatus][] = [];
  const dispatcher = new WebhookDispatcher({
    kafka: fakeKafka((config) => (config.groupId === `${GROUP}-retries` ? retries : first)),
    groupId: GROUP,
    producer: new BatchingProducer(producer.asProducer()),
    db: {} as Database, // never touched: delivery and status are the fakes below
    topics,
    logger: silentLogger,
    retryDelaysMs,
    timeoutMs: 1_000,
    allowlist: [],
    deliver: async (_deps, event, attempt) => {
      deliveries.push([event.job_id, attempt]);
      return outcome(event, attempt);
    },
    setStatus: async (jobId, status) => void statuses.push([jobId, status]),
  });
  await dispatcher.start();
  let retryOffset = 0;
  return {
    dispatcher,
    first,
    retries,
    producer,
    deliveries,
    statuses,
    /**
     * A first attempt: the event on the job-events topic; resolves once `settled` holds (default:
     * the record is committed, i.e. its attempt is over whatever it did).
     */
    async publishEvent(event: unknown, partition = 0, offset = 0, settled?: () => boolean) {
      await first.deliver(topics.jobEvents, partition, [message(offset, event)]);
      await until(settled ?? (() => first.committed(topics.jobEvents, partition) === String(offset + 1)));
    },
    /** Attempt `attempt`, due now: a retry record as the delay tier releases it. */
    async publishRetry(
      event: JobEventMessage,
      attempt: number,
      topic = topics.webhookRetry10s,
      settled?: () => boolean,
    ) {
      const due = new Date(Date.now() - 1_000).toISOString();
      const retry: WebhookDeliveryMessage = { event, attempt, due_at: due, last_error: 'HTTP 503' };
      const offset = retryOffset++;
      await retries.deliver(topic, 1, [
        message(offset, retry, { [HEADERS.dueAt]: due }, Date.now() - 60_000),
      ]);
      await until(settled ?? (() => retries.committed(topic, 1) === String(offset + 1)));
    },
  };
}

const failed: Outcome = () => ({ kind: 'failed', error: 'HTTP 503' });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('WebhookDispatcher', () => {
  it('marks a delivered event delivered, and schedules nothing', async () => {
    const wh = await setup(() => ({ kind: 'delivered' }));
    const event = jobEvent();
    await wh.publishEvent(event);
    expect(wh.deliveries).toEqual([[event.job_id, 1]]);
    expect(wh.statuses).toEqual([[event.job_id, 'delivered']]);
    expect(wh.producer.sent()).toEqual([]);
    await wh.dispatcher.stop(100);
  });

  it('does nothing at all for a duplicate event', async () => {
    const wh = await setup(() => ({ kind: 'duplicate' }));
    const event = jobEvent();
    await wh.publishEvent(event);
    expect(wh.deliveries).toEqual([[event.job_id, 1]]);
    expect(wh.statuses).toEqual([]);
    expect(wh.producer.sent()).toEqual([]);
    await wh.dispatcher.stop(100);
  });

  it('does not try an event without a webhook url', async () => {
    const wh = await setup(() => ({ kind: 'delivered' }));
    await wh.publishEvent(jobEvent({ webhook_url: undefined }));
    expect(wh.deliveries).toEqual([]);
    expect(wh.statuses).toEqual([]);
    expect(wh.producer.sent()).toEqual([]);
    await wh.dispatcher.stop(100);
  });

  // Math.random 0.75 → ×1.1, 0.25 → ×0.9 of DEFAULT_RETRY_DELAYS_MS (10 s, 1 m, 5 m, 30 m, 2 h, 6 h,
  // 12 h, 24 h); the tier is the longest one not longer than the wait.
  it.each([
    [0.75, 1.1, ['10s', '1m', '1m', '10m', '1h', '6h', '6h', '6h']],
    [0.25, 0.9, ['1s', '10s', '1m', '10m', '1h', '1h', '6h', '6h']],
  ])(
    'schedules attempt k+1 of a failed attempt k on the tier of its delay (random %s: ×%s)',
    async (random, factor, tiers) => {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const wh = await setup(failed);
      for (let k = 1; k <= DEFAULT_RETRY_DELAYS_MS.length; k++) {
        const event = jobEvent();
        const before = Date.now();
        const settled = () => wh.statuses.length > 0; // the status is the attempt's last step
        if (k === 1) await wh.publishEvent(event, 0, 0, settled);
        else await wh.publishRetry(event, k, topics.webhookRetry10s, settled);
        const after = Date.now();

        const sent = wh.producer.sent();
        expect(sent).toHaveLength(1);
        const [scheduled] = sent;
        const delay = DEFAULT_RETRY_DELAYS_MS[k - 1]! * factor;
        const expectedTier = topics[`webhookRetry${tiers[k - 1]}` as TopicKey];
        expect(tierFor(delay)).toBe(expectedTier); // the table above is RetrySchedule's rule
        expect(scheduled!.topic).toBe(expectedTier);
        expect(scheduled!.key).toBe(event.job_id);
        const dueAt = Date.parse(scheduled!.headers[HEADERS.dueAt]!);
        expect(dueAt).toBeGreaterThanOrEqual(before + Math.floor(delay) - 1);
        expect(dueAt).toBeLessThanOrEqual(after + delay);
        const retry = JSON.parse(scheduled!.value) as WebhookDeliveryMessage;
        expect(checkRetry(retry).ok).toBe(true);
        expect(retry).toEqual({
          event,
          attempt: k + 1,
          due_at: expect.any(String),
          last_error: 'HTTP 503',
        });
        expect(Math.abs(Date.parse(retry.due_at) - dueAt)).toBeLessThanOrEqual(5);
        expect(wh.deliveries).toEqual([[event.job_id, k]]);
        expect(wh.statuses).toEqual([[event.job_id, 'retrying']]);
        wh.producer.requests.length = 0;
        wh.deliveries.length = 0;
        wh.statuses.length = 0;
      }
      await wh.dispatcher.stop(100);
    },
  );

  it('jitters each delay within ±20%', async () => {
    const delay = 30_000; // ±20%: 24 s to 36 s, all within the 10 s tier
    const wh = await setup(failed, [delay]);
    const before = Date.now();
    await wh.first.deliver(
      topics.jobEvents,
      0,
      Array.from({ length: 30 }, (_, i) => message(i, jobEvent())),
    );
    await until(() => wh.statuses.length === 30);
    const after = Date.now();
    const scheduled = wh.producer.sent();
    expect(scheduled).toHaveLength(30);
    expect(new Set(scheduled.map((r) => r.topic))).toEqual(new Set([topics.webhookRetry10s]));
    const dueAts = scheduled.map((r) => Date.parse(r.headers[HEADERS.dueAt]!));
    expect(Math.min(...dueAts)).toBeGreaterThanOrEqual(before + 0.8 * delay - 1);
    expect(Math.max(...dueAts)).toBeLessThanOrEqual(after + 1.2 * delay);
    // Jittered, not one fixed delay: 30 draws over a 12 s span, at least 8 s apart at the extremes.
    expect(Math.max(...dueAts) - Math.min(...dueAts)).toBeGreaterThan(after - before + 4_000);
    await wh.dispatcher.stop(100);
  });

  it('dead-letters the event itself after the last retry failed, and marks it failed', async () => {
    const wh = await setup(failed, [1_000, 2_000]);
    const event = jobEvent();
    await wh.publishRetry(event, 2); // the last retry is still scheduled...
    expect(wh.producer.sent().map((r) => r.topic)).toEqual([topics.webhookRetry1s]);
    wh.producer.requests.length = 0;
    wh.statuses.length = 0;

    await wh.publishRetry(event, 3, topics.webhookRetry1s); // ...and when it fails, that is the end
    const sent = wh.producer.sent();
    expect(sent.map((r) => r.topic)).toEqual([topics.webhooksDlq]);
    const [letter] = sent;
    expect(letter!.key).toBe(event.job_id);
    expect(JSON.parse(letter!.value)).toEqual(event);
    expect(checkEvent(JSON.parse(letter!.value)).ok).toBe(true); // replayable onto job events as is
    expect(letter!.headers).toMatchObject({
      [DLQ_HEADERS.sourceTopic]: topics.jobEvents,
      [DLQ_HEADERS.errorCode]: 'DELIVERY_FAILED',
      [DLQ_HEADERS.stage]: 'webhook-dispatcher',
      [DLQ_HEADERS.attempts]: '3',
      [DLQ_HEADERS.reason]: 'not delivered after 3 attempts: HTTP 503',
    });
    expect(wh.statuses).toEqual([[event.job_id, 'failed']]);
    expect(wh.deliveries.map(([, attempt]) => attempt)).toEqual([2, 3]);
    await wh.dispatcher.stop(100);
  });

  it('dead-letters a failed first attempt at once when there are no retries', async () => {
    const wh = await setup(failed, []);
    const event = jobEvent();
    await wh.publishEvent(event);
    expect(wh.producer.sent().map((r) => [r.topic, r.headers[DLQ_HEADERS.reason]])).toEqual([
      [topics.webhooksDlq, 'not delivered after 1 attempts: HTTP 503'],
    ]);
    expect(wh.statuses).toEqual([[event.job_id, 'failed']]);
    await wh.dispatcher.stop(100);
  });

  it('dead-letters a refused target at once, with the reason, without retrying', async () => {
    const reason = 'target resolves to 10.0.0.7, a private address';
    const wh = await setup(() => ({ kind: 'refused', error: reason }));
    const event = jobEvent();
    await wh.publishEvent(event, 4, 17);
    const sent = wh.producer.sent();
    expect(sent.map((r) => r.topic)).toEqual([topics.webhooksDlq]);
    expect(JSON.parse(sent[0]!.value)).toEqual(event);
    expect(sent[0]!.headers).toMatchObject({
      [DLQ_HEADERS.sourceTopic]: topics.jobEvents,
      [DLQ_HEADERS.sourcePartition]: '4',
      [DLQ_HEADERS.sourceOffset]: '17',
      [DLQ_HEADERS.errorCode]: 'DELIVERY_FAILED',
      [DLQ_HEADERS.attempts]: '1',
      [DLQ_HEADERS.reason]: reason,
    });
    expect(wh.deliveries).toEqual([[event.job_id, 1]]);
    expect(wh.statuses).toEqual([[event.job_id, 'failed']]);
    await wh.dispatcher.stop(100);
  });

  it('dead-letters a job event that breaks its contract, alone; its neighbours are delivered', async () => {
    const wh = await setup(() => ({ kind: 'delivered' }));
    const before = jobEvent();
    const after = jobEvent();
    const broken = { ...jobEvent(), job_id: 'not-a-uuid' };
    await wh.first.deliver(topics.jobEvents, 1, [
      message(0, before),
      message(1, broken, { traceparent: 't-1' }),
      message(2, 'not json'),
      message(3, after),
    ]);
    await until(() => wh.first.committed(topics.jobEvents, 1) === '4');

    expect(wh.deliveries).toEqual([
      [before.job_id, 1],
      [after.job_id, 1],
    ]);
    expect(wh.statuses).toEqual([
      [before.job_id, 'delivered'],
      [after.job_id, 'delivered'],
    ]);
    const letters = wh.producer.sent();
    expect(
      letters.map((l) => [
        l.topic,
        l.headers[DLQ_HEADERS.sourceTopic],
        l.headers[DLQ_HEADERS.sourceOffset],
        l.headers[DLQ_HEADERS.errorCode],
      ]),
    ).toEqual([
      [topics.webhooksDlq, topics.jobEvents, '1', 'CONTRACT_VIOLATION'],
      [topics.webhooksDlq, topics.jobEvents, '2', 'CONTRACT_VIOLATION'],
    ]);
    expect(letters[0]!.value).toBe(JSON.stringify(broken)); // the original bytes
    expect(letters[0]!.headers[DLQ_HEADERS.reason]).toMatch(/job_id/);
    expect(letters[0]!.headers.traceparent).toBe('t-1');
    expect(letters[1]!.headers[DLQ_HEADERS.reason]).toMatch(/^value is not JSON/);
    await wh.dispatcher.stop(100);
  });

  it('dead-letters a retry record that breaks its contract, from its tier', async () => {
    const wh = await setup(() => ({ kind: 'delivered' }));
    const due = new Date(Date.now() - 1_000).toISOString();
    await wh.retries.deliver(topics.webhookRetry1m, 0, [
      message(
        0,
        { event: jobEvent(), attempt: 0, due_at: due },
        { [HEADERS.dueAt]: due },
        Date.now() - 120_000,
      ),
    ]);
    await until(() => wh.retries.committed(topics.webhookRetry1m, 0) === '1');
    expect(wh.deliveries).toEqual([]);
    expect(
      wh.producer
        .sent()
        .map((l) => [l.topic, l.headers[DLQ_HEADERS.sourceTopic], l.headers[DLQ_HEADERS.errorCode]]),
    ).toEqual([[topics.webhooksDlq, topics.webhookRetry1m, 'CONTRACT_VIOLATION']]);
    await wh.dispatcher.stop(100);
  });
});

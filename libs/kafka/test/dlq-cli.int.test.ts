import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, TOPICS, topicNames } from '@sps/contracts';
import { createLogger } from '@sps/observability';
import { resolveTestEndpoints, type TestEndpoints } from '@sps/testing';
import { createKafka } from '../src/client.js';
import { createProducer } from '../src/producer.js';
import { ensureTopics } from '../src/topics.js';

/** `npm run dlq` as an operator runs it, against real Kafka, on topics of a random prefix. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = 'libs/kafka/src/cli/dlq.ts';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('npm run dlq (real Kafka)', () => {
  let endpoints: TestEndpoints;
  let kafka: Kafka;
  const prefix = `t${randomBytes(4).toString('hex')}.`;
  const topics = topicNames(prefix);
  const createdGroups: string[] = [];

  const cli = (...args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', CLI, ...args],
        {
          cwd: ROOT,
          timeout: 60_000,
          env: { ...process.env, KAFKA_BROKERS: endpoints.kafkaBrokers, KAFKA_TOPIC_PREFIX: prefix },
        },
        (error, stdout, stderr) =>
          resolve({
            code: error ? Number(error.code ?? 1) : 0,
            stdout: String(stdout),
            stderr: String(stderr),
          }),
      );
    });

  const failedAt = '2025-06-01T10:00:00.000Z';
  const letters = [
    {
      partition: 0,
      key: 'work-a',
      value: JSON.stringify({ request_id: 'r-1', prompt: 42 }),
      original: { 'correlation-id': 'c-1', 'content-type': 'application/json' },
      reason: 'value breaks sps.requests.v1: /prompt must be string',
      errorCode: 'CONTRACT_VIOLATION',
      stage: 'decode',
    },
    {
      partition: 0,
      key: 'work-b',
      value: 'not json {',
      original: { 'correlation-id': 'c-2' },
      reason: 'value is not JSON:\nUnexpected token o in JSON at position 1',
      errorCode: 'CONTRACT_VIOLATION',
      stage: 'decode',
    },
    {
      partition: 2,
      key: 'work-c',
      value: JSON.stringify({ request_id: 'r-3', prompt: 'hello' }),
      original: {
        'correlation-id': 'c-3',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      reason: 'handler kept failing: connection reset',
      errorCode: 'RETRIES_EXHAUSTED',
      stage: 'process',
    },
  ];

  const dlqHeaders = (letter: (typeof letters)[number], sourceTopic: string, index: number) => ({
    [DLQ_HEADERS.reason]: letter.reason,
    [DLQ_HEADERS.errorCode]: letter.errorCode,
    [DLQ_HEADERS.stage]: letter.stage,
    [DLQ_HEADERS.sourceTopic]: sourceTopic,
    [DLQ_HEADERS.sourcePartition]: '4',
    [DLQ_HEADERS.sourceOffset]: String(100 + index),
    [DLQ_HEADERS.failedAt]: failedAt,
    [DLQ_HEADERS.attempts]: '3',
  });

  const recordCount = async (topic: string): Promise<number> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  };

  const consumeAll = async (topic: string, expected: number): Promise<KafkaMessage[]> => {
    const groupId = `${prefix}verify-${randomBytes(3).toString('hex')}`;
    createdGroups.push(groupId);
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 250 });
    const messages: KafkaMessage[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
      const until = Date.now() + 20_000;
      while (messages.length < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      return messages;
    } finally {
      await consumer.disconnect();
    }
  };

  beforeAll(async () => {
    endpoints = await resolveTestEndpoints();
    kafka = createKafka({
      brokers: endpoints.kafkaBrokers,
      clientId: 'dlq-cli-test',
      logger: createLogger({ service: 'dlq-cli-test', level: 'silent' }),
    });
    await ensureTopics(kafka, Object.values(TOPICS), prefix);
    const producer = createProducer(kafka);
    await producer.connect();
    try {
      // One at a time so that offsets are known: requests-dlq 0:0, 0:1 and 2:0.
      for (const [index, letter] of letters.entries())
        await producer.send({
          topic: topics.requestsDlq,
          acks: -1,
          messages: [
            {
              partition: letter.partition,
              key: letter.key,
              value: letter.value,
              headers: { ...letter.original, ...dlqHeaders(letter, topics.requests, index) },
            },
          ],
        });
      // A dead letter that claims to come from somewhere else: replay must refuse it.
      await producer.send({
        topic: topics.resultsDlq,
        acks: -1,
        messages: [
          {
            partition: 1,
            key: 'stranger',
            value: '{}',
            headers: dlqHeaders(letters[0]!, 'somebody-elses.topic', 9),
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
  });

  afterAll(async () => {
    if (!kafka) return;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteGroups(createdGroups).catch(() => {});
      await admin.deleteTopics({ topics: Object.values(topics), timeout: 30_000 });
    } finally {
      await admin.disconnect();
    }
    await endpoints.release();
  });

  it('list counts the records of each DLQ and shows the latest with their reasons', async () => {
    const text = await cli('list');
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain(`requests  ${topics.requestsDlq}  3 records`);
    expect(text.stdout).toContain(`results  ${topics.resultsDlq}  1 record`);
    expect(text.stdout).toContain(`webhooks  ${topics.webhooksDlq}  0 records`);
    expect(text.stdout).toContain(letters[0]!.reason);
    expect(text.stdout).toContain('value is not JSON: Unexpected token o in JSON at position 1');
    expect(text.stdout).toContain(letters[2]!.reason);
    expect(text.stdout).toMatch(
      /^ {2}2:0 +2025-06-01T10:00:00.000Z +process +RETRIES_EXHAUSTED +\S+ +handler/m,
    );

    const json = await cli('list', '--topic', 'requests', '--limit', '2', '--json');
    expect(json.code).toBe(0);
    const [requests, ...others] = JSON.parse(json.stdout).topics;
    expect(others).toEqual([]);
    expect(requests).toMatchObject({ name: 'requests', topic: topics.requestsDlq, exists: true, total: 3 });
    // The latest two, oldest first.
    expect(requests.records.map((r: { dlq: { reason: string } }) => r.dlq.reason)).toEqual([
      letters[1]!.reason,
      letters[2]!.reason,
    ]);
  });

  it('show prints one record: key, headers, value and dlq fields', async () => {
    const parsed = await cli('show', 'requests:0:0', '--json');
    expect(parsed.code).toBe(0);
    expect(JSON.parse(parsed.stdout)).toEqual({
      topic: topics.requestsDlq,
      partition: 0,
      offset: '0',
      timestamp: expect.any(String),
      key: 'work-a',
      headers: { ...letters[0]!.original, ...dlqHeaders(letters[0]!, topics.requests, 0) },
      valueFormat: 'json',
      value: { request_id: 'r-1', prompt: 42 },
      dlq: {
        reason: letters[0]!.reason,
        errorCode: 'CONTRACT_VIOLATION',
        stage: 'decode',
        sourceTopic: topics.requests,
        sourcePartition: 4,
        sourceOffset: '100',
        failedAt,
        attempts: 3,
      },
    });

    const text = await cli('show', 'requests:0:1');
    expect(text.code).toBe(0);
    const record = JSON.parse(text.stdout);
    expect(record).toMatchObject({ key: 'work-b', valueFormat: 'utf-8', value: 'not json {' });
    expect(record.dlq.reason).toBe(letters[1]!.reason);

    const missing = await cli('show', 'requests:1:0');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('has no record at 1:0');
  });

  it('replay --offset produces exactly that record back to its source topic, without dlq-* headers', async () => {
    const replayed = await cli('replay', 'requests', '--offset', '2:0');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain('replayed 1 record from');
    expect(await recordCount(topics.requests)).toBe(1);

    const [message, ...more] = await consumeAll(topics.requests, 1);
    expect(more).toEqual([]);
    expect(message!.key?.toString()).toBe('work-c');
    expect(message!.value?.toString()).toBe(letters[2]!.value);
    const headers = Object.fromEntries(
      Object.entries(message!.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    expect(headers).toEqual({ ...letters[2]!.original, 'dlq-replayed-from': `${topics.requestsDlq}:2:0` });
  });

  it('replay --all --dry-run shows what it would do and produces nothing', async () => {
    const dry = await cli('replay', 'requests', '--all', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout.match(/^would replay /gm)).toHaveLength(3);
    expect(dry.stdout).toContain('dry run: 3 records');
    expect(await recordCount(topics.requests)).toBe(1);
  });

  it('replay refuses a record whose source is not a topic of the service', async () => {
    const refused = await cli('replay', 'results', '--all');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("comes from 'somebody-elses.topic'");
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(await recordCount(topics.results)).toBe(0);
  });

  it('--help exits 0; an unknown option exits 2 with one line and the usage', async () => {
    const help = await cli('--help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^usage: npm run dlq/);

    const wrong = await cli('list', '--nope');
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr.split('\n')[0]).toBe("dlq: unknown option '--nope'");
    expect(wrong.stderr).toContain('usage: npm run dlq');
  });
});

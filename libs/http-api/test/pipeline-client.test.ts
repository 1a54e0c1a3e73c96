import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HEADERS,
  JSON_CONTENT_TYPE,
  workKey,
  type PromptRequestMessage,
  type ResultMessage,
} from '@sps/contracts';
import type { BatchingProducer, OutgoingRecord, ReplyListener } from '@sps/kafka';
import { PipelineClient, type CachedAnswers } from '../src/pipeline-client.js';

function request(prompt: string): PromptRequestMessage {
  return {
    request_id: randomUUID(),
    tenant_id: 'acme',
    api_key_id: randomUUID(),
    prompt,
    options: { timeout_ms: 5_000 },
  };
}

function resultFor(message: PromptRequestMessage): ResultMessage {
  return {
    request_id: message.request_id,
    tenant_id: message.tenant_id,
    api_key_id: message.api_key_id,
    prompt: message.prompt,
    request_params: { format: 'json', options: message.options ?? {} },
    status: 'succeeded',
    output: {
      data: { total: 42 },
      output_format: 'json',
      validation_status: 'passed',
      provider_used: 'openai',
      model: 'gpt-4o-mini',
      repaired: false,
      original_language: 'en',
      cached: true,
    },
    attempts: [],
    processing_time_ms: 0,
    completed_at: new Date().toISOString(),
  };
}

function recordingCache() {
  const lookups: string[] = [];
  const cached: CachedAnswers = {
    looksUp: () => true,
    async answer(message, key) {
      lookups.push(key);
      return resultFor(message);
    },
  };
  return { cached, lookups };
}

function client(cached: CachedAnswers) {
  const sent: { topic: string; record: OutgoingRecord }[] = [];
  let acknowledge = () => undefined as void;
  const producer = {
    send(topic: string, record: OutgoingRecord) {
      sent.push({ topic, record });
      return new Promise<void>((resolve) => (acknowledge = resolve));
    },
  } as unknown as BatchingProducer;
  const replies = {
    replyAddress: { topic: 'replies', partition: 0 },
    waitFor: () => new Promise(() => undefined),
    cancel: () => undefined,
  } as unknown as ReplyListener;
  const pipeline = new PipelineClient({
    producer,
    topics: { requests: 'requests', results: 'results' },
    replies,
    cached,
  });
  return { pipeline, sent, acknowledge: () => acknowledge() };
}

describe('PipelineClient cache hits', () => {
  it('looks the work key up once and answers once the result is acknowledged on the results topic', async () => {
    const { cached, lookups } = recordingCache();
    const { pipeline, sent, acknowledge } = client(cached);
    const message = request('a');
    let answered = false;
    const call = pipeline.call(message, 5_000).then((result) => ((answered = true), result));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lookups).toEqual([workKey(message)]);
    expect(sent).toHaveLength(1);
    expect(answered).toBe(false); // not before Kafka acknowledged it
    acknowledge();
    const result = await call;
    expect(result.request_id).toBe(message.request_id);
    const [{ topic, record }] = sent as [{ topic: string; record: OutgoingRecord }];
    expect(topic).toBe('results');
    expect(record.key).toBe(message.request_id);
    expect(record.headers).toEqual({
      [HEADERS.correlationId]: message.request_id,
      [HEADERS.contentType]: JSON_CONTENT_TYPE,
    });
    expect(JSON.parse(String(record.value))).toEqual(result);
  });
});

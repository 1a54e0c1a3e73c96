import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  DLQ_HEADERS,
  HEADERS,
  ResultMessage,
  compileContract,
  topicNames,
  type PromptRequestMessage,
} from '@sps/contracts';
import {
  BatchingProducer,
  ConcurrentRunner,
  DeadLetters,
  PermanentError,
  type ConsumedRecord,
  type RawRecord,
} from '@sps/kafka';
import { FakeConsumer, FakeProducer, fakeKafka, message, silentLogger, until } from '@sps/kafka/testing';
import {
  DEFAULT_PRICES,
  DEFAULT_RESILIENCE,
  ProviderRouter,
  ResilientProvider,
  SchemaCompiler,
  StructuredOutputEngine,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type SchemaTransform,
} from '@sps/llm';
import { decodePipelineRequest, type PipelineRequest } from '../src/pipeline-request.js';
import { ProcessorMetrics } from '../src/processor-metrics.js';
import { RequestProcessor } from '../src/request-processor.js';
import { loadLanguageDetector } from '../src/language.js';
import { AnswerCache, type CachedAnswer } from '../src/answer-cache.js';
import type { ResponseCache } from '@sps/cache';

const topics = topicNames('test.');
const REPLIES = { topic: topics.replies, partitions: 12 };
const decode = decodePipelineRequest(REPLIES);
const checkResult = compileContract(ResultMessage);
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const SCHEMA = {
  type: 'object',
  properties: { total: { type: 'number' }, note: { type: 'string' } },
  required: ['total'],
  additionalProperties: false,
};

/** A provider that answers from a script, optionally held until the test lets it go. */
class ScriptedModel implements LanguageModel {
  readonly provider = 'scripted';
  readonly model = 'scripted-1';
  readonly calls: GenerateRequest[] = [];
  gate: Promise<void> | undefined;

  constructor(private readonly answer: (call: number) => string) {}

  transformSchema = (schema: Record<string, unknown>): SchemaTransform => ({
    providerSchema: schema,
    restore: (instance) => instance,
    notes: [],
  });

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    // A snapshot: the engine appends its feedback to the same messages array after each call.
    this.calls.push({ ...request, messages: [...request.messages] });
    const text = this.answer(this.calls.length);
    await this.gate;
    return { text, tokensIn: 12, tokensOut: 7, model: this.model, finishReason: 'stop' };
  }
}

/** The response cache's contract over a Map (the real one is tested against Redis). */
function memoryCache() {
  const entries = new Map<string, CachedAnswer>();
  const gets: string[] = [];
  const cache = {
    async get(key: string) {
      gets.push(key);
      const value = entries.get(key);
      return value ? { status: 'hit' as const, value } : { status: 'miss' as const };
    },
    async set(key: string, value: CachedAnswer) {
      entries.set(key, value);
      return true;
    },
  } as unknown as ResponseCache<CachedAnswer>;
  return { cache, entries, gets };
}

// Loaded once for the file, as the processor loads it once at start.
const languages = await loadLanguageDetector();
afterAll(() => languages.close());

function setup(
  answer: (call: number) => string = () => '{"total": 42}',
  cache?: ResponseCache<CachedAnswer>,
) {
  const model = new ScriptedModel(answer);
  const router = new ProviderRouter([new ResilientProvider(model, DEFAULT_RESILIENCE)], DEFAULT_PRICES);
  const producer = new FakeProducer();
  const batching = new BatchingProducer(producer.asProducer());
  const metrics = new ProcessorMetrics(new Registry());
  const processor = new RequestProcessor({
    engine: new StructuredOutputEngine({ router, prices: DEFAULT_PRICES, maxAttemptsPerProvider: 2 }),
    schemas: new SchemaCompiler(),
    cache: cache && new AnswerCache(cache, 'processor', metrics.cache),
    cancellations: undefined,
    producer: batching,
    topics,
    replyPartitions: 12,
    logger: silentLogger,
    metrics,
    languages,
  });
  return { model, producer, batching, metrics, processor };
}

function promptRequest(overrides: Partial<PromptRequestMessage> = {}): PromptRequestMessage {
  return {
    request_id: randomUUID(),
    tenant_id: 'acme',
    prompt: 'Invoice INV-1: the total is 42 EUR.',
    schema: SCHEMA,
    ...overrides,
  };
}

const replyTo = (partition: string | number, topic = topics.replies) => ({
  [HEADERS.replyTopic]: topic,
  [HEADERS.replyPartition]: String(partition),
});

function raw(value: unknown, headers: Record<string, string> = {}, offset = 0): RawRecord {
  return {
    topic: topics.requests,
    partition: 0,
    offset: String(offset),
    timestamp: Date.now(),
    key: 'work-key',
    rawKey: Buffer.from('work-key'),
    headers,
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  };
}

/** A request as the processor's runner hands it over: decoded by the runner's decoder. */
function consumed(value: unknown, headers: Record<string, string> = {}): ConsumedRecord<PipelineRequest> {
  const record = raw(value, headers);
  return { ...record, value: decode(record) };
}

const parse = (record: { value: string }) => JSON.parse(record.value) as ResultMessage;

function refusal(run: () => unknown): PermanentError {
  try {
    run();
  } catch (error) {
    if (error instanceof PermanentError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('RequestProcessor.handle', () => {
  it('publishes exactly one succeeded result, and the same result to the reply address', async () => {
    const { processor, producer, model } = setup();
    const request = promptRequest();
    await processor.handle(consumed(request, { ...replyTo(7), [HEADERS.traceparent]: TRACEPARENT }));

    expect(producer.sent().map((r) => [r.topic, r.partition])).toEqual([
      [topics.results, undefined],
      [topics.replies, 7],
    ]);
    const [published, reply] = [producer.sentTo(topics.results)[0]!, producer.sentTo(topics.replies)[0]!];
    expect(reply.value).toBe(published.value);
    expect(reply.key).toBe(request.request_id);
    expect(published.key).toBe(request.request_id);
    expect(published.headers).toEqual({
      [HEADERS.correlationId]: request.request_id,
      [HEADERS.contentType]: 'application/json',
      [HEADERS.traceparent]: TRACEPARENT,
    });
    expect(reply.headers).toEqual(published.headers);

    const result = parse(published);
    expect(checkResult(result).ok).toBe(true);
    expect(result).toMatchObject({
      request_id: request.request_id,
      tenant_id: 'acme',
      status: 'succeeded',
      prompt: request.prompt,
      output: {
        data: { total: 42 },
        output_format: 'json',
        validation_status: 'passed',
        provider_used: 'scripted',
        model: 'scripted-1',
        cached: false,
        repaired: false,
        original_language: 'en',
      },
    });
    expect(result.error).toBeUndefined();
    expect(result.attempts).toEqual([
      expect.objectContaining({ provider: 'scripted', outcome: 'valid', tokens_in: 12, tokens_out: 7 }),
    ]);
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]!.messages).toEqual([{ role: 'user', content: request.prompt }]);
  });

  it('publishes to the results topic only when the record carries no reply address', async () => {
    const { processor, producer } = setup();
    await processor.handle(consumed(promptRequest()));
    expect(producer.sent().map((r) => r.topic)).toEqual([topics.results]);
    expect(parse(producer.sent()[0]!).status).toBe('succeeded');
  });

  it('replaces NUL and lone surrogates in the model answer with U+FFFD in what it publishes', async () => {
    // JSON escapes in the model's text: the parsed strings hold U+0000, U+D800 and U+DFFF alone.
    const { processor, producer } = setup(() => '{"total": 1, "note": "a\\u0000b\\ud800c\\udfffd"}');
    await processor.handle(consumed(promptRequest(), replyTo(0)));

    const [published, reply] = [producer.sentTo(topics.results)[0]!, producer.sentTo(topics.replies)[0]!];
    for (const record of [published, reply]) {
      // JSON.stringify writes NUL and unpaired surrogates as escapes: none may be left.
      expect(record.value).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}|\\ud[c-f][0-9a-f]{2}/i);
      expect(parse(record).output?.data).toEqual({ total: 1, note: 'a\uFFFDb\uFFFDc\uFFFDd' });
    }
  });

  it('publishes one failed result with VALIDATION_FAILED and every attempt when no answer validates', async () => {
    const { processor, producer, model, metrics } = setup(() => '{"total": "forty-two"}');
    const request = promptRequest();
    await processor.handle(consumed(request));

    expect(model.calls).toHaveLength(2); // maxAttemptsPerProvider
    expect(model.calls[1]!.messages).toHaveLength(3); // asked again with the errors as feedback
    expect(producer.sent()).toHaveLength(1);
    const result = parse(producer.sentTo(topics.results)[0]!);
    expect(checkResult(result).ok).toBe(true);
    expect(result).toMatchObject({
      request_id: request.request_id,
      status: 'failed',
      error: { code: 'VALIDATION_FAILED' },
    });
    expect(result.output).toBeUndefined();
    expect(result.error?.details?.validation_errors).toEqual([
      expect.objectContaining({ path: expect.stringContaining('total') }),
    ]);
    expect(result.error?.details).not.toHaveProperty('attempts'); // moved to the result's attempts
    expect(result.attempts).toEqual([
      expect.objectContaining({ provider: 'scripted', outcome: 'invalid', error_class: 'schema_mismatch' }),
      expect.objectContaining({ provider: 'scripted', outcome: 'invalid', error_class: 'schema_mismatch' }),
    ]);
    const counted = (await metrics.requests.get()).values;
    expect(counted).toEqual([
      expect.objectContaining({ labels: { status: 'failed', code: 'VALIDATION_FAILED' }, value: 1 }),
    ]);
  });

  it('answers repeated work from the cache, and skips the lookup ingest-api just missed', async () => {
    const { cache, entries, gets } = memoryCache();
    const { model, producer, processor, metrics } = setup(undefined, cache);
    const first = promptRequest();
    // ingest-api looked the work up and missed: no second GET, but the answer is stored.
    await processor.handle(consumed(first, { [HEADERS.cacheChecked]: 'miss' }));
    expect(gets).toEqual([]);
    expect(entries.size).toBe(1);
    // A Kafka-native twin (no header) is looked up and answered from the cache.
    await processor.handle(consumed({ ...first, request_id: randomUUID() }));
    expect(gets).toHaveLength(1);
    expect(model.calls).toHaveLength(1);
    expect(producer.sentTo(topics.results).map((r) => parse(r).output?.cached)).toEqual([false, true]);
    expect((await metrics.cache.get()).values.map((v) => [v.labels, v.value])).toEqual([
      [{ stage: 'processor', outcome: 'hit' }, 1],
    ]);
  });

  it('coalesces identical work in flight into one model call, and only while it is in flight', async () => {
    const { processor, producer, model, metrics } = setup();
    let release!: () => void;
    model.gate = new Promise<void>((resolve) => (release = resolve));
    const first = promptRequest();
    const twin = promptRequest(); // another request id, the same work
    const running = processor.handle(consumed(first));
    await until(() => model.calls.length === 1);
    const coalesced = processor.handle(consumed(twin, replyTo(3)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(model.calls).toHaveLength(1);
    expect(producer.sent()).toEqual([]); // both wait for the one answer
    release();
    await Promise.all([running, coalesced]);

    expect(model.calls).toHaveLength(1);
    const results = producer.sentTo(topics.results).map(parse);
    expect(results.map((r) => [r.request_id, r.status, r.output?.cached])).toEqual([
      [first.request_id, 'succeeded', false],
      [twin.request_id, 'succeeded', true],
    ]);
    expect(results[1]!.output?.data).toEqual(results[0]!.output?.data);
    expect(results[1]!.attempts).toEqual([]);
    expect(producer.sentTo(topics.replies).map((r) => [r.key, r.partition])).toEqual([[twin.request_id, 3]]);
    expect((await metrics.cache.get()).values).toEqual([
      expect.objectContaining({ labels: { stage: 'processor', outcome: 'coalesced' }, value: 1 }),
    ]);

    // Finished work is not remembered without a cache: the same work again is asked again.
    await processor.handle(consumed(promptRequest()));
    expect(model.calls).toHaveLength(2);
  });

  it('coalesces identical work that arrives in the same tick, before either has claimed it', async () => {
    const { processor, producer, model } = setup();
    await Promise.all([
      processor.handle(consumed(promptRequest())),
      processor.handle(consumed(promptRequest())),
    ]);
    expect(model.calls).toHaveLength(1);
    expect(producer.sentTo(topics.results).map((r) => parse(r).output?.cached)).toEqual([false, true]);
  });

  it('does not coalesce different work, and hands a failure to the coalesced twin as well', async () => {
    const { processor, producer, model } = setup(() => '{"total": "not a number"}');
    let release!: () => void;
    model.gate = new Promise<void>((resolve) => (release = resolve));
    const first = processor.handle(consumed(promptRequest()));
    const other = processor.handle(consumed(promptRequest({ prompt: 'Invoice INV-2: 7 EUR.' })));
    await until(() => model.calls.length === 2); // one call each: different work
    const twin = processor.handle(consumed(promptRequest()));
    release();
    await Promise.all([first, other, twin]);
    expect(model.calls).toHaveLength(4); // two rounds for each of the two pieces of work
    const results = producer.sentTo(topics.results).map(parse);
    expect(results.map((r) => [r.status, r.error?.code])).toEqual([
      ['failed', 'VALIDATION_FAILED'],
      ['failed', 'VALIDATION_FAILED'],
      ['failed', 'VALIDATION_FAILED'],
    ]);
  });
});

describe('RequestProcessor.refused', () => {
  const REASON = {
    code: 'CONTRACT_VIOLATION' as const,
    reason: 'prompt: must NOT have fewer than 1 characters',
    attempts: 1,
  };

  it('answers a refused request as failed, to its results and to its valid reply address', async () => {
    const { processor, producer } = setup();
    const request = { ...promptRequest(), prompt: '' }; // breaks the contract, ids usable
    await processor.refused(raw(request, { ...replyTo(5), [HEADERS.traceparent]: TRACEPARENT }), REASON);

    expect(producer.sent().map((r) => [r.topic, r.partition])).toEqual([
      [topics.results, undefined],
      [topics.replies, 5],
    ]);
    const result = parse(producer.sentTo(topics.results)[0]!);
    expect(checkResult(result).ok).toBe(true);
    expect(result).toMatchObject({
      request_id: request.request_id,
      tenant_id: 'acme',
      status: 'failed',
      error: { code: 'CONTRACT_VIOLATION', message: `CONTRACT_VIOLATION: ${REASON.reason}` },
      attempts: [],
    });
    expect(producer.sentTo(topics.results)[0]!.headers[HEADERS.traceparent]).toBe(TRACEPARENT);
  });

  it.each([
    ['a request id that is not a UUID', { request_id: 'req-1' }],
    ['no request id', { request_id: undefined }],
    ['no tenant', { tenant_id: undefined }],
    ['an empty tenant', { tenant_id: '' }],
    ['a tenant over 64 characters', { tenant_id: 't'.repeat(65) }],
    ['a tenant that is not clean text', { tenant_id: 'ac\u0000me' }],
  ])('publishes nothing for %s', async (_, ids) => {
    const { processor, producer } = setup();
    await processor.refused(raw({ ...promptRequest(), prompt: '', ...ids }, replyTo(1)), REASON);
    expect(producer.sent()).toEqual([]);
  });

  it('publishes nothing for a value that is not JSON', async () => {
    const { processor, producer } = setup();
    await processor.refused(raw('{"request_id": "3f1c'), REASON);
    await processor.refused(raw(null), REASON);
    expect(producer.sent()).toEqual([]);
  });

  it('accepts a tenant of exactly 64 characters', async () => {
    const { processor, producer } = setup();
    await processor.refused(raw({ ...promptRequest(), prompt: '', tenant_id: 't'.repeat(64) }), REASON);
    expect(producer.sent()).toHaveLength(1);
  });

  it('never answers to a reply address that was refused, still to the results topic', async () => {
    const { processor, producer } = setup();
    const request = promptRequest({ job_id: randomUUID(), item_index: 3 });
    await processor.refused(raw(request, replyTo(4, 'somebody.elses.topic')), {
      code: 'INVALID_REPLY_ADDRESS',
      reason: 'reply-topic: "somebody.elses.topic" is not test.sps.replies.v1',
      attempts: 1,
    });
    expect(producer.sent().map((r) => r.topic)).toEqual([topics.results]);
    const result = parse(producer.sent()[0]!);
    expect(result).toMatchObject({
      request_id: request.request_id,
      job_id: request.job_id,
      item_index: 3,
      status: 'failed',
      error: {
        code: 'CONTRACT_VIOLATION',
        message: expect.stringMatching(/^INVALID_REPLY_ADDRESS: reply-topic/),
      },
    });
  });

  it.each([
    ['the requests topic at a partition that does not exist', () => replyTo(999, topics.requests)],
    ['the reply topic past its last partition', () => replyTo(12)],
  ])('never writes where a contract-violating record points: %s', async (_, headers) => {
    const { processor, producer } = setup();
    // Refused for its contract, before the decoder looked at its address: refused() checks it itself.
    await processor.refused(raw({ ...promptRequest(), prompt: '' }, headers()), REASON);
    expect(producer.sent().map((r) => [r.topic, r.partition])).toEqual([[topics.results, undefined]]);
  });

  it('answers INTERNAL_ERROR for a request refused for another reason', async () => {
    const { processor, producer } = setup();
    const request = promptRequest();
    await processor.refused(raw(request, replyTo(2)), {
      code: 'RECORD_TOO_LARGE',
      reason: 'result over the limit',
      attempts: 1,
    });
    expect(producer.sent().map((r) => [r.topic, r.partition])).toEqual([
      [topics.results, undefined],
      [topics.replies, 2],
    ]);
    expect(parse(producer.sent()[0]!).error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'RECORD_TOO_LARGE: result over the limit',
    });
  });
});

describe('the processor behind its runner (as apps/processor wires it)', () => {
  it('answers good neighbours, dead-letters the refused ones and answers them on results only', async () => {
    const { processor, producer, batching } = setup();
    const consumer = new FakeConsumer();
    const runner = new ConcurrentRunner<PipelineRequest>({
      kafka: fakeKafka(consumer),
      groupId: 'processor',
      topics: [topics.requests],
      logger: silentLogger,
      maxInFlight: 8,
      commitIntervalMs: 5,
      decode,
      handle: (record) => processor.handle(record),
      deadLetters: new DeadLetters(batching, { topic: topics.requestsDlq, stage: 'processor' }, silentLogger),
      onRefused: (record, reason) => processor.refused(record, reason),
    });
    await runner.start();
    const good = promptRequest();
    const misaddressed = promptRequest({ prompt: 'Invoice INV-3: 3 EUR.' });
    const unclean = { ...promptRequest(), prompt: 'a\u0000b' };
    await consumer.deliver(topics.requests, 0, [
      message(0, good, replyTo(6)),
      message(1, misaddressed, replyTo(6, 'elsewhere')),
      message(2, unclean, replyTo(6)),
    ]);
    await until(() => consumer.committed(topics.requests, 0) === '3');
    await runner.stop(100);

    expect(
      producer
        .sentTo(topics.requestsDlq)
        .map((r) => [r.headers[DLQ_HEADERS.sourceOffset], r.headers[DLQ_HEADERS.errorCode]]),
    ).toEqual([
      ['1', 'INVALID_REPLY_ADDRESS'],
      ['2', 'CONTRACT_VIOLATION'],
    ]);
    const results = producer.sentTo(topics.results).map(parse);
    expect(Object.fromEntries(results.map((r) => [r.request_id, [r.status, r.error?.code]]))).toEqual({
      [good.request_id]: ['succeeded', undefined],
      [misaddressed.request_id]: ['failed', 'CONTRACT_VIOLATION'],
      [unclean.request_id]: ['failed', 'CONTRACT_VIOLATION'],
    });
    expect(results).toHaveLength(3);
    // Valid addresses are answered (the unclean request's failure too); the refused one never is.
    expect(producer.sentTo(topics.replies).map((r) => [r.key, r.partition])).toEqual(
      expect.arrayContaining([
        [good.request_id, 6],
        [unclean.request_id, 6],
      ]),
    );
    expect(producer.sentTo(topics.replies)).toHaveLength(2);
    expect(producer.sent().filter((r) => r.topic === 'elsewhere')).toEqual([]);
  });
});

describe('decodePipelineRequest', () => {
  const request = promptRequest();

  it('passes a request without reply headers, without a reply address', () => {
    const decoded = decode(raw(request));
    expect(decoded).toEqual({ request });
    expect('reply' in decoded).toBe(false);
  });

  it.each(['0', '11'])('passes a reply address on partition %s of the reply topic', (partition) => {
    expect(decode(raw(request, replyTo(partition)))).toEqual({
      request,
      reply: { topic: topics.replies, partition: Number(partition) },
    });
  });

  it('refuses a reply-topic that is not the reply topic, naming the header', () => {
    for (const headers of [
      replyTo(0, topics.results),
      replyTo(0, 'sps.replies.v1'), // without the deployment's prefix
      { [HEADERS.replyPartition]: '0' }, // no topic at all
    ]) {
      const error = refusal(() => decode(raw(request, headers)));
      expect(error.code).toBe('INVALID_REPLY_ADDRESS');
      expect(error.message).toMatch(/^reply-topic: /);
      expect(error.message).toContain(topics.replies);
    }
  });

  it.each(['999', '12', '-1', 'abc', '', '1.5', ' 1', '1e1'])(
    'refuses reply-partition "%s", naming the header',
    (partition) => {
      const error = refusal(() => decode(raw(request, replyTo(partition))));
      expect(error.code).toBe('INVALID_REPLY_ADDRESS');
      expect(error.message).toMatch(/^reply-partition: /);
      expect(error.message).toContain(`"${partition}"`);
      expect(error.message).toContain('(0..11)');
    },
  );

  it('refuses a reply-topic without a reply-partition', () => {
    const error = refusal(() => decode(raw(request, { [HEADERS.replyTopic]: topics.replies })));
    expect(error.code).toBe('INVALID_REPLY_ADDRESS');
    expect(error.message).toMatch(/^reply-partition: "undefined"/);
  });

  it('refuses a NUL in the prompt as a contract violation, before looking at the address', () => {
    for (const headers of [{}, replyTo(3), replyTo('abc')]) {
      const error = refusal(() => decode(raw({ ...request, prompt: 'a\u0000b' }, headers)));
      expect(error.code).toBe('CONTRACT_VIOLATION');
      expect(error.message).toBe('prompt: contains U+0000 (NUL)');
    }
  });

  it('refuses a value that is not JSON as a contract violation', () => {
    const error = refusal(() => decode(raw('not json')));
    expect(error.code).toBe('CONTRACT_VIOLATION');
    expect(error.message).toMatch(/^value is not JSON/);
  });
});

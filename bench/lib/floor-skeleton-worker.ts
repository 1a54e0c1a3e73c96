// The skeleton pipeline's worker (bench/lib/floor-skeleton.ts), its own process like the processor:
// the minimum of our design's back with the same libraries and nothing else (no validation, retries,
// coalescing, metrics, logs). libs/kafka's ConcurrentRunner on the requests topic (the processor's
// runner and its in-flight default); per request one Redis GET (a miss), one OpenAI SDK call to the
// fake provider (client built as libs/llm builds it), then the result to the results topic and the
// reply to the caller's reply address through one BatchingProducer, in one tick. The result has our
// result contract's shape (libs/contracts ResultMessage), so that the real sink can store it (the
// skeleton-with-sink floor). bench:kafka runs it on the pipeline's own requests topic (requests made
// by a data pipeline, with no reply address and no cache key: the request id is the key then).
//
// SKELETON_REQUIRED_WORK=1 adds, in its cheapest form, the work every answer of the product must
// have done (the service's contract, not our implementation of it), so that what the processor
// adds beyond the design's floor can be told from what the product itself costs: the output
// validated against the schema (Ajv, a validator per schema looked up by the schema's text as the
// request carries it), the prompt's language detected (ELD in a worker thread, detections of a
// batch in one message, as libs/processing's LanguageDetector does: language_detection defaults to
// on), the answer written to the response cache under a hash of the work (one SET with its TTL),
// and the two per-request metrics (a counter and a duration histogram). For a diagnosis, a comma list
// of some of them (validate, detect, cache, metrics) does only those.
import { createRedis } from '@sps/cache';
import { HEADERS, JSON_CONTENT_TYPE } from '@sps/contracts';
import { BatchingProducer, ConcurrentRunner, DeadLetters, toHeaders, type OutgoingRecord } from '@sps/kafka';
import { LanguageDetector } from '@sps/processing';
import OpenAI from 'openai';
import { createHttpClient } from '../../libs/llm/src/providers/http-client.js';
import { chatBody } from './floor-openai.js';
import { INVOICE_SCHEMA } from './pipeline.js';
import { requiredWork } from './required-work.js';
import { requiredEnv, skeletonKafka } from './floor-skeleton-process.js';

const env = requiredEnv;
const topics = {
  requests: env('SKELETON_REQUESTS_TOPIC'),
  results: env('SKELETON_RESULTS_TOPIC'),
  dlq: env('SKELETON_DLQ_TOPIC'),
};
const keyPrefix = env('SKELETON_KEY_PREFIX');
const tenant = env('SKELETON_TENANT');
const { logger, kafka, producer } = await skeletonKafka('skeleton-worker');
const batching = new BatchingProducer(producer);
const redis = createRedis(env('REDIS_URL'));
await new Promise<void>((resolve, reject) => {
  if (redis.status === 'ready') resolve();
  redis.once('ready', resolve);
  redis.once('end', () => reject(new Error('redis connection ended')));
});
// as libs/llm/src/providers/openai/adapter.ts builds its client
const http = createHttpClient();
const openai = new OpenAI({
  apiKey: 'sk-fake',
  baseURL: env('SKELETON_OPENAI_BASE_URL'),
  maxRetries: 0,
  timeout: 60_000,
  fetch: http.fetch,
  fetchOptions: http.fetchOptions,
});

interface Request {
  request_id: string;
  key?: string;
  prompt: string;
  schema?: unknown;
}

/** The product's required work per answer (SKELETON_REQUIRED_WORK=1), or nothing. */
async function requiredWorkOf() {
  const setting = process.env.SKELETON_REQUIRED_WORK ?? '0';
  if (setting === '0') return undefined;
  const parts = new Set(setting === '1' ? ['validate', 'detect', 'cache', 'metrics'] : setting.split(','));
  const languages = new LanguageDetector();
  if (parts.has('detect')) await languages.start();
  // The provider is asked for INVOICE_SCHEMA (chatBody), so that is what its answers are checked against.
  const shared = requiredWork(() => INVOICE_SCHEMA);
  return {
    validatorFor: shared.validatorFor,
    parts,
    detect: (prompt: string) => (parts.has('detect') ? languages.detect(prompt) : undefined),
    workKey: shared.workKey,
    count(started: number) {
      if (parts.has('metrics')) shared.count(started);
    },
  };
}
const work = await requiredWorkOf();

const runner = new ConcurrentRunner<Request>({
  kafka,
  groupId: env('SKELETON_GROUP_ID'),
  topics: [topics.requests],
  logger,
  // the processor's default PROCESSOR_MAX_IN_FLIGHT
  maxInFlight: 256,
  decode: (record) => JSON.parse(record.value?.toString('utf8') ?? 'null') as Request,
  deadLetters: new DeadLetters(batching, { topic: topics.dlq, stage: 'skeleton-worker' }, logger),
  async handle(record) {
    const request = record.value;
    const started = performance.now();
    const key = `${keyPrefix}${request.key ?? request.request_id}`;
    const cached = await redis.getBuffer(key);
    if (cached !== null) throw new Error(`unexpected cache hit for ${key}`);
    const language = work?.detect(request.prompt);
    const completion = await openai.chat.completions.create(chatBody(request.prompt));
    const choice = completion.choices[0];
    const data = JSON.parse(choice?.message.content ?? 'null') as unknown;
    const output = {
      data,
      output_format: 'json',
      validation_status: work ? 'passed' : 'skipped',
      provider_used: 'openai',
      model: completion.model,
      cached: false,
      repaired: false,
      original_language: (await language) ?? 'und',
    };
    let cacheWrite: Promise<unknown> | undefined;
    if (work) {
      const validate = work.parts.has('validate') ? work.validatorFor(request) : undefined;
      if (validate && !validate(data)) throw new Error(`invalid answer: ${JSON.stringify(validate.errors)}`);
      if (work.parts.has('cache'))
        cacheWrite = redis.set(
          `${keyPrefix}answer:${work.workKey(request)}`,
          JSON.stringify(output),
          'EX',
          3600,
        );
    }
    const outgoing: OutgoingRecord = {
      key: request.request_id,
      value: JSON.stringify({
        request_id: request.request_id,
        tenant_id: tenant,
        status: 'succeeded',
        output,
        prompt: request.prompt,
        request_params: {},
        attempts: [
          {
            provider: 'openai',
            model: completion.model,
            outcome: 'valid',
            tokens_in: completion.usage?.prompt_tokens ?? 0,
            tokens_out: completion.usage?.completion_tokens ?? 0,
            cost_usd: 0,
            latency_ms: Math.round(performance.now() - started),
          },
        ],
        processing_time_ms: Math.round(performance.now() - started),
        completed_at: new Date().toISOString(),
      }),
      headers: toHeaders({
        [HEADERS.correlationId]: request.request_id,
        [HEADERS.contentType]: JSON_CONTENT_TYPE,
      }),
    };
    const replyTopic = record.headers[HEADERS.replyTopic];
    const replyPartition = record.headers[HEADERS.replyPartition];
    const sends: Promise<unknown>[] = [batching.send(topics.results, outgoing)];
    if (replyTopic && replyPartition !== undefined)
      sends.push(batching.send(replyTopic, { ...outgoing, partition: Number(replyPartition) }));
    if (cacheWrite) sends.push(cacheWrite);
    work?.count(started);
    await Promise.all(sends);
  },
});
await runner.start();
console.log('skeleton worker consuming');
const stop = () =>
  void (async () => {
    await runner.stop(2_000).catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await http.close();
    redis.disconnect();
    process.exit(0);
  })();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

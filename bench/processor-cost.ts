// What the processor's own code costs per request, apart from Kafka and the provider's transport:
// CPU a request of apps/processor's handler (decode → admit → cache → generate → validate →
// publish, as main.ts wires it: the engine, the policies, tracing, the schema compiler, the language
// detector, the response cache on the local Redis, the metrics) over a provider that answers at once
// and a producer that acknowledges at once, beside the product's required work alone done the
// cheapest way (floor-skeleton-worker.ts's SKELETON_REQUIRED_WORK: JSON.parse, the answer validated
// by Ajv, the language detected in a worker thread, one cache SET, two metrics, the result
// serialised). Not part of `bench/run.sh`; run it against the local stack:
//
//   set -a; source <(bash deploy/local/stack.sh env); set +a; node --import tsx bench/processor-cost.ts
//
// PROCESSOR_COST_REQUESTS requests (default 40,000) in waves of PROCESSOR_COST_IN_FLIGHT (256, the
// processor's in-flight default), each case PROCESSOR_COST_REPEATS times (default 5) alternately;
// CPU is this process's (every thread: the detector's included), medians reported. The first
// repeat of each case warms it up and is not counted. Writes bench/results/processor-cost.json.
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { ResponseCache, createRedis } from '@sps/cache';
import { HEADERS, JSON_CONTENT_TYPE, topicNames, type PromptRequestMessage } from '@sps/contracts';
import { BatchingProducer, type RawRecord } from '@sps/kafka';
import {
  DEFAULT_PRICES,
  DEFAULT_RESILIENCE,
  ProviderRouter,
  ResilientProvider,
  SchemaCompiler,
  StructuredOutputEngine,
  tracedModel,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
} from '@sps/llm';
import { createLogger } from '@sps/observability';
import {
  AnswerCache,
  ProcessorMetrics,
  RequestProcessor,
  decodePipelineRequest,
  loadLanguageDetector,
} from '@sps/processing';
import { ensureStack, log, machineInfo, writeResult } from './lib/env.js';
import { median } from './lib/load.js';
import { invoicePrompt } from './lib/pipeline.js';
import { round } from './lib/procs.js';
import { requiredWork } from './lib/required-work.js';

const CONFIG = {
  requests: Number(process.env.PROCESSOR_COST_REQUESTS ?? 40_000),
  in_flight: Number(process.env.PROCESSOR_COST_IN_FLIGHT ?? 256),
  repeats: Number(process.env.PROCESSOR_COST_REPEATS ?? 5),
};
const SCHEMA = {
  type: 'object',
  properties: { item: { type: 'string' }, quantity: { type: 'integer' } },
  required: ['item', 'quantity'],
};
const ANSWER = JSON.stringify({ item: 'Invoice', quantity: 3 });

const stack = ensureStack();
const redis = createRedis(stack.REDIS_URL);
const topics = topicNames(`bench.cost.${randomUUID().slice(0, 8)}.`);
const languages = await loadLanguageDetector();

/** A provider that answers at once: what is left is ours, not the provider's transport. */
const instant: LanguageModel = {
  provider: 'openai',
  model: 'gpt-4o-mini',
  transformSchema: (schema) => ({ providerSchema: schema, restore: (value) => value, notes: [] }),
  async generate(_request: GenerateRequest): Promise<GenerateResult> {
    return { text: ANSWER, tokensIn: 40, tokensOut: 9, model: 'gpt-4o-mini', finishReason: 'stop' };
  },
  async close() {},
};
/** A producer that acknowledges at once (the client's own cost is the skeleton's too). */
const instantProducer = { sendBatch: async () => [] };

function records(count: number): RawRecord[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, i) => {
    const request: PromptRequestMessage = {
      request_id: randomUUID(),
      tenant_id: 'bench-cost',
      prompt: `${invoicePrompt(i)} ${run}`,
      schema: SCHEMA,
      options: { timeout_ms: 120_000 },
    };
    return {
      topic: topics.requests,
      partition: 0,
      offset: String(i),
      key: null,
      value: Buffer.from(JSON.stringify(request)),
      headers: { [HEADERS.contentType]: JSON_CONTENT_TYPE },
      timestamp: String(Date.now()),
    } as unknown as RawRecord;
  });
}

function ours() {
  const registry = new Registry();
  const router = new ProviderRouter(
    [new ResilientProvider(tracedModel(instant, {}), DEFAULT_RESILIENCE)],
    DEFAULT_PRICES,
  );
  const metrics = new ProcessorMetrics(registry, { router, prices: DEFAULT_PRICES });
  const processor = new RequestProcessor({
    engine: new StructuredOutputEngine({ router, prices: DEFAULT_PRICES, maxAttemptsPerProvider: 2 }),
    schemas: new SchemaCompiler(),
    cache: new AnswerCache(new ResponseCache(redis), 'processor', metrics.cache),
    cancellations: undefined,
    producer: new BatchingProducer(instantProducer as never),
    topics,
    replyPartitions: 12,
    logger: createLogger({ service: 'processor-cost', level: 'error' }),
    metrics,
    languages,
  });
  const decode = decodePipelineRequest({ topic: topics.replies, partitions: 12 });
  return (record: RawRecord) =>
    processor.handle({ ...record, value: decode(record) } as Parameters<RequestProcessor['handle']>[0]);
}

/** The product's required work alone, the cheapest way (bench/lib/required-work.ts, as the skeleton+work floor's). */
function requiredWorkCase() {
  const work = requiredWork((request) => request.schema as object);
  return async (record: RawRecord) => {
    const started = performance.now();
    const request = JSON.parse(record.value!.toString('utf8')) as PromptRequestMessage;
    const language = languages.detect(request.prompt);
    const validate = work.validatorFor(request);
    const data = JSON.parse(ANSWER) as unknown;
    if (!validate(data)) throw new Error('invalid');
    const output = { data, output_format: 'json', original_language: await language };
    await redis.set(`sps:bench-cost:${work.workKey(request)}`, JSON.stringify(output), 'EX', 60);
    work.count(started);
    Buffer.from(JSON.stringify({ request_id: request.request_id, output, prompt: request.prompt }));
  };
}

async function cpuPerRequest(handle: (record: RawRecord) => Promise<void>): Promise<number> {
  const input = records(CONFIG.requests);
  const before = process.cpuUsage();
  for (let i = 0; i < input.length; i += CONFIG.in_flight)
    await Promise.all(input.slice(i, i + CONFIG.in_flight).map(handle));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / input.length;
}

const chosen = (process.env.PROCESSOR_COST_CASES ?? 'ours,required_work').split(',');
const cases = Object.fromEntries(
  Object.entries({ ours, required_work: requiredWorkCase })
    .filter(([name]) => chosen.includes(name))
    .map(([name, make]) => [name, make()]),
);
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let repeat = 0; repeat <= CONFIG.repeats; repeat++)
  for (const [name, handle] of Object.entries(cases)) {
    const us = await cpuPerRequest(handle);
    if (repeat > 0) samples[name]!.push(round(us, 1));
    log(`${name}${repeat === 0 ? ' (warm-up)' : ''}: ${round(us, 1)} µs CPU a request`);
  }
const result = Object.fromEntries(
  Object.entries(samples).map(([name, values]) => [
    name,
    { median_us: round(median(values), 1), samples: values },
  ]),
);
log(
  `median µs CPU a request: ${Object.entries(result)
    .map(([name, { median_us }]) => `${name} ${median_us}`)
    .join(', ')}`,
);
writeResult('processor-cost', {
  benchmark: 'processor-cost',
  machine: machineInfo(stack),
  config: CONFIG,
  result,
});
await languages.close();
redis.disconnect();

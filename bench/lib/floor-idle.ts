// The idle-gap part of the floor benchmark (bench/floor.ts): the steps of a request measured one at
// a time with an idle gap before every sample, as long as the provider's latency. At one client,
// every process of the pipeline sleeps that long between a request's steps, and a step taken after
// an idle gap is slower than one taken back to back (caches, the event loop's timers and the
// kernel's scheduling go cold), so the hot floors underestimate what one client can get.
import { randomBytes } from 'node:crypto';
import { createRedis } from '@sps/cache';
import { createKafka, ensureTopics } from '@sps/kafka';
import { createLogger } from '@sps/observability';
import OpenAI from 'openai';
import { Agent, Client, request as undiciRequest } from 'undici';
import { createHttpClient } from '../../libs/llm/src/providers/http-client.js';
import { benchPrefix, log, sleep } from './env.js';
import { startBareFastify } from './floor-http.js';
import { KAFKAJS_SETTINGS, kafkajsClient, openKafkaFloor } from './floor-kafka.js';
import { chatBody } from './floor-openai.js';
import { fmt, nowUs, summariseUs, type LatencySummary } from './floor-stats.js';
import { invoicePrompt } from './pipeline.js';
import type { FakeProvider } from './procs.js';

export interface IdleFloorOptions {
  /** idle time before every sample (the provider latency of the pipeline figures) */
  gapMs: number;
  /** measured samples per step */
  samples: number;
  /** unmeasured samples per step first (also with the gap) */
  warmup: number;
  valueBytes: { kafka: number; redis: number };
}

export interface IdleFloorResult {
  gap_ms: number;
  samples: number;
  warmup: number;
  method: string;
  kafka?: {
    settings: Record<string, unknown>;
    topics: string;
    value_bytes: number;
    produce_ack: LatencySummary;
    one_hop: LatencySummary;
    two_hops?: LatencySummary;
    two_hops_request_leg?: LatencySummary;
    two_hops_reply_leg?: LatencySummary;
  };
  redis?: { settings: string; value_bytes: number; get: LatencySummary };
  http?: { route: string; client: string; request: LatencySummary };
  openai?: {
    provider_latency_ms: number;
    sdk: LatencySummary & { description: string };
    bare: LatencySummary & { description: string };
    /** SDK p50 minus bare p50 (and p99 minus p99): what the SDK adds to a call */
    sdk_over_bare_p50_ms: number;
    sdk_over_bare_p99_ms: number;
  };
  failures: Record<string, string>;
}

/** `samples` timed calls of `step`, each after `gapMs` of idling; `warmup` untimed ones first. */
async function sampled(
  step: (i: number) => Promise<void>,
  options: IdleFloorOptions,
  offset = 0,
): Promise<number[]> {
  for (let i = 0; i < options.warmup; i++) {
    await sleep(options.gapMs);
    await step(-1 - i - offset);
  }
  const samples: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    await sleep(options.gapMs);
    const t0 = nowUs();
    await step(i + offset);
    samples.push(nowUs() - t0);
  }
  return samples;
}

async function kafkaIdle(brokers: string, options: IdleFloorOptions): Promise<IdleFloorResult['kafka']> {
  const prefix = benchPrefix('floor-idle');
  const kafka = createKafka({
    brokers,
    clientId: `${prefix}admin`,
    logger: createLogger({ service: 'bench-floor', level: 'error' }),
  });
  const admin = kafka.admin();
  const topics = { oneHop: `${prefix}one-hop`, request: `${prefix}request`, reply: `${prefix}reply` };
  try {
    await ensureTopics(
      kafka,
      Object.values(topics).map((name) => ({
        name,
        partitions: 1,
        retentionMs: 3_600_000,
        cleanupPolicy: 'delete' as const,
      })),
    );
    const session = await openKafkaFloor(kafkajsClient(brokers, prefix), {
      topics,
      valueBytes: options.valueBytes.kafka,
      twoHops: true,
    });
    try {
      await session.round(options.warmup, true, options.gapMs);
      await session.round(options.samples, false, options.gapMs);
      log(`idle ${options.gapMs} ms: kafkajs (the lines below)`);
      const result = session.result();
      return {
        settings: KAFKAJS_SETTINGS,
        topics: 'three topics of one partition each (as the hot Kafka floor)',
        value_bytes: options.valueBytes.kafka,
        produce_ack: result.produce_ack,
        one_hop: result.one_hop,
        two_hops: result.two_hops,
        two_hops_request_leg: result.two_hops_request_leg,
        two_hops_reply_leg: result.two_hops_reply_leg,
      };
    } finally {
      await session.close();
    }
  } finally {
    await admin.connect();
    await admin
      .deleteTopics({ topics: Object.values(topics), timeout: 30_000 })
      .catch((error: unknown) => log(`deleting topics: ${String(error)}`));
    const groupIds = (await admin.listGroups()).groups
      .map((group) => group.groupId)
      .filter((id) => id.startsWith(prefix));
    if (groupIds.length)
      await admin.deleteGroups(groupIds).catch((error: unknown) => log(`deleting groups: ${String(error)}`));
    await admin.disconnect();
  }
}

async function redisIdle(url: string, options: IdleFloorOptions): Promise<IdleFloorResult['redis']> {
  const redis = createRedis(url);
  const key = `bench-floor-idle-${randomBytes(3).toString('hex')}`;
  try {
    await new Promise<void>((resolve, reject) => {
      if (redis.status === 'ready') resolve();
      redis.once('ready', resolve);
      redis.once('end', () => reject(new Error('redis connection ended')));
    });
    await redis.set(key, 'x'.repeat(options.valueBytes.redis), 'EX', 600);
    const get = summariseUs(
      await sampled(async () => {
        await redis.getBuffer(key);
      }, options),
    );
    log(`idle ${options.gapMs} ms: redis GET   ${fmt(get)}`);
    return {
      settings: 'libs/cache createRedis (ioredis as the apps configure it): one connection',
      value_bytes: options.valueBytes.redis,
      get,
    };
  } finally {
    await redis.del(key).catch(() => undefined);
    redis.disconnect();
  }
}

async function httpIdle(options: IdleFloorOptions): Promise<IdleFloorResult['http']> {
  const server = await startBareFastify();
  const url = new URL(`${server.url}/floor`);
  const client = new Client(url.origin, { pipelining: 1, keepAliveTimeout: 30_000 });
  try {
    const request = summariseUs(
      await sampled(async (i) => {
        const response = await client.request({
          method: 'POST',
          path: url.pathname,
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-floor' },
          body: JSON.stringify({ prompt: `Extract key details from Invoice #${i}` }),
        });
        if (response.statusCode !== 200) throw new Error(`bare Fastify answered ${response.statusCode}`);
        await response.body.text();
      }, options),
    );
    log(`idle ${options.gapMs} ms: bare Fastify ${fmt(request)}`);
    return {
      route:
        'the bare Fastify route of the hot floor (own process, POST /floor, JSON parsed, small JSON answered)',
      client: 'undici Client (one keep-alive connection), one request at a time',
      request,
    };
  } finally {
    await client.close();
    await server.stop();
  }
}

async function openaiIdle(fake: FakeProvider, options: IdleFloorOptions): Promise<IdleFloorResult['openai']> {
  await fake.setLatency(0);
  const http = createHttpClient();
  const sdk = new OpenAI({
    apiKey: 'sk-fake',
    baseURL: fake.openaiBaseUrl,
    maxRetries: 0,
    timeout: 60_000,
    fetch: http.fetch,
    fetchOptions: http.fetchOptions,
  });
  const agent = new Agent({
    connections: 16,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: 1,
  });
  const url = `${fake.openaiBaseUrl}/chat/completions`;
  const expect = (text: string) => {
    if (!text.includes('invoice_number'))
      throw new Error(`answer without the schema's fields: ${text.slice(0, 300)}`);
  };
  try {
    // interleaved by sample (SDK, bare, SDK, ...), each after its own gap
    const sdkSamples: number[] = [];
    const bareSamples: number[] = [];
    const sdkCall = async (i: number) => {
      const completion = await sdk.chat.completions.create(chatBody(invoicePrompt(i)));
      expect(completion.choices[0]?.message.content ?? '');
    };
    const bareCall = async (i: number) => {
      const response = await undiciRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fake' },
        body: JSON.stringify(chatBody(invoicePrompt(i))),
        dispatcher: agent,
      });
      expect(await response.body.text());
    };
    for (let i = -options.warmup; i < options.samples; i++) {
      for (const [call, into] of [
        [sdkCall, sdkSamples],
        [bareCall, bareSamples],
      ] as const) {
        await sleep(options.gapMs);
        const t0 = nowUs();
        await call(i);
        if (i >= 0) into.push(nowUs() - t0);
      }
    }
    const sdkSummary = summariseUs(sdkSamples);
    const bareSummary = summariseUs(bareSamples);
    log(`idle ${options.gapMs} ms: OpenAI SDK  ${fmt(sdkSummary)}`);
    log(`idle ${options.gapMs} ms: bare undici ${fmt(bareSummary)}`);
    const round3 = (value: number) => Math.round(value * 1000) / 1000;
    return {
      provider_latency_ms: 0,
      sdk: {
        ...sdkSummary,
        description:
          'OpenAI SDK built as libs/llm builds it (maxRetries 0, timeout 60 s, fetch and fetchOptions of libs/llm createHttpClient: undici fetch over its own Agent)',
      },
      bare: {
        ...bareSummary,
        description:
          'no SDK: undici.request (npm) through a pooled Agent, POST of the same JSON body, body.text()',
      },
      sdk_over_bare_p50_ms: round3(sdkSummary.p50_ms - bareSummary.p50_ms),
      sdk_over_bare_p99_ms: round3(sdkSummary.p99_ms - bareSummary.p99_ms),
    };
  } finally {
    await agent.close();
    await http.close();
  }
}

/** Every step in turn; a step that fails is recorded in `failures` and the others still run. */
export async function measureIdleFloor(
  stack: { KAFKA_BROKERS: string; REDIS_URL: string },
  fake: FakeProvider,
  options: IdleFloorOptions,
): Promise<IdleFloorResult> {
  const failures: Record<string, string> = {};
  const attempt = async <T>(name: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      failures[name] = (error as Error).stack ?? String(error);
      log(`idle ${name} failed: ${(error as Error).message}`);
      return undefined;
    }
  };
  const kafka = await attempt('kafka', () => kafkaIdle(stack.KAFKA_BROKERS, options));
  const redis = await attempt('redis', () => redisIdle(stack.REDIS_URL, options));
  const http = await attempt('http', () => httpIdle(options));
  const openai = await attempt('openai', () => openaiIdle(fake, options));
  return {
    gap_ms: options.gapMs,
    samples: options.samples,
    warmup: options.warmup,
    method: `each step alone, one at a time, every sample (and warm-up sample) after ${options.gapMs} ms of idling; times from performance.now()`,
    ...(kafka ? { kafka } : {}),
    ...(redis ? { redis } : {}),
    ...(http ? { http } : {}),
    ...(openai ? { openai } : {}),
    failures,
  };
}

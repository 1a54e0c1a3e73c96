// The skeleton pipeline's edge (bench/lib/floor-skeleton.ts), its own process like ingest-api: the
// minimum of our design's front with the same libraries and nothing else (no auth, validation, rate
// limit, metrics, logs). POST / with { key, prompt? }: one Redis GET of the key; a hit is produced to
// the results topic (BatchingProducer, acks=all) and answered once acknowledged; a miss is produced to
// the requests topic with the reply address, and answered with the reply (libs/kafka ReplyListener).
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { createRedis } from '@sps/cache';
import { HEADERS, JSON_CONTENT_TYPE } from '@sps/contracts';
import { BatchingProducer, ReplyListener, toHeaders } from '@sps/kafka';
import { requiredEnv, skeletonKafka } from './floor-skeleton-process.js';

const env = requiredEnv;
const topics = {
  requests: env('SKELETON_REQUESTS_TOPIC'),
  results: env('SKELETON_RESULTS_TOPIC'),
  replies: env('SKELETON_REPLIES_TOPIC'),
};
const keyPrefix = env('SKELETON_KEY_PREFIX');
const { logger, kafka, producer } = await skeletonKafka('skeleton-edge');
// as ingest-api: bounded queue, 2 s produce timeout
const batching = new BatchingProducer(producer, { maxQueued: 5_000 });
const produceTimeoutMs = 2_000;
const replies = new ReplyListener(
  kafka,
  topics.replies,
  logger,
  env('SKELETON_INSTANCE_ID') as ReturnType<typeof randomUUID>,
);
await replies.start();
const redis = createRedis(env('REDIS_URL'));
await new Promise<void>((resolve, reject) => {
  if (redis.status === 'ready') resolve();
  redis.once('ready', resolve);
  redis.once('end', () => reject(new Error('redis connection ended')));
});

interface Body {
  key: string;
  prompt?: string;
}

const app = Fastify({ logger: false });
app.post('/', async (request, reply) => {
  const body = request.body as Body;
  const requestId = randomUUID();
  const cached = await redis.get(`${keyPrefix}${body.key}`);
  if (cached !== null) {
    // The cached answer belongs to the request that made it: this one gets its own id (and its own
    // row downstream), so the value is parsed and written once; the same text is produced and answered.
    const result = JSON.parse(cached) as Record<string, unknown>;
    const value = JSON.stringify({ ...result, request_id: requestId, cached: true });
    await batching.send(
      topics.results,
      {
        key: requestId,
        value,
        headers: toHeaders({ [HEADERS.correlationId]: requestId, [HEADERS.contentType]: JSON_CONTENT_TYPE }),
      },
      { timeoutMs: produceTimeoutMs },
    );
    return reply.type('application/json').send(value);
  }
  const address = replies.replyAddress;
  const waiting = replies.waitFor(requestId, 30_000);
  try {
    await batching.send(
      topics.requests,
      {
        key: body.key,
        value: JSON.stringify({ request_id: requestId, key: body.key, prompt: body.prompt ?? '' }),
        headers: toHeaders({
          [HEADERS.correlationId]: requestId,
          [HEADERS.contentType]: JSON_CONTENT_TYPE,
          [HEADERS.replyTopic]: address.topic,
          [HEADERS.replyPartition]: address.partition,
          [HEADERS.cacheChecked]: 'miss',
        }),
      },
      { timeoutMs: produceTimeoutMs },
    );
  } catch {
    replies.cancel(requestId);
    return reply.code(503).send({ error: 'not queued' });
  }
  const value = await waiting;
  if (value === undefined) return reply.code(504).send({ error: 'no reply in time' });
  return reply.type('application/json').send(value);
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`skeleton edge listening on ${address}`);
const stop = () =>
  void (async () => {
    await app.close();
    await replies.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    redis.disconnect();
    process.exit(0);
  })();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

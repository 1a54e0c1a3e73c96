import type { TSchema } from '@sinclair/typebox';
import { DLQ_ERROR_CODES, DLQ_HEADERS } from './dead-letter.js';
import { HEADERS, JSON_CONTENT_TYPE } from './headers.js';
import { JobEventMessage, WebhookDeliveryMessage } from './job-event.js';
import { PromptRequestMessage } from './prompt-request.js';
import { ResultMessage } from './result.js';
import { DLQ_TOPICS, TOPICS, WEBHOOK_RETRY_TIERS_MS, type TopicKey } from './topics.js';

/**
 * The AsyncAPI 3 document of every Kafka topic of the pipeline, generated from the contracts
 * themselves (TOPICS, the TypeBox message schemas, HEADERS, DLQ_HEADERS), so that it cannot drift
 * from what the apps produce and consume. Served by ingest-api at GET /asyncapi.json.
 */

type Json = Record<string, unknown>;

export interface AsyncApiOptions {
  /** The deployment's KAFKA_TOPIC_PREFIX, prepended to every channel address. */
  topicPrefix?: string;
  /** The service version (info.version). */
  version?: string;
  /** Bootstrap brokers to list as the `kafka` server (host:port). */
  brokers?: string;
}

/** A TypeBox schema as plain JSON Schema: no symbols, no `$id` (ids nest, and the document names them). */
function plain(schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) =>
    key === '$id' ? undefined : value,
  ) as Json;
}

const str = (description: string, extra: Json = {}): Json => ({ type: 'string', description, ...extra });

const TRACE_HEADERS: Record<string, Json> = {
  [HEADERS.correlationId]: str('the request id, carried from the HTTP request through every stage'),
  [HEADERS.traceparent]: str('W3C trace context of the producing span', {
    pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
  }),
  [HEADERS.contentType]: str('always application/json', { const: JSON_CONTENT_TYPE }),
};

function headers(extra: Record<string, Json> = {}, required: string[] = []): Json {
  return { type: 'object', properties: { ...TRACE_HEADERS, ...extra }, required };
}

const REPLY_HEADERS: Record<string, Json> = {
  [HEADERS.replyTopic]: str(
    'where the processor answers (request-reply): must be the replies topic of the deployment, or the record is dead-lettered with INVALID_REPLY_ADDRESS',
  ),
  [HEADERS.replyPartition]: str(
    'the partition of the reply topic that the waiting ingest-api instance owns (decimal); set together with reply-topic',
    { pattern: '^\\d+$' },
  ),
};

const REQUEST_HEADERS: Record<string, Json> = {
  ...REPLY_HEADERS,
  [HEADERS.cacheChecked]: str(
    'set to miss by ingest-api when it found nothing in the response cache just before producing: the processor then skips its own lookup (a producer may leave it out)',
    { enum: ['miss'] },
  ),
};

const DLQ_HEADER_SCHEMAS: Record<string, Json> = {
  [DLQ_HEADERS.reason]: str('why the record was refused, in words'),
  [DLQ_HEADERS.errorCode]: str('why the record was refused, as a code', { enum: [...DLQ_ERROR_CODES] }),
  [DLQ_HEADERS.stage]: str('the app stage that refused it (processor, sink, webhook-dispatcher)'),
  [DLQ_HEADERS.sourceTopic]: str('the topic the record was read from, and where a replay produces it back'),
  [DLQ_HEADERS.sourcePartition]: str('the partition it was read from', { pattern: '^\\d+$' }),
  [DLQ_HEADERS.sourceOffset]: str('the offset it was read at', { pattern: '^\\d+$' }),
  [DLQ_HEADERS.failedAt]: str('when it was refused (ISO 8601)', { format: 'date-time' }),
  [DLQ_HEADERS.attempts]: str('how many times it was tried', { pattern: '^\\d+$' }),
};

const TIER_NAMES = ['1s', '10s', '1m', '10m', '1h', '6h'] as const;

interface ChannelDoc {
  description: string;
  key: string;
  messages: string[];
}

function channelDocs(): Record<TopicKey, ChannelDoc> {
  const dlq = (source: TopicKey, message: string): ChannelDoc => ({
    description:
      `Dead letters of ${TOPICS[source].name}: each refused record exactly as it was read (same key, value bytes and headers) ` +
      'plus the dlq-* headers saying where it came from and why. `npm run dlq -- replay` produces the value back to dlq-source-topic without them.',
    key: `the key of the refused record (as on ${TOPICS[source].name})`,
    messages: [message],
  });
  const tiers = Object.fromEntries(
    TIER_NAMES.map((name, i) => [
      `webhookRetry${name}`,
      {
        description:
          `Webhook retry delay tier of ${WEBHOOK_RETRY_TIERS_MS[i]} ms: a delivery written here is released ${WEBHOOK_RETRY_TIERS_MS[i]} ms ` +
          'after it was written (release times grow with offsets, so nothing waits behind a longer delay). A retry due later than its tier ' +
          'releases it is re-queued to the tier that fits what is left; after the last retry the job event goes to the webhook DLQ.',
        key: 'the job id',
        messages: ['webhookDelivery'],
      },
    ]),
  ) as Record<`webhookRetry${(typeof TIER_NAMES)[number]}`, ChannelDoc>;
  return {
    requests: {
      description:
        'Prompt requests, produced by ingest-api (and data pipelines), consumed by the processor. Keyed by the work key (hash of the ' +
        'work) so that identical requests meet on one partition, where the processor coalesces them. A request that carries ' +
        'reply-topic/reply-partition is answered there too (request-reply).',
      key: 'the work key: hash of the prompt, schema and options (the cache key)',
      messages: ['promptRequest'],
    },
    results: {
      description:
        'Exactly one result per request, success or failure, produced by the processor and stored by the sink (idempotent on request_id).',
      key: 'the request id (even spread)',
      messages: ['result'],
    },
    replies: {
      description:
        "Request-reply answers: the same result as on the results topic, produced to the explicit partition named by the request's " +
        'reply-partition header, which the waiting ingest-api instance owns (it reads its partitions without a consumer group).',
      key: 'the request id; the partition is explicit (reply-partition)',
      messages: ['reply'],
    },
    requestsDlq: dlq(DLQ_TOPICS.requestsDlq, 'requestDeadLetter'),
    resultsDlq: dlq(DLQ_TOPICS.resultsDlq, 'resultDeadLetter'),
    jobEvents: {
      description:
        'One event per ended job, emitted by the sink after the commit that ended it (or by its sweeper); consumed by the webhook ' +
        'dispatcher. event_id derives from the job and its status: an event emitted twice is the same event twice.',
      key: 'the job id',
      messages: ['jobEvent'],
    },
    ...tiers,
    webhooksDlq: {
      ...dlq(DLQ_TOPICS.webhooksDlq, 'webhookDeadLetter'),
      description:
        'Webhooks given up after their last retry: the job event itself, with dlq-source-topic = the job-events topic (a replay starts ' +
        'its deliveries over) while dlq-source-partition/-offset say where its last retry was read (a delay tier).',
      key: 'the job id',
    },
  };
}

function messages(): Record<string, Json> {
  const json = { contentType: JSON_CONTENT_TYPE };
  const deadLetter = (title: string, source: string, schemaName: string): Json => ({
    ...json,
    name: title,
    title,
    summary: `A refused record of ${source}, as read, with the dlq-* headers.`,
    headers: headers(DLQ_HEADER_SCHEMAS, Object.values(DLQ_HEADERS)),
    payload: {
      description: `The value exactly as read from ${source}: normally a ${schemaName}, but not when dlq-error-code is CONTRACT_VIOLATION (it did not parse or broke the schema).`,
    },
  });
  return {
    promptRequest: {
      ...json,
      name: 'PromptRequest',
      title: 'Prompt request',
      summary: 'A prompt to answer with structured output.',
      headers: headers(REQUEST_HEADERS, [HEADERS.correlationId]),
      payload: { $ref: '#/components/schemas/PromptRequest' },
      correlationId: { location: `$message.header#/${HEADERS.correlationId}` },
    },
    result: {
      ...json,
      name: 'Result',
      title: 'Result',
      summary: 'The outcome of one request.',
      headers: headers({}, [HEADERS.correlationId]),
      payload: { $ref: '#/components/schemas/Result' },
      correlationId: { location: `$message.header#/${HEADERS.correlationId}` },
    },
    reply: {
      ...json,
      name: 'Reply',
      title: 'Reply',
      summary: 'The outcome of one request, sent to the address its request carried.',
      headers: headers({}, [HEADERS.correlationId]),
      payload: { $ref: '#/components/schemas/Result' },
      correlationId: { location: `$message.header#/${HEADERS.correlationId}` },
    },
    jobEvent: {
      ...json,
      name: 'JobEvent',
      title: 'Job event',
      summary: 'A job ended.',
      headers: headers(),
      payload: { $ref: '#/components/schemas/JobEvent' },
    },
    webhookDelivery: {
      ...json,
      name: 'WebhookDelivery',
      title: 'Webhook delivery',
      summary: 'A webhook delivery still to make.',
      headers: headers(
        { [HEADERS.dueAt]: str('when the retry is due (ISO 8601)', { format: 'date-time' }) },
        [HEADERS.dueAt],
      ),
      payload: { $ref: '#/components/schemas/WebhookDelivery' },
    },
    requestDeadLetter: deadLetter('RequestDeadLetter', TOPICS.requests.name, 'PromptRequest'),
    resultDeadLetter: deadLetter('ResultDeadLetter', TOPICS.results.name, 'Result'),
    webhookDeadLetter: deadLetter('WebhookDeadLetter', TOPICS.jobEvents.name, 'JobEvent'),
  };
}

/** The AsyncAPI 3.0 document (a plain JSON object). */
export function buildAsyncApiDocument(options: AsyncApiOptions = {}): Json {
  const prefix = options.topicPrefix ?? '';
  const docs = channelDocs();
  const channels: Record<string, Json> = {};
  for (const [key, spec] of Object.entries(TOPICS) as [TopicKey, (typeof TOPICS)[TopicKey]][]) {
    const doc = docs[key];
    channels[key] = {
      address: `${prefix}${spec.name}`,
      title: spec.name,
      description: `${doc.description}\n\nKey: ${doc.key}. Partitions: ${spec.partitions}; retention ${spec.retentionMs} ms; cleanup.policy ${spec.cleanupPolicy}.`,
      messages: Object.fromEntries(
        doc.messages.map((name) => [name, { $ref: `#/components/messages/${name}` }]),
      ),
      bindings: {
        kafka: {
          topic: `${prefix}${spec.name}`,
          partitions: spec.partitions,
          topicConfiguration: { 'cleanup.policy': [spec.cleanupPolicy], 'retention.ms': spec.retentionMs },
          bindingVersion: '0.5.0',
        },
      },
    };
  }
  // The reply address is dynamic (taken from the request's headers), so it has a channel of its
  // own without an address; in practice it is always the replies topic above.
  channels.replyAddress = {
    address: null,
    title: 'Reply address of a request',
    description: `Where a request with ${HEADERS.replyTopic}/${HEADERS.replyPartition} headers is answered: the topic named by ${HEADERS.replyTopic} (always the replies channel, ${TOPICS.replies.name}), at the partition named by ${HEADERS.replyPartition}.`,
    messages: { reply: { $ref: '#/components/messages/reply' } },
  };
  const channel = (key: string) => ({ $ref: `#/channels/${key}` });
  const msgs = (key: string) =>
    Object.keys((channels[key]?.messages ?? {}) as Json).map((name) => ({
      $ref: `#/channels/${key}/messages/${name}`,
    }));
  const op = (action: 'send' | 'receive', key: string, summary: string, extra: Json = {}): Json => ({
    action,
    channel: channel(key),
    summary,
    messages: msgs(key),
    ...extra,
  });
  const tierKeys = TIER_NAMES.map((name) => `webhookRetry${name}`);
  const operations: Record<string, Json> = {
    submitRequest: op('send', 'requests', 'ingest-api (or a data pipeline) submits a prompt request', {
      reply: {
        address: {
          location: `$message.header#/${HEADERS.replyTopic}`,
          description: `The reply topic named by the request's ${HEADERS.replyTopic} header, at the partition named by ${HEADERS.replyPartition}.`,
        },
        channel: channel('replyAddress'),
        messages: msgs('replyAddress'),
      },
    }),
    processRequest: op(
      'receive',
      'requests',
      'the processor answers a prompt request (group PROCESSOR_GROUP_ID)',
      {
        reply: {
          address: {
            location: `$message.header#/${HEADERS.replyTopic}`,
            description: `Answered at the topic and partition of the request's ${HEADERS.replyTopic}/${HEADERS.replyPartition} headers when it has them.`,
          },
          channel: channel('replyAddress'),
          messages: msgs('replyAddress'),
        },
      },
    ),
    publishResult: op('send', 'results', 'the processor publishes the result of every request'),
    storeResult: op('receive', 'results', 'the sink stores results (group SINK_GROUP_ID)'),
    sendReply: op('send', 'replies', 'the processor answers a request that carried a reply address'),
    receiveReply: op(
      'receive',
      'replies',
      'ingest-api reads the partitions it owns for the answers it waits for',
    ),
    publishJobEvent: op('send', 'jobEvents', 'the sink (or its sweeper) announces an ended job'),
    dispatchJobEvent: op(
      'receive',
      'jobEvents',
      'the webhook dispatcher delivers job events (group WEBHOOK_GROUP_ID)',
    ),
    deadLetterRequest: op('send', 'requestsDlq', 'the processor refuses a request for good'),
    deadLetterResult: op('send', 'resultsDlq', 'the sink refuses a result for good'),
    deadLetterWebhook: op(
      'send',
      'webhooksDlq',
      'the webhook dispatcher gives up a delivery after its last retry',
    ),
    ...Object.fromEntries(
      tierKeys.flatMap((key) => [
        [`schedule_${key}`, op('send', key, 'the webhook dispatcher schedules a retry in this delay tier')],
        [`release_${key}`, op('receive', key, 'the webhook dispatcher makes the retry once it is due')],
      ]),
    ),
  };
  return {
    asyncapi: '3.0.0',
    id: 'urn:sps:structured-prompt-service:kafka',
    info: {
      title: 'Structured Prompt Service — Kafka topics',
      version: options.version ?? '0.1.0',
      description:
        'Every Kafka topic of the pipeline: ingest-api → requests → processor → results → sink → job events → webhook dispatcher, ' +
        'with request-reply over the replies topic, dead-letter topics and the webhook retry delay tiers ' +
        `(${WEBHOOK_RETRY_TIERS_MS.join(', ')} ms). Values are JSON; header values are strings. Topic names carry the deployment's ` +
        'KAFKA_TOPIC_PREFIX. Generated from libs/contracts.',
    },
    defaultContentType: JSON_CONTENT_TYPE,
    servers: {
      kafka: {
        host: options.brokers ?? 'localhost:19092',
        protocol: 'kafka',
        description: 'the bootstrap brokers (KAFKA_BROKERS)',
      },
    },
    channels,
    operations,
    components: {
      schemas: {
        PromptRequest: plain(PromptRequestMessage),
        Result: plain(ResultMessage),
        JobEvent: plain(JobEventMessage),
        WebhookDelivery: plain(WebhookDeliveryMessage),
      },
      messages: messages(),
    },
  };
}

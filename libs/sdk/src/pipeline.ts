import { randomUUID } from 'node:crypto';
import {
  HEADERS,
  JSON_CONTENT_TYPE,
  PromptRequestMessage,
  TOPICS,
  compileContract,
  workKey,
  type ResultMessage,
} from '@sps/contracts';
import { SpsError } from './errors.js';
import { sleep } from './retry.js';

export type { PromptRequestMessage, ResultMessage } from '@sps/contracts';

/**
 * A Kafka record any client can send (kafkajs, node-rdkafka/Confluent, franz-go…): topic, key,
 * JSON value and string headers. `produce({ topic, messages: [{ key, value, headers }] })` in kafkajs.
 */
export interface KafkaRecord {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The pipeline's topic names under a deployment's `KAFKA_TOPIC_PREFIX` (empty by default). */
export function pipelineTopics(prefix = ''): { requests: string; results: string } {
  return { requests: `${prefix}${TOPICS.requests.name}`, results: `${prefix}${TOPICS.results.name}` };
}

export interface RequestInput {
  /** Your tenant (the tenant of your API key): results are stored and cached under it. */
  tenantId: string;
  prompt: string;
  schema?: Record<string, unknown>;
  format?: 'json' | 'xml';
  options?: PromptRequestMessage['options'];
  /** Default: a new UUID. Results are read back by it. */
  requestId?: string;
  /** Past it the request is answered TIMEOUT without a provider call. */
  deadlineAt?: Date;
}

const checkRequest = compileContract(PromptRequestMessage);

/**
 * A valid `sps.requests.v1` message (checked against the contract the processor checks: a message
 * it would dead-letter is refused here, with the fields, as an SpsError CONTRACT_VIOLATION).
 */
export function buildRequestMessage(input: RequestInput): PromptRequestMessage {
  const message: PromptRequestMessage = {
    request_id: input.requestId ?? randomUUID(),
    tenant_id: input.tenantId,
    prompt: input.prompt,
    ...(input.format ? { format: input.format } : {}),
    ...(input.schema ? { schema: input.schema } : {}),
    ...(input.options ? { options: input.options } : {}),
    created_at: new Date().toISOString(),
    ...(input.deadlineAt ? { deadline_at: input.deadlineAt.toISOString() } : {}),
  };
  const check = checkRequest(message);
  if (!check.ok) {
    throw new SpsError({
      code: 'CONTRACT_VIOLATION',
      status: 0,
      message: `not a valid sps.requests.v1 message: ${check.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      details: { fields: check.errors.map((e) => ({ field: e.path, reason: e.message })) },
    });
  }
  return message;
}

/**
 * The record to produce for `message`, as ingest-api produces it: keyed by the work key (the hash
 * of tenant, prompt, schema, format and model options, so identical work meets on one partition and
 * is coalesced), the message as JSON, `correlation-id` = request id and `content-type` headers.
 * No reply address: read the outcome from the results topic (`resultsByRequestId`, `ResultWaiter`).
 */
export function requestRecord(
  message: PromptRequestMessage,
  options: { topicPrefix?: string; traceparent?: string } = {},
): KafkaRecord {
  return {
    topic: pipelineTopics(options.topicPrefix).requests,
    key: workKey(message),
    value: JSON.stringify(message),
    headers: {
      [HEADERS.correlationId]: message.request_id,
      [HEADERS.contentType]: JSON_CONTENT_TYPE,
      ...(options.traceparent ? { [HEADERS.traceparent]: options.traceparent } : {}),
    },
  };
}

/** A record as consumers hand it over: only the value is read (kafkajs' `message`, or `{ value }`). */
export interface ValueRecord {
  value: Uint8Array | string | null | undefined;
}

/** One `sps.results.v1` value as a ResultMessage (undefined when it is not one). */
export function parseResult(value: ValueRecord['value']): ResultMessage | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    const parsed = JSON.parse(
      typeof value === 'string' ? value : Buffer.from(value).toString('utf8'),
    ) as unknown;
    const result = parsed as ResultMessage;
    return typeof result?.request_id === 'string' &&
      (result.status === 'succeeded' || result.status === 'failed')
      ? result
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Yields the result of each wanted request id as it arrives on the results topic, once per id (the
 * first: after a crash a result can be delivered twice), and ends when every id has had its result.
 * `records` is any async iterable of `{ value }` (wrap your consumer's callback with `ResultWaiter`
 * when it has no iterator). Without `ids`, yields every result, each id once, until `records` ends.
 */
export async function* resultsByRequestId(
  records: AsyncIterable<ValueRecord>,
  ids?: Iterable<string>,
): AsyncGenerator<ResultMessage> {
  const wanted = ids ? new Set(ids) : undefined;
  const seen = new Set<string>();
  if (wanted?.size === 0) return;
  for await (const record of records) {
    const result = parseResult(record.value);
    if (!result || seen.has(result.request_id)) continue;
    if (wanted && !wanted.has(result.request_id)) continue;
    seen.add(result.request_id);
    yield result;
    if (wanted && seen.size === wanted.size) return;
  }
}

/**
 * Matches results to request ids for consumers driven by callbacks: call `push(record)` for each
 * record of the results topic (kafkajs `eachMessage: ({ message }) => waiter.push(message)`), and
 * `wait(id)` resolves with that id's result, whether it arrived before or after the call.
 */
export class ResultWaiter {
  private readonly results = new Map<string, ResultMessage>();
  private readonly waiters = new Map<string, ((result: ResultMessage) => void)[]>();

  constructor(private readonly options: { maxKept?: number } = {}) {}

  /** Takes one record; returns its result when it was one. */
  push(record: ValueRecord): ResultMessage | undefined {
    const result = parseResult(record.value);
    if (!result || this.results.has(result.request_id)) return result;
    this.results.set(result.request_id, result);
    const max = this.options.maxKept ?? 100_000;
    if (this.results.size > max) this.results.delete(this.results.keys().next().value!);
    for (const resolve of this.waiters.get(result.request_id) ?? []) resolve(result);
    this.waiters.delete(result.request_id);
    return result;
  }

  /** The result of `requestId` once it arrives; rejects past `timeoutMs` or when `signal` aborts. */
  async wait(
    requestId: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ResultMessage> {
    const known = this.results.get(requestId);
    if (known) return known;
    const controller = new AbortController();
    const signals = [controller.signal, options.signal].filter((s): s is AbortSignal => s !== undefined);
    let resolve!: (result: ResultMessage) => void;
    const arrived = new Promise<ResultMessage>((r) => (resolve = r));
    this.waiters.set(requestId, [...(this.waiters.get(requestId) ?? []), resolve]);
    const timeout =
      options.timeoutMs === undefined
        ? new Promise<never>(() => undefined)
        : sleep(options.timeoutMs, AbortSignal.any(signals)).then(() => {
            throw new SpsError({
              code: 'TIMEOUT',
              status: 0,
              message: `no result for ${requestId} within ${options.timeoutMs} ms`,
              requestId,
            });
          });
    try {
      return await Promise.race([arrived, timeout]);
    } finally {
      controller.abort();
      const left = (this.waiters.get(requestId) ?? []).filter((r) => r !== resolve);
      if (left.length > 0) this.waiters.set(requestId, left);
      else this.waiters.delete(requestId);
    }
  }

  /** Pushes every record of `records` (runs until it ends). */
  async feed(records: AsyncIterable<ValueRecord>): Promise<void> {
    for await (const record of records) this.push(record);
  }
}

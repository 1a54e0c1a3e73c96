import {
  DEFAULT_ANALYSIS_SCHEMA,
  HEADERS,
  JSON_CONTENT_TYPE,
  ServiceError,
  normalizeText,
  workKey,
  type ProviderAttempt,
  type PromptRequestMessage,
  type ResultMessage,
  type StructuredOutput,
  type TopicKey,
} from '@sps/contracts';
import { cacheIndexes, type JobCancellations, type ResponseCache } from '@sps/cache';
import {
  jsonValue,
  toHeaders,
  type BatchingProducer,
  type ConsumedRecord,
  type DeadLetterReason,
  type OutgoingRecord,
  type RawRecord,
} from '@sps/kafka';
import type { CompiledSchema, SchemaCompiler, StructuredOutputEngine } from '@sps/llm';
import type { Logger } from '@sps/observability';
import { decodeRequest } from './decode-request.js';
import { replyAddress, type PipelineRequest } from './pipeline-request.js';
import type { ProcessorMetrics } from './processor-metrics.js';
import { detectLanguage } from './language.js';
import { redactPii, restorePii, type Redaction } from './pii.js';
import { toXml } from './xml-output.js';

export interface RequestProcessorDeps {
  engine: StructuredOutputEngine;
  schemas: SchemaCompiler;
  cache: ResponseCache<CachedAnswer> | undefined;
  cancellations: JobCancellations | undefined;
  producer: BatchingProducer;
  topics: Record<TopicKey, string>;
  /** Partitions of the reply topic, to check reply addresses. */
  replyPartitions: number;
  logger: Logger;
  metrics: ProcessorMetrics;
}

export interface CachedAnswer {
  output: Omit<StructuredOutput, 'cached'>;
}

interface Claim {
  promise: Promise<CachedAnswer>;
  resolve(answer: CachedAnswer): void;
  reject(error: unknown): void;
}

/** Promise.withResolvers, which Node 20 lacks. */
function newClaim(): Claim {
  let resolve!: Claim['resolve'];
  let reject!: Claim['reject'];
  const promise = new Promise<CachedAnswer>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULTS = {
  temperature: 0.1,
  max_tokens: 2048,
  cache_ttl: 3600,
  timeout_ms: 30_000,
  language_detection: true,
  redact_pii: false,
  restore_pii: false,
};

/**
 * Turns one `sps.requests.v1` message into exactly one outcome: a result on the results topic
 * (and on the reply address when there is one), or a dead letter plus a failed result.
 * It resolves only once those are acknowledged, so the offset can then be committed.
 */
export class RequestProcessor {
  private readonly inFlight = new Map<string, Promise<CachedAnswer>>();

  constructor(private readonly deps: RequestProcessorDeps) {}

  /** The handler of the processor's runner: one decoded request in, its result published. */
  async handle(record: ConsumedRecord<PipelineRequest>): Promise<void> {
    const started = performance.now();
    const { request, reply } = record.value;
    const result = await this.resultFor(request, started);
    this.deps.metrics.requests.inc({ status: result.status, code: result.error?.code ?? 'OK' });
    this.deps.metrics.duration.observe({ status: result.status }, (performance.now() - started) / 1000);
    await this.publish(result, record.headers[HEADERS.traceparent], reply);
  }

  /**
   * After the runner dead-lettered a request (it broke its contract, its reply address points
   * nowhere, or its result could not be written): answer it as failed with the reason, so that it
   * never reads as missing — when its ids are usable downstream (the sink keys rows on a uuid).
   */
  async refused(record: RawRecord, { code, reason }: DeadLetterReason): Promise<void> {
    this.deps.metrics.deadLetters.inc();
    const decoded = decodeRequest(record.value);
    const ids = decoded.ok
      ? {
          requestId: decoded.request.request_id,
          tenantId: decoded.request.tenant_id,
          request: decoded.request,
        }
      : { requestId: decoded.requestId, tenantId: decoded.tenantId, request: undefined };
    if (!ids.requestId || !UUID.test(ids.requestId) || !ids.tenantId || ids.tenantId.length > 64) return;
    const errorCode =
      code === 'CONTRACT_VIOLATION' || code === 'INVALID_REPLY_ADDRESS'
        ? 'CONTRACT_VIOLATION'
        : 'INTERNAL_ERROR';
    await this.publish(
      {
        request_id: ids.requestId,
        tenant_id: ids.tenantId,
        ...(ids.request?.job_id ? { job_id: ids.request.job_id, item_index: ids.request.item_index } : {}),
        status: 'failed',
        error: { code: errorCode, message: `${code}: ${reason}`.slice(0, 2_000) },
        prompt: '',
        request_params: {},
        attempts: [],
        processing_time_ms: 0,
        completed_at: new Date().toISOString(),
      },
      record.headers[HEADERS.traceparent],
      // Only a checked reply address is answered: the record may have been refused before its
      // address was looked at, and an untrusted producer must not choose where the processor writes.
      this.checkedReply(record.headers),
    );
  }

  private checkedReply(headers: Record<string, string>) {
    try {
      return replyAddress(headers, {
        topic: this.deps.topics.replies,
        partitions: this.deps.replyPartitions,
      });
    } catch {
      return undefined;
    }
  }

  private async resultFor(request: PromptRequestMessage, started: number): Promise<ResultMessage> {
    const options = { ...DEFAULTS, ...request.options };
    const redaction = options.redact_pii ? redactPii(request.prompt) : undefined;
    if (redaction && Object.keys(redaction.counts).length > 0) {
      // Audit: which kinds were found, never the values.
      this.deps.logger.info(
        { request_id: request.request_id, tenant_id: request.tenant_id, pii_found: redaction.counts },
        'pii redacted',
      );
    }
    const base = {
      request_id: request.request_id,
      tenant_id: request.tenant_id,
      api_key_id: request.api_key_id,
      job_id: request.job_id,
      item_index: request.item_index,
      prompt: redaction?.text ?? request.prompt,
      request_params: {
        format: request.format ?? 'json',
        schema: request.schema,
        options: request.options ?? {},
      },
    };
    const finish = (
      fields: Pick<ResultMessage, 'status' | 'output' | 'error' | 'attempts'>,
    ): ResultMessage => ({
      ...base,
      ...fields,
      processing_time_ms: Math.round(performance.now() - started),
      completed_at: new Date().toISOString(),
    });
    try {
      return finish({
        status: 'succeeded',
        ...(await this.answer(request, options, base.prompt, redaction)),
      });
    } catch (error) {
      const serviceError =
        error instanceof ServiceError
          ? error
          : new ServiceError('INTERNAL_ERROR', 'unexpected processing failure');
      if (!(error instanceof ServiceError))
        this.deps.logger.error({ err: error, request_id: request.request_id }, 'processing failed');
      const { attempts, ...details } = serviceError.details ?? {};
      return finish({
        status: 'failed',
        error: {
          code: serviceError.code,
          message: serviceError.message,
          ...(Object.keys(details).length ? { details } : {}),
        },
        attempts: Array.isArray(attempts) ? attempts : [],
      });
    }
  }

  private async answer(
    request: PromptRequestMessage,
    options: typeof DEFAULTS & NonNullable<PromptRequestMessage['options']>,
    prompt: string,
    redaction: Redaction | undefined,
  ): Promise<Pick<ResultMessage, 'output' | 'attempts'>> {
    const deadline = request.deadline_at ? Date.parse(request.deadline_at) : Date.now() + options.timeout_ms;
    if (Date.now() >= deadline)
      throw new ServiceError('TIMEOUT', 'deadline passed before processing started');
    if (request.job_id && (await this.deps.cancellations?.isCancelled(request.job_id))) {
      throw new ServiceError('CANCELLED', `job ${request.job_id} was cancelled before this item ran`);
    }
    const schema = this.deps.schemas.compile(
      (request.schema as Record<string, unknown> | undefined) ?? DEFAULT_ANALYSIS_SCHEMA,
    );
    const key = workKey(request);
    const shared = options.bypass_cache ? undefined : await this.sharedAnswerOrClaim(key);
    if (shared && 'output' in shared) return { output: { ...shared.output, cached: true }, attempts: [] };
    try {
      const answer = await this.compute(request, options, prompt, redaction, schema, deadline);
      // Cached before the claim is released: a duplicate arriving in between finds one or the other.
      if (this.deps.cache && !options.bypass_cache) {
        await this.deps.cache.set(
          key,
          { output: answer.output },
          options.cache_ttl,
          cacheIndexes(request.tenant_id, request.labels),
        );
      }
      shared?.claim.resolve(answer);
      return { output: { ...answer.output, cached: false }, attempts: answer.attempts };
    } catch (error) {
      shared?.claim.reject(error);
      throw error;
    } finally {
      if (shared) this.inFlight.delete(key);
    }
  }

  private async compute(
    request: PromptRequestMessage,
    options: typeof DEFAULTS & NonNullable<PromptRequestMessage['options']>,
    prompt: string,
    redaction: Redaction | undefined,
    schema: CompiledSchema,
    deadline: number,
  ): Promise<CachedAnswer & { attempts: ProviderAttempt[] }> {
    const answer = await this.deps.engine.run({
      prompt,
      schema,
      isDefaultAnalysis: request.schema === undefined,
      temperature: options.temperature,
      maxTokens: options.max_tokens,
      route: { provider: options.provider, model: options.model, policy: options.routing },
      signal: AbortSignal.timeout(Math.max(deadline - Date.now(), 1)),
    });
    for (const attempt of answer.attempts) {
      this.deps.metrics.providerCalls.inc({ provider: attempt.provider, outcome: attempt.outcome });
      this.deps.metrics.tokens.inc({ provider: attempt.provider, direction: 'in' }, attempt.tokens_in);
      this.deps.metrics.tokens.inc({ provider: attempt.provider, direction: 'out' }, attempt.tokens_out);
    }
    // Model text is not the caller's fault: NUL and lone surrogates become U+FFFD (see text-hygiene).
    const data = normalizeText(
      redaction && options.restore_pii ? restorePii(answer.data, redaction.originals) : answer.data,
    );
    const xml = request.format === 'xml';
    const output: CachedAnswer['output'] = {
      data: xml ? toXml(data) : data,
      output_format: xml ? 'xml' : 'json',
      validation_status: 'passed',
      provider_used: answer.provider,
      model: answer.model,
      repaired: answer.repaired,
      original_language: options.language_detection
        ? detectLanguage(request.prompt)
        : languageOf(answer.data),
    };
    return { output, attempts: answer.attempts };
  }

  /**
   * The answer to identical work, if there is one: in flight on this instance (requests are keyed
   * by their work, so identical work from anywhere lands on this partition, hence here), or in the
   * cache. Otherwise this request claims the work: the claim is registered in the same synchronous
   * step as the last check, so two requests can never both compute.
   */
  private async sharedAnswerOrClaim(
    key: string,
  ): Promise<{ output: CachedAnswer['output'] } | { claim: Claim }> {
    const pending = this.inFlight.get(key);
    if (pending) return { output: await this.coalesce(pending) };
    const cached = await this.cacheLookup(key);
    if (cached) return { output: cached.output };
    const late = this.inFlight.get(key);
    if (late) return { output: await this.coalesce(late) };
    const claim = newClaim();
    claim.promise.catch(() => undefined); // waiters see the rejection; nobody else must
    this.inFlight.set(key, claim.promise);
    return { claim };
  }

  private async coalesce(pending: Promise<CachedAnswer>): Promise<CachedAnswer['output']> {
    this.deps.metrics.cache.inc({ outcome: 'coalesced' });
    return (await pending).output;
  }

  private async cacheLookup(key: string): Promise<CachedAnswer | undefined> {
    if (!this.deps.cache) return undefined;
    const outcome = await this.deps.cache.get(key);
    this.deps.metrics.cache.inc({ outcome: outcome.status });
    return outcome.status === 'hit' ? outcome.value : undefined;
  }

  private async publish(
    result: ResultMessage,
    traceparent: string | undefined,
    reply: { topic: string; partition: number } | undefined,
  ): Promise<void> {
    const headers = toHeaders({
      [HEADERS.correlationId]: result.request_id,
      [HEADERS.contentType]: JSON_CONTENT_TYPE,
      [HEADERS.traceparent]: traceparent,
    });
    const record: OutgoingRecord = { key: result.request_id, value: jsonValue(result), headers };
    const sends = [this.deps.producer.send(this.deps.topics.results, record)];
    if (reply) sends.push(this.deps.producer.send(reply.topic, { ...record, partition: reply.partition }));
    await Promise.all(sends);
  }
}

function languageOf(data: unknown): string {
  const language = (data as { original_language?: unknown } | null)?.original_language;
  return typeof language === 'string' && /^[a-z]{2}$/.test(language) ? language : 'und';
}

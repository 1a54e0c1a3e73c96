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
  type TopicKey,
} from '@sps/contracts';
import type { JobCancellations } from '@sps/cache';
import {
  jsonValue,
  toHeaders,
  type BatchingProducer,
  type ConsumedRecord,
  type DeadLetterReason,
  type OutgoingRecord,
  type RawRecord,
} from '@sps/kafka';
import type { SchemaCompiler, StructuredOutputEngine } from '@sps/llm';
import type { Logger } from '@sps/observability';
import type { AnswerCache, CachedAnswer } from './answer-cache.js';
import { decodeRequest } from './decode-request.js';
import { replyAddress, type PipelineRequest } from './pipeline-request.js';
import { optionsOf, redactionOf, resultOf, type RequestOptions } from './pipeline-result.js';
import type { ProcessorMetrics } from './processor-metrics.js';
import type { LanguageDetector } from './language.js';
import { restorePii, type Redaction } from './pii.js';
import { SingleFlight } from './single-flight.js';
import { DeadlineSignals } from './deadline-signals.js';
import { toXml } from './xml-output.js';

export interface RequestProcessorDeps {
  engine: StructuredOutputEngine;
  schemas: SchemaCompiler;
  cache: AnswerCache | undefined;
  cancellations: JobCancellations | undefined;
  producer: BatchingProducer;
  topics: Record<TopicKey, string>;
  /** Partitions of the reply topic, to check reply addresses. */
  replyPartitions: number;
  logger: Logger;
  metrics: ProcessorMetrics;
  /** `original_language` of requests with `language_detection` (`loadLanguageDetector`). */
  languages: LanguageDetector;
}

type Answer = Pick<ResultMessage, 'output' | 'attempts'> & {
  /** Settles once this request's answer is in the cache (it publishes without waiting for that). */
  landed?: Promise<void>;
};
type Generated = CachedAnswer & { attempts: ProviderAttempt[] };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Turns one `sps.requests.v1` message into exactly one outcome: a result on the results topic
 * (and on the reply address when there is one), or a dead letter plus a failed result.
 * It resolves only once those are acknowledged, so the offset can then be committed.
 *
 * The stages, each a method a CPU profile names: admit (deadline, cancellation) → lookupCache →
 * generate (single flight per work key, the engine, then the cache write) → publish. Decoding is
 * the runner's (`decodePipelineRequest`). Lookups of records handed over in the same tick share one
 * Redis round trip (the connection auto-pipelines), so a fetched batch costs one GET trip.
 */
export class RequestProcessor {
  private readonly flights = new SingleFlight<Generated>();
  private readonly deadlines = new DeadlineSignals();

  constructor(private readonly deps: RequestProcessorDeps) {}

  /** The handler of the processor's runner: one decoded request in, its result published. */
  async handle(record: ConsumedRecord<PipelineRequest>): Promise<void> {
    const started = performance.now();
    const { request, reply } = record.value;
    const cacheMissed = record.headers[HEADERS.cacheChecked] === 'miss';
    const { result, landed } = await this.resultFor(request, started, cacheMissed);
    this.deps.metrics.requests.inc({ status: result.status, code: result.error?.code ?? 'OK' });
    this.deps.metrics.duration.observe({ status: result.status }, (performance.now() - started) / 1000);
    // The cache write and the result's produce overlap; the offset waits for both.
    await Promise.all([this.publish(result, record.headers[HEADERS.traceparent], reply), landed]);
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

  private async resultFor(
    request: PromptRequestMessage,
    started: number,
    cacheMissed = false,
  ): Promise<{ result: ResultMessage; landed?: Promise<void> }> {
    const options = optionsOf(request);
    const redaction = redactionOf(request, options);
    if (redaction && Object.keys(redaction.counts).length > 0) {
      // Audit: which kinds were found, never the values.
      this.deps.logger.info(
        { request_id: request.request_id, tenant_id: request.tenant_id, pii_found: redaction.counts },
        'pii redacted',
      );
    }
    const prompt = redaction?.text ?? request.prompt;
    try {
      const deadline = await this.admit(request, options);
      const { landed, ...answer } = await this.answer(
        request,
        options,
        prompt,
        redaction,
        deadline,
        cacheMissed,
      );
      return { result: resultOf(request, prompt, { status: 'succeeded', ...answer }, started), landed };
    } catch (error) {
      const serviceError =
        error instanceof ServiceError
          ? error
          : new ServiceError('INTERNAL_ERROR', 'unexpected processing failure');
      if (!(error instanceof ServiceError))
        this.deps.logger.error({ err: error, request_id: request.request_id }, 'processing failed');
      const { attempts, ...details } = serviceError.details ?? {};
      const failure = {
        code: serviceError.code,
        message: serviceError.message,
        ...(Object.keys(details).length ? { details } : {}),
      };
      return {
        result: resultOf(
          request,
          prompt,
          { status: 'failed', error: failure, attempts: Array.isArray(attempts) ? attempts : [] },
          started,
        ),
      };
    }
  }

  /** Admission: work whose deadline passed or whose job was cancelled is answered, not run. */
  private async admit(request: PromptRequestMessage, options: RequestOptions): Promise<number> {
    const deadline = request.deadline_at ? Date.parse(request.deadline_at) : Date.now() + options.timeout_ms;
    if (Date.now() >= deadline)
      throw new ServiceError('TIMEOUT', 'deadline passed before processing started');
    if (request.job_id && (await this.deps.cancellations?.isCancelled(request.job_id))) {
      throw new ServiceError('CANCELLED', `job ${request.job_id} was cancelled before this item ran`);
    }
    return deadline;
  }

  /**
   * The answer to identical work, if there is one — in flight on this instance (requests are keyed
   * by their work, so identical work from anywhere lands on this partition, hence here), or in the
   * cache — otherwise generated once for every request that asks for it meanwhile.
   */
  private async answer(
    request: PromptRequestMessage,
    options: RequestOptions,
    prompt: string,
    redaction: Redaction | undefined,
    deadline: number,
    cacheMissed: boolean,
  ): Promise<Answer> {
    if (options.bypass_cache) {
      const generated = await this.generate(request, options, prompt, redaction, deadline);
      return { output: { ...generated.output, cached: false }, attempts: generated.attempts };
    }
    const key = workKey(request);
    // Not looked up again when ingest-api just missed (cache-checked: miss): one GET per request.
    if (!cacheMissed && !this.flights.has(key)) {
      const cached = await this.lookupCache(key);
      if (cached) return { output: { ...cached.output, cached: true }, attempts: [] };
    }
    let generating: Promise<Generated> | undefined;
    const flight = this.flights.do(key, async () => {
      generating = this.generate(request, options, prompt, redaction, deadline);
      const generated = await generating;
      // Cached before the flight lands: a duplicate arriving in between finds one or the other.
      await this.deps.cache?.store(request, key, { output: generated.output }, options.cache_ttl);
      return generated;
    });
    // `generating` is set in the same synchronous step iff this request runs the work (the flight
    // was not under way): it answers as soon as the answer exists, while the cache write finishes.
    if (generating) {
      const landed = flight.then(
        () => undefined,
        () => undefined, // the failure is this request's own, thrown just below
      );
      const generated = await generating;
      return { output: { ...generated.output, cached: false }, attempts: generated.attempts, landed };
    }
    const { value } = await flight;
    this.deps.metrics.cache.inc({ stage: 'processor', outcome: 'coalesced' });
    return { output: { ...value.output, cached: true }, attempts: [] };
  }

  private async lookupCache(key: string): Promise<CachedAnswer | undefined> {
    return this.deps.cache ? await this.deps.cache.lookup(key) : undefined;
  }

  /** The engine's answer (providers, validation, repair, re-ask) turned into the stored output. */
  private async generate(
    request: PromptRequestMessage,
    options: RequestOptions,
    prompt: string,
    redaction: Redaction | undefined,
    deadline: number,
  ): Promise<Generated> {
    // The prompt's language does not depend on the answer: detected in the detector's thread while
    // the provider works, not on the answer's path back to the caller.
    const language = options.language_detection ? this.deps.languages.detect(request.prompt) : undefined;
    const answer = await this.deps.engine.run({
      prompt,
      schema: this.deps.schemas.compile(
        (request.schema as Record<string, unknown> | undefined) ?? DEFAULT_ANALYSIS_SCHEMA,
      ),
      isDefaultAnalysis: request.schema === undefined,
      temperature: options.temperature,
      maxTokens: options.max_tokens,
      route: { provider: options.provider, model: options.model, policy: options.routing },
      // Shared with the deadlines of the same 50 ms (see DeadlineSignals), not one per request.
      signal: this.deadlines.at(deadline),
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
      original_language: language ? await language : languageOf(answer.data),
    };
    return { output, attempts: answer.attempts };
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
    // Serialised once, the same bytes to the results topic and the reply address.
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

import {
  HEADERS,
  JSON_CONTENT_TYPE,
  ServiceError,
  workKey,
  type PromptRequestMessage,
  type ResultMessage,
} from '@sps/contracts';
import { jsonValue, toHeaders, type BatchingProducer, type ReplyListener } from '@sps/kafka';

/** Answers from the response cache before anything is produced (see `EdgeAnswers`). */
export interface CachedAnswers {
  answer(request: PromptRequestMessage, workKey: string): Promise<ResultMessage | undefined>;
  /** Whether `answer` looks the request up (a miss then tells the processor not to look again). */
  looksUp(request: PromptRequestMessage): boolean;
}

export interface PipelineClientOptions {
  producer: BatchingProducer;
  topics: { requests: string; results: string };
  replies: ReplyListener;
  /**
   * How long a caller waits for Kafka to acknowledge its request. Past it the call answers 503 at
   * once (and the record is dropped if it has not left): a broker that is down costs a caller
   * seconds, not the minute the client would spend retrying.
   */
  produceTimeoutMs?: number;
  /** Sync calls whose work is cached are answered here: one hop (the result) instead of three. */
  cached?: CachedAnswers;
}

/** Publishes prompt requests to the pipeline and, for synchronous calls, waits for the reply. */
export class PipelineClient {
  private readonly produceTimeoutMs: number;

  constructor(private readonly options: PipelineClientOptions) {
    this.produceTimeoutMs = options.produceTimeoutMs ?? 2_000;
  }

  /** Resolves once the request is durably on the requests topic (acks=all). */
  async submit(
    request: PromptRequestMessage,
    options: { awaitReply: boolean; cacheMissed?: boolean },
    key = workKey(request),
  ): Promise<void> {
    const reply = options.awaitReply ? this.options.replies.replyAddress : undefined;
    await this.options.producer.send(
      this.options.topics.requests,
      {
        key,
        value: jsonValue(request),
        headers: toHeaders({
          [HEADERS.correlationId]: request.request_id,
          [HEADERS.contentType]: JSON_CONTENT_TYPE,
          [HEADERS.replyTopic]: reply?.topic,
          [HEADERS.replyPartition]: reply?.partition,
          [HEADERS.cacheChecked]: options.cacheMissed ? 'miss' : undefined,
        }),
      },
      { timeoutMs: this.produceTimeoutMs },
    );
  }

  /**
   * Sends and waits; past the deadline a TIMEOUT error names the request id to read later. With
   * `admitted`, the cache lookup overlaps the caller's admission, and nothing is produced or
   * answered unless it resolves (its rejection is the call's).
   */
  async call(
    request: PromptRequestMessage,
    timeoutMs: number,
    admitted?: Promise<unknown>,
  ): Promise<ResultMessage> {
    const key = workKey(request);
    const [cached] = await Promise.all([this.options.cached?.answer(request, key), admitted]);
    if (cached) return this.publishCached(cached);
    const cacheMissed = this.options.cached?.looksUp(request) ?? false;
    const reply = this.options.replies.waitFor(request.request_id, timeoutMs);
    try {
      await this.submit(request, { awaitReply: true, cacheMissed }, key);
    } catch {
      this.options.replies.cancel(request.request_id);
      throw unavailable();
    }
    const value = await reply;
    if (value === undefined) {
      throw new ServiceError('TIMEOUT', 'no answer within the deadline; the result can be read later', {
        request_id: request.request_id,
        result_url: `/v1/requests/${request.request_id}`,
      });
    }
    return JSON.parse(value?.toString('utf8') ?? 'null') as ResultMessage;
  }

  /**
   * A cache hit is answered once its result is durably on the results topic, like any other
   * answer: it gets its row, and a caller is never told of a result that could be lost.
   */
  private async publishCached(result: ResultMessage): Promise<ResultMessage> {
    try {
      await this.options.producer.send(
        this.options.topics.results,
        {
          key: result.request_id,
          value: jsonValue(result),
          headers: { [HEADERS.correlationId]: result.request_id, [HEADERS.contentType]: JSON_CONTENT_TYPE },
        },
        { timeoutMs: this.produceTimeoutMs },
      );
    } catch {
      throw unavailable();
    }
    return result;
  }
}

function unavailable(): ServiceError {
  return new ServiceError(
    'SERVICE_UNAVAILABLE',
    'the pipeline did not accept the request; nothing was queued',
  );
}

import {
  HEADERS,
  JSON_CONTENT_TYPE,
  ServiceError,
  workKey,
  type PromptRequestMessage,
  type ResultMessage,
} from '@sps/contracts';
import { jsonValue, toHeaders, type BatchingProducer, type ReplyListener } from '@sps/kafka';

/** Publishes prompt requests to the pipeline and, for synchronous calls, waits for the reply. */
export class PipelineClient {
  constructor(
    private readonly producer: BatchingProducer,
    private readonly requestsTopic: string,
    private readonly replies: ReplyListener,
    /**
     * How long a caller waits for Kafka to acknowledge its request. Past it the call answers 503 at
     * once (and the record is dropped if it has not left): a broker that is down costs a caller
     * seconds, not the minute the client would spend retrying.
     */
    private readonly produceTimeoutMs = 2_000,
  ) {}

  /** Resolves once the request is durably on the requests topic (acks=all). */
  async submit(request: PromptRequestMessage, options: { awaitReply: boolean }): Promise<void> {
    const reply = options.awaitReply ? this.replies.replyAddress : undefined;
    await this.producer.send(
      this.requestsTopic,
      {
        key: workKey(request),
        value: jsonValue(request),
        headers: toHeaders({
          [HEADERS.correlationId]: request.request_id,
          [HEADERS.contentType]: JSON_CONTENT_TYPE,
          [HEADERS.replyTopic]: reply?.topic,
          [HEADERS.replyPartition]: reply?.partition,
        }),
      },
      { timeoutMs: this.produceTimeoutMs },
    );
  }

  /** Sends and waits; past the deadline a TIMEOUT error names the request id to read later. */
  async call(request: PromptRequestMessage, timeoutMs: number): Promise<ResultMessage> {
    const reply = this.replies.waitFor(request.request_id, timeoutMs);
    try {
      await this.submit(request, { awaitReply: true });
    } catch {
      this.replies.cancel(request.request_id);
      throw new ServiceError(
        'SERVICE_UNAVAILABLE',
        'the pipeline did not accept the request; nothing was queued',
      );
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
}

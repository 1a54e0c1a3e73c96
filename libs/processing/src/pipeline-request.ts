import { HEADERS, type PromptRequestMessage } from '@sps/contracts';
import { PermanentError, type RawRecord } from '@sps/kafka';
import { decodeRequest } from './decode-request.js';

export interface PipelineRequest {
  request: PromptRequestMessage;
  /** Where a synchronous caller waits for the answer, checked against the reply topic. */
  reply?: { topic: string; partition: number };
}

export interface ReplyTopic {
  topic: string;
  partitions: number;
}

/**
 * The processor runner's decoder. Producers outside the service are untrusted: a value that is not
 * JSON or breaks the `sps.requests.v1` contract, or a reply address that is not a partition of the
 * reply topic, is refused (dead-lettered alone, answered as failed) instead of poisoning a batch.
 */
export function decodePipelineRequest(replies: ReplyTopic): (record: RawRecord) => PipelineRequest {
  return (record) => {
    const decoded = decodeRequest(record.value);
    if (!decoded.ok) throw new PermanentError('CONTRACT_VIOLATION', decoded.reason);
    const topic = record.headers[HEADERS.replyTopic];
    const partitionText = record.headers[HEADERS.replyPartition];
    if (topic === undefined && partitionText === undefined) return { request: decoded.request };
    if (topic !== replies.topic)
      throw new PermanentError(
        'INVALID_REPLY_ADDRESS',
        `reply-topic: "${String(topic).slice(0, 200)}" is not ${replies.topic}`,
      );
    const partition = Number(partitionText);
    if (!/^\d+$/.test(partitionText ?? '') || partition >= replies.partitions)
      throw new PermanentError(
        'INVALID_REPLY_ADDRESS',
        `reply-partition: "${String(partitionText).slice(0, 50)}" is not a partition of ${replies.topic} (0..${replies.partitions - 1})`,
      );
    return { request: decoded.request, reply: { topic, partition } };
  };
}

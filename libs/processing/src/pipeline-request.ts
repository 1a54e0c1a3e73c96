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
    const reply = replyAddress(record.headers, replies);
    return reply ? { request: decoded.request, reply } : { request: decoded.request };
  };
}

/**
 * The reply address a record's headers carry: none, or a partition of the reply topic. Anything
 * else throws INVALID_REPLY_ADDRESS — an untrusted producer must not make the processor write to a
 * topic or partition of its choosing.
 */
export function replyAddress(
  headers: Record<string, string>,
  replies: ReplyTopic,
): { topic: string; partition: number } | undefined {
  const topic = headers[HEADERS.replyTopic];
  const partitionText = headers[HEADERS.replyPartition];
  if (topic === undefined && partitionText === undefined) return undefined;
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
  return { topic, partition };
}

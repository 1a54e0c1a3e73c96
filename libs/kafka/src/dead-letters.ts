import { DLQ_HEADERS, type DlqErrorCode } from '@sps/contracts';
import type { Logger } from '@sps/observability';
import { Counter, type Registry } from 'prom-client';
import type { BatchingProducer } from './producer.js';
import type { RawRecord } from './records.js';

export interface DeadLetterTarget {
  /** The DLQ topic of the stage. */
  topic: string;
  /** Which stage refused the record (processor, sink, webhook-dispatcher). */
  stage: string;
  /** Where dead letters are counted (`sps_dead_letters_total{stage,code}`); none: not counted. */
  registry?: Registry;
}

export interface DeadLetterReason {
  code: DlqErrorCode;
  reason: string;
  attempts: number;
}

/**
 * Writes a refused record to its stage's DLQ exactly as it was read (key, value, headers), with the
 * `dlq-*` headers saying where it came from and why. Resolves once the DLQ write is acknowledged:
 * only then may the runner commit past the record.
 */
export class DeadLetters {
  private readonly counter: Counter<'stage' | 'code'> | undefined;

  constructor(
    private readonly producer: BatchingProducer,
    private readonly target: DeadLetterTarget,
    private readonly logger: Logger,
    private readonly onDeadLetter?: (code: DlqErrorCode) => void,
  ) {
    const { registry } = target;
    this.counter =
      registry &&
      ((registry.getSingleMetric('sps_dead_letters_total') as Counter<'stage' | 'code'> | undefined) ??
        new Counter({
          name: 'sps_dead_letters_total',
          help: 'records written to a DLQ, by stage and error code',
          labelNames: ['stage', 'code'],
          registers: [registry],
        }));
  }

  async send(record: RawRecord, { code, reason, attempts }: DeadLetterReason): Promise<void> {
    this.logger.warn(
      { topic: record.topic, partition: record.partition, offset: record.offset, code, reason },
      'dead letter',
    );
    const headers: Record<string, string> = {
      ...record.headers,
      [DLQ_HEADERS.reason]: reason.slice(0, 2_000),
      [DLQ_HEADERS.errorCode]: code,
      [DLQ_HEADERS.stage]: this.target.stage,
      [DLQ_HEADERS.sourceTopic]: record.topic,
      [DLQ_HEADERS.sourcePartition]: String(record.partition),
      [DLQ_HEADERS.sourceOffset]: record.offset,
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
      [DLQ_HEADERS.attempts]: String(attempts),
    };
    let value = record.value;
    if (code === 'RECORD_TOO_LARGE' && value && value.length > 900_000) {
      // Too large for the DLQ as well: keep the head, say so, and keep the rest of the story.
      value = value.subarray(0, 100_000);
      headers[DLQ_HEADERS.reason] = `${headers[DLQ_HEADERS.reason]} (value truncated to 100000 bytes)`;
    }
    await this.producer.send(this.target.topic, { key: record.rawKey, value, headers });
    this.counter?.inc({ stage: this.target.stage, code });
    this.onDeadLetter?.(code);
  }
}

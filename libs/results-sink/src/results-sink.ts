import { compileContract, ResultMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import {
  BatchRunner,
  DeadLetters,
  PermanentError,
  recordLinks,
  type BatchingProducer,
  type ConsumedRecord,
  type KafkaClient,
  type RawRecord,
} from '@sps/kafka';
import { contextFromHeaders, inSpan, SpanKind, type Context, type Logger } from '@sps/observability';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { Counter, Gauge, type Registry } from 'prom-client';
import { classifyStorageError, refusedResult, storeResults, type StoreResultsDeps } from './store-results.js';

export interface ResultsSinkOptions {
  kafka: KafkaClient;
  groupId: string;
  db: Database;
  topics: { results: string; resultsDlq: string; jobEvents: string };
  producer: BatchingProducer;
  logger: Logger;
  registry: Registry;
  sessionTimeoutMs?: number;
  maxBackoffMs?: number;
  /**
   * How long a fetch may wait on the broker to gather `fetchMinBytes` (default 100 ms), and that
   * amount (default 1: a row lands as soon as its result does). More bytes: under a trickle of
   * results the sink stores a few larger batches instead of one transaction per partition and
   * fetch, at the price of rows landing up to the wait later.
   */
  fetchMaxWaitMs?: number;
  fetchMinBytes?: number;
}

const checkResult = compileContract(ResultMessage);

/** Results from `sps.results.v1` into Postgres, through the batch runner. */
export class ResultsSink {
  private readonly runner: BatchRunner<ResultMessage>;
  private readonly store: StoreResultsDeps;

  constructor(options: ResultsSinkOptions) {
    const registers = [options.registry];
    const rows = new Counter({
      name: 'sps_sink_rows_inserted_total',
      help: 'request_logs rows inserted',
      registers,
    });
    const deadLetters = new Counter({
      name: 'sps_sink_dead_letters_total',
      help: 'results sent to the results DLQ, by reason',
      labelNames: ['code'],
      registers,
    });
    const dbDown = new Gauge({
      name: 'sps_sink_database_unavailable',
      help: '1 while inserts fail',
      registers,
    });
    this.store = {
      db: options.db,
      outcomes: {
        db: options.db,
        topic: options.topics.jobEvents,
        send: (topic, record) => options.producer.send(topic, record),
        registry: options.registry,
      },
    };
    this.runner = new BatchRunner<ResultMessage>({
      kafka: options.kafka,
      groupId: options.groupId,
      topics: [options.topics.results],
      logger: options.logger,
      registry: options.registry,
      sessionTimeoutMs: options.sessionTimeoutMs,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTimeMs: options.fetchMaxWaitMs ?? 100,
      minBytes: options.fetchMinBytes ?? 1,
      decode: decodeResult,
      // A span per batch stored, linked to each result's context; each job event is produced in
      // the context of the job's last result of the batch, so its webhook joins the job's trace.
      handleBatch: (records) =>
        inSpan(
          'sink insert',
          {
            kind: SpanKind.INTERNAL,
            links: recordLinks(records),
            attributes: {
              'db.system.name': 'postgresql',
              'db.operation.name': 'INSERT',
              'db.collection.name': 'request_logs',
              'messaging.batch.message_count': records.length,
            },
          },
          async (span) => {
            const inserted = await storeResults(
              this.store,
              records.map((r) => r.value),
              jobContexts(records),
            );
            span.setAttribute('sps.sink.rows_inserted', inserted);
            rows.inc(inserted);
          },
        ),
      classify: classifyStorageError,
      retry: { capMs: options.maxBackoffMs ?? 5_000 },
      deadLetters: new DeadLetters(
        options.producer,
        { topic: options.topics.resultsDlq, stage: 'sink', registry: options.registry },
        options.logger,
        (code) => deadLetters.inc({ code }),
      ),
      onRefused: (record, { reason }) => this.storeRefusal(record, reason),
      onDependencyDown: (down) => dbDown.set(down ? 1 : 0),
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async storeRefusal(record: RawRecord, reason: string): Promise<void> {
    const failed = refusedResult(parseLoosely(record.value), reason);
    if (failed) await storeResults(this.store, [failed]);
  }
}

/** Per job, the context of its last result in the batch (what its job event is produced under). */
function jobContexts(records: ConsumedRecord<ResultMessage>[]): (jobId: string) => Context | undefined {
  const byJob = new Map<string, Record<string, string>>();
  for (const record of records) if (record.value.job_id) byJob.set(record.value.job_id, record.headers);
  return (jobId) => {
    const headers = byJob.get(jobId);
    return headers && contextFromHeaders(headers, ROOT_CONTEXT);
  };
}

function decodeResult(record: RawRecord): ResultMessage {
  const check = checkResult(parseLoosely(record.value));
  if (check.ok) return check.value;
  throw new PermanentError(
    'CONTRACT_VIOLATION',
    check.errors.map((e) => `${e.path}: ${e.message}`).join('; ') || 'value is not JSON',
  );
}

function parseLoosely(value: Buffer | null): Partial<ResultMessage> {
  try {
    const parsed: unknown = JSON.parse(value?.toString('utf8') ?? '');
    return parsed && typeof parsed === 'object' ? (parsed as Partial<ResultMessage>) : {};
  } catch {
    return {};
  }
}

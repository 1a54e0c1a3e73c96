// The skeleton sink (bench/sink.ts's floor), its own process like apps/sink: the minimum of our
// design's sink with the same libraries and nothing else. libs/kafka's BatchRunner on the results
// topic with the sink's fetch settings, each value JSON.parse'd (no contract check), each batch
// stored by the sink's own statement (@sps/results-sink insertResults), then committed; no job
// progress, spans, metrics or logs.
import type { ResultMessage } from '@sps/contracts';
import { createDatabase } from '@sps/db';
import { BatchingProducer, BatchRunner, DeadLetters } from '@sps/kafka';
import { insertResults } from '@sps/results-sink';
import { requiredEnv, skeletonKafka } from './floor-skeleton-process.js';

const { logger, kafka, producer } = await skeletonKafka('skeleton-sink');
const db = createDatabase({ url: requiredEnv('DATABASE_URL'), applicationName: 'bench-skeleton-sink' });
const runner = new BatchRunner<ResultMessage>({
  kafka,
  groupId: requiredEnv('SKELETON_GROUP_ID'),
  topics: [requiredEnv('SKELETON_RESULTS_TOPIC')],
  logger,
  // as libs/results-sink's ResultsSink fetches by default
  maxBytesPerPartition: 4 * 1024 * 1024,
  maxWaitTimeMs: 100,
  minBytes: 1,
  decode: (record) => JSON.parse(record.value?.toString('utf8') ?? 'null') as ResultMessage,
  handleBatch: async (records) => {
    await insertResults(
      db,
      records.map((record) => record.value),
    );
  },
  deadLetters: new DeadLetters(
    new BatchingProducer(producer),
    { topic: requiredEnv('SKELETON_DLQ_TOPIC'), stage: 'skeleton-sink' },
    logger,
  ),
});
await runner.start();
console.log('skeleton sink consuming');
const stop = () =>
  void (async () => {
    await runner.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await db.destroy();
    process.exit(0);
  })();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

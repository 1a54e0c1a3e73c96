import { Type } from '@sinclair/typebox';
import { CommonConfig, DatabaseConfig, KafkaConfig, loadConfig } from '@sps/config';
import { BatchingProducer } from '@sps/kafka';
import { JobSweeper, ResultsSink } from '@sps/results-sink';
import { bootService } from '@sps/runtime';

const config = loadConfig(
  Type.Object({
    ...CommonConfig,
    ...KafkaConfig,
    ...DatabaseConfig,
    MIGRATE_ON_START: Type.Boolean({ default: true }),
    SINK_GROUP_ID: Type.String({ default: 'sps-sink' }),
    SINK_SESSION_TIMEOUT_MS: Type.Integer({ minimum: 6_000, maximum: 300_000, default: 30_000 }),
    // A fetch waits on the broker until it holds this many bytes of results or SINK_FETCH_MAX_WAIT_MS
    // has passed. 1 (default): a row lands as soon as its result does, so a caller that reads
    // GET /v1/requests/:id right after a sync answer finds it. More (e.g. 65536) trades up to the
    // wait of row latency for fewer, larger transactions under a trickle of results (less CPU for
    // the sink and Postgres beside the request path); under load the bytes are there at once.
    SINK_FETCH_MIN_BYTES: Type.Integer({ minimum: 1, maximum: 16 * 1024 * 1024, default: 1 }),
    SINK_FETCH_MAX_WAIT_MS: Type.Integer({ minimum: 1, maximum: 5_000, default: 100 }),
    SINK_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 30_000 }),
  }),
);

await bootService(
  { name: 'sink', config, needs: { database: { migrate: config.MIGRATE_ON_START }, metrics: true } },
  async ({ logger, registry, kafka, topics, db, producer }) => {
    const batching = new BatchingProducer(producer);
    const sink = new ResultsSink({
      kafka,
      groupId: config.SINK_GROUP_ID,
      sessionTimeoutMs: config.SINK_SESSION_TIMEOUT_MS,
      fetchMinBytes: config.SINK_FETCH_MIN_BYTES,
      fetchMaxWaitMs: config.SINK_FETCH_MAX_WAIT_MS,
      db,
      topics,
      producer: batching,
      logger,
      registry,
    });
    const sweeper = new JobSweeper({
      db,
      send: (topic, record) => batching.send(topic, record),
      topic: topics.jobEvents,
      intervalMs: config.SINK_SWEEP_INTERVAL_MS,
      logger,
      registry,
    });
    await sink.start();
    sweeper.start();
    logger.info('sink consuming');
    return {
      async stop() {
        await sweeper.stop();
        await sink.stop();
      },
    };
  },
);

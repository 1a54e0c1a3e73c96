export interface TestEndpoints {
  kafkaBrokers: string;
  databaseUrl: string;
  redisUrl: string;
  /** Stops what was started for the tests (containers); nothing for an external stack. */
  release(): Promise<void>;
}

const START_HINT =
  'no Kafka/Postgres/Redis for the integration tests: run `npm test` (it starts the local stack), or ' +
  '`bash deploy/local/stack.sh start` and export the variables it prints (KAFKA_BROKERS, DATABASE_URL, REDIS_URL)';

/**
 * Where the integration tests find their dependencies: environment variables when set, else
 * containers when a Docker engine answers, else an error naming the command that starts the stack.
 */
export async function resolveTestEndpoints(env: NodeJS.ProcessEnv = process.env): Promise<TestEndpoints> {
  if (env.KAFKA_BROKERS && env.DATABASE_URL && env.REDIS_URL) {
    return {
      kafkaBrokers: env.KAFKA_BROKERS,
      databaseUrl: env.DATABASE_URL,
      redisUrl: env.REDIS_URL,
      release: async () => {},
    };
  }
  if (await dockerEngineAnswers()) return startContainers();
  throw new Error(START_HINT);
}

async function dockerEngineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await Promise.race([getContainerRuntimeClient(), new Promise((_, reject) => setTimeout(reject, 3_000))]);
    return true;
  } catch {
    return false;
  }
}

async function startContainers(): Promise<TestEndpoints> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const [postgres, redis, kafka] = await Promise.all([
    new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_USER: 'sps', POSTGRES_PASSWORD: 'sps', POSTGRES_DB: 'sps' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer('redis:7-alpine').withExposedPorts(6379).start(),
    new GenericContainer('apache/kafka:4.1.1')
      .withExposedPorts({ container: 9092, host: 19092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://localhost:19092',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start(),
  ]);
  return {
    kafkaBrokers: `localhost:19092`,
    databaseUrl: `postgres://sps:sps@${postgres.getHost()}:${postgres.getMappedPort(5432)}/sps`,
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    release: async () => {
      await Promise.all([postgres.stop(), redis.stop(), kafka.stop()]);
    },
  };
}

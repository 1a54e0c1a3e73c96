import { Type, type TUnsafe } from '@sinclair/typebox';

/** A string limited to listed values, reported as `enum` (one readable error instead of an anyOf list). */
export function StringEnum<T extends string>(
  values: readonly T[],
  options: { default?: T; description?: string } = {},
): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: values, ...options });
}

/** Variable groups that several apps share; each app composes its own schema from these. */
export const KafkaConfig = {
  KAFKA_BROKERS: Type.String({
    minLength: 1,
    description: 'comma-separated host:port list',
    default: '127.0.0.1:19092',
  }),
  KAFKA_TOPIC_PREFIX: Type.String({
    default: '',
    pattern: '^[A-Za-z0-9._-]*$',
    description: 'prepended to every topic name',
  }),
  KAFKA_CLIENT_ID: Type.Optional(Type.String()),
  KAFKA_CONSUMER_MAX_RETRIES: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      description:
        'retry budget of the consumer groups (retries, then restarts in a row) before the process gives up and exits; unset: unlimited',
    }),
  ),
};

export const DatabaseConfig = {
  DATABASE_URL: Type.String({
    pattern: '^postgres(ql)?://',
    default: 'postgres://sps:sps@127.0.0.1:15432/sps',
  }),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
};

export const RedisConfig = {
  REDIS_URL: Type.String({ pattern: '^rediss?://', default: 'redis://127.0.0.1:16379' }),
};

export const LogConfig = {
  LOG_LEVEL: StringEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
  }),
};

export const CommonConfig = {
  ...LogConfig,
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 15_000 }),
};

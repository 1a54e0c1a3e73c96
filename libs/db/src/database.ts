import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DatabaseSchema } from './tables.js';

export type Database = Kysely<DatabaseSchema>;

// BIGINT ids and counts come back as strings by default; keep them strings (exact) except COUNT(*).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

export function createDatabase(options: {
  url: string;
  poolSize?: number;
  applicationName?: string;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    application_name: options.applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // A connection lost while idle (pool) or in use (client) must not crash the process: the query
  // in flight, if any, fails and its caller decides (the sink retries its batch).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
}

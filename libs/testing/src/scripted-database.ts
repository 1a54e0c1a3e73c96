import {
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';

/**
 * A Kysely database for pure unit tests: the real query builder and Postgres compiler, and a driver
 * that records every compiled query and answers it from `answer` (rows, or a thrown error standing
 * for what Postgres would throw). No connection is ever opened.
 */
export function scriptedDatabase<DB = never>(
  answer: (query: CompiledQuery) => unknown[] | Promise<unknown[]>,
): { db: Kysely<DB>; queries: CompiledQuery[] } {
  const queries: CompiledQuery[] = [];
  const connection: DatabaseConnection = {
    executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      queries.push(query);
      return { rows: (await answer(query)) as R[] };
    },
    // eslint-disable-next-line require-yield
    streamQuery: async function* () {
      throw new Error('streaming is not scripted');
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const db = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  return { db, queries };
}

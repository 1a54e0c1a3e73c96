import { SchemaCompiler } from '@sps/llm';
import { createLogger, createMetricsRegistry } from '@sps/observability';
import { buildServer, type ApiServer, type ServerDeps } from '../../src/index.js';

/**
 * The API with no dependency behind it (database, Redis and pipeline are never reached): enough for
 * the documents, the error surface and authentication refusals. `overrides` replaces any part.
 */
export function bareServer(overrides: Partial<ServerDeps> = {}): Promise<ApiServer> {
  return buildServer({
    logger: createLogger({ service: 'test', level: 'silent' }),
    db: {} as never,
    redis: {} as never,
    pipeline: {} as never,
    registry: createMetricsRegistry('test'),
    healthChecks: {},
    version: 'test',
    schemaCompiler: new SchemaCompiler(),
    ...overrides,
  });
}

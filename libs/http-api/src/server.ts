import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { JobCancellations, ResponseCache } from '@sps/cache';
import type { Database } from '@sps/db';
import type { SchemaCompiler } from '@sps/llm';
import type { Redis } from 'ioredis';
import type { Logger } from '@sps/observability';
import type { Registry } from 'prom-client';
import type { PipelineClient } from './pipeline-client.js';
import { accessLog } from './plugins/access-log.js';
import { admission } from './plugins/admission.js';
import { authentication } from './plugins/authentication.js';
import { errorEnvelope } from './plugins/error-envelope.js';
import { httpMetrics } from './plugins/http-metrics.js';
import { openapi } from './plugins/openapi.js';
import { playground } from './plugins/playground.js';
import { rateLimit } from './plugins/rate-limit.js';
import { requestIdFrom, requestIdHeader } from './plugins/request-id.js';
import { textHygiene } from './plugins/text-hygiene.js';
import { httpTracing } from './plugins/tracing.js';
import { analyzeRoutes } from './routes/analyze.js';
import { chatCompletionRoutes } from './routes/chat-completions.js';
import { modelRoutes, type ProviderCatalog } from './routes/models.js';
import { batchRoutes } from './routes/batch.js';
import { jobRoutes } from './routes/jobs.js';
import { schemaRoutes } from './routes/schemas.js';
import { templateRoutes } from './routes/templates.js';
import { cacheRoutes } from './routes/cache.js';
import { healthRoutes, type DependencyCheck } from './routes/health.js';
import { asyncapiRoutes } from './routes/asyncapi.js';
import { requestRoutes } from './routes/requests.js';
import { usageRoutes } from './routes/usage.js';
import { StructuredResponse } from './schemas/analyze.js';
import { ErrorEnvelope } from './schemas/errors.js';
import { validatorCompiler } from './validator-compiler.js';

export interface ServerDeps {
  logger: Logger;
  db: Database;
  redis: Redis;
  registry: Registry;
  pipeline: PipelineClient;
  healthChecks: Record<string, DependencyCheck>;
  version: string;
  bodyLimitBytes?: number;
  /** Webhook hosts allowed although private (tests, internal receivers). */
  webhookAllowlist?: string[];
  schemaCompiler: SchemaCompiler;
  /** The providers and models the processors are configured with (default: read from the environment). */
  providers?: ProviderCatalog;
}

/** The ingest API: one plugin per concern; route schemas drive validation, serialisation and OpenAPI. */
export async function buildServer(deps: ServerDeps) {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimitBytes ?? 256 * 1024,
    requestIdHeader: false,
    logController: new LogController({ disableRequestLogging: true }), // see plugins/access-log.ts
    // Path parameters up to 1 KiB: a 128-character registry name percent-encoded fits, and longer
    // ones reach validation (a 400 naming the field) instead of the router's 404.
    routerOptions: { maxParamLength: 1024 },
    genReqId: (request) => requestIdFrom(request.headers['x-request-id'], randomUUID),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler());

  app.addSchema(ErrorEnvelope);
  app.addSchema(StructuredResponse);
  await app.register(httpTracing); // first: every later hook and route runs inside the span
  await app.register(errorEnvelope);
  await app.register(requestIdHeader);
  await app.register(accessLog);
  await app.register(textHygiene); // before any route validates or walks a body
  await app.register(openapi, { version: deps.version });
  await app.register(httpMetrics, { registry: deps.registry });
  await app.register(healthRoutes, { version: deps.version, checks: deps.healthChecks });
  await app.register(asyncapiRoutes, { version: deps.version });
  await app.register(playground); // static page; its API calls carry the key the user enters
  // Everything below needs an API key and counts against its rate limit.
  await app.register(async (api) => {
    await api.register(authentication, { db: deps.db });
    await api.register(rateLimit, { redis: deps.redis });
    await api.register(admission, { db: deps.db }); // what analyze, batch and jobs queue
    await api.register(analyzeRoutes, { pipeline: deps.pipeline, db: deps.db });
    // OpenAI-compatible: POST /v1/chat/completions, and GET /v1/models (what `model` may name)
    await api.register(chatCompletionRoutes, {
      pipeline: deps.pipeline,
      db: deps.db,
      catalog: deps.providers,
    });
    await api.register(modelRoutes, { catalog: deps.providers });
    await api.register(batchRoutes, { pipeline: deps.pipeline, db: deps.db });
    await api.register(jobRoutes, {
      db: deps.db,
      pipeline: deps.pipeline,
      cancellations: new JobCancellations(deps.redis),
      webhookAllowlist: deps.webhookAllowlist ?? [],
    });
    await api.register(requestRoutes, { db: deps.db });
    await api.register(schemaRoutes, { db: deps.db, compiler: deps.schemaCompiler });
    await api.register(templateRoutes, { db: deps.db });
    await api.register(cacheRoutes, { cache: new ResponseCache(deps.redis) });
    await api.register(usageRoutes, { db: deps.db, compiler: deps.schemaCompiler });
  });
  return app;
}

export type ApiServer = Awaited<ReturnType<typeof buildServer>>;

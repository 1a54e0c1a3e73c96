import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { ServiceError, type PromptRequestMessage, type ResultMessage } from '@sps/contracts';
import type { AuthenticatedKey, Database } from '@sps/db';
import { resolveReferences, type Resolved } from '../schema-ref.js';
import { checkSchemaLimits } from '../input-limits.js';
import type { PipelineClient } from '../pipeline-client.js';
import { Type } from '@sinclair/typebox';
import { AnalyzeBody, type StructuredResponse } from '../schemas/analyze.js';
import { bodyErrors } from '../schemas/errors.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/** POST /v1/analyze: synchronous over Kafka request-reply, with a deadline. */
export const analyzeRoutes: FastifyPluginAsyncTypebox<{ pipeline: PipelineClient; db: Database }> = async (
  app,
  { pipeline, db },
) => {
  app.post(
    '/v1/analyze',
    {
      config: { deferArrivalCharge: true },
      schema: {
        tags: ['analyze'],
        summary: 'Analyse one prompt and answer with validated structured data',
        body: AnalyzeBody,
        response: {
          200: Type.Ref('StructuredResponse'),
          ...bodyErrors(403, 404, 422, 502, 503, 504),
        },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      // The arrival charge is deferred to the admission (below); a request that reads the registry
      // settles it first, so that a caller over its limit never reaches the database.
      if (request.body.schema_ref || request.body.template) await request.arrivalCharge;
      const { prompt, ...body } = await resolveReferences(db, request.principal.tenantId, request.body);
      if (prompt === undefined)
        throw new ServiceError('INVALID_REQUEST', 'prompt: is required (or a template)', {
          fields: [{ field: 'prompt', reason: 'is required (or a template)' }],
        });
      checkSchemaLimits(body.schema);
      const { options, admitted } = app.admission.begin(request, reply, {
        prompts: 1,
        options: body.options,
      });
      const message = buildRequest(request.principal, { ...body, options, prompt });
      const result = await pipeline.call(
        message,
        message.options?.timeout_ms ?? DEFAULT_TIMEOUT_MS,
        admitted,
      );
      return reply.send(toStructuredResponse(result, Math.round(performance.now() - started)));
    },
  );
};

/** The pipeline message for one prompt of an authenticated caller, with its deadline. */
export function buildRequest(
  principal: AuthenticatedKey,
  body: Omit<Resolved<AnalyzeBody>, 'labels'> & { prompt: string; labels?: PromptRequestMessage['labels'] },
  extra: Partial<PromptRequestMessage> = {},
): PromptRequestMessage {
  const timeoutMs = body.options?.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  return {
    request_id: randomUUID(),
    tenant_id: principal.tenantId,
    api_key_id: principal.apiKeyId,
    prompt: body.prompt.trim(),
    format: body.format ?? 'json',
    ...(body.schema ? { schema: body.schema } : {}),
    ...(body.labels && Object.keys(body.labels).length > 0 ? { labels: body.labels } : {}),
    options: { ...body.options, timeout_ms: timeoutMs },
    created_at: new Date().toISOString(),
    deadline_at: new Date(Date.now() + timeoutMs).toISOString(),
    ...extra,
  };
}

/** A success becomes the seed's StructuredResponse; a failure becomes the error it carries. */
export function toStructuredResponse(result: ResultMessage, elapsedMs: number): StructuredResponse {
  if (result.status === 'failed' || !result.output) {
    const error = result.error ?? { code: 'INTERNAL_ERROR' as const, message: 'result without output' };
    throw new ServiceError(error.code, error.message, { ...error.details, request_id: result.request_id });
  }
  const { output } = result;
  const analysis = isAnalysis(output.data) ? output.data : {};
  return {
    request_id: result.request_id,
    ...analysis,
    data: output.data,
    output_format: output.output_format,
    original_language: output.original_language,
    validation_status: output.validation_status,
    processing_time_ms: elapsedMs,
    provider_used: output.provider_used,
    model: output.model,
    cached: output.cached,
    repaired: output.repaired,
  };
}

function isAnalysis(
  data: unknown,
): data is Pick<StructuredResponse, 'intent' | 'subject' | 'entities' | 'confidence'> {
  return Boolean(
    data && typeof data === 'object' && 'intent' in data && 'entities' in data && 'confidence' in data,
  );
}

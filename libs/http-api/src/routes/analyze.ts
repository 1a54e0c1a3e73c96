import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ServiceError, type PromptRequestMessage, type ResultMessage } from '@sps/contracts';
import { checkSchemaLimits } from '../input-limits.js';
import type { PipelineClient } from '../pipeline-client.js';
import { AnalyzeBody, StructuredResponse } from '../schemas/analyze.js';
import { errorResponses } from '../schemas/errors.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/** POST /v1/analyze: synchronous over Kafka request-reply, with a deadline. */
export const analyzeRoutes: FastifyPluginAsyncTypebox<{ pipeline: PipelineClient }> = async (app, { pipeline }) => {
  app.post(
    '/v1/analyze',
    {
      schema: {
        tags: ['analyze'],
        summary: 'Analyse one prompt and answer with validated structured data',
        body: AnalyzeBody,
        response: { 200: StructuredResponse, ...errorResponses(400, 401, 422, 429, 500, 502, 503, 504) },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      checkSchemaLimits(request.body.schema);
      const timeoutMs = request.body.options?.timeout_ms ?? DEFAULT_TIMEOUT_MS;
      const message: PromptRequestMessage = {
        request_id: pipeline.newRequestId(),
        tenant_id: request.principal.tenantId,
        api_key_id: request.principal.apiKeyId,
        prompt: request.body.prompt.trim(),
        format: request.body.format ?? 'json',
        ...(request.body.schema ? { schema: request.body.schema } : {}),
        ...(request.body.options ? { options: request.body.options } : {}),
        created_at: new Date().toISOString(),
        deadline_at: new Date(Date.now() + timeoutMs).toISOString(),
      };
      const result = await pipeline.call(message, timeoutMs);
      return reply.send(toStructuredResponse(result, Math.round(performance.now() - started)));
    },
  );
};

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

function isAnalysis(data: unknown): data is Pick<StructuredResponse, 'intent' | 'subject' | 'entities' | 'confidence'> {
  return Boolean(data && typeof data === 'object' && 'intent' in data && 'entities' in data && 'confidence' in data);
}

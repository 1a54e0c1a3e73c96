import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS, OutputFormat, PromptOptions, ServiceError, UserSchema } from '@sps/contracts';
import type { Database } from '@sps/db';
import { checkSchemaLimits } from '../input-limits.js';
import { SchemaRef, resolveReferences } from '../schema-ref.js';
import type { PipelineClient } from '../pipeline-client.js';
import { notBoth } from '../schemas/common.js';
import { bodyErrors } from '../schemas/errors.js';
import { buildRequest, toStructuredResponse } from './analyze.js';

const BatchBody = Type.Object(
  {
    prompts: Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.promptMaxChars, pattern: '\\S' }), {
      minItems: 1,
      maxItems: LIMITS.batchMaxItems,
    }),
    format: Type.Optional(OutputFormat),
    schema: Type.Optional(UserSchema),
    schema_ref: Type.Optional(SchemaRef),
    options: Type.Optional(Type.Partial(PromptOptions)),
  },
  {
    additionalProperties: false,
    ...notBoth('schema', 'schema_ref'),
    examples: [
      { prompts: ['Extract invoice details from Invoice #12345', "Translate 'Hello World' to Spanish"] },
    ],
  },
);

const BatchItemError = Type.Object({
  index: Type.Integer(),
  request_id: Type.String(),
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

const BatchResponse = Type.Object({
  results: Type.Array(Type.Union([Type.Ref('StructuredResponse'), BatchItemError])),
  summary: Type.Object({ total: Type.Integer(), successful: Type.Integer(), failed: Type.Integer() }),
  processing_time_ms: Type.Integer(),
});

/** POST /v1/analyze/batch: up to 100 prompts through the pipeline in parallel, answered in input order. */
export const batchRoutes: FastifyPluginAsyncTypebox<{ pipeline: PipelineClient; db: Database }> = async (
  app,
  { pipeline, db },
) => {
  app.post(
    '/v1/analyze/batch',
    {
      schema: {
        tags: ['analyze'],
        summary: 'Analyse up to 100 prompts; per-item success or error, in input order',
        body: BatchBody,
        response: { 200: BatchResponse, ...bodyErrors(403, 404, 503) },
      },
    },
    async (request, reply) => {
      const started = performance.now();
      const { prompts, ...shared } = await resolveReferences(db, request.principal.tenantId, request.body);
      checkSchemaLimits(shared.schema);
      const options = await app.admission.admit(request, reply, {
        prompts: prompts.length,
        options: shared.options,
      });
      const results = await Promise.all(
        prompts.map(async (prompt, index) => {
          const message = buildRequest(request.principal, { ...shared, options, prompt });
          try {
            const result = await pipeline.call(message, message.options?.timeout_ms ?? 30_000);
            return toStructuredResponse(result, Math.round(performance.now() - started));
          } catch (error) {
            if (!(error instanceof ServiceError)) throw error;
            return { index, request_id: message.request_id, error: error.toJSON() };
          }
        }),
      );
      const failed = results.filter((r) => 'error' in r).length;
      return {
        results,
        summary: { total: results.length, successful: results.length - failed, failed },
        processing_time_ms: Math.round(performance.now() - started),
      };
    },
  );
};

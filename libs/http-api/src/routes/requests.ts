import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ServiceError } from '@sps/contracts';
import { findRequestLog, type Database } from '@sps/db';
import { authenticatedErrors } from '../schemas/errors.js';

const RequestRecord = Type.Object({
  request_id: Type.String(),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  output: Type.Union([Type.Unknown(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  provider_used: Type.Union([Type.String(), Type.Null()]),
  processing_time_ms: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});

/** GET /v1/requests/{id}: the stored result of one request, e.g. after a synchronous call timed out. */
export const requestRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/v1/requests/:id',
    {
      schema: {
        tags: ['requests'],
        summary: 'Read the stored result of one request',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: RequestRecord, ...authenticatedErrors(404) },
      },
    },
    async (request) => {
      const row = await findRequestLog(db, request.principal.tenantId, request.params.id);
      if (!row)
        throw new ServiceError('NOT_FOUND', `no request ${request.params.id} (it may still be in progress)`);
      return {
        request_id: row.request_id,
        status: row.status,
        output: row.response_data ?? null,
        error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
        provider_used: row.provider_used,
        processing_time_ms: row.processing_time_ms,
        created_at: new Date(row.created_at).toISOString(),
      };
    },
  );
};

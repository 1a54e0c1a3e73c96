import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ServiceError } from '@sps/contracts';
import { findRequestLog, recentRequestLogs, type Database } from '@sps/db';
import { authenticatedErrors } from '../schemas/errors.js';
import { RequestAttempt, RequestList, RequestListQuery } from '../schemas/usage.js';

const RequestRecord = Type.Object({
  request_id: Type.String(),
  status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed')]),
  output: Type.Union([Type.Unknown(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  provider_used: Type.Union([Type.String(), Type.Null()]),
  processing_time_ms: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  validation_status: Type.Union([Type.String(), Type.Null()]),
  model: Type.Union([Type.String(), Type.Null()]),
  tokens_in: Type.Integer(),
  tokens_out: Type.Integer(),
  cost_usd: Type.Number({ description: 'summed over attempts' }),
  cached: Type.Boolean(),
  repaired: Type.Boolean(),
  attempts: Type.Array(RequestAttempt, { description: 'every provider call, in order' }),
});

/**
 * GET /v1/requests: the tenant's latest requests (summaries); GET /v1/requests/{id}: the stored result
 * of one request (e.g. after a synchronous call timed out), with its attempts, tokens and cost.
 */
export const requestRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/v1/requests',
    {
      schema: {
        tags: ['requests'],
        summary: "The caller's tenant's latest stored requests, newest first (summaries)",
        querystring: RequestListQuery,
        response: { 200: RequestList, ...authenticatedErrors() },
      },
    },
    async (request) => {
      const rows = await recentRequestLogs(db, request.principal.tenantId, request.query.limit);
      return {
        requests: rows.map((row) => ({
          ...row,
          cost_usd: Number(row.cost_usd),
          created_at: new Date(row.created_at).toISOString(),
        })),
      };
    },
  );

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
        validation_status: row.validation_status,
        model: row.model,
        tokens_in: row.tokens_in,
        tokens_out: row.tokens_out,
        cost_usd: Number(row.cost_usd),
        cached: row.cached,
        repaired: row.repaired,
        attempts: Array.isArray(row.attempts) ? row.attempts.map(attemptView) : [],
      };
    },
  );
};

/** A stored attempt as the API shows it, whatever version of the processor wrote it. */
function attemptView(stored: unknown) {
  const a = (stored && typeof stored === 'object' ? stored : {}) as Record<string, unknown>;
  const integer = (value: unknown) => (Number.isSafeInteger(value) ? (value as number) : 0);
  return {
    provider: String(a.provider ?? ''),
    model: String(a.model ?? ''),
    outcome: String(a.outcome ?? ''),
    ...(typeof a.error_class === 'string' ? { error_class: a.error_class } : {}),
    tokens_in: integer(a.tokens_in),
    tokens_out: integer(a.tokens_out),
    cost_usd: typeof a.cost_usd === 'number' && Number.isFinite(a.cost_usd) ? a.cost_usd : 0,
    ...(a.unpriced === true ? { unpriced: true } : {}),
    latency_ms: Number.isSafeInteger(a.latency_ms) ? (a.latency_ms as number) : null,
  };
}

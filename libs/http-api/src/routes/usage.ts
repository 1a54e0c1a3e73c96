import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ServiceError } from '@sps/contracts';
import { keyUsage, tenantUsage, type Database } from '@sps/db';
import type { SchemaCompiler } from '@sps/llm';
import { checkSchemaLimits } from '../input-limits.js';
import { authenticatedErrors, bodyErrors } from '../schemas/errors.js';
import { SchemaCheckBody, SchemaCheckResult, UsageView } from '../schemas/usage.js';

/**
 * GET /v1/usage (what the caller's tenant and key spent this UTC day and month) and
 * POST /v1/schema-check (a schema checked as a request's would be, without running anything):
 * what the playground shows, for any client. Both read only the authenticated key's tenant.
 */
export const usageRoutes: FastifyPluginAsyncTypebox<{ db: Database; compiler: SchemaCompiler }> = async (
  app,
  { db, compiler },
) => {
  app.get(
    '/v1/usage',
    {
      schema: {
        tags: ['usage'],
        summary: "Tokens and cost of the caller's tenant and key this UTC day and month",
        response: { 200: UsageView, ...authenticatedErrors() },
      },
    },
    async (request) => {
      const now = new Date();
      const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const { principal } = request;
      const [tenant, key] = await Promise.all([
        tenantUsage(db, principal.tenantId, { dayStart, monthStart }),
        keyUsage(db, principal.apiKeyId, { dayStart, monthStart }),
      ]);
      const controls = principal.controls;
      return {
        day_start: dayStart.toISOString(),
        month_start: monthStart.toISOString(),
        tenant: {
          day: { requests: tenant.dayRequests, tokens: tenant.dayTokens, cost_usd: tenant.dayCostUsd },
          month: {
            requests: tenant.monthRequests,
            tokens: tenant.monthTokens,
            cost_usd: tenant.monthCostUsd,
          },
        },
        key: {
          name: principal.name,
          day: { tokens: key.dayTokens, cost_usd: key.dayCostUsd },
          month: { tokens: key.monthTokens, cost_usd: key.monthCostUsd },
          budgets: {
            daily_tokens: controls?.dailyTokenBudget ?? null,
            monthly_tokens: controls?.monthlyTokenBudget ?? null,
            daily_cost_usd: controls?.dailyCostBudgetUsd ?? null,
            monthly_cost_usd: controls?.monthlyCostBudgetUsd ?? null,
          },
        },
      };
    },
  );

  app.post(
    '/v1/schema-check',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Check a JSON Schema as a request would (limits, compilation); nothing is stored',
        description:
          'Answers 200 with `valid: false` and the error a request with this schema would get ' +
          '(INVALID_SCHEMA or INVALID_REQUEST, with its message and fields), or `valid: true`.',
        body: SchemaCheckBody,
        response: { 200: SchemaCheckResult, ...bodyErrors() },
      },
    },
    async (request) => {
      try {
        checkSchemaLimits(request.body.schema, 'schema');
        compiler.compile(request.body.schema);
        return { valid: true, error: null };
      } catch (error) {
        if (!(error instanceof ServiceError)) throw error;
        return { valid: false, error: error.toJSON() };
      }
    },
  );
};

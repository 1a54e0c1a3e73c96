import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ServiceError } from '@sps/contracts';
import { cacheIndexes, type ResponseCache } from '@sps/cache';
import { authenticatedErrors } from '../schemas/errors.js';

/** DELETE /v1/cache: the caller's own cached answers — all, or those of one schema or template name. */
export const cacheRoutes: FastifyPluginAsyncTypebox<{ cache: ResponseCache<unknown> }> = async (
  app,
  { cache },
) => {
  app.delete(
    '/v1/cache',
    {
      schema: {
        tags: ['cache'],
        summary: "Purge the caller's cached answers",
        querystring: Type.Object(
          {
            schema: Type.Optional(Type.String({ minLength: 1 })),
            template: Type.Optional(Type.String({ minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ deleted: Type.Integer() }), ...authenticatedErrors(413, 415, 503) },
      },
    },
    async (request) => {
      const { schema, template } = request.query;
      const tenantId = request.principal.tenantId;
      const [all, ...named] = cacheIndexes(tenantId, { schema, template });
      try {
        let deleted = 0;
        for (const index of named.length > 0 ? named : [all!]) deleted += await cache.purge(index);
        return { deleted };
      } catch {
        throw new ServiceError('SERVICE_UNAVAILABLE', 'the cache is unavailable; nothing was deleted');
      }
    },
  );
};

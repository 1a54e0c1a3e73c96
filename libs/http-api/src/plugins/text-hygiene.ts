import fp from 'fastify-plugin';
import { BODY_MAX_DEPTH, findUncleanText, ServiceError } from '@sps/contracts';

/**
 * Text hygiene at the edge (the rule is documented in libs/contracts/src/text-hygiene.ts): before
 * any route validates or walks a request, its body, query string and path parameters are checked
 * iteratively; text with U+0000 or an unpaired surrogate, or a body nested deeper than
 * `maxDepth` JSON levels, is answered 400 INVALID_REQUEST naming the path (`prompt`,
 * `schema.properties["a\u0000b"]`, `querystring.name`) and the reason. Runs as a preValidation
 * hook, so on every route of the server (after authentication, before schema validation).
 */
export const textHygiene = fp<{ maxDepth?: number }>(
  async (app, { maxDepth = BODY_MAX_DEPTH }) => {
    app.addHook('preValidation', async (request) => {
      const problem =
        findUncleanText(request.body, { maxDepth }) ??
        // Fastify's query and params objects are not plain objects: copy them into ones.
        findUncleanText({ ...(request.query as object) }, { maxDepth, path: 'querystring' }) ??
        findUncleanText({ ...(request.params as object) }, { maxDepth, path: 'params' });
      if (!problem) return;
      const field = problem.path || 'body';
      throw new ServiceError('INVALID_REQUEST', `${field}: ${problem.reason}`, {
        fields: [{ field, reason: problem.reason }],
      });
    });
  },
  { name: 'text-hygiene' },
);

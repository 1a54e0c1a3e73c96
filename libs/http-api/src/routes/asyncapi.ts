import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { buildAsyncApiDocument } from '@sps/contracts';

const AsyncApiDocument = Type.Object(
  {
    asyncapi: Type.String({ description: 'the AsyncAPI version of the document (3.x)' }),
    info: Type.Object(
      { title: Type.String(), version: Type.String(), description: Type.Optional(Type.String()) },
      { additionalProperties: true },
    ),
    channels: Type.Object({}, { additionalProperties: true, description: 'one channel per Kafka topic' }),
    operations: Type.Object({}, { additionalProperties: true }),
    components: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: true, description: 'the AsyncAPI 3 document of every Kafka topic' },
);

/**
 * GET /asyncapi.json: the AsyncAPI 3 document of the pipeline's Kafka topics (generated from
 * libs/contracts), public like /openapi.json. Topic names are shown without the deployment's prefix.
 */
export const asyncapiRoutes: FastifyPluginAsyncTypebox<{ version: string }> = async (app, { version }) => {
  const body = JSON.stringify(buildAsyncApiDocument({ version }));
  app.get(
    '/asyncapi.json',
    {
      schema: {
        tags: ['docs'],
        summary:
          'The AsyncAPI 3 document of every Kafka topic (messages, keys, headers, request-reply, DLQs)',
        security: [],
        response: { 200: AsyncApiDocument },
      },
    },
    // Already JSON (a string is sent as is, not through the response serializer).
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(body as never),
  );
};

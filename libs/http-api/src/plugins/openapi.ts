import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** OpenAPI 3.1 generated from the route schemas; Swagger UI at /docs, the document at /openapi.json. */
export const openapi = fp<{ version: string }>(async (app, { version }) => {
  await app.register(swagger, {
    // Shared schemas appear under their own names (#/components/schemas/ErrorEnvelope).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Structured Prompt Service',
        version,
        description: 'Natural-language prompts in, validated structured data (JSON or XML) out.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an sk_... API key' } },
      },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});

import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { BODY_MAX_DEPTH } from '@sps/contracts';
import { PG_INT4_MAX } from '../schemas/common.js';

const DESCRIPTION = `Natural-language prompts in, validated structured data (JSON or XML) out.

## Errors
Every error is the \`Error\` envelope (\`error.code\`, \`message\`, \`details\`, \`request_id\`,
\`timestamp\`), and every status an operation can answer is listed under its responses. Besides:
- **405**: a path of this document asked with a method it does not list is answered 405, with an
  \`Allow\` header naming the methods it has (and 404 for a path it does not have).
- **Text**: strings, property names, query strings and path parameters that contain U+0000 or an
  unpaired surrogate, and bodies nested deeper than ${BODY_MAX_DEPTH} levels, are refused with 400 naming where.
- **Prototype keys**: a body with a \`__proto__\` key, or a \`constructor\` object with a \`prototype\`
  key, anywhere, is refused with 400 (prototype-poisoning defence).
- **Integers** stored by the service are bounded by the database's (at most ${PG_INT4_MAX}).
- **429** carries \`Retry-After\` (seconds).`;

/**
 * OpenAPI links: where a value an operation answers with is used next (`job_id` → the job's status
 * and cancellation, `request_id` → the stored result). Clients and stateful fuzzers follow them.
 */
const LINKS: { from: [string, string, string]; name: string; to: [string, string]; parameters: object }[] = [
  {
    from: ['/v1/jobs', 'post', '202'],
    name: 'GetJob',
    to: ['/v1/jobs/{id}', 'get'],
    parameters: { id: '$response.body#/job_id' },
  },
  {
    from: ['/v1/jobs', 'post', '202'],
    name: 'CancelJob',
    to: ['/v1/jobs/{id}', 'delete'],
    parameters: { id: '$response.body#/job_id' },
  },
  {
    from: ['/v1/analyze', 'post', '200'],
    name: 'GetRequest',
    to: ['/v1/requests/{id}', 'get'],
    parameters: { id: '$response.body#/request_id' },
  },
];

type Document = {
  paths?: Record<string, Record<string, { responses?: Record<string, { links?: object }> }>>;
};

function withLinks<T>(document: T): T {
  const paths = (document as Document).paths ?? {};
  for (const { from, name, to, parameters } of LINKS) {
    const [path, method, status] = from;
    const response = paths[path]?.[method]?.responses?.[status];
    if (!response || !paths[to[0]]?.[to[1]]) continue;
    const operationRef = `#/paths/${to[0].replace(/~/g, '~0').replace(/\//g, '~1')}/${to[1]}`;
    response.links = { ...response.links, [name]: { operationRef, parameters } };
  }
  return document;
}

/**
 * What has a default is optional for callers: validation fills it in (Ajv's useDefaults), so the
 * route schemas list it as present for the handlers, while the document must not ask for it.
 * Drops such properties from `required` and marks such query and header parameters optional.
 */
function optionalDefaults<T>(document: T): T {
  const stack: unknown[] = [document];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    const record = node as Record<string, unknown>;
    const properties = record.properties as Record<string, { default?: unknown }> | undefined;
    if (Array.isArray(record.required) && properties && typeof properties === 'object') {
      record.required = record.required.filter((name) => properties[name]?.default === undefined);
      if ((record.required as unknown[]).length === 0) delete record.required;
    }
    const schema = record.schema as { default?: unknown } | undefined;
    if (
      record.in !== undefined &&
      record.in !== 'path' &&
      record.required === true &&
      schema?.default !== undefined
    )
      record.required = false;
    for (const [key, value] of Object.entries(record))
      if (key !== 'example' && key !== 'examples') stack.push(value);
  }
  return document;
}

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
        description: DESCRIPTION,
      },
      components: {
        securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an sk_... API key' } },
      },
      security: [{ apiKey: [] }],
    },
    transformObject: (document) =>
      // A copy: the route schemas (shared with validation) are left as they are.
      'openapiObject' in document
        ? withLinks(optionalDefaults(structuredClone(document.openapiObject)))
        : document.swaggerObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});

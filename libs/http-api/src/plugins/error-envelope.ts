import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { ServiceError, type ErrorCode } from '@sps/contracts';

declare module 'fastify' {
  interface FastifyReply {
    sendError(error: ServiceError): FastifyReply;
  }
}

interface FieldError {
  field: string;
  reason: string;
}

/**
 * Every error leaves in the seed's envelope, with its code, the request id and, for bad input, each
 * field and why. A path the API has, asked with a method it does not have, is answered 405 with an
 * `Allow` header (RFC 9110); a path it does not have, 404.
 */
export const errorEnvelope = fp(async (app) => {
  app.decorateReply('sendError', function (this: FastifyReply, error: ServiceError) {
    return this.code(error.httpStatus).send(envelope(this.request, error.code, error.message, error.details));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ServiceError) return reply.sendError(error);
    if (error.validation) {
      const context = error.validationContext;
      const fields = validationFields(error.validation, context, routeSchemaOf(request, context));
      const summary = fields.map((f) => `${f.field}: ${f.reason}`).join('; ');
      return reply.code(400).send(envelope(request, 'INVALID_REQUEST', summary, { fields }));
    }
    if (error.statusCode === 413)
      return reply.code(413).send(envelope(request, 'PAYLOAD_TOO_LARGE', error.message));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(envelope(request, 'INVALID_REQUEST', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(envelope(request, 'INTERNAL_ERROR', 'unexpected server error'));
  });

  // Every route registered after this plugin (all of them: it is registered first), by path.
  const paths = new KnownPaths();
  app.addHook('onRoute', (route) => paths.add(route.url, route.method));
  // Before authentication and body parsing (an unknown method may carry a body it cannot parse):
  // the methods of a path are no secret, the OpenAPI document lists them.
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.url !== undefined) return; // a route matched
    const allowed = paths.methodsFor(request.url.split('?', 1)[0]!);
    if (!allowed || allowed.includes(request.method)) return; // unknown path: the 404 below
    const path = request.url.split('?', 1)[0];
    return reply
      .code(405)
      .header('allow', allowed.join(', '))
      .send(
        envelope(request, 'METHOD_NOT_ALLOWED', `method ${request.method} is not allowed on ${path}`, {
          allowed_methods: allowed,
        }),
      );
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(envelope(request, 'NOT_FOUND', `no route ${request.method} ${request.url}`)),
  );
});

function envelope(
  request: FastifyRequest,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
) {
  return {
    error: {
      code,
      message,
      ...(details ? { details } : {}),
      request_id: request.id,
      timestamp: new Date().toISOString(),
    },
  };
}

/** The routes' paths (`/v1/jobs/:id`, `/docs/*`) as patterns, each with its methods. */
class KnownPaths {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, method: string | string[]): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: patternOf(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const one of [method].flat()) route.methods.add(one.toUpperCase());
    if (route.methods.has('GET')) route.methods.add('HEAD'); // Fastify answers HEAD for every GET
  }

  /** The methods of every route whose path matches, or undefined when none does. */
  methodsFor(path: string): string[] | undefined {
    const methods = new Set<string>();
    for (const route of this.routes.values()) {
      if (route.pattern.test(path)) for (const method of route.methods) methods.add(method);
    }
    return methods.size > 0 ? [...methods].sort() : undefined;
  }
}

function patternOf(url: string): RegExp {
  const segments = url.split('/').map((segment) => {
    if (segment === '*') return '.*';
    if (segment.startsWith(':')) return '[^/]+';
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

/** The schema a route validates `context` (body, querystring, params, headers) with, if any. */
function routeSchemaOf(request: FastifyRequest, context: string | undefined): unknown {
  const schema = request.routeOptions.schema as Record<string, unknown> | undefined;
  return context ? schema?.[context] : undefined;
}

/**
 * Ajv's errors as fields and reasons. Composite keywords that say "one of these properties" are
 * explained from the schema (looked up by the error's schemaPath) as one field, instead of one
 * error per branch plus a summary nobody can act on:
 * - `oneOf`/`anyOf` of `{required: [name]}` branches: `prompt: is required (or template)` when
 *   none is given, `template: give either prompt or template, not both` when several are;
 * - `not: {required: [a, b]}`: `b: give either a or b, not both`; `not: {required: [a]}`: `a`
 *   with the `not` schema's description as the reason (or `is not allowed here`);
 * - `if`: dropped, its `then`/`else` branch reports what is wrong.
 */
export function validationFields(
  errors: FastifySchemaValidationError[],
  context: string | undefined,
  schema: unknown,
): FieldError[] {
  const explained = new Map<FastifySchemaValidationError, FieldError>();
  const covered: string[] = [];
  for (const error of errors) {
    const explanation = explainComposite(error, context, schemaAt(schema, error.schemaPath));
    if (!explanation) continue;
    explained.set(error, explanation);
    covered.push(`${error.schemaPath}/`);
  }
  const fields: FieldError[] = [];
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    const explanation = explained.get(error);
    if (explanation) fields.push(explanation);
    else if (!covered.some((prefix) => error.schemaPath.startsWith(prefix)))
      fields.push({
        field: fieldOf(context, error.instancePath, error.params),
        reason: error.message ?? 'is invalid',
      });
  }
  return fields.length > 0
    ? fields
    : [{ field: fieldOf(context, '', {}), reason: errors[0]?.message ?? 'is invalid' }];
}

function explainComposite(
  error: FastifySchemaValidationError,
  context: string | undefined,
  schema: unknown,
): FieldError | undefined {
  const at = (name: string) => fieldOf(context, `${error.instancePath}/${name}`, {});
  if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
    const names = Array.isArray(schema) ? schema.map(soleRequired) : [];
    if (names.length < 2 || names.some((name) => name === undefined)) return undefined;
    const given = error.params.passingSchemas;
    if (Array.isArray(given) && given.length > 1) {
      const both = given.map((index) => names[Number(index)]!);
      return { field: at(both.at(-1)!), reason: `give either ${both.join(' or ')}, not both` };
    }
    return { field: at(names[0]!), reason: `is required (or ${names.slice(1).join(' or ')})` };
  }
  if (error.keyword === 'not') {
    const required = isObject(schema) && Array.isArray(schema.required) ? schema.required.map(String) : [];
    if (required.length === 0) return undefined;
    if (required.length > 1)
      return { field: at(required.at(-1)!), reason: `give either ${required.join(' or ')}, not both` };
    const description = isObject(schema) && typeof schema.description === 'string' ? schema.description : '';
    return { field: at(required[0]!), reason: description || 'is not allowed here' };
  }
  return undefined;
}

/** The property of a `{required: [name]}` branch (and nothing else), if it is one. */
function soleRequired(branch: unknown): string | undefined {
  if (!isObject(branch) || Object.keys(branch).length !== 1) return undefined;
  const required = branch.required;
  return Array.isArray(required) && required.length === 1 ? String(required[0]) : undefined;
}

/** The subschema at an Ajv schemaPath (`#/then/properties/request_params/not`), if it can be followed. */
function schemaAt(root: unknown, schemaPath: string): unknown {
  if (!schemaPath.startsWith('#')) return undefined;
  let node = root;
  for (const raw of schemaPath.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else return undefined;
  }
  return node;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function fieldOf(context: string | undefined, instancePath: string, params: Record<string, unknown>): string {
  const segments = instancePath.split('/').filter(Boolean);
  const extra = params.missingProperty ?? params.additionalProperty;
  if (extra !== undefined) segments.push(String(extra));
  return [context === 'body' ? '' : context, ...segments].filter(Boolean).join('.') || (context ?? 'body');
}

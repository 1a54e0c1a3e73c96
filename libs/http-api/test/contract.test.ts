import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import type { FastifySchemaValidationError } from 'fastify';
import type { ApiServer } from '../src/index.js';
import { bareServer } from './support/bare-server.js';
import { validationFields } from '../src/plugins/error-envelope.js';
import { decodeCursor, encodeCursor } from '../src/routes/jobs.js';
import { AnalyzeBody } from '../src/schemas/analyze.js';
import { CURSOR_PATTERN } from '../src/schemas/common.js';

type Operation = {
  parameters?: { name: string; in: string; required?: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { links?: Record<string, unknown> }>;
  security?: unknown[];
};

// What e2e/contract-fuzz.int.test.ts holds the running API to, checked here without dependencies.
describe('the OpenAPI contract', () => {
  let app: ApiServer;
  let paths: Record<string, Record<string, Operation>>;
  beforeAll(async () => {
    app = await bareServer();
    paths = (await app.inject({ url: '/openapi.json' })).json().paths;
  });
  afterAll(() => app.close());

  it('documents 400, 401, 429 and 500 on every operation behind a key, 413/415 where a body goes', () => {
    const operations = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ label: `${method} ${path}`, operation })),
    );
    const authenticated = operations.filter(
      ({ label }) => label.includes('/v1/') && !label.includes('health'),
    );
    expect(authenticated.length).toBeGreaterThanOrEqual(18);
    for (const { label, operation } of authenticated) {
      expect(Object.keys(operation.responses), label).toEqual(
        expect.arrayContaining(['400', '401', '429', '500']),
      );
      if (operation.requestBody || label.startsWith('post') || label.startsWith('delete'))
        expect(Object.keys(operation.responses), label).toEqual(expect.arrayContaining(['413', '415']));
    }
    for (const path of ['/v1/analyze', '/v1/analyze/batch', '/v1/jobs'])
      expect(Object.keys(paths[path]!.post!.responses), path).toEqual(
        expect.arrayContaining(['403', '404', '429']),
      );
    expect(Object.keys(paths['/v1/schemas/{name}']!.get!.responses)).toContain('400');
    expect(Object.keys(paths['/v1/templates/{name}']!.get!.responses)).toContain('400');
  });

  it('states in the schemas what the handlers refuse: exclusive fields, bounds, cursors', () => {
    const analyze = paths['/v1/analyze']!.post!.requestBody!.content['application/json']!.schema;
    expect(analyze.oneOf).toEqual([{ required: ['prompt'] }, { required: ['template'] }]);
    expect(analyze.not).toEqual({ required: ['schema', 'schema_ref'] });
    const jobs = paths['/v1/jobs']!.post!.requestBody!.content['application/json']!.schema;
    expect(jobs).toMatchObject({ if: {}, then: {}, else: {} });
    const version = paths['/v1/schemas/{name}/versions/{version}']!.get!.parameters!.find(
      (p) => p.name === 'version',
    );
    expect(version?.schema).toMatchObject({ minimum: 1, maximum: 2_147_483_647 });
    const list = paths['/v1/jobs']!.get!.parameters!;
    expect(list.find((p) => p.name === 'cursor')?.schema.pattern).toBe(CURSOR_PATTERN);
    expect(list.find((p) => p.name === 'limit')?.required).toBe(false); // it has a default
    expect(Object.keys(paths['/v1/jobs']!.post!.responses['202']!.links ?? {})).toEqual([
      'GetJob',
      'CancelJob',
    ]);
  });

  it('answers a known path with an undeclared method 405, Allow and the envelope (before authentication)', async () => {
    const cases = [
      ['TRACE', '/v1/analyze', 'POST'],
      ['PUT', '/v1/jobs', 'GET, HEAD, POST'],
      ['OPTIONS', '/v1/jobs/6c841ab8-b1a0-44e7-99b5-ff84197969d1', 'DELETE, GET, HEAD'],
      ['PATCH', '/v1/schemas/invoice/versions/2', 'GET, HEAD'],
      ['POST', '/v1/health', 'GET, HEAD'],
    ] as const;
    for (const [method, url, allow] of cases) {
      const response = await app.inject({ method, url });
      expect([response.statusCode, response.headers.allow], `${method} ${url}`).toEqual([405, allow]);
      expect(response.json().error).toMatchObject({
        code: 'METHOD_NOT_ALLOWED',
        request_id: expect.any(String),
      });
    }
    // A method with a body and no content type is still a 405, not a complaint about the body.
    expect((await app.inject({ method: 'QUERY' as never, url: '/v1/jobs' })).statusCode).toBe(405);
    expect((await app.inject({ method: 'TRACE', url: '/v1/nothing-here' })).statusCode).toBe(404);
  });

  it('names one field for exclusive properties, as the handlers did', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(AnalyzeBody);
    const fieldsOf = (body: unknown) => {
      expect(validate(body)).toBe(false);
      return validationFields(validate.errors as FastifySchemaValidationError[], 'body', AnalyzeBody);
    };
    expect(fieldsOf({})).toEqual([{ field: 'prompt', reason: 'is required (or template)' }]);
    expect(fieldsOf({ prompt: 'x', template: { name: 't', parameters: {} } })).toEqual([
      { field: 'template', reason: 'give either prompt or template, not both' },
    ]);
    expect(fieldsOf({ prompt: 'x', schema: {}, schema_ref: { name: 's' } })).toEqual([
      { field: 'schema_ref', reason: 'give either schema or schema_ref, not both' },
    ]);
    expect(fieldsOf({ prompt: 'x', schema_ref: { name: 's', version: 5_109_571_003 } })).toEqual([
      { field: 'schema_ref.version', reason: 'must be <= 2147483647' },
    ]);
  });

  it('encodes job cursors so that every string of the pattern decodes', () => {
    const at = 1_767_323_045_678_901n; // 2026-01-02T03:04:05.678901Z, to the microsecond
    const id = '6c841ab8-b1a0-44e7-99b5-ff84197969d1';
    const cursor = encodeCursor(at, id);
    expect(cursor).toMatch(new RegExp(CURSOR_PATTERN));
    expect(decodeCursor(cursor)).toEqual({ createdAtMicros: at, id });
    for (const any of ['A'.repeat(32), '_'.repeat(32)]) {
      const decoded = decodeCursor(any);
      expect(decoded.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(decoded.createdAtMicros).toBeLessThanOrEqual(253_402_300_799_999_999n);
    }
    expect(() => decodeCursor('not a cursor')).toThrow(/cursor/);
  });
});

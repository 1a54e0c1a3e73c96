import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/index.js';
import { bareServer } from './support/bare-server.js';

// The routes that need no dependency: documents, errors and authentication refusals.
describe('ingest API surface', () => {
  let app: ApiServer;
  beforeAll(async () => {
    app = await bareServer({
      healthChecks: { postgres: async () => undefined, kafka: async () => Promise.reject(new Error('down')) },
    });
  });
  afterAll(() => app.close());

  it('publishes a complete OpenAPI 3.1 document with the error envelope on every operation', async () => {
    const spec = (await app.inject({ url: '/openapi.json' })).json();
    expect(spec.openapi).toBe('3.1.0');
    const operations = Object.values(
      spec.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>,
    ).flatMap((path) => Object.values(path));
    expect(operations.length).toBeGreaterThanOrEqual(18);
    for (const operation of operations.filter((op) => op.responses['401'])) {
      expect(JSON.stringify(operation.responses['401'])).toMatch(/#\/components\/schemas\/ErrorEnvelope/);
    }
    expect(spec.components.schemas.ErrorEnvelope.properties.error.required).toEqual([
      'code',
      'message',
      'request_id',
      'timestamp',
    ]);
    expect(spec.paths['/v1/analyze'].post.requestBody.content['application/json'].example).toMatchObject({
      prompt: expect.any(String),
    });
    expect((await app.inject({ url: '/docs' })).statusCode).toBe(200);
  });

  it('refuses API routes without a key, in the error envelope', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/analyze', payload: { prompt: 'x' } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error).toMatchObject({
      code: 'UNAUTHORIZED',
      request_id: expect.any(String),
      timestamp: expect.any(String),
    });
  });

  it('answers unknown routes with NOT_FOUND and echoes a given request id', async () => {
    const response = await app.inject({ url: '/v2/anything', headers: { 'x-request-id': 'abc-123' } });
    expect(response.statusCode).toBe(404);
    expect(response.headers['x-request-id']).toBe('abc-123');
    expect(response.json().error).toMatchObject({ code: 'NOT_FOUND', request_id: 'abc-123' });
  });

  it('reports each dependency and 503 when one is down', async () => {
    const response = await app.inject({ url: '/v1/health' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({
      status: 'degraded',
      dependencies: { postgres: 'up', kafka: 'down' },
    });
  });
});

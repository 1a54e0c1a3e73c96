import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedDatabase } from '@sps/testing';
import { BODY_MAX_DEPTH, LIMITS, ServiceError, type PromptRequestMessage } from '@sps/contracts';
import { SchemaCompiler } from '@sps/llm';
import { createLogger, createMetricsRegistry } from '@sps/observability';
import { buildServer, type ApiServer } from '../src/index.js';

/**
 * As server.test.ts, plus the least that lets a request through authentication and the rate limit:
 * a database that knows one API key (every other query fails), a Redis that is down (the rate
 * limit falls back to memory) and a pipeline that records what it is sent and answers 503.
 */
const { db } = scriptedDatabase((query) => {
  if (!query.sql.includes('"api_keys"')) throw new Error('no database in this test');
  const key = { id: '0d7e9a4c-1b2f-4e5d-9c8b-7a6f5e4d3c2b', tenant_id: 'acme', name: 'test' };
  return [{ ...key, rate_limit_per_hour: 10_000 }];
});

const AUTH = { authorization: 'Bearer sk_test_hygiene' };
const sent: PromptRequestMessage[] = [];

/** `{"a":{"a":...{}...}}` with `levels` objects, as JSON text. */
const nestedObjectJson = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;

describe('text hygiene at the HTTP edge', () => {
  let app: ApiServer;
  beforeAll(async () => {
    app = await buildServer({
      logger: createLogger({ service: 'test', level: 'silent' }),
      db: db as never,
      redis: { status: 'end' } as never,
      pipeline: {
        call: async (message: PromptRequestMessage) => {
          sent.push(message);
          throw new ServiceError('SERVICE_UNAVAILABLE', 'no pipeline in this test');
        },
      } as never,
      registry: createMetricsRegistry('test'),
      healthChecks: {},
      version: 'test',
      schemaCompiler: new SchemaCompiler(),
    });
  });
  afterAll(() => app.close());

  const post = (url: string, payload: string | object) =>
    app.inject({
      method: 'POST',
      url,
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  const refusal = (response: Awaited<ReturnType<typeof post>>) => {
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', request_id: expect.any(String) });
    return error.details.fields[0] as { field: string; reason: string };
  };

  it('refuses NUL in a prompt, naming the field', async () => {
    const response = await post('/v1/analyze', { prompt: 'a\u0000b' });
    expect(refusal(response)).toEqual({ field: 'prompt', reason: 'contains U+0000 (NUL)' });
    expect(response.json().error.message).toBe('prompt: contains U+0000 (NUL)');
  });

  it('refuses a lone surrogate sent as a raw JSON escape', async () => {
    const response = await post('/v1/analyze', '{"prompt": "x\\ud800y"}');
    expect(refusal(response)).toEqual({ field: 'prompt', reason: 'contains an unpaired surrogate U+D800' });
  });

  it('refuses NUL in a schema property name, naming the key', async () => {
    const response = await post('/v1/schemas', {
      name: 'invoice',
      schema: { type: 'object', properties: { 'a\u0000b': { type: 'string' } } },
    });
    expect(refusal(response)).toEqual({
      field: 'schema.properties["a\\u0000b"]',
      reason: 'property name contains U+0000 (NUL)',
    });
  });

  it('refuses unclean text in arrays and in the query string', async () => {
    expect(refusal(await post('/v1/analyze/batch', { prompts: ['fine', 'bad\udfff'] }))).toEqual({
      field: 'prompts.1',
      reason: 'contains an unpaired surrogate U+DFFF',
    });
    const purge = await app.inject({ method: 'DELETE', url: '/v1/cache?schema=a%00b', headers: AUTH });
    expect(refusal(purge)).toEqual({ field: 'querystring.schema', reason: 'contains U+0000 (NUL)' });
  });

  it('answers a 5,000-level nested schema 400 naming the depth limit, not 500', async () => {
    const reason = `nests deeper than ${BODY_MAX_DEPTH} levels`;
    const analyze = refusal(await post('/v1/analyze', `{"prompt":"p","schema":${nestedObjectJson(5000)}}`));
    expect(analyze).toEqual({ field: `schema${'.a'.repeat(BODY_MAX_DEPTH - 1)}`, reason });
    const schemas = refusal(await post('/v1/schemas', `{"name":"deep","schema":${nestedObjectJson(5000)}}`));
    expect(schemas.reason).toBe(reason);
  });

  it('lets clean text through untouched: emoji prompts and schemas as deep as the schema limit', async () => {
    const prompt = 'Résumé 😀 — extract the total from INV-1 𝄞';
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 1; i < LIMITS.schemaMaxDepth; i++)
      schema = { type: 'object', properties: { [`f${i}`]: schema } };
    sent.length = 0;
    const response = await post('/v1/analyze', { prompt, schema });
    expect(response.statusCode).toBe(503); // the stub pipeline's answer: past hygiene and validation
    expect(response.json().error.code).toBe('SERVICE_UNAVAILABLE');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.prompt).toBe(prompt);
    expect(sent[0]!.schema).toEqual(schema);
  });
});

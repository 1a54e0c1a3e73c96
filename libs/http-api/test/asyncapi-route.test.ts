import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@sps/contracts';
import type { ApiServer } from '../src/index.js';
import { bareServer } from './support/bare-server.js';

describe('GET /asyncapi.json', () => {
  let app: ApiServer;
  beforeAll(async () => {
    app = await bareServer();
  });
  afterAll(() => app.close());

  it('serves the AsyncAPI document without an API key, and is documented in the OpenAPI document', async () => {
    const response = await app.inject({ url: '/asyncapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const document = response.json();
    expect(document.asyncapi).toMatch(/^3\./);
    expect(document.info.version).toBe('test');
    expect(Object.keys(document.channels)).toEqual(expect.arrayContaining(Object.keys(TOPICS)));
    const spec = (await app.inject({ url: '/openapi.json' })).json();
    expect(spec.paths['/asyncapi.json'].get.security).toEqual([]);
  });
});

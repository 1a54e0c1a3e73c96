import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiServer } from '../src/index.js';
import { bareServer } from './support/bare-server.js';

interface JsonCheck {
  parseJson(
    text: string,
  ): { ok: true; value: unknown } | { ok: false; message: string; line: number; column: number };
  checkSchemaShape(schema: unknown): string | undefined;
}

describe('the playground (GET /playground/)', () => {
  let app: ApiServer;
  beforeAll(async () => {
    app = await bareServer();
  });
  afterAll(() => app.close());

  it('serves its files without an API key, with a same-origin CSP, an ETag and no OpenAPI entry', async () => {
    const redirect = await app.inject({ url: '/playground' });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('playground/');

    const page = await app.inject({ url: '/playground/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script type="module" src="app.js">');
    expect(page.body).not.toMatch(/<script>|\son\w+=|https?:\/\/(?!example\.com)/); // no inline code, no CDN

    const script = await app.inject({ url: '/playground/app.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const again = await app.inject({
      url: '/playground/app.js',
      headers: { 'if-none-match': String(script.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    expect((await app.inject({ url: '/playground/style.css' })).headers['content-type']).toBe(
      'text/css; charset=utf-8',
    );

    const spec = (await app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(spec.paths).filter((path) => path.startsWith('/playground'))).toEqual([]);
  });

  it('serves only its own files, by exact name', async () => {
    for (const url of [
      '/playground/..%2Fpackage.json',
      '/playground/..%2F..%2Fsrc%2Fserver.ts',
      '/playground/missing.js',
      '/playground/%2Fetc%2Fpasswd',
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(404);
    }
  });
});

describe('the playground schema editor checks (json-check.js)', () => {
  let check: JsonCheck;
  beforeAll(async () => {
    const path = fileURLToPath(new URL('../playground/json-check.js', import.meta.url));
    check = (await import(path)) as JsonCheck;
  });

  it('names the line and column of a JSON syntax error', () => {
    const result = check.parseJson('{\n  "type": "object",\n  "properties": }');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.line).toBe(3);
    expect(result.column).toBe(17);
    expect(result.message).toMatch(/^JSON error at line 3, column 17: /);
    const truncated = check.parseJson('{\n  "a": [1,');
    expect(truncated.ok || truncated.line).toBe(2);
  });

  it('finds structural mistakes without the API', () => {
    expect(check.checkSchemaShape({ type: 'object', properties: { a: { type: 'string' } } })).toBeUndefined();
    expect(check.checkSchemaShape(true)).toBeUndefined();
    expect(check.checkSchemaShape([])).toMatch(/^#: a schema is a JSON object/);
    expect(check.checkSchemaShape({ type: 'strin' })).toBe('#/type: "strin" is not a JSON Schema type');
    expect(check.checkSchemaShape({ required: 'a' })).toMatch(/^#\/required/);
    expect(check.checkSchemaShape({ properties: { a: { items: { type: 'integr' } } } })).toBe(
      '#/properties/a/items/type: "integr" is not a JSON Schema type',
    );
    expect(check.checkSchemaShape({ anyOf: {} })).toMatch(/^#\/anyOf: must be an array/);
  });
});

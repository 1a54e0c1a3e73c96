import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../src/providers/http-client.js';

let server: Server;
let base: string;
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/redirect') {
        res.writeHead(307, { location: '/ok' }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (fetch: typeof globalThis.fetch, options: RequestInit, path = '/ok') =>
  fetch(`${base}${path}`, { ...options, method: 'POST', body: '{"x":1}' });

describe('provider HTTP client', () => {
  it('keeps its connections alive across calls, never more than its limit', async () => {
    const http = createHttpClient({ connections: 2 });
    connections = 0;
    for (let i = 0; i < 20; i++)
      expect(await (await post(http.fetch, http.fetchOptions)).json()).toEqual({ ok: true });
    await Promise.all(
      Array.from({ length: 16 }, () => post(http.fetchWithOptions, {}).then((r) => r.text())),
    );
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(2);
    await http.close();
  });

  it('fails a redirect instead of following it (no request clone per call)', async () => {
    const http = createHttpClient();
    await expect(post(http.fetch, http.fetchOptions, '/redirect')).rejects.toThrow(TypeError);
    await expect(post(http.fetchWithOptions, {}, '/redirect')).rejects.toThrow(TypeError);
    await http.close();
  });

  it('refuses calls once closed, and closing twice is harmless', async () => {
    const http = createHttpClient();
    await post(http.fetch, http.fetchOptions);
    await http.close();
    await http.close();
    await expect(post(http.fetch, http.fetchOptions)).rejects.toThrow();
  });
});

import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../src/providers/http-client.js';

let server: Server;
let base: string;
let connections = 0;
let releaseEvents: () => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/redirect') {
        res.writeHead(307, { location: '/ok' }).end();
        return;
      }
      if (req.url === '/echo') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ method: req.method, headers: req.headers, body }));
        return;
      }
      if (req.url === '/bom') {
        // a byte order mark, then "ok" and a malformed byte: text() decodes as fetch does
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(Buffer.from([0xef, 0xbb, 0xbf, 0x6f, 0x6b, 0xff]));
        return;
      }
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync('{"compressed":true}'));
        return;
      }
      if (req.url === '/empty') {
        res.writeHead(204).end();
        return;
      }
      if (req.url === '/error') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end('{"error":{"message":"slow down"}}');
        return;
      }
      if (req.url === '/events') {
        // One event now, the rest only once the client has read the first.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"n":1}\n\n');
        releaseEvents = () => res.end('data: {"n":2}\n\ndata: [DONE]\n\n');
        return;
      }
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"partial":');
        return; // never ends: the caller's signal has to end it
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

  it('sends the method, headers and body as given and answers with a standard Response', async () => {
    const http = createHttpClient();
    const headers = new Headers({ authorization: 'Bearer sk-test', 'x-custom': 'a' });
    const response = await http.fetch(`${base}/echo`, { method: 'post', headers, body: '{"é":1}' });
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const echoed = (await response.json()) as {
      method: string;
      headers: Record<string, string>;
      body: string;
    };
    expect(echoed.method).toBe('POST');
    expect(echoed.headers.authorization).toBe('Bearer sk-test');
    expect(echoed.headers['x-custom']).toBe('a');
    expect(echoed.body).toBe('{"é":1}');
    // A plain record of headers and a byte body are taken too.
    const bytes = await http.fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'x-record': 'b' },
      body: new TextEncoder().encode('bytes'),
    });
    const echoedBytes = (await bytes.json()) as { headers: Record<string, string>; body: string };
    expect(echoedBytes.headers['x-record']).toBe('b');
    expect(echoedBytes.body).toBe('bytes');
    await http.close();
  });

  it('reads an answer already in memory as a fetch Response reads its body: once, in any form', async () => {
    const http = createHttpClient();
    const viaFetch = await fetch(`${base}/bom`, { method: 'POST', body: '{}' });
    const response = await http.fetch(`${base}/bom`, { method: 'POST', body: '{}' });
    const copy = response.clone();
    expect(response.bodyUsed).toBe(false);
    expect(await response.text()).toBe(await viaFetch.text());
    expect(await response.text().catch((error: unknown) => error)).toBeInstanceOf(TypeError);
    expect(response.bodyUsed).toBe(true);
    expect(() => response.clone()).toThrow(TypeError);
    // the clone has its own reading, and a stream when one is asked for
    const chunks: Uint8Array[] = [];
    for await (const chunk of copy.body! as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0xef, 0xbb, 0xbf, 0x6f, 0x6b, 0xff]));
    expect(copy.bodyUsed).toBe(true);
    const echo = await http.fetch(`${base}/echo`, { method: 'POST', body: 'b' });
    expect(new TextDecoder().decode(await echo.arrayBuffer())).toContain('"body":"b"');
    const blob = await (await http.fetch(`${base}/ok`, { method: 'POST', body: '{}' })).blob();
    expect([blob.type, await blob.text()]).toEqual(['application/json', '{"ok":true}']);
    await http.close();
  });

  it('decompresses a compressed answer, as fetch does', async () => {
    const http = createHttpClient();
    const response = await http.fetch(`${base}/gzip`, { method: 'POST', body: '{}' });
    expect(await response.json()).toEqual({ compressed: true });
    expect(response.headers.get('content-encoding')).toBeNull();
    await http.close();
  });

  it('keeps an error answer whole (status, headers, body) for the SDK to map', async () => {
    const http = createHttpClient();
    const response = await http.fetch(`${base}/error`, { method: 'POST', body: '{}' });
    expect(response.ok).toBe(false);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(await response.json()).toEqual({ error: { message: 'slow down' } });
    const empty = await http.fetch(`${base}/empty`, { method: 'POST', body: '{}' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    await http.close();
  });

  it('streams server-sent events as they arrive instead of waiting for the end', async () => {
    const http = createHttpClient();
    const response = await http.fetch(`${base}/events`, { method: 'POST', body: '{}' });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    // The server sends the rest only after this read: buffering the body would hang here.
    const first = await reader.read();
    expect(first.value).toBe('data: {"n":1}\n\n');
    releaseEvents();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
    expect(rest).toBe('data: {"n":2}\n\ndata: [DONE]\n\n');
    await http.close();
  });

  it("rejects with the signal's reason when aborted, before the answer or in its body", async () => {
    const http = createHttpClient();
    const before = AbortSignal.abort(new DOMException('gone', 'AbortError'));
    await expect(http.fetch(`${base}/ok`, { method: 'POST', body: '{}', signal: before })).rejects.toThrow(
      'gone',
    );
    const started = performance.now();
    const midBody = http.fetch(`${base}/stall`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(100),
    });
    await expect(midBody).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(2_000);
    await http.close();
  });

  it('fails an unreachable origin with TypeError("fetch failed") and its cause, as fetch does', async () => {
    const http = createHttpClient();
    const refused = http.fetch('http://127.0.0.1:1/v1/chat/completions', { method: 'POST', body: '{}' });
    await expect(refused).rejects.toThrow(TypeError);
    await expect(refused).rejects.toMatchObject({ message: 'fetch failed', cause: { code: 'ECONNREFUSED' } });
    await http.close();
  });

  it('sends a body only fetch can send (a stream) through fetch, on the same connections', async () => {
    const http = createHttpClient();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await http.fetch(`${base}/echo`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(((await response.json()) as { body: string }).body).toBe('streamed');
    await http.close();
  });
});

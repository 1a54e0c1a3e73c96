import { SpanKind, trace } from '@opentelemetry/api';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordSpans } from '@sps/observability/testing';
import { httpTracing } from '../src/plugins/tracing.js';

describe('httpTracing', () => {
  let recorder: ReturnType<typeof recordSpans>;
  beforeAll(() => void (recorder = recordSpans()));
  afterAll(() => recorder.stop());
  beforeEach(() => recorder.reset());

  async function app() {
    const server = Fastify();
    await server.register(httpTracing);
    // An async hook in between (as authentication is), then a route that reads a body.
    server.addHook('preHandler', async () => {
      await new Promise((resolve) => setTimeout(resolve, 2));
    });
    server.post('/v1/analyze', async (request) => {
      await new Promise((resolve) => setImmediate(resolve));
      const active = trace.getActiveSpan()?.spanContext();
      return { active, body: request.body };
    });
    server.get('/v1/boom', async () => {
      throw new Error('boom');
    });
    return server;
  }

  it('makes a SERVER span `POST /v1/analyze`, active while the route runs after the body is read', async () => {
    const server = await app();
    // Injected in pieces: the body arrives after onRequest, from the socket's callbacks.
    const response = await server.inject({
      method: 'POST',
      url: '/v1/analyze?x=1',
      headers: { 'content-type': 'application/json', 'user-agent': 'unit' },
      payload: JSON.stringify({ prompt: 'x'.repeat(100_000) }),
    });
    await server.close();
    expect(response.statusCode).toBe(200);
    const [span] = recorder.spans();
    expect(span!.name).toBe('POST /v1/analyze');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(response.json().active.spanId).toBe(span!.spanContext().spanId);
    expect(span!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/analyze',
      'url.path': '/v1/analyze',
      'url.scheme': 'http',
      'user_agent.original': 'unit',
      'http.response.status_code': 200,
    });
  });

  it('continues an incoming traceparent and marks a 500 failed', async () => {
    const server = await app();
    const response = await server.inject({
      method: 'GET',
      url: '/v1/boom',
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    await server.close();
    expect(response.statusCode).toBe(500);
    const [span] = recorder.spans();
    expect(span!.name).toBe('GET /v1/boom');
    expect(span!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span!.status.code).toBe(2);
    expect(span!.attributes['http.response.status_code']).toBe(500);
  });
});

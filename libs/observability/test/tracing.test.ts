import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { activeTraceIds, inSpan, SpanKind, startTracing, traceHeaders, tracer } from '../src/index.js';

describe('startTracing', () => {
  it('starts nothing without OTEL_EXPORTER_OTLP_ENDPOINT: the API stays a no-op', async () => {
    const handle = startTracing('test', {});
    expect(handle.enabled).toBe(false);
    // No provider registered: the global one is the API's proxy with no delegate (no-op tracer).
    const span = tracer().startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    await inSpan('work', { kind: SpanKind.INTERNAL }, async () => {
      expect(traceHeaders()).toEqual({});
      expect(activeTraceIds()).toEqual({});
    });
    await handle.shutdown();
  });

  it('with an endpoint, exports spans as OTLP/HTTP JSON and propagates W3C traceparent', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const bodies: { contentType: string | undefined; body: any }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces')
          bodies.push({ contentType: req.headers['content-type'], body: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    const handle = startTracing('unit', {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    try {
      expect(handle.enabled).toBe(true);
      expect(startTracing('again', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://elsewhere' })).toBe(handle);
      let ids: ReturnType<typeof activeTraceIds> = {};
      let headers: Record<string, string> = {};
      await inSpan('work', { kind: SpanKind.CONSUMER, attributes: { answer: 42 } }, async () => {
        ids = activeTraceIds();
        headers = traceHeaders();
      });
      expect(ids.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(headers.traceparent).toBe(`00-${ids.trace_id}-${ids.span_id}-01`);
      await expect(
        inSpan('fails', { kind: SpanKind.INTERNAL }, async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
    } finally {
      await handle.shutdown(); // flushes
      receiver.close();
    }
    expect(bodies.map((b) => b.contentType)).toContain('application/json');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const resourceSpans: any[] = bodies.flatMap((b) => b.body.resourceSpans);
    const service = resourceSpans[0].resource.attributes.find(
      (a: { key: string }) => a.key === 'service.name',
    );
    expect(service.value.stringValue).toBe('sps-unit');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const spans: any[] = resourceSpans.flatMap((r) => r.scopeSpans).flatMap((s) => s.spans);
    expect(spans.map((s: { name: string }) => s.name)).toEqual(['work', 'fails']);
    expect(spans[0]).toMatchObject({ kind: 5, attributes: [{ key: 'answer', value: { intValue: 42 } }] });
    expect(spans[1].status).toMatchObject({ code: 2, message: 'boom' });
    // Shut down: the API is a no-op again.
    expect(tracer().startSpan('after').isRecording()).toBe(false);
  });
});

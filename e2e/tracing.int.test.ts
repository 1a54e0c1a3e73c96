import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workKey, type PromptRequestMessage } from '@sps/contracts';
import { createProducer } from '@sps/kafka';
import { freePort } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';

// OTLP span kinds as numbers on the wire.
const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  status: { code?: number };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

const attributesOf = (list: { key: string; value: OtlpValue }[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/** A real OTLP/HTTP (JSON) trace receiver: POST /v1/traces, every span kept. */
class OtlpReceiver {
  readonly spans: CollectedSpan[] = [];
  readonly contentTypes = new Set<string>();
  private server: Server | undefined;

  async start(port: number): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
        this.contentTypes.add(String(req.headers['content-type']));
        try {
          this.collect(JSON.parse(body));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  }

  stop = () => new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));

  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private collect(payload: any): void {
    for (const resourceSpans of payload.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scopeSpans of resourceSpans.scopeSpans ?? [])
        for (const span of scopeSpans.spans ?? [])
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId || undefined,
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            links: (span.links ?? []).map((link: { traceId: string; spanId: string }) => ({
              traceId: link.traceId,
              spanId: link.spanId,
            })),
            status: span.status ?? {},
          });
    }
  }
}

/** A webhook receiver answering 200, keeping each delivery's headers. */
class WebhookReceiver {
  readonly received: IncomingMessage['headers'][] = [];
  private server: Server | undefined;
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.received.push(req.headers);
        res.writeHead(200).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  }
  stop = () => new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
}

/** The one span of the list matching, or a failure naming what was there. */
function one(spans: CollectedSpan[], match: Partial<CollectedSpan>, what: string): CollectedSpan {
  const found = spans.filter((span) =>
    Object.entries(match).every(([key, value]) => span[key as keyof CollectedSpan] === value),
  );
  expect(
    found,
    `${what}: ${JSON.stringify(spans.map((s) => [s.service, s.kind, s.name, s.spanId, s.parentSpanId]))}`,
  ).toHaveLength(1);
  return found[0]!;
}

describe('tracing: one trace from HTTP (or Kafka) to the sink and the webhook', () => {
  let pipeline: Pipeline;
  const otlp = new OtlpReceiver();
  const webhooks = new WebhookReceiver();

  beforeAll(async () => {
    const port = await freePort();
    await otlp.start(port);
    pipeline = await startPipeline({
      apps: ['sink', 'processor', 'ingest-api', 'webhook-dispatcher'],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_GENAI_CAPTURE_CONTENT: 'true',
        WEBHOOK_ALLOWLIST: '127.0.0.1',
      },
    });
  });

  afterAll(async () => {
    await pipeline?.stop();
    await webhooks.stop();
    await otlp.stop();
  });

  const service = (name: string) => `sps-${name}`;

  /** The spans a request path leaves in the processor and the sink, checked link by link. */
  function expectProcessingAndSink(spans: CollectedSpan[], requestProducer: { spanId: string }) {
    const { topics, prefix } = pipeline;
    const consume = one(
      spans,
      { service: service('processor'), kind: KIND.CONSUMER, name: `process ${topics.requests}` },
      'the processor consume span',
    );
    expect(consume.parentSpanId).toBe(requestProducer.spanId);
    expect(consume.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': topics.requests,
      'messaging.operation.type': 'process',
      'messaging.consumer.group.name': `${prefix}processor`,
    });

    const attempts = spans.filter((s) => s.service === service('processor') && s.kind === KIND.CLIENT);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    for (const attempt of attempts) {
      expect(attempt.name).toBe('chat gpt-4o-mini');
      expect(attempt.parentSpanId).toBe(consume.spanId);
      expect(attempt.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.output.type': 'json',
        'gen_ai.usage.input_tokens': expect.any(Number),
        'gen_ai.usage.output_tokens': expect.any(Number),
      });
      expect(attempt.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    }

    const resultProduce = one(
      spans,
      { service: service('processor'), kind: KIND.PRODUCER, name: `send ${topics.results}` },
      'the result produce span',
    );
    expect(resultProduce.parentSpanId).toBe(consume.spanId);
    expect(resultProduce.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': topics.results,
      'messaging.operation.type': 'send',
    });

    const sinkConsume = one(
      spans,
      { service: service('sink'), kind: KIND.CONSUMER, name: `process ${topics.results}` },
      'the sink consume span',
    );
    expect(sinkConsume.parentSpanId).toBe(resultProduce.spanId);
    const insert = one(
      spans,
      { service: service('sink'), kind: KIND.INTERNAL, name: 'sink insert' },
      'the sink insert span',
    );
    expect(insert.parentSpanId).toBe(sinkConsume.spanId);
    expect(insert.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.collection.name': 'request_logs',
      'messaging.batch.message_count': 1,
    });
    expect(insert.links).toContainEqual({ traceId: resultProduce.traceId, spanId: resultProduce.spanId });
    return { consume, attempts };
  }

  it('(a) a synchronous POST /v1/analyze: server → produce → consume → gen_ai → result → sink', async () => {
    const email = `jane.doe.${Date.now()}@example.com`;
    const response = await fetch(`${pipeline.baseUrl}/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline.apiKey}` },
      body: JSON.stringify({ prompt: `Invoice #${Date.now()} for $10, questions to ${email}` }),
    });
    expect(response.status).toBe(200);
    await json(response);

    const server = await waitUntil(
      async () => otlp.spans.find((s) => s.kind === KIND.SERVER && s.name === 'POST /v1/analyze'),
      30_000,
      'the server span',
    );
    const spans = await waitUntil(
      async () => {
        const trace = otlp.trace(server.traceId);
        return trace.some((s) => s.name === 'sink insert') ? trace : undefined;
      },
      30_000,
      'the sink insert span in the request trace',
    );
    expect(otlp.contentTypes).toEqual(new Set(['application/json']));

    expect(server.service).toBe(service('ingest-api'));
    expect(server.parentSpanId).toBeUndefined();
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/analyze',
      'url.path': '/v1/analyze',
      'http.response.status_code': 200,
    });
    const produce = one(
      spans,
      { service: service('ingest-api'), kind: KIND.PRODUCER, name: `send ${pipeline.topics.requests}` },
      'the request produce span',
    );
    expect(produce.parentSpanId).toBe(server.spanId);
    expect(produce.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': pipeline.topics.requests,
      'messaging.operation.type': 'send',
    });
    const { attempts } = expectProcessingAndSink(spans, produce);

    // Content was opted in: recorded, after PII redaction.
    const input = String(attempts[0]!.attributes['gen_ai.input.messages']);
    expect(input).toContain('[EMAIL_1]');
    expect(input).not.toContain(email);
    expect(String(attempts[0]!.attributes['gen_ai.output.messages'])).toContain('assistant');
  });

  it('(b) a Kafka-native request with a traceparent joins the trace of the producer that made it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const request: PromptRequestMessage = {
      request_id: randomUUID(),
      tenant_id: pipeline.tenantId,
      prompt: `Order ${Date.now()}: 3 apples, mail ops@example.com`,
      options: { redact_pii: true },
    };
    const producer = createProducer(pipeline.kafka);
    await producer.connect();
    try {
      await producer.send({
        topic: pipeline.topics.requests,
        acks: -1,
        messages: [
          {
            key: workKey(request),
            value: JSON.stringify(request),
            headers: { traceparent: `00-${traceId}-${parentId}-01` },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    const spans = await waitUntil(
      async () => {
        const trace = otlp.trace(traceId);
        return trace.some((s) => s.name === 'sink insert') ? trace : undefined;
      },
      30_000,
      'the sink insert span in the test trace',
    );
    expectProcessingAndSink(spans, { spanId: parentId });
    // Log lines inside the trace carry its ids (the processor logs the PII it redacted).
    const logged = await waitUntil(
      async () =>
        pipeline.services
          .processor!.output()
          .split('\n')
          .find((line) => line.includes('pii redacted') && line.includes(request.request_id)),
      10_000,
      'the pii log line',
    );
    expect(JSON.parse(logged)).toMatchObject({
      trace_id: traceId,
      span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
  });

  it('(c) a job: its webhook delivery is in the trace of the POST /v1/jobs that created it', async () => {
    const url = await webhooks.start();
    const response = await fetch(`${pipeline.baseUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pipeline.apiKey}` },
      body: JSON.stringify({
        job_type: 'batch',
        request_params: { prompts: [`Item A ${Date.now()}`, `Item B ${Date.now()}`] },
        webhook_url: `${url}?token=secret-${Date.now()}`,
      }),
    });
    const accepted = await json(response);
    expect(response.status, JSON.stringify(accepted)).toBe(202);

    const server = await waitUntil(
      async () => otlp.spans.find((s) => s.kind === KIND.SERVER && s.name === 'POST /v1/jobs'),
      30_000,
      'the server span of the job',
    );
    const { topics } = pipeline;
    const spans = await waitUntil(
      async () => {
        const trace = otlp.trace(server.traceId);
        return trace.some((s) => s.service === service('webhook-dispatcher') && s.kind === KIND.CLIENT)
          ? trace
          : undefined;
      },
      60_000,
      'the webhook delivery span in the job trace',
    );
    expect(server.attributes).toMatchObject({ 'http.route': '/v1/jobs', 'http.response.status_code': 202 });

    // Each item: produced under the POST, consumed, answered and its result produced, in this trace.
    const items = spans.filter(
      (s) =>
        s.service === service('ingest-api') &&
        s.kind === KIND.PRODUCER &&
        s.name === `send ${topics.requests}`,
    );
    expect(items).toHaveLength(2);
    for (const item of items) expect(item.parentSpanId).toBe(server.spanId);
    const results = spans.filter(
      (s) =>
        s.service === service('processor') && s.kind === KIND.PRODUCER && s.name === `send ${topics.results}`,
    );
    expect(results).toHaveLength(2);
    expect(
      spans.filter((s) => s.service === service('processor') && s.kind === KIND.CLIENT).length,
    ).toBeGreaterThanOrEqual(2);

    // The job event is produced in the context of the job's last result.
    const event = one(
      spans,
      { service: service('sink'), kind: KIND.PRODUCER, name: `send ${topics.jobEvents}` },
      'the job event produce span',
    );
    expect(results.map((r) => r.spanId)).toContain(event.parentSpanId);
    const consume = one(
      spans,
      { service: service('webhook-dispatcher'), kind: KIND.CONSUMER, name: `process ${topics.jobEvents}` },
      'the job event consume span',
    );
    expect(consume.parentSpanId).toBe(event.spanId);
    const delivery = one(
      spans,
      { service: service('webhook-dispatcher'), kind: KIND.CLIENT, name: 'POST' },
      'the webhook delivery span',
    );
    expect(delivery.parentSpanId).toBe(consume.spanId);
    const { port } = new URL(url);
    expect(delivery.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.full': url, // without the query, which may hold a secret
      'server.address': '127.0.0.1',
      'server.port': Number(port),
      'http.response.status_code': 200,
      'sps.webhook.attempt': 1,
      'sps.webhook.outcome': 'delivered',
    });
    // The receiver was told the trace too.
    expect(webhooks.received.at(-1)?.traceparent).toMatch(
      new RegExp(`^00-${server.traceId}-${delivery.spanId}-0[01]$`),
    );
  });
});

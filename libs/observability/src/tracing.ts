import {
  INVALID_SPAN_CONTEXT,
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export { SpanKind, SpanStatusCode, type Attributes, type Context, type Link, type Span };

/** What startTracing returns: flush and stop on shutdown (a no-op when tracing is off). */
export interface TracingHandle {
  /** True when an SDK was started (OTEL_EXPORTER_OTLP_ENDPOINT set). */
  readonly enabled: boolean;
  /** Exports what is buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

const DISABLED: TracingHandle = { enabled: false, shutdown: async () => undefined };
let started: TracingHandle | undefined;
let recording = false;

/**
 * True while a tracer provider records spans (startTracing, or a test's recorder). The hot path
 * (every produced record, consumed record and HTTP request) asks this first and does no tracing
 * work at all when it is false, rather than building attributes for no-op spans.
 */
export function tracingEnabled(): boolean {
  return recording;
}

/** For libs/observability/testing: a test's in-memory recorder counts as tracing being on. */
export function setTracingRecording(on: boolean): void {
  recording = on;
}

/**
 * The OpenTelemetry SDK for one app process, on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: spans go in batches (every
 * `OTEL_BSP_SCHEDULE_DELAY` ms, default 1000) as OTLP/HTTP JSON to `<endpoint>/v1/traces`, and
 * context travels as W3C `traceparent`. Unset, nothing is started and the API stays a no-op.
 * Called once per process (a second call returns the first handle).
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): TracingHandle {
  if (started) return started;
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
    (env.OTEL_EXPORTER_OTLP_ENDPOINT && `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!url) return DISABLED;
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(
      resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || `sps-${serviceName}` }),
    ),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url }), {
        scheduledDelayMillis: Number.isFinite(delay) && delay > 0 ? delay : 1_000,
      }),
    ],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  recording = true;
  const handle: TracingHandle = {
    enabled: true,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
      started = undefined;
      recording = false;
    },
  };
  started = handle;
  return handle;
}

/** The service's tracer (the global one: a no-op until startTracing registers a provider). */
/** What `work` gets when nothing records: a span whose calls do nothing. */
export const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function tracer(): Tracer {
  return trace.getTracer('sps');
}

/** The W3C headers (`traceparent`) of a context, for a Kafka record or an HTTP call. */
export function traceHeaders(active: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier;
}

/** The context a record's headers carry (the active one when they carry none). */
export function contextFromHeaders(
  headers: Record<string, string | undefined>,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, headers);
}

/** True when the context holds a valid span (sampled or not). */
export function hasSpan(active: Context): boolean {
  const span = trace.getSpan(active);
  return span !== undefined && trace.isSpanContextValid(span.spanContext());
}

/** A link to the span a context holds, if any. */
export function linkTo(active: Context, attributes?: Attributes): Link | undefined {
  const span = trace.getSpan(active);
  if (!span || !trace.isSpanContextValid(span.spanContext())) return undefined;
  return { context: span.spanContext(), ...(attributes ? { attributes } : {}) };
}

/** Marks a span failed with the error, without ending it. */
export function recordFailure(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `work` inside a new span (active while it runs), ended when it settles; a thrown error
 * marks the span failed and is rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; links?: Link[]; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!recording) return work(NO_SPAN);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    recordFailure(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The active span's ids, for log lines (empty when there is none). */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return {};
  return { trace_id: traceId, span_id: spanId };
}

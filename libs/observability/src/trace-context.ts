import { context, propagation, type Context } from '@opentelemetry/api';

/**
 * W3C trace context carried through Kafka headers. Without a registered propagator (no SDK
 * configured) these are no-ops, and incoming `traceparent` headers are passed through unchanged.
 */
export function traceHeaders(active: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier;
}

export function contextFromHeaders(headers: Record<string, string | undefined>): Context {
  return propagation.extract(context.active(), headers);
}

import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { setTracingRecording } from './tracing.js';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';

export type { ReadableSpan };

/**
 * For unit tests: a tracer provider that keeps every ended span in memory, registered globally
 * with the W3C propagator (as startTracing registers its own). `stop` unregisters it.
 */
export function recordSpans(): {
  spans(): ReadableSpan[];
  reset(): void;
  stop(): Promise<void>;
} {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  setTracingRecording(true);
  return {
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
      setTracingRecording(false);
    },
  };
}

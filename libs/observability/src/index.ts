export { createLogger, type Logger } from './logger.js';
export { createMetricsRegistry, type Registry } from './metrics.js';
export { startMetricsServer, type HealthEndpoints, type HealthReport } from './metrics-server.js';
export {
  activeTraceIds,
  contextFromHeaders,
  hasSpan,
  inSpan,
  linkTo,
  recordFailure,
  startTracing,
  traceHeaders,
  tracer,
  tracingEnabled,
  NO_SPAN,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TracingHandle,
} from './tracing.js';

export { createLogger, type Logger } from './logger.js';
export { createMetricsRegistry, type Registry } from './metrics.js';
export { startMetricsServer, type HealthEndpoints, type HealthReport } from './metrics-server.js';
export { traceHeaders, contextFromHeaders } from './trace-context.js';

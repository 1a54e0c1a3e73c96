import { pino, type Logger } from 'pino';
import { activeTraceIds } from './tracing.js';

export type { Logger };

// Anything that may carry a secret is removed before a log line is written.
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.apiKey',
  '*.api_key',
  '*.secret',
  '*.signing_secret',
  '*.password',
  'config.DATABASE_URL',
  'config.*_API_KEY',
];

export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({
    name: options.service,
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // The active span's trace_id and span_id, so that a line can be found from its trace.
    mixin: activeTraceIds,
  });
}

// The work the product requires of every answer, done the cheapest way: what the skeleton+work
// floor (floor-skeleton-worker.ts, SKELETON_REQUIRED_WORK) and bench/processor-cost.ts's
// required_work case both do beside the language detection (a LanguageDetector of their own) and
// the cache SET. One definition, so that the two floors cannot drift apart.
import { createHash } from 'node:crypto';
import { Ajv, type ValidateFunction } from 'ajv';
import { Counter, Histogram, Registry } from 'prom-client';

export interface WorkRequest {
  prompt: string;
  schema?: unknown;
}

/** `schemaOf`: the schema an answer to `request` is checked against (what the provider was asked for). */
export function requiredWork(schemaOf: (request: WorkRequest) => object) {
  const ajv = new Ajv({ allErrors: true });
  // Looked up by the request's own schema text, as a service receiving schemas must.
  const validators = new Map<string, ValidateFunction>();
  const registry = new Registry();
  const requests = new Counter({
    name: 'requests',
    help: 'requests answered',
    labelNames: ['status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'duration',
    help: 'seconds a request took',
    labelNames: ['status'],
    registers: [registry],
  });
  return {
    validatorFor(request: WorkRequest): ValidateFunction {
      const text = JSON.stringify(request.schema);
      let validate = validators.get(text);
      if (!validate) validators.set(text, (validate = ajv.compile(schemaOf(request))));
      return validate;
    },
    /** The cache key: a SHA-256 of what changes the answer. */
    workKey: (request: WorkRequest) =>
      createHash('sha256')
        .update(JSON.stringify([request.prompt, request.schema]))
        .digest('hex'),
    /** The two per-request metrics. */
    count(started: number) {
      requests.inc({ status: 'succeeded' });
      duration.observe({ status: 'succeeded' }, (performance.now() - started) / 1000);
    },
  };
}

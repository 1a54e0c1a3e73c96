import { createHash } from 'node:crypto';
import type { PromptRequestMessage } from './prompt-request.js';

/**
 * JSON with object keys sorted, so equal values hash equally whatever their key order. Built as one
 * string without intermediate arrays: it runs on every request (the work key), schema included.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `<` does.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(item);
    first = false;
  }
  return out + '}';
}

export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * The identity of a request's work: everything that changes the answer, nothing that doesn't
 * (ids, timestamps, cache options). It is the cache key and the Kafka key of the request, so
 * identical work meets on one partition. Tenants never share answers: the tenant is part of it.
 */
export function workKey(
  request: Pick<PromptRequestMessage, 'tenant_id' | 'prompt' | 'format' | 'schema' | 'options'>,
): string {
  const options = request.options ?? {};
  return contentHash({
    tenant: request.tenant_id,
    prompt: request.prompt,
    format: request.format ?? 'json',
    schema: request.schema ?? null,
    provider: options.provider ?? null,
    model: options.model ?? null,
    routing: options.routing ?? null,
    temperature: options.temperature ?? null,
    max_tokens: options.max_tokens ?? null,
    redact_pii: options.redact_pii ?? false,
    restore_pii: options.restore_pii ?? false,
    // It decides `original_language` (detected from the prompt, or the model's own guess).
    language_detection: options.language_detection ?? true,
  });
}

/**
 * A UUID named by `name`: the first 128 bits of SHA-256(name), with the version (8, "custom",
 * RFC 9562) and variant (10xx) bits set. The same name always gives the same id, so something
 * published again keeps its identity and whoever stores it keyed on that id stores it once.
 */
export function nameBasedUuid(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The request id of item `index` of a job: derived from the job, so publishing an item again (a
 * resubmission, or the resumer after a crash) never makes a second row; the sink keys rows on it.
 */
export function jobItemRequestId(jobId: string, index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`item index ${index} is not an index`);
  return nameBasedUuid(`${jobId.toLowerCase()}:${index}`);
}

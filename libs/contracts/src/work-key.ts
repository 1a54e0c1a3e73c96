import { createHash, hash } from 'node:crypto';
import type { PromptRequestMessage } from './prompt-request.js';

/** Strings JSON.stringify would escape: quotes, backslashes, controls, surrogates (lone ones get \u escapes). */
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON: most keys and prompts need no escaping, and skip JSON.stringify's set-up. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * JSON with object keys sorted, so equal values hash equally whatever their key order. Built as one
 * string without intermediate arrays: it runs on every request (the work key), schema included.
 * Same text as JSON.stringify for what JSON.parse gives, keys aside.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'; // as JSON.stringify writes numbers
    case 'object':
      break;
    default:
      return JSON.stringify(value) ?? 'null';
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `<` does.
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = record[key];
    if (item === undefined) continue;
    out += (first ? '' : ',') + quote(key) + ':' + canonicalJson(item);
    first = false;
  }
  return out + '}';
}

/** SHA-256 (hex) of a text, one-shot: no Hash object per call (Node ≥ 20.12). */
function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** `"name":value` for the canonical JSON of an object, or nothing for an undefined member (as canonicalJson). */
function member(name: string, value: unknown): string {
  return value === undefined ? '' : `,"${name}":${canonicalJson(value)}`;
}

/**
 * The identity of a request's work: everything that changes the answer, nothing that doesn't
 * (ids, timestamps, cache options). It is the cache key and the Kafka key of the request, so
 * identical work meets on one partition. Tenants never share answers: the tenant is part of it.
 *
 * It is `contentHash` of the object
 * `{ tenant, prompt, format, schema, provider, model, routing, temperature, max_tokens, redact_pii,
 * restore_pii, language_detection }` (the defaults below filled in; `language_detection` decides
 * `original_language`: detected from the prompt, or the model's own guess), whose canonical JSON is
 * written here member by member in sorted key order: no object to build and sort per request.
 */
export function workKey(
  request: Pick<PromptRequestMessage, 'tenant_id' | 'prompt' | 'format' | 'schema' | 'options'>,
): string {
  const options = request.options ?? {};
  const members =
    member('format', request.format ?? 'json') +
    member('language_detection', options.language_detection ?? true) +
    member('max_tokens', options.max_tokens ?? null) +
    member('model', options.model ?? null) +
    member('prompt', request.prompt) +
    member('provider', options.provider ?? null) +
    member('redact_pii', options.redact_pii ?? false) +
    member('restore_pii', options.restore_pii ?? false) +
    member('routing', options.routing ?? null) +
    member('schema', request.schema ?? null) +
    member('temperature', options.temperature ?? null) +
    member('tenant', request.tenant_id);
  return sha256Hex(`{${members.slice(1)}}`);
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

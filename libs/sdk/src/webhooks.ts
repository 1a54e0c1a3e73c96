import { createHmac, timingSafeEqual } from 'node:crypto';

/** What the webhook-dispatcher sends: a job's outcome (Standard Webhooks, signed with the tenant key's secret). */
export interface JobWebhookEvent {
  type: 'job.completed' | 'job.failed' | 'job.cancelled' | 'job.expired';
  /** When the job ended (ISO 8601). */
  timestamp: string;
  data: {
    event_id: string;
    type: JobWebhookEvent['type'];
    job_id: string;
    tenant_id: string;
    status: 'completed' | 'failed' | 'cancelled' | 'expired';
    webhook_url?: string;
    summary: { total: number; successful: number; failed: number };
    occurred_at: string;
  };
}

/** Why a delivery was refused: it must not be trusted. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/** Node's IncomingHttpHeaders, a fetch Headers, or a plain record. */
export type WebhookHeaders =
  Headers | Record<string, string | string[] | undefined> | { get(name: string): string | null };

export interface VerifyWebhookOptions {
  /** How far the webhook-timestamp may be from now, either way (default 300 s, as Standard Webhooks). */
  toleranceSeconds?: number;
  /** The clock, for tests. */
  now?: () => Date;
}

const PREFIX = 'whsec_';

/**
 * Checks a webhook delivery exactly as libs/webhooks signs it (Standard Webhooks): `webhook-signature`
 * holds space-separated `v1,<base64 HMAC-SHA256>` of `${webhook-id}.${webhook-timestamp}.${body}` keyed
 * by the base64 secret (a `whsec_` prefix allowed); the timestamp must be within the tolerance; the
 * comparison is constant-time. Pass the body exactly as received (raw text or bytes, not re-serialised
 * JSON). Returns the parsed event; throws WebhookVerificationError otherwise.
 */
export function verifyWebhook(
  headers: WebhookHeaders,
  body: string | Uint8Array,
  secret: string,
  options: VerifyWebhookOptions = {},
): JobWebhookEvent {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('missing webhook-* headers');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a number');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  const at = Number(timestamp);
  if (now - at > tolerance) throw new WebhookVerificationError('webhook-timestamp is too old');
  if (at - now > tolerance) throw new WebhookVerificationError('webhook-timestamp is in the future');

  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('the signing secret is empty');
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${text}`).digest();
  const matches = signatures.split(' ').some((versioned) => {
    const [version, signature] = versioned.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no matching signature');
  try {
    return JSON.parse(text) as JobWebhookEvent;
  } catch {
    throw new WebhookVerificationError('the signed body is not JSON');
  }
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value.join(' ') : value;
}

import type { JobEventMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import {
  inSpan,
  SpanKind,
  SpanStatusCode,
  traceHeaders,
  type Attributes,
  type Span,
} from '@sps/observability';
import { fetch } from 'undici';
import { createPinnedAgent, TargetRefusedError, targetErrorOf } from './pinned-agent.js';
import { signPayload } from './sign.js';
import { checkWebhookTarget, type HostLookup } from './target-check.js';

export interface DeliveryDeps {
  db: Database;
  timeoutMs: number;
  allowlist: string[];
  /** Resolves the target's host, for the check and for the connection (default: the system resolver). */
  lookup?: HostLookup;
}

export type DeliveryOutcome =
  | { kind: 'delivered' }
  /** Already delivered under this event id (a duplicate event): nothing was sent. */
  | { kind: 'duplicate' }
  /** Worth another try later. */
  | { kind: 'failed'; error: string }
  /** Never worth another try (a private target, no signing secret). */
  | { kind: 'refused'; error: string };

/**
 * One signed delivery attempt of a job outcome (Standard Webhooks, with the key's secret),
 * recorded in webhook_deliveries whatever its outcome. A plain function of the event and the
 * attempt number: the dispatcher decides about retries.
 *
 * The target is checked before signing, and the connection itself goes through a lookup that
 * checks the addresses it connects to (pinned-agent.ts): a name that resolves to a public address
 * for the check and to a private one for the connection (DNS rebinding) is refused without a byte
 * sent. A refused target is recorded without a status code, so the attempts shown to the caller
 * say nothing about what listens at a private address.
 */
export async function deliver(
  deps: DeliveryDeps,
  event: JobEventMessage,
  attempt: number,
): Promise<DeliveryOutcome> {
  // A CLIENT span per attempt (child of the job event's consume span: the job's trace).
  return inSpan(
    'POST',
    {
      kind: SpanKind.CLIENT,
      attributes: { ...urlAttributes(event.webhook_url!), ...eventAttributes(event, attempt) },
    },
    async (span) => {
      const outcome = await attemptDelivery(deps, event, attempt, span);
      span.setAttribute('sps.webhook.outcome', outcome.kind);
      if (outcome.kind === 'failed' || outcome.kind === 'refused')
        span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
      return outcome;
    },
  );
}

async function attemptDelivery(
  deps: DeliveryDeps,
  event: JobEventMessage,
  attempt: number,
  span: Span,
): Promise<DeliveryOutcome> {
  const { db } = deps;
  const url = event.webhook_url!;
  if (await alreadyDelivered(db, event.event_id)) return { kind: 'duplicate' };
  const started = performance.now();
  const record = async (fields: {
    status_code: number | null;
    outcome: 'delivered' | 'failed' | 'refused';
    error: string | null;
  }) =>
    db
      .insertInto('webhook_deliveries')
      .values({
        tenant_id: event.tenant_id,
        job_id: event.job_id,
        event_id: event.event_id,
        attempt,
        url,
        latency_ms: Math.round(performance.now() - started),
        ...fields,
      })
      .onConflict((oc) => oc.columns(['event_id', 'attempt']).doNothing())
      .execute();

  const target = await checkWebhookTarget(url, deps.allowlist, deps.lookup);
  if (!target.ok) {
    const error = `target ${target.reason}`;
    await record({ status_code: null, outcome: target.transient ? 'failed' : 'refused', error });
    return target.transient ? { kind: 'failed', error } : { kind: 'refused', error };
  }
  const secret = await signingSecret(db, event);
  if (!secret) {
    await record({ status_code: null, outcome: 'refused', error: 'no signing secret for the job' });
    return { kind: 'refused', error: 'no signing secret' };
  }
  const payload = JSON.stringify({ type: event.type, timestamp: event.occurred_at, data: event });
  // A dispatcher of this attempt's own: every attempt connects afresh, through the checking lookup.
  const dispatcher = createPinnedAgent({
    lookup: deps.lookup,
    trustedHosts: target.allowlisted ? [target.hostname] : [],
    connectTimeoutMs: deps.timeoutMs,
  });
  try {
    const response = await fetch(url, {
      method: 'POST',
      dispatcher,
      redirect: 'manual', // a redirect could point anywhere, private ranges included
      signal: AbortSignal.timeout(deps.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'sps-webhooks/1',
        ...traceHeaders(),
        ...signPayload(secret, event.event_id, payload),
      },
      body: payload,
    });
    await response.body?.cancel();
    span.setAttribute('http.response.status_code', response.status);
    const delivered = response.status >= 200 && response.status < 300;
    await record({
      status_code: response.status,
      outcome: delivered ? 'delivered' : 'failed',
      error: delivered ? null : `HTTP ${response.status}`,
    });
    return delivered ? { kind: 'delivered' } : { kind: 'failed', error: `HTTP ${response.status}` };
  } catch (failure) {
    const targetError = targetErrorOf(failure);
    if (targetError instanceof TargetRefusedError) {
      const error = `target ${targetError.message}`;
      await record({ status_code: null, outcome: 'refused', error });
      return { kind: 'refused', error };
    }
    const error = targetError
      ? `target ${targetError.message}`
      : (failure as Error).name === 'TimeoutError'
        ? `timed out after ${deps.timeoutMs} ms`
        : (failure as Error).message;
    await record({ status_code: null, outcome: 'failed', error });
    return { kind: 'failed', error };
  } finally {
    dispatcher.destroy().catch(() => undefined);
  }
}

/** url.full without query, fragment or credentials (they may hold secrets), and the server. */
function urlAttributes(url: string): Attributes {
  try {
    const parsed = new URL(url);
    const full = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    return {
      'http.request.method': 'POST',
      'url.full': full,
      'url.scheme': parsed.protocol.replace(':', ''),
      'server.address': parsed.hostname,
      'server.port': port,
    };
  } catch {
    return { 'http.request.method': 'POST' };
  }
}

function eventAttributes(event: JobEventMessage, attempt: number): Attributes {
  return {
    'http.request.resend_count': attempt - 1,
    'sps.webhook.attempt': attempt,
    'sps.webhook.event_type': event.type,
    'sps.job_id': event.job_id,
  };
}

async function alreadyDelivered(db: Database, eventId: string): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('attempt')
    .where('event_id', '=', eventId)
    .where('outcome', '=', 'delivered')
    .executeTakeFirst();
  return row !== undefined;
}

async function signingSecret(db: Database, event: JobEventMessage): Promise<string | undefined> {
  const row = await db
    .selectFrom('jobs')
    .innerJoin('api_keys', 'api_keys.id', 'jobs.api_key_id')
    .select('api_keys.webhook_secret')
    .where('jobs.id', '=', event.job_id)
    .where('jobs.tenant_id', '=', event.tenant_id)
    .executeTakeFirst();
  return row?.webhook_secret ?? undefined;
}

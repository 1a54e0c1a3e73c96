import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { scriptedDatabase } from '@sps/testing';
import { Webhook } from 'standardwebhooks';
import type { JobEventMessage } from '@sps/contracts';
import type { Database, DatabaseSchema } from '@sps/db';
import { deliver, type DeliveryDeps } from '../src/deliver.js';

/**
 * The queries deliver() makes, answered from a script instead of Postgres: the real query builder
 * and Postgres compiler, a driver that records each compiled query and returns scripted rows.
 */
class ScriptedDatabase {
  readonly queries: { sql: string; parameters: readonly unknown[] }[] = [];
  deliveredBefore = false;
  secret: string | undefined;
  readonly db: Database;

  constructor() {
    const scripted = scriptedDatabase<DatabaseSchema>((query) => {
      this.queries.push({ sql: query.sql, parameters: query.parameters });
      return this.rowsFor(query.sql);
    });
    this.db = scripted.db;
  }

  private rowsFor(sql: string): unknown[] {
    if (sql.startsWith('select "attempt" from "webhook_deliveries"'))
      return this.deliveredBefore ? [{ attempt: 1 }] : [];
    if (sql.includes('"api_keys"."webhook_secret"'))
      return this.secret === undefined ? [] : [{ webhook_secret: this.secret }];
    if (sql.startsWith('insert into "webhook_deliveries"')) return [];
    throw new Error(`unexpected query: ${sql}`);
  }

  /** The rows inserted into webhook_deliveries, column by column. */
  inserted(): Record<string, unknown>[] {
    return this.queries
      .filter((q) => q.sql.startsWith('insert into "webhook_deliveries"'))
      .map((q) => {
        const columns = /^insert into "webhook_deliveries" \(([^)]*)\)/.exec(q.sql)![1]!.split(', ');
        return Object.fromEntries(columns.map((c, i) => [c.replaceAll('"', ''), q.parameters[i]]));
      });
  }

  queried(table: 'webhook_deliveries' | 'api_keys') {
    return this.queries.filter((q) => q.sql.startsWith('select') && q.sql.includes(`"${table}"`));
  }
}

/** A receiver answering each delivery as the test says. */
interface Received {
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}
let server: Server;
let baseUrl: string;
const received: Received[] = [];
let respond: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString() });
      respond(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
let scripted: ScriptedDatabase;
let deps: DeliveryDeps;

beforeEach(() => {
  received.length = 0;
  respond = (res) => res.writeHead(204).end();
  scripted = new ScriptedDatabase();
  scripted.secret = SECRET;
  deps = { db: scripted.db, timeoutMs: 2_000, allowlist: ['127.0.0.1'] };
});

function jobEvent(overrides: Partial<JobEventMessage> = {}): JobEventMessage {
  return {
    event_id: randomUUID(),
    type: 'job.completed',
    job_id: randomUUID(),
    tenant_id: 'acme',
    status: 'completed',
    webhook_url: `${baseUrl}/hooks/sps`,
    summary: { total: 2, successful: 2, failed: 0 },
    occurred_at: '2025-01-02T03:04:05.000Z',
    ...overrides,
  };
}

describe('deliver', () => {
  it('posts the signed event once and records the delivered attempt', async () => {
    const event = jobEvent();
    const sentAt = Math.floor(Date.now() / 1000);
    expect(await deliver(deps, event, 2)).toEqual({ kind: 'delivered' });

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['user-agent']).toBe('sps-webhooks/1');
    expect(request!.headers['webhook-id']).toBe(event.event_id);
    expect(Math.abs(Number(request!.headers['webhook-timestamp']) - sentAt)).toBeLessThanOrEqual(2);
    expect(JSON.parse(request!.body)).toEqual({
      type: event.type,
      timestamp: event.occurred_at,
      data: event,
    });
    const signed = request!.headers as Record<string, string>;
    expect(new Webhook(SECRET).verify(request!.body, signed)).toEqual(JSON.parse(request!.body));
    const otherSecret = `whsec_${randomBytes(24).toString('base64')}`;
    expect(() => new Webhook(otherSecret).verify(request!.body, signed)).toThrow();

    expect(scripted.inserted()).toEqual([
      {
        tenant_id: 'acme',
        job_id: event.job_id,
        event_id: event.event_id,
        attempt: 2,
        url: event.webhook_url,
        latency_ms: expect.any(Number),
        status_code: 204,
        outcome: 'delivered',
        error: null,
      },
    ]);
    expect(scripted.queries.at(-1)!.sql).toMatch(/on conflict \("event_id", "attempt"\) do nothing$/);
    // The secret is the job's key's, looked up within the event's tenant.
    expect(scripted.queried('api_keys')[0]!.parameters).toEqual([event.job_id, 'acme']);
  });

  it('sends nothing and records nothing for an event already delivered', async () => {
    scripted.deliveredBefore = true;
    const event = jobEvent();
    expect(await deliver(deps, event, 3)).toEqual({ kind: 'duplicate' });
    expect(received).toEqual([]);
    expect(scripted.inserted()).toEqual([]);
    expect(scripted.queried('webhook_deliveries')[0]!.parameters).toEqual([event.event_id, 'delivered']);
    expect(scripted.queried('api_keys')).toEqual([]);
  });

  it.each([
    [500, 'HTTP 500'],
    [404, 'HTTP 404'],
    [302, 'HTTP 302'], // a redirect is not followed: it could point anywhere
  ])('fails on HTTP %s, recorded with its status', async (status, error) => {
    respond = (res) => res.writeHead(status, { location: 'http://10.0.0.1/' }).end();
    const event = jobEvent();
    expect(await deliver(deps, event, 1)).toEqual({ kind: 'failed', error });
    expect(received).toHaveLength(1);
    expect(scripted.inserted()).toEqual([
      expect.objectContaining({ attempt: 1, status_code: status, outcome: 'failed', error }),
    ]);
  });

  it('fails when the receiver does not answer in time', async () => {
    respond = () => {}; // never answers
    const started = Date.now();
    const outcome = await deliver({ ...deps, timeoutMs: 150 }, jobEvent(), 1);
    expect(outcome).toEqual({ kind: 'failed', error: 'timed out after 150 ms' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(scripted.inserted()).toEqual([
      expect.objectContaining({ status_code: null, outcome: 'failed', error: 'timed out after 150 ms' }),
    ]);
  });

  it('refuses a private target without calling it', async () => {
    const event = jobEvent({ webhook_url: 'http://10.0.0.7/hook' });
    expect(await deliver(deps, event, 1)).toEqual({
      kind: 'refused',
      error: 'target resolves to 10.0.0.7, a private address',
    });
    expect(received).toEqual([]);
    expect(scripted.inserted()).toEqual([
      expect.objectContaining({ url: 'http://10.0.0.7/hook', status_code: null, outcome: 'refused' }),
    ]);
  });

  it('refuses loopback unless it is allowlisted', async () => {
    const outcome = await deliver({ ...deps, allowlist: [] }, jobEvent(), 1);
    expect(outcome).toMatchObject({ kind: 'refused', error: expect.stringMatching(/loopback/) });
    expect(received).toEqual([]);
  });

  it('refuses a job without a signing secret, unsigned deliveries are never sent', async () => {
    scripted.secret = undefined;
    expect(await deliver(deps, jobEvent(), 1)).toEqual({ kind: 'refused', error: 'no signing secret' });
    expect(received).toEqual([]);
    expect(scripted.inserted()).toEqual([
      expect.objectContaining({ outcome: 'refused', error: 'no signing secret for the job' }),
    ]);
  });
});

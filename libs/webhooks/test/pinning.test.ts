import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobEventMessage } from '@sps/contracts';
import type { Database } from '@sps/db';
import { deliver, type DeliveryDeps } from '../src/deliver.js';
import { pinnedLookup } from '../src/pinned-agent.js';
import type { HostLookup } from '../src/target-check.js';

/**
 * DNS rebinding: a name that resolves to a public address when the target is checked and to a
 * private one when the delivery connects. The receiver listens on 127.0.0.1; no test here ever
 * connects anywhere else: a connection only ever goes to what the connection-time lookup answers,
 * which in these scripts is loopback or private only (the public answer is only ever the check's),
 * and any resolution past a script fails.
 */
const HOST = 'hooks.rebinding.test';
const PUBLIC = '93.184.216.34';
const LOOPBACK = '127.0.0.1';

let server: Server;
let port: number;
const received: string[] = [];
const connections: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.on('connection', (socket) => connections.push(socket.remoteAddress ?? '?'));
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Answers each resolution of HOST from the script, in order; a resolution past it fails. */
function scriptedResolver(...answers: string[][]): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    if (hostname !== HOST) throw new Error(`unexpected lookup of ${hostname}`);
    const answer = answers[calls.length - 1];
    if (!answer) throw new Error(`lookup #${calls.length} of ${hostname} was not expected`);
    return answer;
  };
  return Object.assign(resolve, { calls });
}

/** The queries deliver() makes, answered without Postgres: no earlier delivery, a signing secret. */
function fakeDatabase() {
  const inserted: Record<string, unknown>[] = [];
  const chain = (rows: unknown[]) => {
    const builder: Record<string, unknown> = {};
    for (const method of ['select', 'where', 'innerJoin', 'values', 'onConflict'])
      builder[method] = (...args: unknown[]) => {
        if (method === 'values') inserted.push(args[0] as Record<string, unknown>);
        return builder;
      };
    builder.executeTakeFirst = async () => rows[0];
    builder.execute = async () => rows;
    return builder;
  };
  const db = {
    selectFrom: (table: string) =>
      chain(table === 'jobs' ? [{ webhook_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }] : []),
    insertInto: () => chain([]),
  } as unknown as Database;
  return { db, inserted };
}

function jobEvent(): JobEventMessage {
  return {
    event_id: randomUUID(),
    type: 'job.completed',
    job_id: randomUUID(),
    tenant_id: 'acme',
    status: 'completed',
    webhook_url: `http://${HOST}:${port}/hooks/sps`,
    summary: { total: 1, successful: 1, failed: 0 },
    occurred_at: '2025-01-02T03:04:05.000Z',
  };
}

let database: ReturnType<typeof fakeDatabase>;
beforeEach(() => {
  received.length = 0;
  connections.length = 0;
  database = fakeDatabase();
});
const depsWith = (lookup: HostLookup, allowlist: string[] = []): DeliveryDeps => ({
  db: database.db,
  timeoutMs: 2_000,
  allowlist,
  lookup,
});

describe('webhook delivery pinned to checked addresses', () => {
  it('refuses a name that passes the check as public and then resolves to loopback: nothing is sent', async () => {
    const lookup = scriptedResolver([PUBLIC], [LOOPBACK]);
    const outcome = await deliver(depsWith(lookup), jobEvent(), 1);

    expect(outcome).toEqual({
      kind: 'refused',
      error: `target ${HOST} resolved to ${LOOPBACK}, a loopback address, when connecting`,
    });
    expect(lookup.calls).toEqual([HOST, HOST]); // once for the check, once for the connection
    expect(received).toEqual([]);
    expect(connections).toEqual([]); // not even a TCP connection
    // Recorded as refused, without a status code: nothing about the private target leaks.
    expect(database.inserted).toEqual([
      expect.objectContaining({
        attempt: 1,
        status_code: null,
        outcome: 'refused',
        error: expect.stringContaining('loopback'),
      }),
    ]);
  });

  it('refuses at the check when the name resolves to loopback first, without a second lookup', async () => {
    const lookup = scriptedResolver([LOOPBACK]); // a second lookup would fail
    const outcome = await deliver(depsWith(lookup), jobEvent(), 1);
    expect(outcome).toEqual({ kind: 'refused', error: `target resolves to ${LOOPBACK}, a loopback address` });
    expect(lookup.calls).toEqual([HOST]);
    expect(received).toEqual([]);
    expect(database.inserted).toEqual([expect.objectContaining({ status_code: null, outcome: 'refused' })]);
  });

  it('refuses when any one of the connection-time addresses is private', async () => {
    // (Only loopback and private answers at connection time here: even a broken pin would connect
    // nowhere but this machine. A public address next to a private one: see pinnedLookup below.)
    const lookup = scriptedResolver([PUBLIC], [LOOPBACK, '10.0.0.7']);
    const outcome = await deliver(depsWith(lookup), jobEvent(), 2);
    expect(outcome).toMatchObject({ kind: 'refused', error: expect.stringContaining(LOOPBACK) });
    expect(received).toEqual([]);
    expect(connections).toEqual([]);
  });

  it('re-checks at every attempt: a later attempt that resolves to loopback is refused', async () => {
    // Attempt 1 checks public, then connects through a lookup answering loopback: refused.
    // Attempt 2 gets a fresh lookup script: the check happens again, as does the connection's.
    const first = scriptedResolver([PUBLIC], [LOOPBACK]);
    const second = scriptedResolver([PUBLIC], ['::1']);
    expect((await deliver(depsWith(first), jobEvent(), 1)).kind).toBe('refused');
    expect(await deliver(depsWith(second), jobEvent(), 2)).toMatchObject({
      kind: 'refused',
      error: expect.stringContaining('::1, a loopback address'),
    });
    expect(second.calls).toEqual([HOST, HOST]);
    expect(received).toEqual([]);
  });

  it('fails (retryable) when the name stops resolving between the check and the connection', async () => {
    const lookup = scriptedResolver([PUBLIC]); // the second lookup throws
    const outcome = await deliver(depsWith(lookup), jobEvent(), 1);
    expect(outcome).toEqual({ kind: 'failed', error: `target host ${HOST} does not resolve` });
    expect(received).toEqual([]);
    expect(database.inserted).toEqual([expect.objectContaining({ status_code: null, outcome: 'failed' })]);
  });

  it('delivers to an allowlisted host whatever it resolves to', async () => {
    // Allowlisted: the check does not resolve; the connection resolves once, to loopback.
    const lookup = scriptedResolver([LOOPBACK]);
    const outcome = await deliver(depsWith(lookup, [HOST]), jobEvent(), 1);
    expect(outcome).toEqual({ kind: 'delivered' });
    expect(lookup.calls).toEqual([HOST]);
    expect(received).toEqual(['POST /hooks/sps']);
    expect(connections).toEqual([LOOPBACK]);
    expect(database.inserted).toEqual([expect.objectContaining({ status_code: 204, outcome: 'delivered' })]);
  });

  it('opens a new connection for every attempt (no connection outlives the lookup that checked it)', async () => {
    const lookup = scriptedResolver([LOOPBACK], [LOOPBACK]);
    expect((await deliver(depsWith(lookup, [HOST]), jobEvent(), 1)).kind).toBe('delivered');
    expect((await deliver(depsWith(lookup, [HOST]), jobEvent(), 2)).kind).toBe('delivered');
    expect(lookup.calls).toEqual([HOST, HOST]);
    expect(connections).toEqual([LOOPBACK, LOOPBACK]);
  });
});

describe('pinnedLookup', () => {
  const run = (lookup: ReturnType<typeof pinnedLookup>, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: Error | null; address: unknown; family?: number }>((resolve) =>
      lookup(HOST, options, (error, address, family) => resolve({ error, address, family })),
    );

  it('hands the socket exactly the addresses it checked, in both callback shapes', async () => {
    const lookup = pinnedLookup({ lookup: async () => [PUBLIC, '2606:2800:220:1::1'] });
    expect(await run(lookup, { all: true })).toEqual({
      error: null,
      address: [
        { address: PUBLIC, family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
      family: undefined,
    });
    expect(await run(lookup, {})).toEqual({ error: null, address: PUBLIC, family: 4 });
    expect(await run(lookup, { family: 6 })).toEqual({
      error: null,
      address: '2606:2800:220:1::1',
      family: 6,
    });
  });

  it.each([
    ['127.0.0.1'],
    ['::ffff:127.0.0.1'],
    ['169.254.169.254'],
    ['fd00::1'],
    ['100.64.0.1'],
    ['nonsense'],
  ])('refuses %s', async (address) => {
    const { error, address: given } = await run(pinnedLookup({ lookup: async () => [address] }), {
      all: true,
    });
    expect(error).toMatchObject({ name: 'TargetRefusedError', code: 'ERR_WEBHOOK_TARGET_REFUSED' });
    expect(given).toEqual([]); // no address to connect to
  });

  it('refuses when any one address is not public, the first one public', async () => {
    const lookup = pinnedLookup({ lookup: async () => [PUBLIC, '10.0.0.7'] });
    const { error, address } = await run(lookup, { all: true });
    expect(error?.message).toBe(`${HOST} resolved to 10.0.0.7, a private address, when connecting`);
    expect(address).toEqual([]);
  });

  it('accepts private addresses for a trusted host only', async () => {
    const lookup = pinnedLookup({ lookup: async () => [LOOPBACK], trustedHosts: [HOST] });
    expect(await run(lookup, {})).toEqual({ error: null, address: LOOPBACK, family: 4 });
  });
});

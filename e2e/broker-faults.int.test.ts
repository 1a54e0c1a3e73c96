import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateKafka, type PrivateKafka } from '@sps/testing';
import { json, startPipeline, waitUntil, type Pipeline } from './harness.js';

interface Outcome {
  status: number;
  ms: number;
  requestId?: string;
  body: {
    error?: { code?: string; request_id?: string; message?: string; details?: { request_id?: string } };
  };
  at: number;
}

/**
 * The broker dies (`kill -9`) under load and comes back. A broker of this test's own, so the
 * shared stack that every other test uses never sees the fault.
 */
describe('broker kill -9 under load (private Kafka; real Postgres, Redis; fake provider)', () => {
  let broker: PrivateKafka;
  let pipeline: Pipeline;

  beforeAll(async () => {
    broker = await startPrivateKafka();
    pipeline = await startPipeline({
      kafkaBrokers: broker.brokers,
      latencyMs: 20,
      rateLimitPerHour: 1_000_000,
      env: { KAFKA_PRODUCE_TIMEOUT_MS: '2000' },
    });
  }, 180_000);
  afterAll(async () => {
    await pipeline?.stop();
    await broker?.destroy();
  });

  it('answers 503 fast while Kafka is down, recovers by itself, and loses nothing it acknowledged', async () => {
    const total = 2_000;
    const concurrency = 16;
    const outcomes: Outcome[] = [];
    let next = 0;
    let killedAt = 0;
    let restartedAt = 0;
    const send = async (i: number): Promise<Outcome> => {
      const started = Date.now();
      const response = await fetch(`${pipeline.baseUrl}/v1/analyze`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pipeline.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `broker fault ${i} ${started}`, options: { timeout_ms: 20_000 } }),
      });
      const body = await json(response);
      return {
        status: response.status,
        ms: Date.now() - started,
        requestId: body.request_id,
        body,
        at: started,
      };
    };
    // At least `total` calls, and then on until the service has answered `recovered` calls that were
    // sent after the restart (or a minute has passed since it): how long the broker takes to come
    // back on a busy machine varies (one run had 1,367 fast 503s out of 2,000), and a fixed count of
    // calls could run out before there was anything left to show the recovery with.
    const recovered = 150;
    let okAfterRestart = 0;
    const sending = () =>
      next < total ||
      (killedAt > 0 &&
        okAfterRestart < recovered &&
        Date.now() < (restartedAt ? restartedAt + 60_000 : killedAt + 120_000));
    const worker = async () => {
      while (sending()) {
        const i = next++;
        const outcome = await send(i);
        if (outcome.status === 200 && restartedAt && outcome.at > restartedAt) okAfterRestart++;
        outcomes.push(outcome);
        if (outcomes.length === 500 && !killedAt) {
          killedAt = Date.now();
          await broker.kill();
          setTimeout(() => {
            void broker.restart().then(() => (restartedAt = Date.now()));
          }, 8_000);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await waitUntil(async () => (restartedAt ? true : undefined), 60_000, 'the broker restart');

    const byStatus = new Map<number, Outcome[]>();
    for (const o of outcomes) byStatus.set(o.status, [...(byStatus.get(o.status) ?? []), o]);
    const ok = byStatus.get(200) ?? [];
    const unavailable = byStatus.get(503) ?? [];
    const counts = Object.fromEntries([...byStatus].map(([status, list]) => [status, list.length]));
    console.info('broker kill outcomes', counts, {
      p99_503_ms: percentile(
        unavailable.map((o) => o.ms),
        0.99,
      ),
      max_503_ms: Math.max(0, ...unavailable.map((o) => o.ms)),
      ok_after_restart: ok.filter((o) => o.at > restartedAt).length,
    });
    expect(outcomes.length).toBeGreaterThanOrEqual(total);
    // Only these answers: success, unavailable while down, or "accepted, read it later" for calls
    // whose request was queued but whose answer could not come back in time.
    expect([...byStatus.keys()].every((s) => [200, 503, 504].includes(s))).toBe(true);
    // The kill hit traffic in flight, and the service came back by itself after the restart.
    expect(unavailable.length).toBeGreaterThan(0);
    expect(ok.filter((o) => o.at > restartedAt).length).toBeGreaterThanOrEqual(recovered);
    // Fast 503s with the error envelope (2 s produce bound, plus scheduling on a busy 2-core box).
    for (const o of unavailable) {
      expect(o.ms).toBeLessThan(3_000);
      expect(o.body.error?.code).toBe('SERVICE_UNAVAILABLE');
      expect(o.body.error?.request_id).toBeTruthy();
    }
    // Every acknowledged request has exactly one row: the 200s, and the 504s too — a 504 says the
    // request was queued and its result can be read later, so it is an acknowledgement as well.
    const late = byStatus.get(504) ?? [];
    for (const o of late) expect(o.body.error?.details?.request_id).toBeTruthy();
    const acknowledged = [...ok, ...late];
    const idOf = (o: Outcome) => o.requestId ?? o.body.error!.details!.request_id!;
    const okIds = acknowledged.map(idOf);
    expect(new Set(okIds).size).toBe(acknowledged.length);
    // Measured from when the last client call ended. After a long outage the processor first has
    // to rejoin its group and work through the backlog of 504s, so the wait is generous; what the
    // test proves is that no row is missing, and when one is, it says which and what its call got.
    const rowsOf = async () =>
      (
        await sql<{ request_id: string; n: string }>`
          select request_id, count(*) as n from request_logs where request_id = any(${okIds}::uuid[]) group by request_id`.execute(
          pipeline.db,
        )
      ).rows;
    const rows = await waitUntil(
      async () => {
        const found = await rowsOf();
        return found.length === okIds.length ? found : undefined;
      },
      120_000,
      'a row for every acknowledged request',
    ).catch(() => rowsOf()); // what is there by then: the missing ones are named below
    const stored = new Set(rows.map((r) => r.request_id));
    const missing = acknowledged
      .filter((o) => !stored.has(idOf(o)))
      .map((o) => ({
        request_id: idOf(o),
        status: o.status,
        sent_ms_after_kill: o.at - killedAt,
        sent_ms_after_restart: o.at - restartedAt,
        took_ms: o.ms,
      }));
    expect(missing.slice(0, 20), `${missing.length} acknowledged requests without a row`).toEqual([]);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    for (const service of Object.values(pipeline.services)) expect(service.process.exitCode).toBeNull();
  }, 420_000);
});

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

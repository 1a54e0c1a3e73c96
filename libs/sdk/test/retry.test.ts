import { describe, expect, it } from 'vitest';
import { createClient, RateLimitError, ServiceUnavailableError, type RetryInfo } from '../src/index.js';

const envelope = (code: string) =>
  JSON.stringify({
    error: {
      code,
      message: code,
      details: { fields: [{ field: 'prompt', reason: 'x' }] },
      request_id: 'r-1',
      timestamp: '2026-01-01T00:00:00Z',
    },
  });

/** A fetch answering from a script of [status, headers]; then 200 with an empty schema list. */
function scripted(steps: [number, Record<string, string>][]) {
  const seen: number[] = [];
  const fetch = async (request: Request) => {
    seen.push(Date.now());
    await request.text();
    const step = steps.shift();
    if (!step)
      return new Response(JSON.stringify({ schemas: [] }), {
        headers: { 'content-type': 'application/json' },
      });
    const [status, headers] = step;
    return new Response(envelope(status === 429 ? 'RATE_LIMIT_EXCEEDED' : 'SERVICE_UNAVAILABLE'), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });
  };
  return { fetch, seen };
}

describe('retries of 429 and 503', () => {
  it('waits the Retry-After, then succeeds', async () => {
    const { fetch, seen } = scripted([[429, { 'retry-after': '1' }]]);
    const retries: RetryInfo[] = [];
    const client = createClient({ apiKey: 'k', fetch, retry: { onRetry: (r) => retries.push(r) } });
    expect(await client.schemas.list()).toEqual([]);
    expect(retries).toMatchObject([{ attempt: 1, status: 429, delayMs: 1000, retryAfter: true }]);
    expect(seen[1]! - seen[0]!).toBeGreaterThanOrEqual(990);
  });

  it('backs off with jitter on 503 without Retry-After, and gives up after maxAttempts', async () => {
    const { fetch, seen } = scripted([
      [503, {}],
      [503, {}],
      [503, {}],
    ]);
    const retries: RetryInfo[] = [];
    const client = createClient({
      apiKey: 'k',
      fetch,
      retry: { maxAttempts: 3, baseDelayMs: 20, onRetry: (r) => retries.push(r) },
    });
    const error = await client.schemas.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503, requestId: 'r-1' });
    expect(seen).toHaveLength(3);
    expect(retries.map((r) => r.retryAfter)).toEqual([false, false]);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(20);
    expect(retries[1]!.delayMs).toBeLessThanOrEqual(40);
  });

  it('does not retry a 429 without Retry-After, nor one past maxRetryAfterMs; the error is typed', async () => {
    for (const headers of [{}, { 'retry-after': '3600' }] as Record<string, string>[]) {
      const { fetch, seen } = scripted([[429, headers]]);
      const error = await createClient({ apiKey: 'k', fetch })
        .schemas.list()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect(error).toMatchObject({
        code: 'RATE_LIMIT_EXCEEDED',
        fields: [{ field: 'prompt', reason: 'x' }],
      });
      expect(seen).toHaveLength(1);
    }
  });

  it('retries a POST with its body intact', async () => {
    const bodies: string[] = [];
    let calls = 0;
    const fetch = async (request: Request) => {
      bodies.push(await request.text());
      return ++calls === 1
        ? new Response(envelope('SERVICE_UNAVAILABLE'), { status: 503, headers: { 'retry-after': '0' } })
        : new Response(JSON.stringify({ deleted: 0 }), { headers: { 'content-type': 'application/json' } });
    };
    const client = createClient({ apiKey: 'k', fetch });
    await client.schemas.create({ name: 'n', schema: { type: 'object' } }).catch(() => undefined);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
    expect(JSON.parse(bodies[1]!)).toEqual({ name: 'n', schema: { type: 'object' } });
  });
});

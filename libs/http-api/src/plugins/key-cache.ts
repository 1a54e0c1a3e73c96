import type { AuthenticatedKey } from '@sps/db';

/** What an API key presented by a client amounts to. */
export type KeyVerdict =
  /** `stale`: served from the cache past its freshness because the database cannot be reached. */
  | { kind: 'valid'; key: AuthenticatedKey; stale: boolean }
  | { kind: 'unknown' }
  /** The database cannot be reached and the key is not in the cache: neither valid nor invalid. */
  | { kind: 'unavailable'; retryAfterSeconds: number }
  /** Too many failed authentications from this client: refused without a lookup. */
  | { kind: 'limited'; retryAfterSeconds: number };

export interface KeyCacheOptions {
  /** Looks a key hash up in the database: the key, or undefined when there is no such active key. */
  lookup: (hash: string) => Promise<AuthenticatedKey | undefined>;
  now?: () => number;
  /** A valid key is trusted this long without a lookup: the bound on how long a revoked key keeps working. */
  ttlMs?: number;
  /** A valid key is looked up again in the background once its entry is this old (hot keys never wait). */
  refreshAfterMs?: number;
  /** While the database cannot be reached, a known key keeps working this long past its ttl. */
  maxStaleMs?: number;
  /** An unknown key is answered 401 without a lookup this long. */
  negativeTtlMs?: number;
  /** A lookup that takes longer counts as the database being unreachable. */
  lookupTimeoutMs?: number;
  /** After a lookup failed for want of a database, no request waits for another one this long. */
  outageBackoffMs?: number;
  /** Failed authentications allowed per client and window, before 429. */
  failureLimit?: number;
  failureWindowMs?: number;
  /** Bounds on the entries kept (keys, unknown keys, clients); the oldest go first. */
  maxEntries?: number;
  /** Told about each lookup that failed (refreshes in the background included). */
  onLookupError?: (error: unknown, unavailable: boolean) => void;
}

interface Positive {
  key: AuthenticatedKey;
  fetchedAt: number;
}

/**
 * The in-memory side of API-key authentication, free of HTTP and of Postgres:
 * - valid keys are cached for `ttlMs`, refreshed in the background past `refreshAfterMs`, and
 *   served stale (up to `maxStaleMs`) while the database cannot be reached;
 * - unknown keys are cached for `negativeTtlMs`, so a repeated wrong key costs no query;
 * - failed authentications are counted per client (fixed window); past `failureLimit` the client
 *   is answered `limited` without a lookup until the window ends — random tokens cost at most
 *   `failureLimit` queries per client and window;
 * - when the database cannot be reached, a key that is not cached is `unavailable` (503), never
 *   `unknown` (401): the caller's key may well be valid.
 * Lookups of one hash are shared (single flight) and time-limited.
 */
export class KeyCache {
  private readonly positive = new Map<string, Positive>();
  private readonly negative = new Map<string, number>(); // hash → expires
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  private readonly inflight = new Map<string, Promise<AuthenticatedKey | undefined>>();
  private downUntil = 0;
  private readonly now: () => number;
  private readonly o: Required<Omit<KeyCacheOptions, 'now' | 'onLookupError'>> &
    Pick<KeyCacheOptions, 'onLookupError'>;

  constructor(options: KeyCacheOptions) {
    this.now = options.now ?? Date.now;
    const ttlMs = options.ttlMs ?? 30_000;
    this.o = {
      lookup: options.lookup,
      ttlMs,
      refreshAfterMs: options.refreshAfterMs ?? Math.floor(ttlMs / 2),
      maxStaleMs: options.maxStaleMs ?? 60 * 60_000,
      negativeTtlMs: options.negativeTtlMs ?? 5_000,
      lookupTimeoutMs: options.lookupTimeoutMs ?? 2_000,
      outageBackoffMs: options.outageBackoffMs ?? 1_000,
      failureLimit: options.failureLimit ?? 20,
      failureWindowMs: options.failureWindowMs ?? 60_000,
      maxEntries: options.maxEntries ?? 10_000,
      onLookupError: options.onLookupError,
    };
  }

  /** The verdict on the key with this hash, presented by `client` (its address). */
  async authenticate(hash: string, client: string): Promise<KeyVerdict> {
    const now = this.now();
    const cached = this.positive.get(hash);
    const age = cached ? now - cached.fetchedAt : Infinity;
    if (cached && age < this.o.ttlMs) {
      if (age >= this.o.refreshAfterMs && !this.databaseDown(now)) this.refreshInBackground(hash);
      return { kind: 'valid', key: cached.key, stale: false };
    }
    // A key known to be valid is looked up again whoever presents it; anything else is a
    // candidate failure, refused outright once the client has failed too often.
    if (!cached) {
      const retryAfter = this.retryAfterSeconds(client, now);
      if (retryAfter !== undefined) return { kind: 'limited', retryAfterSeconds: retryAfter };
      const negativeUntil = this.negative.get(hash);
      if (negativeUntil !== undefined && negativeUntil > now) return this.failed(client, now);
    }
    const stale = (): KeyVerdict | undefined =>
      cached && age < this.o.ttlMs + this.o.maxStaleMs
        ? { kind: 'valid', key: cached.key, stale: true }
        : undefined;
    if (this.databaseDown(now)) return stale() ?? this.unavailable(now);
    let key: AuthenticatedKey | undefined;
    try {
      key = await this.lookupOnce(hash);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      return stale() ?? this.unavailable(this.now());
    }
    return key ? { kind: 'valid', key, stale: false } : this.failed(client, this.now());
  }

  /** Whether lookups are currently skipped because the database was just found unreachable. */
  databaseDown(now = this.now()): boolean {
    return now < this.downUntil;
  }

  private unavailable(now: number): KeyVerdict {
    return { kind: 'unavailable', retryAfterSeconds: Math.max(1, Math.ceil((this.downUntil - now) / 1000)) };
  }

  private failed(client: string, now: number): KeyVerdict {
    const entry = this.failures.get(client);
    if (entry && entry.resetAt > now) entry.count += 1;
    else {
      this.failures.delete(client);
      bound(this.failures, this.o.maxEntries, (e) => e.resetAt <= now);
      this.failures.set(client, { count: 1, resetAt: now + this.o.failureWindowMs });
    }
    return { kind: 'unknown' };
  }

  private retryAfterSeconds(client: string, now: number): number | undefined {
    const entry = this.failures.get(client);
    if (!entry || entry.resetAt <= now || entry.count < this.o.failureLimit) return undefined;
    return Math.max(1, Math.ceil((entry.resetAt - now) / 1000));
  }

  private refreshInBackground(hash: string): void {
    if (this.inflight.has(hash)) return;
    this.lookupOnce(hash).catch(() => undefined); // reported by onLookupError; the entry stays
  }

  /** One lookup per hash at a time, bounded in time; its result goes to the caches. */
  private lookupOnce(hash: string): Promise<AuthenticatedKey | undefined> {
    const running = this.inflight.get(hash);
    if (running) return running;
    const lookup = (async () => {
      try {
        const key = await withTimeout(this.o.lookup(hash), this.o.lookupTimeoutMs);
        const now = this.now();
        if (key) {
          this.negative.delete(hash);
          this.positive.delete(hash); // re-inserted last: the map stays ordered by age
          bound(
            this.positive,
            this.o.maxEntries,
            (e) => now - e.fetchedAt >= this.o.ttlMs + this.o.maxStaleMs,
          );
          this.positive.set(hash, { key, fetchedAt: now });
        } else {
          this.positive.delete(hash); // revoked, expired or never there
          this.negative.delete(hash);
          bound(this.negative, this.o.maxEntries, (expires) => expires <= now);
          this.negative.set(hash, now + this.o.negativeTtlMs);
        }
        return key;
      } catch (error) {
        const unavailable = isUnavailable(error);
        if (unavailable) this.downUntil = this.now() + this.o.outageBackoffMs;
        this.o.onLookupError?.(error, unavailable);
        throw error;
      } finally {
        this.inflight.delete(hash);
      }
    })();
    this.inflight.set(hash, lookup);
    return lookup;
  }
}

/** Keeps `map` under `max` entries: expired ones go first, then the oldest inserted. */
function bound<V>(map: Map<string, V>, max: number, expired: (value: V) => boolean): void {
  if (map.size < max) return;
  for (const [k, v] of map) if (expired(v)) map.delete(k);
  for (const k of map.keys()) {
    if (map.size < max) break;
    map.delete(k);
  }
}

class LookupTimeoutError extends Error {
  constructor(ms: number) {
    super(`API key lookup did not answer within ${ms} ms`);
    this.name = 'LookupTimeoutError';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LookupTimeoutError(ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Whether a lookup failed for want of a database (connection refused, reset or timed out, the
 * server shutting down or refusing connections, the pool timing out) rather than because of the
 * query. Postgres reports errors with a severity and an SQLSTATE; only the classes below mean it
 * cannot serve us. Errors without one come from the network or the driver: the database is away.
 */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof LookupTimeoutError) return true;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  if (typeof severity !== 'string' || typeof code !== 'string' || code.length !== 5) return true;
  return (
    /^(08|28|53|57|58)/.test(code) || // connection exception, authorization, resources, operator, system
    code === '55000' || // "database ... is not currently accepting connections" (ALLOW_CONNECTIONS false)
    code === '3D000' // the database does not exist
  );
}

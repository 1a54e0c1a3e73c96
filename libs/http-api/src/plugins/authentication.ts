import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { ServiceError } from '@sps/contracts';
import { findActiveKey, hashApiKey, type AuthenticatedKey, type Database } from '@sps/db';

declare module 'fastify' {
  interface FastifyRequest {
    principal: AuthenticatedKey;
  }
}

interface CacheEntry {
  key: AuthenticatedKey | undefined;
  expires: number;
}

/**
 * API keys (`Authorization: Bearer sk_...` or `X-API-Key`), looked up by SHA-256 through a short
 * in-memory cache so that a revoked key stops working within `cacheTtlMs`. Applies to the routes
 * registered in the same scope.
 */
export const authentication = fp<{ db: Database; cacheTtlMs?: number }>(
  async (app, { db, cacheTtlMs = 30_000 }) => {
    const cache = new Map<string, CacheEntry>();

    async function lookup(hash: string): Promise<AuthenticatedKey | undefined> {
      const cached = cache.get(hash);
      if (cached && cached.expires > Date.now()) return cached.key;
      const key = await findActiveKey(db, hash);
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { key, expires: Date.now() + cacheTtlMs });
      return key;
    }

    app.decorateRequest('principal', null as unknown as AuthenticatedKey);
    app.addHook('onRequest', async (request: FastifyRequest) => {
      if (!request.routeOptions.url) return; // unknown route: answered 404 by the not-found handler
      const presented = presentedKey(request);
      if (!presented)
        throw new ServiceError('UNAUTHORIZED', 'missing API key: send Authorization: Bearer sk_...');
      const key = await lookup(hashApiKey(presented));
      if (!key) throw new ServiceError('UNAUTHORIZED', 'unknown, revoked or expired API key');
      request.principal = key;
    });
  },
);

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

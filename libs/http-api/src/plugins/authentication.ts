import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { ServiceError } from '@sps/contracts';
import { findActiveKey, hashApiKey, type AuthenticatedKey, type Database } from '@sps/db';
import { KeyCache, type KeyCacheOptions } from './key-cache.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: AuthenticatedKey;
  }
}

export type AuthenticationOptions = { db: Database; cacheTtlMs?: number } & Partial<
  Omit<KeyCacheOptions, 'lookup' | 'ttlMs' | 'onLookupError'>
>;

/**
 * API keys (`Authorization: Bearer sk_...` or `X-API-Key`), looked up by SHA-256 through an
 * in-memory cache (KeyCache) so that a revoked key stops working within `cacheTtlMs` while the
 * database answers. When it does not, keys already known keep working from the cache and other
 * keys are answered 503 (never 401, never 500); failed authentications are limited per client
 * address (429 with Retry-After) and an unknown key is remembered briefly, so random tokens cost
 * the database little. Applies to the routes registered in the same scope.
 */
export const authentication = fp<AuthenticationOptions>(async (app, { db, cacheTtlMs, ...options }) => {
  const keys = new KeyCache({
    ...options,
    lookup: (hash) => findActiveKey(db, hash),
    ttlMs: cacheTtlMs,
    onLookupError: (error, unavailable) =>
      unavailable
        ? app.log.warn(
            { err: error },
            'API key lookup failed: database unavailable (known keys are served from the cache)',
          )
        : app.log.error({ err: error }, 'API key lookup failed'),
  });

  app.decorateRequest('principal', null as unknown as AuthenticatedKey);
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    if (!request.routeOptions.url) return; // unknown route: answered 404 by the not-found handler
    const presented = presentedKey(request);
    if (!presented)
      throw new ServiceError('UNAUTHORIZED', 'missing API key: send Authorization: Bearer sk_...');
    const verdict = await keys.authenticate(hashApiKey(presented), request.ip);
    switch (verdict.kind) {
      case 'valid':
        request.principal = verdict.key;
        return;
      case 'unknown':
        throw new ServiceError('UNAUTHORIZED', 'unknown, revoked or expired API key');
      case 'limited':
        reply.header('retry-after', verdict.retryAfterSeconds);
        throw new ServiceError(
          'RATE_LIMIT_EXCEEDED',
          `too many failed authentications from this address; retry in ${verdict.retryAfterSeconds} s`,
          { retry_after_seconds: verdict.retryAfterSeconds },
        );
      case 'unavailable':
        reply.header('retry-after', verdict.retryAfterSeconds);
        throw new ServiceError(
          'SERVICE_UNAVAILABLE',
          'API keys cannot be checked right now (database unavailable); retry shortly',
          { retry_after_seconds: verdict.retryAfterSeconds },
        );
    }
  });
});

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header.trim() : undefined;
}

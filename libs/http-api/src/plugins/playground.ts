import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/** Where the playground's files live (plain HTML, CSS and ES modules: no build step). */
export const PLAYGROUND_DIR = fileURLToPath(new URL('../../playground/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Same origin only: the page runs its own scripts and styles, calls this API and nothing else,
 * cannot be framed, and has no inline script for an injected answer to ride on.
 */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The web playground at /playground/: the files of PLAYGROUND_DIR, read once at start-up and
 * served from memory by exact name (a fixed table, so no request path ever reaches the file
 * system), with an ETag, `no-cache` (revalidated, so a new release shows at once) and a
 * same-origin Content-Security-Policy. Public: the page asks for an API key and sends it on each
 * API call, so it sees exactly what that key may see.
 */
export const playground: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const dir = options.dir ?? PLAYGROUND_DIR;
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(`${dir}/${name}`);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, type, etag });
  }
  if (!assets.has('index.html')) throw new Error(`playground: no index.html in ${dir}`);

  const send = (reply: FastifyReply, ifNoneMatch: string | undefined, asset: Asset) => {
    reply
      .header('content-security-policy', PLAYGROUND_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .header('etag', asset.etag);
    if (ifNoneMatch === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  // Relative links (app.js, ../v1/...) resolve under /playground/, also behind a path prefix.
  app.get('/playground', { schema: { hide: true } }, (_request, reply) => reply.redirect('playground/', 301));
  app.get('/playground/', { schema: { hide: true } }, (request, reply) =>
    send(reply, request.headers['if-none-match'], assets.get('index.html')!),
  );
  app.get<{ Params: { file: string } }>('/playground/:file', { schema: { hide: true } }, (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return send(reply, request.headers['if-none-match'], asset);
  });
};

import fp from 'fastify-plugin';

/** `X-Request-ID` is echoed on every response (Fastify's genReqId accepts or generates it). */
export const requestIdHeader = fp(async (app) => {
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
});

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined, generate: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && SAFE_ID.test(value) ? value : generate();
}

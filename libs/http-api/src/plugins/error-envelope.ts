import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError, type ErrorCode } from '@sps/contracts';

declare module 'fastify' {
  interface FastifyReply {
    sendError(error: ServiceError): FastifyReply;
  }
}

/** Every error leaves in the seed's envelope, with its code, the request id and, for bad input, each field and why. */
export const errorEnvelope = fp(async (app) => {
  app.decorateReply('sendError', function (this: FastifyReply, error: ServiceError) {
    return this.code(error.httpStatus).send(envelope(this.request, error.code, error.message, error.details));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ServiceError) return reply.sendError(error);
    if (error.validation) {
      const fields = error.validation.map((v) => ({
        field: fieldOf(error.validationContext, v.instancePath, v.params),
        reason: v.message ?? 'is invalid',
      }));
      const summary = fields.map((f) => `${f.field}: ${f.reason}`).join('; ');
      return reply.code(400).send(envelope(request, 'INVALID_REQUEST', summary, { fields }));
    }
    if (error.statusCode === 413)
      return reply.code(413).send(envelope(request, 'PAYLOAD_TOO_LARGE', error.message));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(envelope(request, 'INVALID_REQUEST', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(envelope(request, 'INTERNAL_ERROR', 'unexpected server error'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(envelope(request, 'NOT_FOUND', `no route ${request.method} ${request.url}`)),
  );
});

function envelope(
  request: FastifyRequest,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
) {
  return {
    error: {
      code,
      message,
      ...(details ? { details } : {}),
      request_id: request.id,
      timestamp: new Date().toISOString(),
    },
  };
}

function fieldOf(context: string | undefined, instancePath: string, params: Record<string, unknown>): string {
  const segments = instancePath.split('/').filter(Boolean);
  const extra = params.missingProperty ?? params.additionalProperty;
  if (extra !== undefined) segments.push(String(extra));
  return [context === 'body' ? '' : context, ...segments].filter(Boolean).join('.') || (context ?? 'body');
}

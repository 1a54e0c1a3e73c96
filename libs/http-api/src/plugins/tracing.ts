import { ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  SpanKind,
  SpanStatusCode,
  tracer,
  tracingEnabled,
  type Context,
  type Span,
} from '@sps/observability';

interface RequestSpan {
  span: Span;
  context: Context;
}

const spans = new WeakMap<FastifyRequest, RequestSpan>();

/**
 * A SERVER span per request (`POST /v1/analyze`: method and route template), child of an incoming
 * `traceparent` when the caller sent one. The span is the active context while the hooks and the
 * route run, so what the route produces to Kafka carries it: entered at onRequest, and entered
 * again at preHandler because reading the body resumes from the socket's callbacks, outside it.
 * Without tracing (no SDK) the span is a no-op.
 */
export const httpTracing = fp(async (app) => {
  app.addHook('onRequest', (request, _reply, done) => {
    if (!tracingEnabled()) return done(); // per request: nothing to build when nothing records
    const route = request.routeOptions.url;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const [path] = request.url.split('?');
    const span = tracer().startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          ...(route ? { 'http.route': route } : {}),
          'url.path': path,
          'url.scheme': request.protocol,
          'server.address': request.hostname.replace(/:\d+$/, ''),
          'network.protocol.version': request.raw.httpVersion,
          'client.address': request.ip,
          ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    const entry = { span, context: trace.setSpan(parent, span) };
    spans.set(request, entry);
    enter(entry, done);
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request);
    if (!entry) return done();
    enter(entry, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    finish(request, reply);
    done();
  });
  // Abandoned by the client before an answer: the span still ends.
  app.addHook('onRequestAbort', (request, done) => {
    const entry = spans.get(request);
    if (entry) {
      spans.delete(request);
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted by the client' });
      entry.span.end();
    }
    done();
  });
});

/** Continues the hook chain inside the span's context: the next hooks and the handler inherit it. */
function enter(entry: RequestSpan, done: () => void): void {
  context.with(entry.context, done);
}

function finish(request: FastifyRequest, reply: FastifyReply): void {
  const entry = spans.get(request);
  if (!entry) return;
  spans.delete(request);
  const { span } = entry;
  span.setAttribute('http.response.status_code', reply.statusCode);
  if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

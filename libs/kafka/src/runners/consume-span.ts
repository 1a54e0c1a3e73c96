import { ROOT_CONTEXT } from '@opentelemetry/api';
import {
  contextFromHeaders,
  inSpan,
  linkTo,
  NO_SPAN,
  SpanKind,
  tracingEnabled,
  type Link,
  type Span,
} from '@sps/observability';
import type { RawRecord } from '../records.js';

/**
 * Runs a handler inside a CONSUMER span `process <topic>`. One record: the span is a child of the
 * context its `traceparent` carries, so the consumer joins the producer's trace. A batch (the
 * batch runner): the span links to every record's context, and is the child of the only record's
 * context when the batch holds one record (the usual case at low volume, which keeps a request's
 * trace whole); a batch of several starts a trace of its own, reachable through the links.
 */
export function inConsumeSpan<T>(
  records: RawRecord[],
  groupId: string,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracingEnabled()) return work(NO_SPAN); // per record: no contexts or attributes built for nothing
  const first = records[0]!;
  const contexts = records.map((record) => contextFromHeaders(record.headers, ROOT_CONTEXT));
  const single = records.length === 1;
  return inSpan(
    `process ${first.topic}`,
    {
      kind: SpanKind.CONSUMER,
      parent: single ? contexts[0] : ROOT_CONTEXT,
      links: single ? undefined : contexts.flatMap((c) => linkTo(c) ?? []),
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': first.topic,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.consumer.group.name': groupId,
        'messaging.destination.partition.id': String(first.partition),
        ...(single
          ? { 'messaging.kafka.offset': Number(first.offset) }
          : { 'messaging.batch.message_count': records.length }),
      },
    },
    work,
  );
}

/** The links to each record's context (what a span over several records points back to). */
export function recordLinks(records: { headers: Record<string, string> }[]): Link[] {
  return records.flatMap((record) => linkTo(contextFromHeaders(record.headers, ROOT_CONTEXT)) ?? []);
}

import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS, OutputFormat, PromptOptions, ServiceError, UserSchema } from '@sps/contracts';
import type { JobCancellations } from '@sps/cache';
import { cancelJob, createJob, findJob, jobDeliveries, jobItems, listJobs, type Database } from '@sps/db';
import { checkWebhookTarget } from '@sps/webhooks';
import { checkSchemaLimits } from '../input-limits.js';
import { SchemaRef, resolveReferences } from '../schema-ref.js';
import type { PipelineClient } from '../pipeline-client.js';
import { Cursor, CURSOR_PATTERN, notBoth } from '../schemas/common.js';
import { authenticatedErrors, bodyErrors } from '../schemas/errors.js';
import { owesPublication, publishJobItems } from '../job-publisher.js';

const JOB_MAX_ITEMS = 1_000;

const JobBody = Type.Object(
  {
    job_type: Type.Union([Type.Literal('analyze'), Type.Literal('batch')]),
    request_params: Type.Object(
      {
        prompt: Type.Optional(
          Type.String({ minLength: 1, maxLength: LIMITS.promptMaxChars, pattern: '\\S' }),
        ),
        prompts: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.promptMaxChars, pattern: '\\S' }), {
            minItems: 1,
            maxItems: JOB_MAX_ITEMS,
          }),
        ),
        format: Type.Optional(OutputFormat),
        schema: Type.Optional(UserSchema),
        schema_ref: Type.Optional(SchemaRef),
        options: Type.Optional(Type.Partial(PromptOptions)),
      },
      { additionalProperties: false, ...notBoth('schema', 'schema_ref') },
    ),
    webhook_url: Type.Optional(
      Type.String({
        format: 'uri',
        maxLength: 2048,
        description:
          'http(s), without credentials; refused (400) when its host is, or resolves to, a private, ' +
          'loopback or otherwise non-public address. A host that does not resolve yet is accepted: ' +
          'the target is checked again before every delivery.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'an analyze job takes request_params.prompt, a batch job request_params.prompts',
    if: { properties: { job_type: { const: 'analyze' } } },
    then: {
      properties: {
        request_params: {
          required: ['prompt'],
          not: {
            required: ['prompts'],
            description: 'is not allowed in an analyze job (it takes one prompt)',
          },
        },
      },
    },
    else: {
      properties: {
        request_params: {
          required: ['prompts'],
          not: { required: ['prompt'], description: 'is not allowed in a batch job (it takes prompts)' },
        },
      },
    },
    examples: [
      {
        job_type: 'batch',
        request_params: { prompts: ['Invoice #1 ...', 'Invoice #2 ...'] },
        webhook_url: 'https://example.com/hooks/sps',
      },
    ],
  },
);

const JobAccepted = Type.Object({
  job_id: Type.String({ format: 'uuid' }),
  status: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time' }),
});

const JobView = Type.Object({
  job_id: Type.String(),
  job_type: Type.String(),
  status: Type.String(),
  progress: Type.Object({ total: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() }),
  results: Type.Array(
    Type.Object({
      index: Type.Union([Type.Integer(), Type.Null()]),
      request_id: Type.String(),
      status: Type.String(),
      output: Type.Unknown(),
      error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    }),
  ),
  webhook: Type.Union([
    Type.Object({
      url: Type.String(),
      status: Type.Union([Type.String(), Type.Null()]),
      deliveries: Type.Array(
        Type.Object({
          attempt: Type.Integer(),
          attempted_at: Type.String(),
          status_code: Type.Union([Type.Integer(), Type.Null()]),
          latency_ms: Type.Union([Type.Integer(), Type.Null()]),
          outcome: Type.String(),
          error: Type.Union([Type.String(), Type.Null()]),
        }),
      ),
    }),
    Type.Null(),
  ]),
  created_at: Type.String(),
  started_at: Type.Union([Type.String(), Type.Null()]),
  completed_at: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.String(),
  processing_time_ms: Type.Union([Type.Integer(), Type.Null()]),
});

const JobSummary = Type.Pick(JobView, [
  'job_id',
  'job_type',
  'status',
  'progress',
  'created_at',
  'completed_at',
]);
const JobId = Type.Object({ id: Type.String({ format: 'uuid' }) });

interface JobRoutesOptions {
  db: Database;
  pipeline: PipelineClient;
  cancellations: JobCancellations;
  webhookAllowlist: string[];
}

/** Asynchronous jobs: accepted at once (202), items run through the pipeline, status polled or pushed by webhook. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesOptions> = async (app, options) => {
  const { db, pipeline } = options;

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Submit an asynchronous job (Idempotency-Key honoured)',
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        }),
        body: JobBody,
        response: { 202: JobAccepted, ...bodyErrors(403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { job_type, webhook_url } = request.body;
      const request_params = await resolveReferences(
        db,
        request.principal.tenantId,
        request.body.request_params,
        'request_params.',
      );
      const prompts = promptsOf(job_type, request_params);
      checkSchemaLimits(request_params.schema, 'request_params.schema');
      if (webhook_url) {
        const target = await checkWebhookTarget(webhook_url, options.webhookAllowlist);
        // A host that does not resolve now may later: delivery checks the target again (documented).
        if (!target.ok && !target.transient) throw invalid('webhook_url', target.reason);
      }
      const idempotencyKey = request.headers['idempotency-key'];
      // A resubmission (same Idempotency-Key) queues no new work: it was admitted, and its prompts
      // charged, the first time; a client retrying near its limit gets its job, not a 429.
      const resubmitted =
        idempotencyKey !== undefined &&
        (await db
          .selectFrom('jobs')
          .select('id')
          .where('tenant_id', '=', request.principal.tenantId)
          .where('idempotency_key', '=', idempotencyKey)
          .executeTakeFirst()) !== undefined;
      const admitted = resubmitted
        ? request_params.options
        : await app.admission.admit(request, reply, {
            prompts: prompts.length,
            options: request_params.options,
            field: 'request_params.options',
          });
      const { job, created } = await createJob(db, {
        tenantId: request.principal.tenantId,
        apiKeyId: request.principal.apiKeyId,
        jobType: job_type,
        requestParams: admitted ? { ...request_params, options: admitted } : request_params,
        totalItems: prompts.length,
        webhookUrl: webhook_url,
        idempotencyKey,
      });
      // Two first submissions raced and the other one created the job: give this one's prompts back.
      if (!created) await app.admission.refund(request, reply);
      // A new job, or a resubmission of one whose publication failed: publish (again) from the
      // stored row. Items keep their request ids, so an item published twice is stored once.
      if (owesPublication(job)) {
        await publishJobItems({ db, pipeline }, job).catch((error: unknown) => {
          request.log.warn({ err: error, job_id: job.id }, 'job stored but not all items were queued');
          throw new ServiceError(
            'SERVICE_UNAVAILABLE',
            idempotencyKey
              ? `job ${job.id} was stored but not all items were queued; resubmit with the same Idempotency-Key later`
              : `job ${job.id} was stored but not all items were queued; they will be queued again automatically`,
            { job_id: job.id },
          );
        });
      }
      return reply.code(202).send({
        job_id: job.id,
        status: job.status,
        created_at: iso(job.created_at),
        expires_at: iso(job.expires_at),
      });
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Job status, progress, results and webhook deliveries',
        params: JobId,
        response: { 200: JobView, ...authenticatedErrors(404) },
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const job = await findJob(db, tenantId, request.params.id);
      if (!job) throw new ServiceError('NOT_FOUND', `no job ${request.params.id}`);
      const [items, deliveries] = await Promise.all([
        jobItems(db, tenantId, job.id),
        jobDeliveries(db, tenantId, job.id),
      ]);
      return {
        ...summaryOf(job),
        results: items.map((item) => ({
          index: item.item_index,
          request_id: item.request_id,
          status: item.status,
          output: item.response_data ?? null,
          error: item.error_code ? { code: item.error_code, message: item.error_message ?? '' } : null,
        })),
        webhook: job.webhook_url
          ? {
              url: job.webhook_url,
              status: job.webhook_status,
              deliveries: deliveries.map((d) => ({ ...d, attempted_at: iso(d.attempted_at) })),
            }
          : null,
        started_at: job.started_at ? iso(job.started_at) : null,
        expires_at: iso(job.expires_at),
        processing_time_ms:
          job.started_at && job.completed_at
            ? new Date(job.completed_at).getTime() - new Date(job.created_at).getTime()
            : null,
      };
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'List jobs, newest first, with cursor pagination',
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
            cursor: Type.Optional(Cursor),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            jobs: Type.Array(JobSummary),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...authenticatedErrors(),
        },
      },
    },
    async (request) => {
      const after = request.query.cursor ? decodeCursor(request.query.cursor) : undefined;
      const rows = await listJobs(db, request.principal.tenantId, request.query.limit + 1, after);
      const page = rows.slice(0, request.query.limit);
      const last = page.at(-1);
      return {
        jobs: page.map(summaryOf),
        next_cursor:
          rows.length > page.length && last ? encodeCursor(BigInt(last.created_at_us), last.id) : null,
      };
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel the items of a job that have not run',
        description:
          'Cancels, does not remove: the job stays readable (status `cancelled`, with the results of ' +
          'the items that had run) until it expires. 409 when it had already ended.',
        params: JobId,
        response: { 200: JobSummary, ...authenticatedErrors(404, 409, 413, 415) },
      },
    },
    async (request) => {
      const tenantId = request.principal.tenantId;
      const cancelled = await cancelJob(db, tenantId, request.params.id);
      if (!cancelled) {
        const job = await findJob(db, tenantId, request.params.id);
        if (!job) throw new ServiceError('NOT_FOUND', `no job ${request.params.id}`);
        throw new ServiceError('CONFLICT', `job ${job.id} has already ended (${job.status})`);
      }
      await options.cancellations
        .cancel(cancelled.id)
        .catch(() => request.log.warn({ job_id: cancelled.id }, 'cancellation flag not stored'));
      return summaryOf(cancelled);
    },
  );
};

function promptsOf(jobType: 'analyze' | 'batch', params: { prompt?: string; prompts?: string[] }): string[] {
  if (jobType === 'analyze') {
    if (!params.prompt || params.prompts)
      throw invalid('request_params.prompt', 'an analyze job takes one prompt (and no prompts)');
    return [params.prompt];
  }
  if (!params.prompts || params.prompt)
    throw invalid('request_params.prompts', 'a batch job takes prompts (and no prompt)');
  return params.prompts;
}

function invalid(field: string, reason: string): ServiceError {
  return new ServiceError('INVALID_REQUEST', `${field}: ${reason}`, { fields: [{ field, reason }] });
}

function summaryOf(job: {
  id: string;
  job_type: string;
  status: string;
  total_items: number;
  completed_items: number;
  failed_items: number;
  created_at: Date | string;
  completed_at: Date | string | null;
}) {
  return {
    job_id: job.id,
    job_type: job.job_type,
    status: job.status,
    progress: { total: job.total_items, completed: job.completed_items, failed: job.failed_items },
    created_at: iso(job.created_at),
    completed_at: job.completed_at ? iso(job.completed_at) : null,
  };
}

const iso = (value: Date | string) => new Date(value).toISOString();

/**
 * A cursor is 22 bytes in base64url: the last row's created_at (ms since the epoch, 6 bytes) and
 * id (16 bytes). Every string of CURSOR_PATTERN decodes to a position (a time within 6 bytes of
 * milliseconds, any uuid), so the schema's pattern is exactly what is accepted.
 */
/** 24 bytes, base64url: created_at in microseconds since the epoch (8), then the job id (16). */
export function encodeCursor(createdAtMicros: bigint, id: string): string {
  const bytes = Buffer.alloc(24);
  bytes.writeBigUInt64BE(createdAtMicros, 0);
  Buffer.from(id.replace(/-/g, ''), 'hex').copy(bytes, 8);
  return bytes.toString('base64url');
}

export function decodeCursor(cursor: string): { createdAtMicros: bigint; id: string } {
  if (!new RegExp(CURSOR_PATTERN).test(cursor)) throw invalid('cursor', 'is not a cursor this API returned');
  const bytes = Buffer.from(cursor, 'base64url');
  const hex = bytes.subarray(8).toString('hex');
  const id = hex.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  // Past year 9999 is no date Postgres or this API made: clamp so that any string of the pattern decodes.
  const micros = bytes.readBigUInt64BE(0);
  const max = 253_402_300_799_999_999n;
  return { createdAtMicros: micros > max ? max : micros, id };
}

import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS, OutputFormat, PromptOptions, ServiceError, UserSchema } from '@sps/contracts';
import type { JobCancellations } from '@sps/cache';
import { cancelJob, createJob, findJob, jobDeliveries, jobItems, listJobs, type Database } from '@sps/db';
import { checkWebhookTarget } from '@sps/webhooks';
import { checkSchemaLimits } from '../input-limits.js';
import { SchemaRef, resolveReferences } from '../schema-ref.js';
import type { PipelineClient } from '../pipeline-client.js';
import { errorResponses } from '../schemas/errors.js';
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
      { additionalProperties: false },
    ),
    webhook_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
  },
  {
    additionalProperties: false,
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
        response: { 202: JobAccepted, ...errorResponses(400, 401, 429, 503) },
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
        if (!target.ok) throw invalid('webhook_url', target.reason);
      }
      const idempotencyKey = request.headers['idempotency-key'];
      const { job } = await createJob(db, {
        tenantId: request.principal.tenantId,
        apiKeyId: request.principal.apiKeyId,
        jobType: job_type,
        requestParams: request_params,
        totalItems: prompts.length,
        webhookUrl: webhook_url,
        idempotencyKey,
      });
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
        response: { 200: JobView, ...errorResponses(400, 401, 404) },
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
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          cursor: Type.Optional(Type.String()),
        }),
        response: {
          200: Type.Object({
            jobs: Type.Array(JobSummary),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401),
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
          rows.length > page.length && last ? encodeCursor(new Date(last.created_at), last.id) : null,
      };
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel the items of a job that have not run',
        params: JobId,
        response: { 200: JobSummary, ...errorResponses(400, 401, 404, 409) },
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

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    if (Number.isNaN(Date.parse(createdAt)) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor');
    return { createdAt: new Date(createdAt), id };
  } catch {
    throw invalid('cursor', 'is not a cursor this API returned');
  }
}

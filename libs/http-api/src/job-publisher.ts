import { PeriodicTask } from '@sps/runtime';
import { jobItemRequestId, type PromptRequestMessage } from '@sps/contracts';
import {
  claimUnpublishedJob,
  markItemsPublished,
  type AuthenticatedKey,
  type DatabaseSchema,
  type JobRow,
} from '@sps/db';
import type { Logger } from '@sps/observability';
import type { Kysely } from 'kysely';
import type { PipelineClient } from './pipeline-client.js';
import { buildRequest } from './routes/analyze.js';

/** Items of a job have no HTTP deadline: each may take the longest a provider call may take. */
const ITEM_TIMEOUT_MS = 120_000;
const DAY_MS = 24 * 3600_000;

export interface JobPublisherDeps {
  /** The database, or the transaction that holds the job's row. */
  db: Kysely<DatabaseSchema>;
  pipeline: Pick<PipelineClient, 'submit'>;
}

export type PublishableJob = Pick<
  JobRow,
  'id' | 'tenant_id' | 'api_key_id' | 'request_params' | 'total_items' | 'expires_at'
>;

/** What POST /v1/jobs stores as request_params: the body's, with its references resolved. */
interface StoredJobParams {
  prompt?: string;
  prompts?: string[];
  format?: PromptRequestMessage['format'];
  schema?: PromptRequestMessage['schema'];
  options?: PromptRequestMessage['options'];
  labels?: PromptRequestMessage['labels'];
}

export class JobPublicationError extends Error {
  constructor(
    readonly jobId: string,
    readonly failed: number,
    readonly total: number,
    cause: unknown,
  ) {
    super(`${failed} of ${total} items of job ${jobId} were not acknowledged by Kafka`, { cause });
    this.name = 'JobPublicationError';
  }
}

/** Whether the job's items are owed to the pipeline: not all acknowledged, and the job still runs. */
export function owesPublication(
  job: Pick<JobRow, 'items_published_at' | 'status' | 'expires_at'>,
  now = Date.now(),
): boolean {
  return (
    job.items_published_at === null &&
    (job.status === 'pending' || job.status === 'processing') &&
    new Date(job.expires_at).getTime() > now
  );
}

/**
 * The pipeline messages of a job's items, built from the stored row alone (so that a resubmission
 * or the resumer publishes exactly what the first attempt did). Item i always has the request id
 * jobItemRequestId(job, i): publishing it again never makes a second result row.
 */
export function jobItemMessages(job: PublishableJob): PromptRequestMessage[] {
  const { prompt, prompts, ...shared } = job.request_params as StoredJobParams;
  const items = prompts ?? (prompt === undefined ? [] : [prompt]);
  if (items.length !== job.total_items)
    throw new Error(`job ${job.id} stores ${items.length} prompts for ${job.total_items} items`);
  const principal: AuthenticatedKey = {
    tenantId: job.tenant_id,
    apiKeyId: job.api_key_id ?? '',
    name: '',
    rateLimitPerHour: 0,
  };
  // The job's own expiry bounds its items (a day after it was created, as before; an item published
  // again later gets no more time than the job has left).
  const deadline = new Date(Math.min(Date.now() + DAY_MS, new Date(job.expires_at).getTime())).toISOString();
  const options = { ...shared.options, timeout_ms: ITEM_TIMEOUT_MS };
  return items.map((itemPrompt, index) =>
    buildRequest(
      principal,
      { ...shared, prompt: itemPrompt, options },
      {
        request_id: jobItemRequestId(job.id, index),
        job_id: job.id,
        item_index: index,
        deadline_at: deadline,
        ...(job.api_key_id ? {} : { api_key_id: undefined }),
      },
    ),
  );
}

/**
 * Publishes every item of the job and, once Kafka acknowledged all of them, sets
 * items_published_at. Throws JobPublicationError (after every send settled) when any item was not
 * acknowledged: the job stays unpublished, and publishing it again is safe (same request ids).
 */
export async function publishJobItems(deps: JobPublisherDeps, job: PublishableJob): Promise<void> {
  const messages = jobItemMessages(job);
  const outcomes = await Promise.allSettled(
    messages.map((message) => deps.pipeline.submit(message, { awaitReply: false })),
  );
  const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failures.length > 0)
    throw new JobPublicationError(job.id, failures.length, messages.length, failures[0]!.reason);
  await markItemsPublished(deps.db, job.id);
}

export interface JobPublicationResumerOptions {
  db: Kysely<DatabaseSchema>;
  pipeline: Pick<PipelineClient, 'submit'>;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Pause between rounds. Default 10 s. */
  intervalMs?: number;
  /** A job is resumed only once it is this old, so the request that created it has had its chance. Default 30 s. */
  resumeAfterMs?: number;
  /** At most this many jobs per round. Default 100. */
  maxJobsPerRound?: number;
  /** How long a job whose publication failed is left alone before it is tried again. Default 60 s. */
  retryBackoffMs?: number;
}

/**
 * Publishes the jobs whose publication was cut short and that nobody resubmitted (a crash between
 * storing a job and publishing its items, or a failed send whose 503 the client ignored). Each job
 * is claimed with SELECT ... FOR UPDATE SKIP LOCKED in a transaction held while its items are
 * published and it is marked: two API instances never publish the same job at once. A job may
 * still be published twice (a resubmission racing the resumer, or a crash before the mark
 * commits): its items keep their request ids, and the sink stores each request id once.
 */
export class JobPublicationResumer {
  private readonly task: PeriodicTask;
  /** Jobs whose publication just failed, with when they may be tried again. */
  private readonly backoff = new Map<string, number>();
  private readonly resumeAfterMs: number;
  private readonly maxJobsPerRound: number;
  private readonly retryBackoffMs: number;

  constructor(private readonly options: JobPublicationResumerOptions) {
    this.resumeAfterMs = options.resumeAfterMs ?? 30_000;
    this.maxJobsPerRound = options.maxJobsPerRound ?? 100;
    this.retryBackoffMs = options.retryBackoffMs ?? 60_000;
    this.task = new PeriodicTask(
      options.intervalMs ?? 10_000,
      () => this.resumeStalledJobs(),
      (error) => this.options.logger?.error({ err: error }, 'job resumer round failed'),
    );
  }

  start(): void {
    this.task.start();
  }

  /** Stops the loop and waits for the round in flight, if any. */
  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** One round: publishes stalled jobs one at a time; returns how many were published. */
  async resumeStalledJobs(): Promise<number> {
    const now = Date.now();
    for (const [id, until] of this.backoff) if (until <= now) this.backoff.delete(id);
    let published = 0;
    while (published < this.maxJobsPerRound && !this.task.isStopped) {
      const outcome = await this.options.db.transaction().execute(async (trx) => {
        const job = await claimUnpublishedJob(trx, {
          createdBeforeMs: this.resumeAfterMs,
          exclude: [...this.backoff.keys()],
        });
        if (!job) return 'none';
        try {
          await publishJobItems({ db: trx, pipeline: this.options.pipeline }, job);
          this.options.logger?.info({ job_id: job.id, items: job.total_items }, 'stalled job published');
          return 'published';
        } catch (error) {
          this.backoff.set(job.id, Date.now() + this.retryBackoffMs);
          this.options.logger?.warn({ err: error, job_id: job.id }, 'stalled job still not published');
          return 'failed'; // committed: nothing was written, the claim is released
        }
      });
      if (outcome !== 'published') break; // none left, or Kafka refuses: wait for the next round
      published += 1;
    }
    return published;
  }
}

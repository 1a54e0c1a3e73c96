import { PeriodicTask } from '@sps/runtime';
import { nameBasedUuid, type JobEventMessage } from '@sps/contracts';
import {
  expireJobs,
  jobsWithUnsentOutcome,
  lockJobsAwaitingEvent,
  markEventEmitted,
  type Database,
} from '@sps/db';
import type { Logger } from '@sps/observability';
import { Counter, type Registry } from 'prom-client';

type EndStatus = JobEventMessage['status'];
const END_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled', 'expired'] satisfies EndStatus[];

/**
 * The id of a job's outcome event: a UUID derived from SHA-256 of `${jobId}:${status}`. Whoever
 * emits a job's outcome, and however often, emits it under this one id (the webhook-id receivers
 * deduplicate on).
 */
export function jobEventId(jobId: string, status: EndStatus): string {
  return nameBasedUuid(`${jobId.toLowerCase()}:${status}`);
}

/** The row fields a job's outcome event is made of. */
export interface EndedJob {
  id: string;
  tenant_id: string;
  status: string;
  webhook_url: string | null;
  total_items: number;
  completed_items: number;
  failed_items: number;
  completed_at: Date | string | null;
}

/**
 * The outcome event of an ended job. Everything in it comes from the row (occurred_at is when the
 * job ended), so two emissions of the same ended job are the same event.
 */
export function jobEvent(job: EndedJob): JobEventMessage {
  if (!END_STATUSES.includes(job.status)) throw new Error(`job ${job.id} has not ended (${job.status})`);
  const status = job.status as EndStatus;
  return {
    event_id: jobEventId(job.id, status),
    type: `job.${status}`,
    job_id: job.id,
    tenant_id: job.tenant_id,
    status,
    ...(job.webhook_url ? { webhook_url: job.webhook_url } : {}),
    summary: { total: job.total_items, successful: job.completed_items, failed: job.failed_items },
    occurred_at: new Date(job.completed_at ?? Date.now()).toISOString(),
  };
}

export interface JobOutcomeDeps {
  db: Database;
  /** Resolves once the record is acknowledged (acks=all). */
  send: (topic: string, record: { key: string; value: string }) => Promise<void>;
  /** The job-events topic. */
  topic: string;
  /** Where ended jobs are counted (`sps_jobs_finished_total{status}`); none: not counted. */
  registry?: Registry;
}

/** Jobs whose outcome event was emitted, by end status (shared by the sink and its sweeper). */
function jobsFinished(registry: Registry): Counter<'status'> {
  return (
    (registry.getSingleMetric('sps_jobs_finished_total') as Counter<'status'> | undefined) ??
    new Counter({
      name: 'sps_jobs_finished_total',
      help: 'jobs ended (outcome event emitted), by status',
      labelNames: ['status'],
      registers: [registry],
    })
  );
}

/**
 * Emits the outcome event of each of these jobs that has ended and whose event is still owed, then
 * marks it emitted (jobs.event_emitted_at, the outbox mark). Call it after the commit that may have
 * ended them. Returns the events emitted.
 *
 * The owed rows are locked (FOR UPDATE SKIP LOCKED) in a transaction that lasts until they are
 * marked, so of several sink instances (or a sink and its sweeper) only one emits a given job; the
 * others skip it. If the sends or the mark fail, nothing is marked and the error is thrown: the
 * next attempt (a redelivered batch, or the sweeper) emits again. An event can thus still go out
 * twice (sent, then the mark lost to a crash), but then as the same event — same event_id, same
 * content — which consumers and webhook receivers deduplicate.
 */
export async function emitJobOutcomes(deps: JobOutcomeDeps, jobIds: string[]): Promise<JobEventMessage[]> {
  const ids = [...new Set(jobIds)];
  if (ids.length === 0) return [];
  const emitted = await deps.db.transaction().execute(async (trx) => {
    const owed = await lockJobsAwaitingEvent(trx, ids);
    if (owed.length === 0) return [];
    const events = owed.map(jobEvent);
    await Promise.all(
      events.map((event) => deps.send(deps.topic, { key: event.job_id, value: JSON.stringify(event) })),
    );
    await markEventEmitted(
      trx,
      events.map((event) => event.job_id),
    );
    return events;
  });
  if (deps.registry) {
    const counter = jobsFinished(deps.registry);
    for (const event of emitted) counter.inc({ status: event.status });
  }
  return emitted;
}

export interface JobSweeperOptions extends JobOutcomeDeps {
  /** Pause between sweeps. Default 30 s. */
  intervalMs?: number;
  /** An ended job's event is repaired once it is this long overdue. Default 10 s. */
  emitGraceMs?: number;
  /** Jobs that ended longer ago than this are left alone. Default 7 days (the events topic's retention). */
  lookbackMs?: number;
  /** Jobs per page (one statement, one transaction). Default 100. */
  pageSize?: number;
  /** Pages per step of a sweep; the rest waits for the next sweep. Default 20. */
  maxPages?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/**
 * Ends what nothing else would end, in the sink:
 * (a) jobs still pending or processing past their expires_at become `expired` (completed_at = now)
 *     and their `job.expired` event is emitted;
 * (b) ended jobs whose event is still owed some seconds after they ended (the sink crashed, or
 *     Kafka failed, between the commit that ended them and the emission, and no redelivery came)
 *     get their event.
 * Several sink instances may sweep at once: expiry takes rows with SKIP LOCKED and is guarded by
 * status, emission goes through emitJobOutcomes (locked rows, skipped by the others), and should a
 * job's event still be emitted twice, its deterministic id (jobEventId) makes both emissions the
 * same event.
 */
export class JobSweeper {
  private readonly task: PeriodicTask;
  private readonly emitGraceMs: number;
  private readonly lookbackMs: number;
  private readonly pageSize: number;
  private readonly maxPages: number;

  constructor(private readonly options: JobSweeperOptions) {
    this.emitGraceMs = options.emitGraceMs ?? 10_000;
    this.lookbackMs = options.lookbackMs ?? 7 * 24 * 3600_000;
    this.pageSize = options.pageSize ?? 100;
    this.maxPages = options.maxPages ?? 20;
    this.task = new PeriodicTask(
      options.intervalMs ?? 30_000,
      () => this.sweep(),
      (error) => this.options.logger?.warn({ err: error }, 'job sweep failed; retried next time'),
    );
  }

  /** Sweeps every intervalMs (the first sweep one interval after start). */
  start(): void {
    this.task.start();
  }

  /** Stops the loop and waits for the round in flight, if any. */
  async stop(): Promise<void> {
    await this.task.stop();
  }

  /** One sweep; returns how many jobs it expired and how many events it emitted. */
  async sweep(): Promise<{ expired: number; emitted: number }> {
    const deps = { db: this.options.db, send: this.options.send, topic: this.options.topic };
    let expired = 0;
    let emitted = 0;
    for (let page = 0; page < this.maxPages; page++) {
      const ids = await expireJobs(this.options.db, this.pageSize);
      expired += ids.length;
      // Right away: an expiry has no other emitter (if this fails, step (b) repairs it later).
      emitted += (await emitJobOutcomes(deps, ids)).length;
      if (ids.length < this.pageSize) break;
    }
    let afterId: string | undefined;
    for (let page = 0; page < this.maxPages; page++) {
      const ids = await jobsWithUnsentOutcome(this.options.db, {
        endedBeforeMs: this.emitGraceMs,
        lookbackMs: this.lookbackMs,
        limit: this.pageSize,
        afterId,
      });
      if (ids.length === 0) break;
      emitted += (await emitJobOutcomes(deps, ids)).length;
      afterId = ids.at(-1);
      if (ids.length < this.pageSize) break;
    }
    if (expired > 0 || emitted > 0) this.options.logger?.info({ expired, emitted }, 'job sweep');
    return { expired, emitted };
  }
}

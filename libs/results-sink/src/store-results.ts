import { context, type Context } from '@opentelemetry/api';
import type { ResultMessage } from '@sps/contracts';
import { recordJobProgress, type Database } from '@sps/db';
import { classifyError, type ErrorClass } from '@sps/kafka';
import { insertResults } from './insert-results.js';
import { emitJobOutcomes, type JobOutcomeDeps } from './job-outcomes.js';

export interface StoreResultsDeps {
  db: Database;
  outcomes: JobOutcomeDeps;
}

/**
 * The sink's handler: stores results as request_logs rows (a redelivered result never makes a
 * second row), counts new rows towards their jobs in the same transaction, then emits the outcome
 * of every job that just ended. Returns how many rows were new. Throws whatever Postgres or Kafka
 * throw; the batch runner tells a dependency that is down from a row it refuses. `jobContext` gives
 * the trace context a job's event is produced under (the job's last result's), when traced.
 */
export async function storeResults(
  deps: StoreResultsDeps,
  results: ResultMessage[],
  jobContext?: (jobId: string) => Context | undefined,
): Promise<number> {
  const jobIds = [...new Set(results.flatMap((r) => (r.job_id ? [r.job_id] : [])))];
  // Without job items there is no progress to count with the rows, and the one INSERT is atomic
  // by itself: no BEGIN and COMMIT round trips. Synchronous calls arrive as a trickle of batches of
  // one or two results, where leaving those two statements out took a row from 0.42 to 0.26 ms.
  const fresh =
    jobIds.length === 0
      ? await insertResults(deps.db, results)
      : await deps.db.transaction().execute(async (trx) => {
          const inserted = await insertResults(trx, results);
          const items = inserted
            .filter((r) => r.job_id)
            .map((r) => ({ jobId: r.job_id!, succeeded: r.status === 'succeeded' }));
          await recordJobProgress(trx, items);
          return inserted;
        });
  if (jobIds.length > 0) {
    const outcomes: JobOutcomeDeps = jobContext
      ? {
          ...deps.outcomes,
          send: (topic, record) => {
            const traced = jobContext(record.key);
            const send = () => deps.outcomes.send(topic, record);
            return traced ? context.with(traced, send) : send();
          },
        }
      : deps.outcomes;
    await emitJobOutcomes(outcomes, jobIds);
  }
  return fresh.length;
}

/**
 * A result Postgres refused, reduced to what always stores: ids, a failed status and the reason.
 * Written after the original went to the DLQ, so that the request reads as failed, never missing,
 * and a job it belongs to still ends.
 */
export function refusedResult(original: Partial<ResultMessage>, reason: string): ResultMessage | undefined {
  if (typeof original.request_id !== 'string' || typeof original.tenant_id !== 'string') return undefined;
  return {
    request_id: original.request_id,
    tenant_id: original.tenant_id,
    ...(typeof original.api_key_id === 'string' ? { api_key_id: original.api_key_id } : {}),
    ...(typeof original.job_id === 'string' ? { job_id: original.job_id } : {}),
    ...(Number.isInteger(original.item_index) ? { item_index: original.item_index } : {}),
    status: 'failed',
    error: {
      code: 'INTERNAL_ERROR',
      message: `the result could not be stored (${reason.slice(0, 500)}); the original is kept in the results DLQ`,
    },
    prompt: '',
    request_params: {},
    attempts: [],
    processing_time_ms: 0,
    completed_at: new Date().toISOString(),
  };
}

/**
 * SQLSTATE classes: 22 (data exception: bad encoding, out of range) and 23 (integrity) and 54
 * (program limits) refuse the data itself. Connection loss and shutdown are a database that is
 * away. Any other SQLSTATE is waited out too: a sink that stalls and alerts is better than one
 * that dead-letters every result because of a deploy bug (the DLQ can be replayed, but still).
 */
export function classifyStorageError(error: unknown): ErrorClass {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (/^(22|23|54)/.test(code)) return 'permanent';
    return 'transient';
  }
  const message = (error as Error | null)?.message ?? '';
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  )
    return 'transient';
  return classifyError(error);
}

import type { ResultMessage } from '@sps/contracts';
import type { DatabaseSchema } from '@sps/db';
import { CompiledQuery, type Kysely } from 'kysely';

/**
 * The request_logs columns the sink writes, each with the type its values travel as. Text
 * columns travel as text[] even where the column is varchar(n): an explicit cast to varchar(n)
 * would silently truncate, while the assignment cast of the INSERT refuses a value that is too
 * long (22001), as a plain INSERT does.
 */
export const REQUEST_LOG_COLUMNS = [
  ['request_id', 'uuid'],
  ['tenant_id', 'text'],
  ['api_key_id', 'uuid'],
  ['job_id', 'uuid'],
  ['item_index', 'int4'],
  ['status', 'text'],
  ['prompt_text', 'text'],
  ['prompt_length', 'int4'],
  ['request_params', 'jsonb'],
  ['response_data', 'jsonb'],
  ['validation_status', 'text'],
  ['provider_used', 'text'],
  ['model', 'text'],
  ['processing_time_ms', 'int4'],
  ['tokens_in', 'int4'],
  ['tokens_out', 'int4'],
  ['tokens_used', 'int4'],
  ['cost_usd', 'numeric'],
  ['cached', 'bool'],
  ['repaired', 'bool'],
  ['error_code', 'text'],
  ['error_message', 'text'],
  ['error_details', 'jsonb'],
  ['attempts', 'jsonb'],
  ['created_at', 'timestamptz'],
] as const;

export type RequestLogColumn = (typeof REQUEST_LOG_COLUMNS)[number][0];
/** A scalar column's value; a jsonb column holds the JS value itself (null: SQL NULL). */
export type Cell = string | number | boolean | null;
export type RequestLogRow = Record<RequestLogColumn, Cell | object>;

/** One result as the request_logs row it is stored as. */
export function requestLogRow(result: ResultMessage): RequestLogRow {
  let tokensIn = 0;
  let tokensOut = 0;
  let cost = 0;
  for (const attempt of result.attempts) {
    tokensIn += attempt.tokens_in;
    tokensOut += attempt.tokens_out;
    cost += attempt.cost_usd;
  }
  const last = result.attempts.at(-1);
  return {
    request_id: result.request_id,
    tenant_id: result.tenant_id,
    api_key_id: result.api_key_id ?? null,
    job_id: result.job_id ?? null,
    item_index: result.item_index ?? null,
    status: result.status,
    prompt_text: result.prompt,
    prompt_length: result.prompt.length,
    request_params: result.request_params,
    response_data: result.output ?? null,
    validation_status:
      result.output?.validation_status ?? (result.error?.code === 'VALIDATION_FAILED' ? 'failed' : null),
    provider_used: result.output?.provider_used ?? last?.provider ?? null,
    model: result.output?.model ?? last?.model ?? null,
    processing_time_ms: result.processing_time_ms,
    tokens_in: tokensIn,
    tokens_out: tokensOut,
    tokens_used: tokensIn + tokensOut,
    cost_usd: cost,
    cached: result.output?.cached ?? false,
    repaired: result.output?.repaired ?? false,
    error_code: result.error?.code ?? null,
    error_message: result.error?.message ?? null,
    error_details: result.error?.details ?? null,
    attempts: result.attempts,
    created_at: result.completed_at,
  };
}

/**
 * The bind parameters of INSERT_STATEMENT for these rows, one per column: a scalar column's values
 * as the text of a Postgres array (arrayLiteral), a jsonb column's as one JSON array.
 */
export function insertParameters(rows: RequestLogRow[]): string[] {
  return REQUEST_LOG_COLUMNS.map(([name, type]) =>
    type === 'jsonb'
      ? JSON.stringify(rows.map((row) => row[name]))
      : arrayLiteral(rows.map((row) => row[name] as Cell)),
  );
}

// One statement whatever the row count: one bind parameter per column (a multi-row VALUES takes 25 a
// row, and Postgres at most 65,535 a statement) and one statement text (no new plan shape per row
// count). The scalar columns travel as arrays (unnest), the jsonb ones as one JSON array each
// (jsonb_array_elements: JSON.stringify once, no escaping of JSON text inside an array literal);
// ROWS FROM zips them row by row. Every value still goes through its column's input function and
// assignment cast, so a value Postgres refuses fails the statement as a plain INSERT does. An absent
// output or error details travels as JSON null and is stored as SQL NULL, as before.
const NULLABLE_JSON = new Set<RequestLogColumn>(['response_data', 'error_details']);
const INSERT_STATEMENT = (() => {
  const names = REQUEST_LOG_COLUMNS.map(([name]) => name);
  const sources = REQUEST_LOG_COLUMNS.map(([, type], i) =>
    type === 'jsonb' ? `jsonb_array_elements($${i + 1}::jsonb)` : `unnest($${i + 1}::${type}[])`,
  );
  const values = REQUEST_LOG_COLUMNS.map(([name]) =>
    NULLABLE_JSON.has(name) ? `nullif(${name}, 'null'::jsonb)` : name,
  );
  return (
    `insert into request_logs (${names.join(', ')}) select ${values.join(', ')} ` +
    `from rows from (${sources.join(', ')}) as r(${names.join(', ')}) ` +
    `on conflict (request_id) do nothing returning request_id`
  );
})();

/**
 * Writes results as request_logs rows, in one statement however many: a redelivered result never
 * makes a second row (ON CONFLICT (request_id) DO NOTHING), and a value Postgres refuses fails the
 * whole statement (SQLSTATE 22/23/54), so that the batch runner can bisect the batch down to it.
 * Returns the results whose rows are new, so that job progress counts each item once.
 */
export async function insertResults(
  db: Kysely<DatabaseSchema>,
  results: ResultMessage[],
): Promise<ResultMessage[]> {
  if (results.length === 0) return [];
  // Postgres reads a uuid case-insensitively: one row per uuid, however its text is spelt.
  const byId = new Map<string, ResultMessage>();
  for (const result of results) byId.set(result.request_id.toLowerCase(), result);
  const unique = [...byId.values()];
  const { rows } = await db.executeQuery<{ request_id: string }>(
    CompiledQuery.raw(INSERT_STATEMENT, insertParameters(unique.map(requestLogRow))),
  );
  const inserted = new Set(rows.map((row) => row.request_id.toLowerCase()));
  return unique.filter((r) => inserted.has(r.request_id.toLowerCase()));
}

/**
 * A column's values as the text of a Postgres array, the form the bind parameter travels in (what
 * node-postgres makes of a JS array, in one escaping pass instead of two): every string quoted, with
 * `\\` and `"` escaped, so that no value can end its element or the array; NULL for null.
 */
export function arrayLiteral(values: Cell[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) text += ',';
    if (value === null || value === undefined) text += 'NULL';
    else if (typeof value === 'string') text += `"${value.replace(ESCAPED, '\\$&')}"`;
    else text += `"${String(value)}"`;
  }
  return `${text}}`;
}
const ESCAPED = /[\\"]/g;

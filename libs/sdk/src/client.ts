import createFetchClient from 'openapi-fetch';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { components, paths } from './generated/api.js';
import { errorFromResponse, ServiceUnavailableError, SpsError, TimeoutError } from './errors.js';
import { retryingFetch, sleep, type RetryOptions } from './retry.js';

type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;
type Ok<P extends keyof paths, M extends keyof paths[P], S extends number = 200> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer R } } };
}
  ? R
  : never;

export type StructuredResponse = components['schemas']['StructuredResponse'];
export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];
export type AnalyzeBody = Json<'/v1/analyze', 'post'>;
export type BatchBody = Json<'/v1/analyze/batch', 'post'>;
export type JobBody = Json<'/v1/jobs', 'post'>;
export type JobAccepted = Ok<'/v1/jobs', 'post', 202>;
export type Job = Ok<'/v1/jobs/{id}', 'get'>;
export type JobPage = Ok<'/v1/jobs', 'get'>;
export type JobSummary = Ok<'/v1/jobs/{id}', 'delete'>;
export type StoredRequest = Ok<'/v1/requests/{id}', 'get'>;
export type SchemaRecord = Ok<'/v1/schemas/{name}', 'get'>;
export type TemplateRecord = Ok<'/v1/templates/{name}', 'get'>;
export type PromptOptions = NonNullable<AnalyzeBody['options']>;
export type OutputFormat = 'json' | 'xml';
export type { JSONSchema, FromSchema };

/** The data of an answer: a string for XML, the schema's type for JSON (unknown without a schema). */
export type DataFor<S, F> = F extends 'xml'
  ? string
  : [S] extends [undefined]
    ? unknown
    : S extends JSONSchema
      ? FromSchema<S>
      : unknown;

/** An analyze answer whose `data` has the type of the JSON Schema given. */
export type AnalyzeResult<T = unknown> = Omit<StructuredResponse, 'data'> & { data: T };

export type AnalyzeRequest<S, F extends OutputFormat> = Omit<AnalyzeBody, 'schema' | 'format'> & {
  schema?: S;
  format?: F;
};
export type BatchRequest<S, F extends OutputFormat> = Omit<BatchBody, 'schema' | 'format'> & {
  schema?: S;
  format?: F;
};

/** One refused item of a batch (the others still answered). */
export interface BatchItemError {
  index: number;
  request_id: string;
  error: { code: string; message: string; details?: Record<string, unknown> };
}
export interface BatchResult<T> {
  results: (AnalyzeResult<T> | BatchItemError)[];
  summary: { total: number; successful: number; failed: number };
  processing_time_ms: number;
}
export const isBatchError = <T>(item: AnalyzeResult<T> | BatchItemError): item is BatchItemError =>
  'error' in item && typeof item.error === 'object' && item.error !== null;

/** Job statuses after which nothing changes. */
export const TERMINAL_JOB_STATUSES = ['completed', 'failed', 'cancelled', 'expired'] as const;
export const isTerminal = (status: string): boolean =>
  (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);

export interface SpsClientOptions {
  /** The API key (sk_…). Default: SPS_API_KEY. */
  apiKey?: string;
  /** Default: SPS_BASE_URL, else http://127.0.0.1:8080. */
  baseUrl?: string;
  /** 429/503 retries (Retry-After honoured; jittered backoff otherwise). */
  retry?: RetryOptions;
  /** A fetch of your own (proxies, tests). */
  fetch?: (request: Request) => Promise<Response>;
  /** Sent as user-agent. */
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Give up after this long (default 10 min): a TimeoutError (code TIMEOUT, status 0). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** First poll interval (default 250 ms), then ×1.5 per poll with ±20 % jitter, up to `maxIntervalMs`. */
  intervalMs?: number;
  /** Longest interval between polls (default 5 s). */
  maxIntervalMs?: number;
  /** Told of each poll's view of the job. */
  onProgress?: (job: Job) => void;
  /** Done when this holds (default: a terminal status). E.g. also wait for the webhook's delivery. */
  until?: (job: Job) => boolean;
}

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

/** The client: every call goes through openapi-fetch, typed by the OpenAPI document of the API. */
export class SpsClient {
  /** The underlying openapi-fetch client, for any operation of the document. */
  readonly raw: ReturnType<typeof createFetchClient<paths>>;
  readonly baseUrl: string;

  constructor(options: SpsClientOptions = {}) {
    const apiKey = options.apiKey ?? process.env.SPS_API_KEY;
    this.baseUrl = (options.baseUrl ?? process.env.SPS_BASE_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    const base = options.fetch ?? ((request: Request) => globalThis.fetch(request));
    this.raw = createFetchClient<paths>({
      baseUrl: this.baseUrl,
      fetch: retryingFetch(base, options.retry),
      headers: {
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        'user-agent': options.userAgent ?? 'sps-sdk/0.1',
      },
    });
  }

  /**
   * One prompt, answered with validated data whose type follows `schema` (give it `as const`, or
   * inline: the type parameter is const). Without a schema, the default analysis applies.
   */
  async analyze<const S extends JSONSchema | undefined = undefined, const F extends OutputFormat = 'json'>(
    request: AnalyzeRequest<S, F>,
    options: CallOptions = {},
  ): Promise<AnalyzeResult<DataFor<S, F>>> {
    const body = request as AnalyzeBody;
    return (await unwrap(this.raw.POST('/v1/analyze', { body, signal: options.signal }))) as AnalyzeResult<
      DataFor<S, F>
    >;
  }

  /** Up to 100 prompts, answered in input order; failed items carry `error` (see isBatchError). */
  async analyzeBatch<
    const S extends JSONSchema | undefined = undefined,
    const F extends OutputFormat = 'json',
  >(request: BatchRequest<S, F>, options: CallOptions = {}): Promise<BatchResult<DataFor<S, F>>> {
    const body = request as BatchBody;
    return (await unwrap(
      this.raw.POST('/v1/analyze/batch', { body, signal: options.signal }),
    )) as BatchResult<DataFor<S, F>>;
  }

  readonly jobs = {
    /** Submits a job (202). The same `idempotencyKey` answers the same job. */
    submit: (body: JobBody, options: CallOptions & { idempotencyKey?: string } = {}): Promise<JobAccepted> =>
      unwrap(
        this.raw.POST('/v1/jobs', {
          body,
          params: { header: options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {} },
          signal: options.signal,
        }),
      ),
    get: (id: string, options: CallOptions = {}): Promise<Job> =>
      unwrap(this.raw.GET('/v1/jobs/{id}', { params: { path: { id } }, signal: options.signal })),
    /** One page, newest first; pass `next_cursor` back as `cursor`. */
    list: (query: { cursor?: string; limit?: number } = {}, options: CallOptions = {}): Promise<JobPage> =>
      unwrap(this.raw.GET('/v1/jobs', { params: { query }, signal: options.signal })),
    /** Every job, page after page. */
    all: (
      query: { limit?: number } = {},
      options: CallOptions = {},
    ): AsyncGenerator<JobPage['jobs'][number]> => this.allJobs(query, options),
    /** Cancels the items that have not run (409 CONFLICT once the job has ended). */
    cancel: (id: string, options: CallOptions = {}): Promise<JobSummary> =>
      unwrap(this.raw.DELETE('/v1/jobs/{id}', { params: { path: { id } }, signal: options.signal })),
    /** Polls the job with backoff until it ends (or `until` holds); returns its last view. */
    wait: (id: string, options: WaitOptions = {}): Promise<Job> => this.waitForJob(id, options),
  };

  readonly requests = {
    /** The stored result of one request (a job item, a 504'd call, a Kafka-native request). */
    get: (id: string, options: CallOptions = {}): Promise<StoredRequest> =>
      unwrap(this.raw.GET('/v1/requests/{id}', { params: { path: { id } }, signal: options.signal })),
  };

  readonly schemas = {
    list: async (options: CallOptions = {}): Promise<SchemaRecord[]> =>
      (await unwrap(this.raw.GET('/v1/schemas', { signal: options.signal }))).schemas,
    /** The latest version, or `version`. */
    get: (name: string, version?: number, options: CallOptions = {}): Promise<SchemaRecord> =>
      version === undefined
        ? unwrap(this.raw.GET('/v1/schemas/{name}', { params: { path: { name } }, signal: options.signal }))
        : unwrap(
            this.raw.GET('/v1/schemas/{name}/versions/{version}', {
              params: { path: { name, version } },
              signal: options.signal,
            }),
          ),
    /** Registers a new schema (version 1); 409 CONFLICT when the name exists. */
    create: (body: Json<'/v1/schemas', 'post'>, options: CallOptions = {}): Promise<SchemaRecord> =>
      unwrap(this.raw.POST('/v1/schemas', { body, signal: options.signal })),
    addVersion: (
      name: string,
      body: Json<'/v1/schemas/{name}/versions', 'post'>,
      options: CallOptions = {},
    ): Promise<SchemaRecord> =>
      unwrap(
        this.raw.POST('/v1/schemas/{name}/versions', {
          params: { path: { name } },
          body,
          signal: options.signal,
        }),
      ),
    /** Creates the schema, or adds a version when the name exists. */
    push: async (body: Json<'/v1/schemas', 'post'>, options: CallOptions = {}): Promise<SchemaRecord> => {
      try {
        return await this.schemas.create(body, options);
      } catch (error) {
        if (!(error instanceof SpsError) || error.code !== 'CONFLICT') throw error;
        const { name, ...version } = body;
        return this.schemas.addVersion(name, version, options);
      }
    },
    deprecate: (name: string, version: number, options: CallOptions = {}): Promise<SchemaRecord> =>
      unwrap(
        this.raw.POST('/v1/schemas/{name}/versions/{version}/deprecate', {
          params: { path: { name, version } },
          signal: options.signal,
        }),
      ),
  };

  readonly templates = {
    list: async (options: CallOptions = {}): Promise<TemplateRecord[]> =>
      (await unwrap(this.raw.GET('/v1/templates', { signal: options.signal }))).templates,
    get: (name: string, version?: number, options: CallOptions = {}): Promise<TemplateRecord> =>
      version === undefined
        ? unwrap(this.raw.GET('/v1/templates/{name}', { params: { path: { name } }, signal: options.signal }))
        : unwrap(
            this.raw.GET('/v1/templates/{name}/versions/{version}', {
              params: { path: { name, version } },
              signal: options.signal,
            }),
          ),
    create: (body: Json<'/v1/templates', 'post'>, options: CallOptions = {}): Promise<TemplateRecord> =>
      unwrap(this.raw.POST('/v1/templates', { body, signal: options.signal })),
    addVersion: (
      name: string,
      body: Json<'/v1/templates/{name}/versions', 'post'>,
      options: CallOptions = {},
    ): Promise<TemplateRecord> =>
      unwrap(
        this.raw.POST('/v1/templates/{name}/versions', {
          params: { path: { name } },
          body,
          signal: options.signal,
        }),
      ),
    /** Creates the template, or adds a version when the name exists. */
    push: async (body: Json<'/v1/templates', 'post'>, options: CallOptions = {}): Promise<TemplateRecord> => {
      try {
        return await this.templates.create(body, options);
      } catch (error) {
        if (!(error instanceof SpsError) || error.code !== 'CONFLICT') throw error;
        const { name, ...version } = body;
        return this.templates.addVersion(name, version, options);
      }
    },
  };

  readonly cache = {
    /** Deletes the caller's cached answers (those filed under a schema or template name, when given). */
    purge: (query: { schema?: string; template?: string } = {}, options: CallOptions = {}) =>
      unwrap(this.raw.DELETE('/v1/cache', { params: { query }, signal: options.signal })),
  };

  private async *allJobs(query: { limit?: number }, options: CallOptions) {
    let cursor: string | undefined;
    do {
      const page = await this.jobs.list({ ...query, ...(cursor ? { cursor } : {}) }, options);
      yield* page.jobs;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }

  private async waitForJob(id: string, options: WaitOptions): Promise<Job> {
    const timeoutMs = options.timeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    const done = options.until ?? ((job: Job) => isTerminal(job.status));
    let interval = options.intervalMs ?? 250;
    const maxInterval = options.maxIntervalMs ?? 5_000;
    for (;;) {
      const job = await this.jobs.get(id, { signal: options.signal });
      options.onProgress?.(job);
      if (done(job)) return job;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError({
          code: 'TIMEOUT',
          status: 0,
          message: `job ${id} is still ${job.status} after ${timeoutMs} ms`,
          details: { job_id: id, status: job.status, progress: job.progress },
        });
      }
      const jittered = interval * (0.8 + Math.random() * 0.4);
      await sleep(Math.min(jittered, left), options.signal);
      interval = Math.min(maxInterval, interval * 1.5);
    }
  }
}

/** A client; options default to SPS_API_KEY and SPS_BASE_URL. */
export function createClient(options: SpsClientOptions = {}): SpsClient {
  return new SpsClient(options);
}

/** The data of a success, or the typed error of anything else (envelope, or no answer at all). */
async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let outcome: { data?: T; error?: unknown; response: Response };
  try {
    outcome = await call;
  } catch (cause) {
    if (cause instanceof SpsError) throw cause;
    if ((cause as Error)?.name === 'AbortError' || (cause as Error)?.name === 'TimeoutError') throw cause;
    throw new ServiceUnavailableError({
      code: 'NETWORK_ERROR',
      status: 0,
      message: `no answer from the service: ${(cause as Error)?.message ?? String(cause)}`,
      cause,
    });
  }
  if (outcome.error !== undefined || !outcome.response.ok)
    throw errorFromResponse(outcome.response, outcome.error);
  return outcome.data as T;
}

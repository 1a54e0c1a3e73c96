import type { PromptRequestMessage, ResultMessage } from '@sps/contracts';
import { redactPii, type Redaction } from './pii.js';

const DEFAULTS = {
  temperature: 0.1,
  max_tokens: 2048,
  cache_ttl: 3600,
  timeout_ms: 30_000,
  language_detection: true,
  redact_pii: false,
  restore_pii: false,
};

export type RequestOptions = typeof DEFAULTS & NonNullable<PromptRequestMessage['options']>;

/** A request's options with the documented defaults filled in. */
export function optionsOf(request: PromptRequestMessage): RequestOptions {
  return { ...DEFAULTS, ...request.options };
}

/** The prompt as stored and sent on: redacted when the request asks for it (seed 5.3). */
export function redactionOf(request: PromptRequestMessage, options: RequestOptions): Redaction | undefined {
  return options.redact_pii ? redactPii(request.prompt) : undefined;
}

/**
 * The one result a request gets, whoever answers it (the processor, or ingest-api from the
 * cache): ids, the prompt as stored, the parameters it was asked with, and the outcome.
 */
export function resultOf(
  request: PromptRequestMessage,
  storedPrompt: string,
  outcome: Pick<ResultMessage, 'status' | 'output' | 'error' | 'attempts'>,
  startedAt: number,
): ResultMessage {
  return {
    request_id: request.request_id,
    tenant_id: request.tenant_id,
    api_key_id: request.api_key_id,
    job_id: request.job_id,
    item_index: request.item_index,
    prompt: storedPrompt,
    request_params: {
      format: request.format ?? 'json',
      schema: request.schema,
      options: request.options ?? {},
    },
    ...outcome,
    processing_time_ms: Math.round(performance.now() - startedAt),
    completed_at: new Date().toISOString(),
  };
}

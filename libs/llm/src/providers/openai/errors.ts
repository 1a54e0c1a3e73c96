import OpenAI from 'openai';
import { ProviderError } from '../../provider-error.js';

export function toProviderError(error: unknown, provider: string): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError('timeout', error.message, provider);
  if (error instanceof OpenAI.APIUserAbortError) return new ProviderError('timeout', 'aborted by deadline', provider);
  if (error instanceof OpenAI.APIConnectionError) return new ProviderError('network', error.message, provider);
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const retryAfter = Number(error.headers?.get?.('retry-after'));
    const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
    if (status === 429) return new ProviderError('rate_limited', error.message, provider, status, retryAfterMs);
    if (status === 401 || status === 403) return new ProviderError('auth', error.message, provider, status);
    if (status >= 500) return new ProviderError('server_error', error.message, provider, status, retryAfterMs);
    if (status >= 400) return new ProviderError('bad_request', error.message, provider, status);
  }
  return new ProviderError('unknown', error instanceof Error ? error.message : String(error), provider);
}

import Anthropic from '@anthropic-ai/sdk';
import { ProviderError } from '../../provider-error.js';
import { classifyHttpStatus, retryAfterMs } from '../http-status.js';

export function toProviderError(error: unknown, provider: string): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof Anthropic.APIConnectionTimeoutError)
    return new ProviderError('timeout', error.message, provider);
  if (error instanceof Anthropic.APIUserAbortError)
    return new ProviderError('timeout', 'aborted by deadline', provider);
  if (error instanceof Anthropic.APIConnectionError)
    return new ProviderError('network', error.message, provider);
  if (error instanceof Anthropic.APIError && error.status) {
    const status = error.status;
    return new ProviderError(
      classifyHttpStatus(status),
      error.message,
      provider,
      status,
      retryAfterMs(error.headers?.get('retry-after')),
    );
  }
  return new ProviderError('unknown', error instanceof Error ? error.message : String(error), provider);
}

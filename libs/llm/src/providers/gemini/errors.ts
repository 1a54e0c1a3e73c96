import { ApiError } from '@google/genai';
import { ProviderError } from '../../provider-error.js';
import { classifyHttpStatus, retryAfterMs } from '../http-status.js';

/** Gemini's SDK error carries the status only; the retry delay comes from the captured response. */
export function toProviderError(
  error: unknown,
  provider: string,
  retryAfterHeader?: string | null,
): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof ApiError) {
    const retryDelay = retryAfterMs(retryAfterHeader) ?? retryInfoMs(error.message);
    return new ProviderError(
      classifyHttpStatus(error.status),
      error.message,
      provider,
      error.status,
      retryDelay,
    );
  }
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new ProviderError('timeout', 'aborted by deadline', provider);
  }
  if (error instanceof TypeError) return new ProviderError('network', error.message, provider);
  return new ProviderError('unknown', error instanceof Error ? error.message : String(error), provider);
}

/** google.rpc.RetryInfo `retryDelay` ("30s") from the error body the SDK puts in its message. */
function retryInfoMs(message: string): number | undefined {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match ? Number(match[1]) * 1000 : undefined;
}

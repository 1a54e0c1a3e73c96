import type * as NodeLlamaCpp from 'node-llama-cpp';
import { ProviderError } from '../../provider-error.js';

/** The command that puts the model file in place and prints its path (see deploy/local/model.sh). */
export const MODEL_DOWNLOAD_COMMAND = 'bash deploy/local/model.sh';

export function missingModelError(modelPath: string, provider: string, cause?: unknown): ProviderError {
  const reason =
    cause instanceof Error && 'code' in cause && cause.code !== 'ENOENT' ? ` (${cause.message})` : '';
  return new ProviderError(
    'bad_request',
    `local model file not found: ${modelPath}${reason}; download it with \`${MODEL_DOWNLOAD_COMMAND}\` ` +
      '(it prints the path to set as LOCAL_MODEL_PATH)',
    provider,
  );
}

export function promptTooLongError(
  promptTokens: number,
  contextSize: number,
  provider: string,
): ProviderError {
  return new ProviderError(
    'bad_request',
    `prompt of about ${promptTokens} tokens does not fit the local model's context of ${contextSize} tokens`,
    provider,
  );
}

export interface ErrorContext {
  /** The caller's signal: aborted means the caller's deadline (or cancellation) ended the call. */
  callerSignal?: AbortSignal;
  /** The combined signal (caller's + the provider's own timeout). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The loaded node-llama-cpp module, for instanceof checks (it is imported lazily). */
  lib?: typeof NodeLlamaCpp;
}

/** node-llama-cpp and Node failures → ProviderError, classified for routing. */
export function toProviderError(error: unknown, provider: string, context: ErrorContext = {}): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // node-llama-cpp rejects with the signal's reason on abort, whatever that reason is.
  if (context.callerSignal?.aborted) return new ProviderError('timeout', 'aborted by deadline', provider);
  if (context.signal?.aborted) {
    return new ProviderError(
      'timeout',
      `local generation timed out after ${context.timeoutMs ?? '?'} ms`,
      provider,
    );
  }
  const lib = context.lib;
  if (lib && error instanceof lib.NoBinaryFoundError) {
    return new ProviderError(
      'unknown',
      `node-llama-cpp has no usable prebuilt CPU binary for ${process.platform}-${process.arch} ` +
        `(this provider never builds llama.cpp from source): ${message}`,
      provider,
    );
  }
  if (lib && error instanceof lib.InsufficientMemoryError) {
    return new ProviderError('server_error', `not enough memory for the local model: ${message}`, provider);
  }
  if ((lib && error instanceof lib.DisposedError) || /\bdisposed\b/i.test(message)) {
    return new ProviderError('server_error', 'the local model was disposed (shutting down)', provider);
  }
  if (/context size|context shift|compress chat history/i.test(message)) {
    return new ProviderError(
      'bad_request',
      `prompt does not fit the local model's context: ${message}`,
      provider,
    );
  }
  if (
    /failed to load model|invalid gguf|gguf magic|unsupported gguf/i.test(message) ||
    hasCode(error, 'EISDIR')
  ) {
    return new ProviderError('bad_request', `local model file cannot be loaded: ${message}`, provider);
  }
  return new ProviderError('unknown', message, provider);
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}

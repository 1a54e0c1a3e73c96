import OpenAI from 'openai';
import type { ProviderError } from '../../provider-error.js';
import { fromSdkError } from '../sdk-errors.js';

export function toProviderError(error: unknown, provider: string): ProviderError {
  return fromSdkError(OpenAI, error, provider);
}

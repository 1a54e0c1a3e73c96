import Anthropic from '@anthropic-ai/sdk';
import type { ProviderError } from '../../provider-error.js';
import { fromSdkError } from '../sdk-errors.js';

export function toProviderError(error: unknown, provider: string): ProviderError {
  return fromSdkError(Anthropic, error, provider);
}

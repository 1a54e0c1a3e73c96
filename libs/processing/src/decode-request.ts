import {
  BODY_MAX_DEPTH,
  compileContract,
  findUncleanText,
  isCleanText,
  normalizeText,
  PromptRequestMessage,
} from '@sps/contracts';

export type DecodedRequest =
  | { ok: true; request: PromptRequestMessage }
  | { ok: false; code: 'CONTRACT_VIOLATION'; reason: string; requestId?: string; tenantId?: string };

const checkContract = compileContract(PromptRequestMessage);

/**
 * Producers outside the service are untrusted: a value that is not JSON, breaks the
 * `sps.requests.v1` contract, or carries unclean text (U+0000 or an unpaired surrogate in any
 * string or key, or nesting deeper than BODY_MAX_DEPTH; see libs/contracts/src/text-hygiene.ts)
 * is refused with the reason, keeping what ids it had (when they are clean text) so that the
 * refusal can still be answered.
 */
export function decodeRequest(value: Buffer | null): DecodedRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value?.toString('utf8') ?? '');
  } catch (error) {
    return {
      ok: false,
      code: 'CONTRACT_VIOLATION',
      reason: `value is not JSON: ${(error as Error).message}`,
    };
  }
  const check = checkContract(parsed);
  if (!check.ok) {
    // A path may name a caller's key: keep the reason itself storable.
    return refusal(parsed, normalizeText(check.errors.map((e) => `${e.path}: ${e.message}`).join('; ')));
  }
  const unclean = findUncleanText(check.value, { maxDepth: BODY_MAX_DEPTH });
  if (unclean) return refusal(parsed, `${unclean.path || '/'}: ${unclean.reason}`);
  return { ok: true, request: check.value };
}

function refusal(parsed: unknown, reason: string): DecodedRequest {
  const ids = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  return {
    ok: false,
    code: 'CONTRACT_VIOLATION',
    reason,
    requestId: cleanString(ids.request_id),
    tenantId: cleanString(ids.tenant_id),
  };
}

/** An id that is a string of clean text (an unclean one could not be stored with the refusal). */
function cleanString(value: unknown): string | undefined {
  return typeof value === 'string' && isCleanText(value) ? value : undefined;
}

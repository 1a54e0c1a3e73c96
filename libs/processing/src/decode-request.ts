import { compileContract, PromptRequestMessage } from '@sps/contracts';

export type DecodedRequest =
  | { ok: true; request: PromptRequestMessage }
  | { ok: false; code: 'CONTRACT_VIOLATION'; reason: string; requestId?: string; tenantId?: string };

const checkContract = compileContract(PromptRequestMessage);

/**
 * Producers outside the service are untrusted: a value that is not JSON or breaks the
 * `sps.requests.v1` contract is refused with the reason, keeping what ids it had so that the
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
  if (check.ok) return { ok: true, request: check.value };
  const ids = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  return {
    ok: false,
    code: 'CONTRACT_VIOLATION',
    reason: check.errors.map((e) => `${e.path}: ${e.message}`).join('; '),
    requestId: typeof ids.request_id === 'string' ? ids.request_id : undefined,
    tenantId: typeof ids.tenant_id === 'string' ? ids.tenant_id : undefined,
  };
}

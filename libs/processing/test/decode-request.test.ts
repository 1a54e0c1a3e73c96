import { describe, expect, it } from 'vitest';
import { BODY_MAX_DEPTH } from '@sps/contracts';
import { decodeRequest } from '../src/decode-request.js';

const REQUEST_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const valid = {
  request_id: REQUEST_ID,
  tenant_id: 'acme',
  prompt: 'Extract the total from invoice INV-1 😀',
  schema: { type: 'object', properties: { total: { type: 'number' } } },
};
const encode = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('decodeRequest', () => {
  it('passes a valid request, astral characters included', () => {
    expect(decodeRequest(encode(valid))).toEqual({ ok: true, request: valid });
  });

  it('refuses NUL in the prompt, naming the field and keeping the ids', () => {
    expect(decodeRequest(encode({ ...valid, prompt: 'a\u0000b' }))).toEqual({
      ok: false,
      code: 'CONTRACT_VIOLATION',
      reason: 'prompt: contains U+0000 (NUL)',
      requestId: REQUEST_ID,
      tenantId: 'acme',
    });
  });

  it('refuses a lone surrogate anywhere in the schema, values and keys', () => {
    // Written as a raw JSON escape: the bytes are valid UTF-8, the decoded string is not well formed.
    const raw = JSON.stringify({ ...valid, schema: { type: 'object', title: 'PLACEHOLDER' } }).replace(
      'PLACEHOLDER',
      'x\\ud800',
    );
    const decoded = decodeRequest(Buffer.from(raw));
    expect(decoded).toMatchObject({ ok: false, code: 'CONTRACT_VIOLATION', requestId: REQUEST_ID });
    expect(decoded.ok === false && decoded.reason).toBe(
      'schema.title: contains an unpaired surrogate U+D800',
    );

    const inKey = decodeRequest(encode({ ...valid, schema: { properties: { ['a\udc00']: {} } } }));
    expect(inKey.ok === false && inKey.reason).toBe(
      'schema.properties["a\\udc00"]: property name contains an unpaired surrogate U+DC00',
    );
  });

  it('refuses a schema nested deeper than the body limit without overflowing the stack', () => {
    const raw = `{"request_id":"${REQUEST_ID}","tenant_id":"acme","prompt":"p","schema":${'{"a":'.repeat(100_000)}{}${'}'.repeat(100_000)}}`;
    const decoded = decodeRequest(Buffer.from(raw));
    expect(decoded.ok === false && decoded.reason).toMatch(
      new RegExp(`^schema(\\.a)+: nests deeper than ${BODY_MAX_DEPTH} levels$`),
    );
  });

  it('does not keep an id that is not clean text', () => {
    const decoded = decodeRequest(encode({ ...valid, tenant_id: 'ac\u0000me' }));
    expect(decoded).toMatchObject({
      ok: false,
      reason: 'tenant_id: contains U+0000 (NUL)',
      requestId: REQUEST_ID,
    });
    expect(decoded.ok === false && decoded.tenantId).toBe(undefined);
  });

  it('refuses a value that is not JSON, and a missing value', () => {
    const decoded = decodeRequest(Buffer.from('{"request_id": '));
    expect(decoded).toMatchObject({ ok: false, code: 'CONTRACT_VIOLATION' });
    expect(decoded.ok === false && decoded.reason).toMatch(/^value is not JSON: /);
    expect(decoded.ok === false && decoded.requestId).toBe(undefined);
    expect(decodeRequest(null)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^value is not JSON/),
    });
  });

  it('still refuses contract violations, with the ids', () => {
    expect(decodeRequest(encode({ ...valid, prompt: '' }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('/prompt'),
      requestId: REQUEST_ID,
      tenantId: 'acme',
    });
  });
});

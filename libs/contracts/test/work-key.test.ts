import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, jobItemRequestId, nameBasedUuid, workKey } from '../src/index.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const JOB = '6f1c2a4e-93b1-4d57-a0c2-1f2e3d4c5b6a';

describe('jobItemRequestId', () => {
  it('is deterministic: the same job and index give the same id', () => {
    expect(jobItemRequestId(JOB, 7)).toBe(jobItemRequestId(JOB, 7));
    expect(jobItemRequestId(JOB.toUpperCase(), 7)).toBe(jobItemRequestId(JOB, 7));
  });

  it('differs per index and per job', () => {
    const ids = Array.from({ length: 1_000 }, (_, i) => jobItemRequestId(JOB, i));
    expect(new Set(ids).size).toBe(1_000);
    const other = '0b7e5f3a-2c1d-4e8f-9a0b-c1d2e3f4a5b6';
    expect(jobItemRequestId(other, 0)).not.toBe(jobItemRequestId(JOB, 0));
  });

  it('is a UUID with RFC 9562 version 8 and variant bits, made of SHA-256 of `${job}:${index}`', () => {
    for (let i = 0; i < 200; i++) expect(jobItemRequestId(JOB, i)).toMatch(UUID_V8);
    const hex = createHash('sha256').update(`${JOB}:3`).digest('hex').slice(0, 32);
    const id = jobItemRequestId(JOB, 3).replaceAll('-', '');
    // Equal to the hash except the 4 version bits and the 2 variant bits.
    expect(id.slice(0, 12)).toBe(hex.slice(0, 12));
    expect(id.slice(13, 16)).toBe(hex.slice(13, 16));
    expect(id.slice(17)).toBe(hex.slice(17));
    expect(parseInt(id[16]!, 16) & 0x3).toBe(parseInt(hex[16]!, 16) & 0x3);
  });

  it('refuses an index that is not one', () => {
    expect(() => jobItemRequestId(JOB, -1)).toThrow(RangeError);
    expect(() => jobItemRequestId(JOB, 1.5)).toThrow(RangeError);
  });

  it('nameBasedUuid is a valid v8 UUID for any name', () => {
    for (const name of ['', 'a', 'job:completed', '😀'.repeat(100)])
      expect(nameBasedUuid(name)).toMatch(UUID_V8);
  });

  it('canonicalJson sorts keys by UTF-16 code units, drops undefined members, keeps array holes as null', () => {
    expect(
      canonicalJson({
        z: undefined,
        é: 1,
        e: 2,
        E: 3,
        '\u{1F600}': 4,
        '\uFFFF': 5,
        a: { y: [true, undefined], x: 'q"' },
      }),
    ).toBe('{"E":3,"a":{"x":"q\\"","y":[true,null]},"e":2,"é":1,"\u{1F600}":4,"\uFFFF":5}');
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe(
      canonicalJson({ a: null, b: [1, { c: 2, d: 1 }] }),
    );
  });
});

describe('workKey', () => {
  const base = {
    tenant_id: 'acme',
    prompt: 'Invoice #7, "total": 42\n',
    format: 'json' as const,
    schema: { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] },
    options: { model: 'gpt-4o-mini', temperature: 0.2, timeout_ms: 5000 },
  };

  it('keeps its value (cached answers and Kafka keys written before stay valid)', () => {
    expect(workKey(base)).toBe('6d9f1ae4ce671fabc51b1f4a637e568e08fce90eb5fe57d87f5f8de9c80843a8');
  });

  it('is the content hash of the work: tenant, prompt, format, schema and the options that change the answer', () => {
    const requests = [
      base,
      { tenant_id: 't', prompt: 'p' },
      {
        tenant_id: 't',
        prompt: 'p\u0000"\\é😀\ud800',
        format: 'xml' as const,
        schema: { b: [1, -0, 1e21, 0.5, null, true, { z: undefined, y: 'x' }], a: {} },
      },
      {
        ...base,
        options: {
          provider: 'openai',
          model: 'm',
          routing: ['anthropic', 'openai'],
          temperature: 0,
          max_tokens: 10,
          redact_pii: true,
          restore_pii: true,
          language_detection: false,
          cache_ttl: 5,
          bypass_cache: true,
          timeout_ms: 1,
        },
      },
    ] as Parameters<typeof workKey>[0][];
    for (const request of requests) {
      const options = request.options ?? {};
      const expected = createHash('sha256')
        .update(
          canonicalJson({
            tenant: request.tenant_id,
            prompt: request.prompt,
            format: request.format ?? 'json',
            schema: request.schema ?? null,
            provider: options.provider ?? null,
            model: options.model ?? null,
            routing: options.routing ?? null,
            temperature: options.temperature ?? null,
            max_tokens: options.max_tokens ?? null,
            redact_pii: options.redact_pii ?? false,
            restore_pii: options.restore_pii ?? false,
            language_detection: options.language_detection ?? true,
          }),
        )
        .digest('hex');
      expect(workKey(request)).toBe(expected);
      expect(contentHash(request)).toBe(createHash('sha256').update(canonicalJson(request)).digest('hex'));
    }
    // ids, timestamps and cache options are not part of it
    expect(workKey({ ...base, options: { ...base.options, cache_ttl: 1, bypass_cache: true } })).toBe(
      workKey(base),
    );
  });

  it('canonicalJson writes strings and numbers as JSON.stringify does', () => {
    for (const value of [
      '',
      'plain',
      'q"',
      'back\\slash',
      '\u0000\u001f\u007f',
      'é😀',
      '\ud800 lone',
      '\udfff',
      'a\u2028b',
    ])
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    for (const value of [
      0,
      -0,
      1.5,
      -2e-7,
      1e21,
      123456789012345680000,
      Number.MAX_VALUE,
      NaN,
      Infinity,
      -Infinity,
    ])
      expect(canonicalJson(value)).toBe(JSON.stringify(value));
    expect(canonicalJson({ 'k"': 1, 'k\ud800': 2 })).toBe(JSON.stringify({ 'k"': 1, 'k\ud800': 2 }));
  });
});

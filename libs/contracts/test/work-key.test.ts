import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jobItemRequestId, nameBasedUuid } from '../src/index.js';

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

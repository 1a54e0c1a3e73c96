import { describe, expect, it } from 'vitest';
import { BODY_MAX_DEPTH, LIMITS, findUncleanText, isCleanText, normalizeText } from '../src/index.js';

const check = (value: unknown, maxDepth = BODY_MAX_DEPTH) => findUncleanText(value, { maxDepth });

/** [[[...[leaf]...]]] with `levels` arrays, built without recursion. */
function nestedArray(levels: number, leaf?: unknown): unknown[] {
  let value: unknown[] = leaf === undefined ? [] : [leaf];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

describe('findUncleanText', () => {
  it('passes clean values, astral pairs (😀) and non-JSON leaves included', () => {
    expect(check({ prompt: 'Grüße 😀 𝄞', n: 1, ok: true, none: null, list: ['a', { 'é😀': 'b' }] })).toBe(
      undefined,
    );
    expect(check('\uD83D\uDE00')).toBe(undefined);
    expect(check({ when: new Date(0), bytes: Buffer.from([0]) })).toBe(undefined);
    expect(isCleanText('a😀b')).toBe(true);
  });

  it('refuses NUL in a value, with its path', () => {
    expect(check({ prompt: 'a\u0000b' })).toEqual({ path: 'prompt', reason: 'contains U+0000 (NUL)' });
    expect(check({ prompts: ['ok', 'x\0'] })).toEqual({ path: 'prompts.1', reason: 'contains U+0000 (NUL)' });
    expect(check('\0')).toEqual({ path: '', reason: 'contains U+0000 (NUL)' });
    expect(findUncleanText({ q: '\0' }, { maxDepth: 4, path: 'querystring' })?.path).toBe('querystring.q');
  });

  it('refuses NUL in a key, naming the key readably', () => {
    expect(check({ schema: { properties: { 'a\u0000b': { type: 'string' } } } })).toEqual({
      path: 'schema.properties["a\\u0000b"]',
      reason: 'property name contains U+0000 (NUL)',
    });
  });

  it('refuses lone high and lone low surrogates, naming the code unit', () => {
    expect(check({ schema: { title: 'x\ud800' } })).toEqual({
      path: 'schema.title',
      reason: 'contains an unpaired surrogate U+D800',
    });
    expect(check({ a: ['\udc00y'] })).toEqual({
      path: 'a.0',
      reason: 'contains an unpaired surrogate U+DC00',
    });
    expect(check({ a: '\uDE00\uD83D' })?.reason).toBe('contains an unpaired surrogate U+DE00'); // pair reversed
    expect(check({ ['k\udbff']: 1 })).toEqual({
      path: '["k\\udbff"]',
      reason: 'property name contains an unpaired surrogate U+DBFF',
    });
  });

  it('reports the first problem in document order', () => {
    expect(check({ a: { b: ['fine', 'bad\0'] }, ['c\0']: 'later' })?.path).toBe('a.b.1');
    expect(check({ a: { b: { c: [1, 'x'] } }, d: ['ok', { e: '\0' }] })?.path).toBe('d.1.e');
  });

  it('refuses nesting deeper than maxDepth and accepts exactly maxDepth', () => {
    expect(check(nestedArray(4), 4)).toBe(undefined);
    expect(check(nestedArray(5), 4)).toEqual({ path: '0.0.0.0', reason: 'nests deeper than 4 levels' });
    expect(check({ schema: { a: { a: {} } } }, 3)).toEqual({
      path: 'schema.a.a',
      reason: 'nests deeper than 3 levels',
    });
  });

  it('keeps the body limit consistent with the schema depth limit', () => {
    // ~2 JSON levels per schema level, plus the envelope of a batch body.
    expect(BODY_MAX_DEPTH).toBeGreaterThanOrEqual(2 * LIMITS.schemaMaxDepth + 8);
  });

  it('answers a 100,000-level nested array without overflowing the stack, fast', () => {
    const deep = nestedArray(100_000, 'x\0');
    const clean = nestedArray(100_000, 'ok');
    const started = performance.now();
    expect(check(deep)).toEqual({
      path: Array.from({ length: BODY_MAX_DEPTH }, () => '0').join('.'),
      reason: `nests deeper than ${BODY_MAX_DEPTH} levels`,
    });
    const unlimited = findUncleanText(deep, { maxDepth: Infinity });
    expect(unlimited?.reason).toBe('contains U+0000 (NUL)');
    expect(unlimited?.path.length).toBe(2 * 100_000 - 1);
    expect(findUncleanText(clean, { maxDepth: Infinity })).toBe(undefined);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('keeps very long keys short in the path, cutting on a code point boundary', () => {
    const key = `${'😀'.repeat(200)}\0`;
    const found = check({ [key]: 1 });
    expect(found?.reason).toBe('property name contains U+0000 (NUL)');
    expect(found!.path.length).toBeLessThanOrEqual(132);
    expect(isCleanText(found!.path)).toBe(true);
  });
});

describe('normalizeText', () => {
  it('returns clean values untouched (same reference)', () => {
    const clean = { prompt: 'Grüße 😀', list: [1, 'two', { three: null }] };
    expect(normalizeText(clean)).toBe(clean);
    expect(normalizeText('😀')).toBe('😀');
    expect(normalizeText(42)).toBe(42);
  });

  it('replaces NUL and lone surrogates with U+FFFD in values and keys, without touching the input', () => {
    const input = { text: 'a\0b\ud800', list: ['\udc00', '😀'], ['k\0']: { deep: ['x\0'] }, n: 1 };
    const output = normalizeText(input);
    expect(output).toEqual({
      text: 'a\uFFFDb\uFFFD',
      list: ['\uFFFD', '😀'],
      ['k\uFFFD']: { deep: ['x\uFFFD'] },
      n: 1,
    });
    expect(input.text).toBe('a\0b\ud800');
    expect(Object.keys(input)).toContain('k\0');
    expect(normalizeText('x\0\udfff')).toBe('x\uFFFD\uFFFD');
    expect(findUncleanText(output, { maxDepth: 10 })).toBe(undefined);
  });

  it('keeps an own __proto__ key a plain property', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "\\u0000"}}') as Record<string, unknown>;
    const output = normalizeText(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(output, '__proto__')?.value).toEqual({ polluted: '\uFFFD' });
    expect(({} as Record<string, unknown>).polluted).toBe(undefined);
  });

  it('walks 100,000 levels without recursion', () => {
    const output = normalizeText(nestedArray(100_000, '\0'));
    let at: unknown = output;
    for (let i = 0; i < 100_000; i++) at = (at as unknown[])[0];
    expect(at).toBe('\uFFFD');
  });
});

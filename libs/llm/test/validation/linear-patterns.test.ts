/**
 * Caller patterns run on a linear-time engine (RE2JS): inputs that make V8's backtracking engine run
 * for hours are checked in milliseconds; what RE2 cannot express is INVALID_SCHEMA naming the keyword's
 * JSON pointer; the lenient ECMA-262 patterns real schemas use keep their meaning; validating one
 * instance has a time budget.
 */
import { describe, expect, it } from 'vitest';
import { ServiceError, type ErrorDetail } from '@sps/contracts';
import {
  DEFAULT_PRICES,
  DEFAULT_RESILIENCE,
  ProviderRouter,
  ResilientProvider,
  StructuredOutputEngine,
  type LanguageModel,
} from '../../src/index.js';
import { lenientRegExp, linearRegExp } from '../../src/validation/linear-regexp.js';
import {
  DEFAULT_VALIDATION_BUDGET_MS,
  EVALUATION_FAILURE_PREFIX,
  SchemaCompiler,
  VALIDATION_BUDGET_EXCEEDED,
} from '../../src/validation/schema-compiler.js';

/** On V8 each of these takes longer than the age of the universe; linear engines take milliseconds. */
const FAST_MS = 50;

/** The fastest of three runs (one run can lose the CPU to another process; an exponential one can't win). */
function fastest<T>(run: () => T): { result: T; ms: number } {
  let best = Infinity;
  let result!: T;
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    result = run();
    best = Math.min(best, performance.now() - started);
  }
  return { result, ms: best };
}

function compileError(compiler: SchemaCompiler, schema: Record<string, unknown>): ServiceError {
  try {
    compiler.compile(schema);
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('INVALID_SCHEMA');
    return error as ServiceError;
  }
  throw new Error('expected INVALID_SCHEMA');
}

const schemaErrors = (error: ServiceError) =>
  (error.details as { schema_errors: ErrorDetail[] }).schema_errors;

describe('catastrophic patterns run in linear time', () => {
  const compiler = new SchemaCompiler();

  it.each([
    ['(a+)+b', 'a'.repeat(50), 'a'.repeat(50) + 'b'],
    ['(x+x+)+y', 'x'.repeat(5_000), 'x'.repeat(5_000) + 'y'],
    ['^(a|aa)+$', 'a'.repeat(5_000) + '!', 'a'.repeat(5_000)],
    ['^(a|a?)+$', 'a'.repeat(5_000) + '!', 'a'.repeat(5_000)],
    ['^(\\w+\\s?)*$', 'word '.repeat(1_000) + '!', 'word '.repeat(1_000)],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', 'a'.repeat(5_000), 'ab.Cd'],
    [
      '^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$',
      'a'.repeat(5_000) + '!',
      'jane.doe@example.co.uk',
    ],
  ])('pattern %s', (pattern, evil, good) => {
    const compiled = compiler.compile({ type: 'string', pattern });
    const { result, ms } = fastest(() => compiled.validate(evil));
    expect(result.map((e) => e.path)).toEqual(['$']);
    expect(result[0]!.message).toMatch(/must match pattern/);
    expect(ms).toBeLessThan(FAST_MS);
    expect(compiled.validate(good)).toEqual([]);
  });

  it('patternProperties and additionalProperties', () => {
    const compiled = compiler.compile({
      type: 'object',
      patternProperties: { '^(a|aa)+$': { type: 'integer' }, '(x+x+)+y': { type: 'string' } },
      additionalProperties: false,
    });
    const evil = { ['a'.repeat(5_000) + '!']: 1, ['x'.repeat(5_000)]: 'z' };
    const { result, ms } = fastest(() => compiled.validate(evil));
    expect(result.map((e) => e.message)).toEqual([
      'must NOT have additional properties',
      'must NOT have additional properties',
    ]);
    expect(ms).toBeLessThan(FAST_MS);
    expect(compiled.validate({ ['a'.repeat(5_000)]: 1, ['x'.repeat(5_000) + 'y']: 'z' })).toEqual([]);
    expect(compiled.validate({ aa: 'one' }).map((e) => e.path)).toEqual(['aa']);
  });

  it('propertyNames', () => {
    const compiled = compiler.compile({ type: 'object', propertyNames: { pattern: '^(a+)+$' } });
    const { result, ms } = fastest(() => compiled.validate({ ['a'.repeat(5_000) + 'b']: 1 }));
    expect(result.length).toBeGreaterThan(0);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('pattern in a schema under $defs, reached through $ref', () => {
    const compiled = compiler.compile({
      $defs: { code: { type: 'string', pattern: '^(a|aa)+$' } },
      type: 'object',
      properties: { code: { $ref: '#/$defs/code' } },
    });
    const { result, ms } = fastest(() => compiled.validate({ code: 'a'.repeat(5_000) + '!' }));
    expect(result.map((e) => e.path)).toEqual(['code']);
    expect(ms).toBeLessThan(FAST_MS);
    expect(compiled.validate({ code: 'aaa' })).toEqual([]);
  });

  it('pattern in items (draft-07 definitions too)', () => {
    const compiled = compiler.compile({
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { evil: { type: 'string', pattern: '(x+x+)+y' } },
      type: 'array',
      items: { $ref: '#/definitions/evil' },
    });
    const evil = Array.from({ length: 20 }, () => 'x'.repeat(5_000));
    const { result, ms } = fastest(() => compiled.validate(evil));
    expect(result).toHaveLength(20);
    expect(result[19]!.path).toBe('19');
    expect(ms).toBeLessThan(FAST_MS);

    const direct = compiler.compile({ type: 'array', items: { type: 'string', pattern: '^(a|a?)+$' } });
    const timed = fastest(() => direct.validate(['a'.repeat(5_000) + '!', 'aaa']));
    expect(timed.result.map((e) => e.path)).toEqual(['0']);
    expect(timed.ms).toBeLessThan(FAST_MS);
  });
});

describe('patterns RE2 cannot express are INVALID_SCHEMA naming their JSON pointer', () => {
  const compiler = new SchemaCompiler();

  it.each([
    [
      { properties: { code: { type: 'string', pattern: '^(\\w)\\1$' } } },
      '/properties/code/pattern',
      /backreference "\\1"/,
    ],
    [
      { properties: { q: { pattern: '(?<q>[\'"]).*\\k<q>' } } },
      '/properties/q/pattern',
      /named backreference "\\k<q>"/,
    ],
    [{ pattern: '\\w+(?=\\d)' }, '/pattern', /lookahead "\(\?="/],
    [{ patternProperties: { '(?!tmp_)\\w+$': {} } }, '/patternProperties/(?!tmp_)\\w+$', /lookahead "\(\?!"/],
    [{ pattern: '^(?!a)b|c' }, '/pattern', /lookahead "\(\?!"/],
    [{ pattern: '^(?!a(?=b))c' }, '/pattern', /lookahead "\(\?="/],
    [{ $defs: { price: { pattern: '(?<=\\$)\\d+' } } }, '/$defs/price/pattern', /lookbehind "\(\?<="/],
    [{ items: { pattern: '(?<!-)\\d' } }, '/items/pattern', /lookbehind "\(\?<!"/],
    [{ prefixItems: [{}, { pattern: '(a)\\1' }] }, '/prefixItems/1/pattern', /backreference/],
    [{ patternProperties: { 'a/b~(?=c)': {} } }, '/patternProperties/a~1b~0(?=c)', /lookahead/],
    [
      { properties: { n: { pattern: '^.{0,5000}$' } } },
      '/properties/n/pattern',
      /repeats too much \(\{0,5000\}\).*1000/,
    ],
    [
      { properties: { n: { pattern: '^(?:\\d{1,100}-){20}$' } } },
      '/properties/n/pattern',
      /repeats too much/,
    ],
    [
      { properties: { s: { pattern: '(' } } },
      '/properties/s/pattern',
      /not a valid ECMA-262 regular expression/,
    ],
  ])('%j → %s', (schema, path, reason) => {
    const error = compileError(compiler, schema);
    expect(error.message).toContain(`schema cannot be compiled: ${path}: `);
    expect(error.message).toMatch(reason);
    expect(schemaErrors(error)).toEqual([{ path, message: expect.stringMatching(reason) }]);
  });

  it('names every pattern it cannot use', () => {
    const error = compileError(compiler, {
      type: 'object',
      properties: { a: { pattern: '(a)\\1' }, b: { type: 'array', items: { pattern: '(?=b)' } } },
    });
    expect(schemaErrors(error).map((e) => e.path)).toEqual([
      '/properties/a/pattern',
      '/properties/b/items/pattern',
    ]);
    expect(error.message).toMatch(/\(and 1 more, see details\.schema_errors\)$/);
  });

  it('names a pattern reached only through a $ref into an unusual place', () => {
    const error = compileError(compiler, {
      $ref: '#/x-shared/code',
      'x-shared': { code: { type: 'string', pattern: 'a(?=b)' } },
    });
    expect(schemaErrors(error)).toEqual([
      { path: '/x-shared/code/pattern', message: expect.stringMatching(/lookahead/) },
    ]);
  });

  it('ignores a pattern that a sibling $ref overrides (draft-07)', () => {
    const compiled = compiler.compile({
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { s: { type: 'string' } },
      properties: { x: { $ref: '#/definitions/s', pattern: '(a)\\1' } },
    });
    expect(compiled.validate({ x: 'ab' })).toEqual([]);
  });

  it('a backreference is still a valid `regex` format instance (syntax check only, never executed)', () => {
    const compiled = compiler.compile({ type: 'string', format: 'regex' });
    expect(compiled.validate('(a)\\1(?=x)')).toEqual([]);
    expect(compiled.validate('(')).toHaveLength(1);
    const { ms } = fastest(() => compiled.validate('(a+)+b' + 'a'.repeat(100_000)));
    expect(ms).toBeLessThan(FAST_MS);
  });
});

describe('lenient ECMA-262 patterns keep their meaning', () => {
  const compiler = new SchemaCompiler();
  const valid = (pattern: string, value: string) =>
    compiler.compile({ type: 'string', pattern }).validate(value).length === 0;

  it.each([
    ['^[\\w-.]+$', ['a-b.c_d', 'x'], ['a b', 'é']],
    ['^a\\-b$', ['a-b'], ['a\\-b', 'ab']],
    ['^\\p{L}+$', ['héllo', 'Ωμέγα', '日本語'], ['abc1', 'a b', '']],
    ['^\\p{Lu}\\p{Ll}+$', ['Élan'], ['élan']],
    ['^\\p{Letter}+$', ['abc'], ['1']],
    ['^\\p{Script=Greek}+$', ['αβγ'], ['abc']],
    ['^\\p{sc=Grek}+$', ['αβγ'], ['abc']],
    ['^\\p{Alphabetic}+$', ['abcÅ'], ['a1']],
    ['^\\P{L}+$', ['123 !'], ['a']],
    ['^[\\p{L}\\d _-]+$', ['Zoë 2'], ['Zoë!']],
    ['^\\d{3}-\\d{4}$', ['555-1234'], ['5551234', '555-12345', '٥٥٥-١٢٣٤']],
    ['^[😀-🙏]+$', ['😀🙂🙏'], ['a', '☺']],
    ['^.$', ['😀', 'a'], ['\n', '\r', '\u2028', 'ab']],
    ['^.+$', ['any thing'], ['a\nb']],
    ['^\\s$', [' ', '\t', '\u00a0', '\ufeff', '\u3000', '\u2028'], ['a', '\u200b']],
    ['^\\S+$', ['a😀'], ['a b', 'a\u00a0']],
    ['^[^]$', ['x', '\n'], ['']],
    ['^[]?$', [''], ['x']],
    ['^\\cJ\\u0041\\u{1F600}\\x42$', ['\nA😀B'], ['A😀B']],
    ['^\\uD83D\\uDE00$', ['😀'], ['\uD83D']],
    ['^\\w+@\\w+\\.\\w{2,}$', ['me@example.com'], ['me@example']],
    ['^a{2}{$', ['aa{'], ['aa']], // Annex B: a `{` that starts no quantifier is literal
    ['^\\/api\\/v\\d+$', ['/api/v2'], ['api/v2']],
    ['^(?<area>\\d{3})-(?<line>\\d{4})$', ['555-1234'], ['555-123']],
    ['ab$', ['cab'], ['ab\n']],
    ['^\\bfoo\\b', ['foo bar'], ['food']],
  ])('%s', (pattern, accepted, refused) => {
    for (const value of accepted) expect(valid(pattern, value), JSON.stringify(value)).toBe(true);
    for (const value of refused) expect(valid(pattern, value), JSON.stringify(value)).toBe(false);
  });

  it('matches as V8 does on a corpus of patterns and strings (that V8 runs without backtracking blow-up)', () => {
    const patterns = [
      '^[\\w-.]+$',
      '\\p{L}+',
      '[\\p{L}\\d]',
      '[^\\p{L}\\s]',
      '^[\\s\\S]*$',
      '[\\S]',
      '[]',
      '[^]',
      '\\cA',
      '[\\cA]',
      '\\c1',
      '[\\c1]',
      '\\c',
      '\\x41',
      '\\x4',
      '\\u0041',
      '\\u004',
      '\\0',
      '\\01',
      '\\012',
      '\\8',
      '\\18',
      '[\\b]',
      '\\Bo',
      'a{',
      '{foo}',
      'a{2,}',
      'a{,3}',
      'x{02}',
      ']',
      '}',
      '[a-]',
      '[-a]',
      '[--a]',
      '[\\d-z]',
      '[a\\-z]',
      '[\\w-]',
      '[[]',
      '[[:alpha:]]',
      '\\a',
      '\\e',
      '\\z',
      '\\A',
      '\\Q',
      '\\Z',
      '\\k',
      '\\p{scx=Grek}',
      '[\\P{Alphabetic}a]',
      '\\p{Any}',
      '\\P{Any}',
      '[\\P{Any}]',
      '[^\\P{Any}]',
      '\\p{ASCII}',
      '\\p{gc=Lu}',
      '\\p{General_Category=Letter}',
      '\\p{Cased_Letter}',
      '\\p{Cn}',
      '\\p{C}',
      '(?:ab)+?c',
      'a*?b',
      'a|b|',
      '(|a)',
      '()',
      '^$',
      '$^',
      '^\\$',
      '[\\^]',
      '[\\]]',
      '\\\\',
      '[\\n-\\r]',
      '\\t\\v\\f',
      '[ä-ö]',
      '\\u00e4',
      '^[^a]$',
      '\\W+',
      '\\D',
      '^\\p{L}[\\w-.]$',
      '^[\\w-.]\\p{L}$',
    ];
    const inputs = [
      '',
      'a',
      'A',
      'ab',
      'abc',
      'aaaa',
      'a-b',
      'a b',
      '-',
      '.',
      '\n',
      '\r',
      '\u2028',
      '\u00a0',
      '\t',
      '\x01',
      '\x08',
      '\x00',
      '😀',
      'αβγ',
      'É',
      'ä',
      'ö',
      '123',
      'x{2}',
      'xx',
      '{foo}',
      'a{,3}',
      ']',
      '}',
      '/',
      '[',
      '\\',
      '^',
      '$',
      'k',
      '8',
      '\x018',
      '\\c1',
      '\\c',
      '\x11',
      '\uD800',
      '\u0378',
      '\u{10FFFF}',
      ':',
      'p{L}',
      'ap{L}',
      'aé',
      'c',
      'hoo',
    ];
    const differences: string[] = [];
    for (const pattern of patterns) {
      const v8 = lenientRegExp(pattern);
      const re2 = linearRegExp(pattern);
      for (const input of inputs)
        if (v8.test(input) !== re2.test(input))
          differences.push(`${pattern} on ${JSON.stringify(input)}: V8 ${v8.test(input)}`);
    }
    expect(differences).toEqual([]);
  });

  it('`\\s` and `.` are the ECMA-262 sets', () => {
    const re2Space = linearRegExp('^\\s$');
    const re2Dot = linearRegExp('^.$');
    const mismatches: number[] = [];
    // Every ECMA-262 white space and line terminator is in the BMP; astral code points are sampled.
    const codePoints = [
      ...Array.from({ length: 0x10000 }, (_, cp) => cp),
      0x10000,
      0x1f600,
      0xe0020,
      0x10ffff,
    ];
    for (const cp of codePoints) {
      const char = String.fromCodePoint(cp);
      if (/^\s$/u.test(char) !== re2Space.test(char) || /^.$/u.test(char) !== re2Dot.test(char))
        mismatches.push(cp);
    }
    expect(mismatches).toEqual([]);
  });

  it('`\\S` inside and outside a class, negated or not, is the Unicode-mode complement of `\\s`', () => {
    const patterns = ['^[\\S]$', '^\\S$', '^[^\\S]$', '^[a\\S]$', '^[\\S\\s]$', '^[\\w\\S]+$', '^[\\S-]$'];
    const compiled = patterns.map((p) => ({ p, v8: new RegExp(p, 'u'), re2: linearRegExp(p) }));
    const mismatches: string[] = [];
    const codePoints = [
      ...Array.from({ length: 0x10000 }, (_, cp) => cp),
      0x10000,
      0x1f600,
      0xe0020,
      0x10ffff,
    ];
    for (const cp of codePoints) {
      const char = String.fromCodePoint(cp);
      for (const { p, v8, re2 } of compiled)
        if (v8.test(char) !== re2.test(char)) mismatches.push(`${p} U+${cp.toString(16)}`);
    }
    // A surrogate pair is one character; `a` followed by white space is two.
    for (const input of ['😀', 'a b', '\ud83d', '\u00a0', '\ufeff', '\u180e', '\u0085'])
      for (const { p, v8, re2 } of compiled)
        if (v8.test(input) !== re2.test(input)) mismatches.push(`${p} ${JSON.stringify(input)}`);
    expect(mismatches).toEqual([]);
  });
});

describe('leading lookaheads run as a conjunction of linear matches', () => {
  // Real schemas (SchemaStore) use this form for "any name but these".
  const patterns = [
    '^(?!(?:meta|local)$).*$',
    '^(?!@@)[\\w@]+$',
    '^(?!\\.)(?!\\./).+',
    '^(?!\\.{1,2}$)(?!.*\\/)[a-zA-Z0-9\\-\\._]+$',
    '^(?!^lucene\\.|builtin\\.|mongodb\\.).*',
    '^(?!io\\.papermc\\.)([a-zA-Z_$][a-zA-Z\\d_$]*\\.)*[a-zA-Z_$][a-zA-Z\\d_$]*$',
    '^(?!relationships$|links$)\\w[-\\w_]*$',
    '^(?=[A-Z])[a-zA-Z0-9.,;()\\s]*[^.,;!?: \\W]$',
    '^(?=.*\\d)(?=.*[a-z])\\w{6,}$',
    '^(?![)])[(]$',
  ];
  const inputs = [
    'meta',
    'local',
    'metal',
    '@@x',
    '@x',
    'abc',
    '.',
    '..',
    './x',
    '.x',
    'a/b',
    'lucene.x',
    'builtin.y',
    'x.lucene',
    'io.papermc.X',
    'org.x.Y',
    'relationships',
    'links',
    'linksx',
    'Abc',
    'Ab.',
    'abc123',
    'ABC123',
    '(',
    ')',
    '',
  ];

  it.each(patterns)('%s matches as V8 does', (pattern) => {
    const v8 = new RegExp(pattern, 'u');
    const re2 = linearRegExp(pattern);
    expect(inputs.filter((input) => v8.test(input) !== re2.test(input))).toEqual([]);
  });

  it('compiles in a schema and validates', () => {
    const compiler = new SchemaCompiler();
    const compiled = compiler.compile({
      type: 'object',
      patternProperties: { '^(?!@@)[\\w@]+$': { type: 'string' } },
      additionalProperties: false,
    });
    expect(compiled.validate({ name: 'x', '@x': 'y' })).toEqual([]);
    expect(compiled.validate({ '@@x': 'y' })).not.toEqual([]);
  });
});

describe('validation budget', () => {
  const schema = {
    type: 'array',
    items: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' } } },
  };
  const huge = Array.from({ length: 20_000 }, (_, i) => ({
    code: `ABC-${String(i % 10_000).padStart(4, '0')}`,
  }));

  it('is 250 ms by default, and a valid instance within it passes', () => {
    expect(DEFAULT_VALIDATION_BUDGET_MS).toBe(250);
    const compiled = new SchemaCompiler().compile(schema);
    expect(compiled.validate(huge.slice(0, 2_000))).toEqual([]);
  });

  it('fails an instance that took longer than the budget, even a valid one', () => {
    const compiled = new SchemaCompiler({ validationBudgetMs: 0.01 }).compile(schema);
    const errors = compiled.validate(huge);
    expect(errors).toEqual([
      {
        path: '$',
        message: expect.stringMatching(
          /^schema could not be evaluated: validation exceeded its 0\.01 ms budget \(took \d+\.\d ms\); the answer is too large to check against this schema$/,
        ),
      },
    ]);
    expect(errors[0]!.message.startsWith(EVALUATION_FAILURE_PREFIX)).toBe(true);
    expect(errors[0]!.message).toContain(VALIDATION_BUDGET_EXCEEDED);
  });

  it('refuses a budget that is not a positive number', () => {
    for (const validationBudgetMs of [0, -1, Number.NaN])
      expect(() => new SchemaCompiler({ validationBudgetMs })).toThrow(RangeError);
    expect(() => new SchemaCompiler({ validationBudgetMs: Infinity })).not.toThrow();
  });

  it('an over-budget answer is an invalid attempt: bounded retries, then VALIDATION_FAILED', async () => {
    let calls = 0;
    const model: LanguageModel = {
      provider: 'stub',
      model: 'stub-1',
      transformSchema: () => ({ providerSchema: undefined, restore: (instance) => instance, notes: [] }),
      generate: async () => {
        calls++;
        return {
          text: JSON.stringify(huge),
          tokensIn: 10,
          tokensOut: 10,
          model: 'stub-1',
          finishReason: 'stop',
        };
      },
    };
    const router = new ProviderRouter([new ResilientProvider(model, DEFAULT_RESILIENCE)], DEFAULT_PRICES);
    const engine = new StructuredOutputEngine({ router, prices: DEFAULT_PRICES, maxAttemptsPerProvider: 3 });
    const compiled = new SchemaCompiler({ validationBudgetMs: 0.01 }).compile(schema);
    const run = engine.run({
      prompt: 'codes',
      schema: compiled,
      isDefaultAnalysis: false,
      temperature: 0,
      maxTokens: 100,
      signal: AbortSignal.timeout(10_000),
    });
    const error = await run.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('VALIDATION_FAILED');
    const details = (error as ServiceError).details as {
      validation_errors: ErrorDetail[];
      attempts: { outcome: string }[];
    };
    expect(details.validation_errors).toEqual([
      { path: '$', message: expect.stringContaining('validation exceeded its 0.01 ms budget') },
    ]);
    expect(details.attempts.map((a) => a.outcome)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(calls).toBe(3);
  });
});

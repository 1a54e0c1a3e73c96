import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServiceError, contentHash } from '@sps/contracts';
import { detectDraft } from '../../src/validation/draft.js';
import { SchemaCompiler } from '../../src/validation/schema-compiler.js';

const DRAFT04 = 'http://json-schema.org/draft-04/schema#';
const DRAFT06 = 'http://json-schema.org/draft-06/schema#';
const DRAFT07 = 'http://json-schema.org/draft-07/schema#';
const DRAFT2019 = 'https://json-schema.org/draft/2019-09/schema';
const DRAFT2020 = 'https://json-schema.org/draft/2020-12/schema';

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

const isValid = (compiler: SchemaCompiler, schema: Record<string, unknown>, data: unknown): boolean =>
  compiler.compile(schema).validate(data).length === 0;

describe('draft selection', () => {
  it.each([
    ['http://json-schema.org/draft-04/schema#', 'draft-04'],
    ['http://json-schema.org/draft-04/schema', 'draft-04'],
    ['https://json-schema.org/draft-04/schema#', 'draft-04'],
    ['http://json-schema.org/draft-06/schema#', 'draft-06'],
    ['https://json-schema.org/draft-06/schema', 'draft-06'],
    ['http://json-schema.org/draft-07/schema#', 'draft-07'],
    ['https://json-schema.org/draft-07/schema', 'draft-07'],
    ['https://json-schema.org/draft/2019-09/schema', '2019-09'],
    ['http://json-schema.org/draft/2019-09/schema#', '2019-09'],
    ['https://json-schema.org/draft/2020-12/schema', '2020-12'],
    ['https://json-schema.org/draft/2020-12/schema#', '2020-12'],
  ])('$schema %s is %s', ($schema, draft) => {
    expect(detectDraft({ $schema })).toEqual({ draft, dialect: 'known' });
  });

  it('is 2020-12 without $schema', () => {
    expect(detectDraft({ type: 'object' })).toEqual({ draft: '2020-12', dialect: 'absent' });
    expect(detectDraft({ $id: 'https://example.com/s.json' }).draft).toBe('2020-12');
  });

  it('is draft-04 for a draft-04 style id without $schema', () => {
    expect(detectDraft({ id: 'http://example.com/s.json', type: 'object' })).toEqual({
      draft: 'draft-04',
      dialect: 'absent',
    });
    expect(detectDraft({ id: 'http://example.com/s.json', $id: 'http://example.com/s.json' }).draft).toBe(
      '2020-12',
    );
  });

  it('validates an unknown dialect as 2020-12 and refuses draft-03', () => {
    expect(detectDraft({ $schema: 'https://example.com/my-meta-schema' })).toEqual({
      draft: '2020-12',
      dialect: 'unknown',
    });
    const compiler = new SchemaCompiler();
    expect(
      isValid(
        compiler,
        { $schema: 'https://example.com/my-meta-schema', prefixItems: [{ type: 'string' }] },
        [1],
      ),
    ).toBe(false);
    expect(compileError(compiler, { $schema: 'http://json-schema.org/draft-03/schema#' }).message).toMatch(
      /draft-03/,
    );
  });

  it('draft-04: boolean exclusiveMaximum, from $schema or from a root id', () => {
    const compiler = new SchemaCompiler();
    const schema = { maximum: 3, exclusiveMaximum: true };
    expect(isValid(compiler, { $schema: DRAFT04, ...schema }, 3)).toBe(false);
    expect(isValid(compiler, { $schema: DRAFT04, ...schema }, 2)).toBe(true);
    expect(isValid(compiler, { id: 'http://example.com/d4.json', ...schema }, 3)).toBe(false);
    // The same keywords are not a valid 2020-12 schema: without $schema they are read as draft-04,
    // the first earlier draft that accepts them, with a note.
    const compiled = compiler.compile(schema);
    expect(compiled.draft).toBe('draft-04');
    expect(compiled.notes).toEqual([
      expect.stringMatching(
        /^validated as draft-04: without \$schema the schema is read as 2020-12, where it is invalid/,
      ),
    ]);
    expect(compiled.validate(3)).not.toEqual([]);
    compileError(compiler, { $schema: DRAFT2020, ...schema });
  });

  it('draft-06: numeric exclusiveMaximum, https spelling without #', () => {
    const compiler = new SchemaCompiler();
    const schema = { $schema: 'https://json-schema.org/draft-06/schema', exclusiveMaximum: 3 };
    expect(isValid(compiler, schema, 3)).toBe(false);
    expect(isValid(compiler, { $schema: DRAFT06, propertyNames: { maxLength: 2 } }, { abc: 1 })).toBe(false);
    compileError(compiler, { $schema: DRAFT06, exclusiveMaximum: true });
  });

  it('draft-07: if/then/else', () => {
    const compiler = new SchemaCompiler();
    const schema = { $schema: DRAFT07, if: { type: 'integer' }, then: { minimum: 10 } };
    expect(isValid(compiler, schema, 5)).toBe(false);
    expect(isValid(compiler, schema, 'x')).toBe(true);
  });

  it('2019-09: array items is a tuple; 2020-12 uses prefixItems and refuses the array form', () => {
    const compiler = new SchemaCompiler();
    const tuple = { $schema: DRAFT2019, items: [{ type: 'string' }] };
    expect(isValid(compiler, tuple, ['a', 1])).toBe(true);
    expect(isValid(compiler, tuple, [1])).toBe(false);
    expect(isValid(compiler, { prefixItems: [{ type: 'string' }], items: false }, ['a', 1])).toBe(false);
    compileError(compiler, { $schema: DRAFT2020, items: [{ type: 'string' }] });
  });

  it('up to draft-07 $ref overrides its siblings; from 2019-09 they apply', () => {
    const compiler = new SchemaCompiler();
    const body = {
      definitions: { list: { type: 'array' } },
      properties: { x: { $ref: '#/definitions/list', maxItems: 1 } },
    };
    expect(isValid(compiler, { $schema: DRAFT07, ...body }, { x: [1, 2] })).toBe(true);
    expect(isValid(compiler, { $schema: DRAFT04, ...body }, { x: [1, 2] })).toBe(true);
    expect(isValid(compiler, { $schema: DRAFT2019, ...body }, { x: [1, 2] })).toBe(false);
    // Containers beside a root `$ref` stay reachable, whatever their name.
    const rooted = { $schema: DRAFT07, $ref: '#/$defs/answer', $defs: { answer: { type: 'string' } } };
    expect(isValid(compiler, rooted, 'yes')).toBe(true);
    expect(isValid(compiler, rooted, 1)).toBe(false);
  });
});

describe('real-world schemas are accepted', () => {
  it('resolves $ref against the root $id (absolute, relative, nested $id) and $ref "#"', () => {
    const compiler = new SchemaCompiler();
    const schema = {
      $id: 'https://example.com/schemas/root.json',
      $defs: {
        name: { type: 'string', minLength: 1 },
        item: { $id: 'item.json', type: 'object', required: ['id'] },
      },
      type: 'object',
      properties: {
        a: { $ref: 'https://example.com/schemas/root.json#/$defs/name' },
        b: { $ref: 'root.json#/$defs/name' },
        c: { $ref: 'item.json' },
        d: { $ref: 'https://example.com/schemas/item.json' },
        self: { $ref: '#' },
      },
    };
    expect(isValid(compiler, schema, { a: 'x', b: 'y', c: { id: 1 }, d: { id: 2 }, self: { a: 'z' } })).toBe(
      true,
    );
    expect(isValid(compiler, schema, { a: '' })).toBe(false);
    expect(isValid(compiler, schema, { c: {} })).toBe(false);
    expect(isValid(compiler, schema, { self: { a: 1 } })).toBe(false);
  });

  it('resolves $ref against a draft-04 root id', () => {
    const compiler = new SchemaCompiler();
    const schema = {
      id: 'http://example.com/d4.json',
      definitions: { n: { type: 'integer' } },
      properties: {
        n: { $ref: 'http://example.com/d4.json#/definitions/n' },
        m: { $ref: 'd4.json#/definitions/n' },
      },
    };
    expect(isValid(compiler, schema, { n: 1, m: 2 })).toBe(true);
    expect(isValid(compiler, schema, { n: 'one' })).toBe(false);
    expect(isValid(compiler, schema, { m: 'two' })).toBe(false);
  });

  it('accepts patterns that are only valid in ECMA-262 non-Unicode mode', () => {
    const compiler = new SchemaCompiler();
    const schema = {
      type: 'object',
      properties: {
        slug: { type: 'string', pattern: '^[\\w-.]+$' },
        code: { type: 'string', pattern: '^a\\-b$' },
      },
      patternProperties: { '^x\\-[a-z]+$': { type: 'integer' } },
    };
    const compiled = compiler.compile(schema);
    expect(compiled.validate({ slug: 'a-b.c_d', code: 'a-b', 'x-count': 3 })).toEqual([]);
    expect(compiled.validate({ slug: 'a b' }).map((e) => e.path)).toEqual(['slug']);
    expect(compiled.validate({ 'x-count': 'three' }).map((e) => e.path)).toEqual(['x-count']);
  });

  it('keeps Unicode semantics for patterns valid in Unicode mode', () => {
    const compiler = new SchemaCompiler();
    expect(isValid(compiler, { type: 'string', pattern: '^\\p{Lu}$' }, 'É')).toBe(true);
    expect(isValid(compiler, { type: 'string', pattern: '^\\p{Lu}$' }, 'é')).toBe(false);
    expect(isValid(compiler, { type: 'string', pattern: '^.$' }, '😀')).toBe(true);
  });

  it('refuses a pattern that is invalid in both modes, and the regex format follows pattern', () => {
    const compiler = new SchemaCompiler();
    expect(compileError(compiler, { type: 'string', pattern: '(' }).message).toMatch(
      /schema cannot be compiled/,
    );
    expect(isValid(compiler, { format: 'regex' }, '[\\w-.]+')).toBe(true);
    expect(isValid(compiler, { format: 'regex' }, '(')).toBe(false);
  });

  it('compiles schemas that share an $id, each with its own content', () => {
    const compiler = new SchemaCompiler();
    const first = compiler.compile({
      $id: 'https://example.com/answer.json',
      type: 'object',
      required: ['a'],
    });
    const second = compiler.compile({
      $id: 'https://example.com/answer.json',
      type: 'object',
      required: ['b'],
    });
    const nested = {
      $defs: { x: { $id: 'https://example.com/x.json', type: 'string' } },
      $ref: 'https://example.com/x.json',
    };
    const third = compiler.compile(nested);
    const fourth = compiler.compile({
      ...nested,
      $defs: { x: { $id: 'https://example.com/x.json', type: 'integer' } },
    });
    expect(first.validate({ a: 1 })).toEqual([]);
    expect(first.validate({ b: 1 })).toHaveLength(1);
    expect(second.validate({ b: 1 })).toEqual([]);
    expect(second.validate({ a: 1 })).toHaveLength(1);
    expect(third.validate('s')).toEqual([]);
    expect(fourth.validate(1)).toEqual([]);
    expect(fourth.validate('s')).toHaveLength(1);
  });

  it('does not let one schema resolve ids that only another schema defined', () => {
    const compiler = new SchemaCompiler();
    compiler.compile({
      $id: 'https://example.com/a.json',
      $defs: { s: { $id: 'https://example.com/shared.json', type: 'string' } },
    });
    const error = compileError(compiler, { $ref: 'https://example.com/shared.json' });
    expect(error.message).toMatch(/remote references are not fetched/);
  });

  it('ignores unknown formats and still asserts known ones (ajv-formats full mode)', () => {
    const compiler = new SchemaCompiler();
    expect(isValid(compiler, { type: 'string', format: 'my-company-sku' }, 'anything')).toBe(true);
    expect(isValid(compiler, { format: 'email' }, 'not an email')).toBe(false);
    // Full mode checks the calendar, fast mode only the shape.
    expect(isValid(compiler, { format: 'date' }, '2021-02-30')).toBe(false);
    expect(isValid(compiler, { $schema: DRAFT04, format: 'date-time' }, '2021-02-28T10:00:00Z')).toBe(true);
    expect(isValid(compiler, { $schema: DRAFT04, format: 'date-time' }, '2021-02-30T10:00:00Z')).toBe(false);
    expect(isValid(compiler, { $schema: DRAFT06, format: 'ipv4' }, '256.1.1.1')).toBe(false);
  });

  it('strips $async so validate stays synchronous, but never touches values', () => {
    const compiler = new SchemaCompiler();
    const schema = {
      $async: true,
      type: 'object',
      properties: { tag: { $ref: '#/$defs/tag' }, flag: { const: { $async: true } } },
      $defs: { tag: { $async: true, type: 'string' } },
    };
    const compiled = compiler.compile(schema);
    const result = compiled.validate({ tag: 1 });
    expect(Array.isArray(result)).toBe(true);
    expect(result.map((e) => e.path)).toEqual(['tag']);
    expect(compiled.validate({ tag: 'a', flag: { $async: true } })).toEqual([]);
    expect(compiled.validate({ flag: {} }).map((e) => e.path)).toEqual(['flag']);
    // The caller's schema is left as sent.
    expect(compiled.schema).toBe(schema);
    expect(schema.$async).toBe(true);
  });

  it('accepts an empty enum from 2019-09 on (nothing is valid)', () => {
    const compiler = new SchemaCompiler();
    expect(isValid(compiler, { enum: [] }, 1)).toBe(false);
    expect(isValid(compiler, { $schema: DRAFT2019, properties: { a: { enum: [] } } }, { b: 1 })).toBe(true);
    expect(isValid(compiler, { $schema: DRAFT2019, properties: { a: { enum: [] } } }, { a: 1 })).toBe(false);
  });

  it('resolves references to the bundled meta-schemas without fetching', () => {
    const compiler = new SchemaCompiler();
    const schema = { $schema: DRAFT07, $ref: 'http://json-schema.org/draft-07/schema#' };
    expect(isValid(compiler, schema, { type: 'string' })).toBe(true);
    expect(isValid(compiler, schema, { type: 12 })).toBe(false);
  });

  it('checks own properties only', () => {
    const compiler = new SchemaCompiler();
    expect(isValid(compiler, { required: ['constructor', 'toString'] }, {})).toBe(false);
  });
});

describe('remote references are refused, never fetched', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names the reference and says it is not fetched', () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const compiler = new SchemaCompiler();
    const error = compileError(compiler, {
      type: 'object',
      properties: { a: { $ref: 'https://example.com/other.json#/$defs/a' } },
    });
    expect(error.message).toContain('https://example.com/other.json#/$defs/a');
    expect(error.message).toContain('remote references are not fetched');
    expect(error.details).toEqual({ ref: 'https://example.com/other.json#/$defs/a' });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('resolves a relative reference against the root $id before refusing it', () => {
    const compiler = new SchemaCompiler();
    const error = compileError(compiler, {
      $id: 'https://example.com/schemas/root.json',
      $ref: 'common.json#/$defs/x',
    });
    expect(error.message).toContain('https://example.com/schemas/common.json#/$defs/x');
    expect(error.message).toContain('remote references are not fetched');
  });

  it('refuses remote references in every draft', () => {
    const compiler = new SchemaCompiler();
    for (const $schema of [DRAFT04, DRAFT06, DRAFT07, DRAFT2019, DRAFT2020]) {
      const definitions = $schema === DRAFT2019 || $schema === DRAFT2020 ? '$defs' : 'definitions';
      const error = compileError(compiler, {
        $schema,
        properties: { a: { $ref: 'http://localhost:1234/integer.json' } },
        [definitions]: {},
      });
      expect(error.message).toMatch(
        /"http:\/\/localhost:1234\/integer\.json".*remote references are not fetched/,
      );
    }
  });

  it('reports a missing local pointer as such, not as remote', () => {
    const compiler = new SchemaCompiler();
    const error = compileError(compiler, { $ref: '#/$defs/missing' });
    expect(error.message).toContain('#/$defs/missing');
    expect(error.message).toContain('does not resolve inside the schema');
    expect(error.message).not.toContain('remote');
    const withId = compileError(compiler, { $id: 'https://example.com/r.json', $ref: '#/$defs/missing' });
    expect(withId.message).toContain('does not resolve inside the schema');
  });
});

describe('invalid schemas', () => {
  it('are INVALID_SCHEMA with the validator message', () => {
    const compiler = new SchemaCompiler();
    expect(compileError(compiler, { type: 'strng' }).message).toMatch(
      /^schema cannot be compiled: schema is invalid: .*type/,
    );
    expect(compileError(compiler, { $schema: DRAFT07, minLength: -1 }).message).toMatch(/minLength/);
    expect(compileError(compiler, { $schema: 12 }).message).toMatch(/\$schema/);
  });
});

describe('error details', () => {
  const compiler = new SchemaCompiler();
  const schema = {
    type: 'object',
    required: ['name', 'user'],
    properties: {
      name: { type: 'string' },
      user: { type: 'object', required: ['email'], properties: { email: { format: 'email' } } },
      tags: { type: 'array', items: { type: 'integer' } },
      'a/b': { type: 'boolean' },
    },
  };

  it('reports the root as $', () => {
    expect(compiler.compile({ type: 'object' }).validate(5)).toEqual([
      { path: '$', message: 'must be object', schema_path: 'type' },
    ]);
  });

  it('reports required with the missing property, at the parent path', () => {
    expect(compiler.compile(schema).validate({ user: {} })).toEqual([
      { path: '$', message: "must have required property 'name'", schema_path: 'required' },
      {
        path: 'user',
        message: "must have required property 'email'",
        schema_path: 'properties.user.required',
      },
    ]);
  });

  it('reports dotted instance and schema paths, all errors at once', () => {
    const errors = compiler
      .compile(schema)
      .validate({ name: 1, user: { email: 'nope' }, tags: [1, 'x'], 'a/b': 'no' });
    expect(errors).toEqual([
      { path: 'name', message: 'must be string', schema_path: 'properties.name.type' },
      {
        path: 'user.email',
        message: 'must match format "email"',
        schema_path: 'properties.user.properties.email.format',
      },
      { path: 'tags.1', message: 'must be integer', schema_path: 'properties.tags.items.type' },
      { path: 'a/b', message: 'must be boolean', schema_path: 'properties.a/b.type' },
    ]);
  });

  it('reports errors under a $ref with the referenced schema path', () => {
    const errors = compiler
      .compile({ $defs: { n: { type: 'integer' } }, properties: { n: { $ref: '#/$defs/n' } } })
      .validate({ n: 'x' });
    expect(errors).toEqual([{ path: 'n', message: 'must be integer', schema_path: '$defs.n.type' }]);
  });
});

describe('cache', () => {
  it('returns the compiled schema for equal content (any key order) and counts hits', () => {
    const compiler = new SchemaCompiler();
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    const first = compiler.compile(schema);
    expect(first.hash).toBe(contentHash(schema));
    expect(compiler.compile(schema)).toBe(first);
    expect(compiler.compile({ required: ['a'], properties: { a: { type: 'string' } }, type: 'object' })).toBe(
      first,
    );
    expect(compiler.stats).toEqual({ size: 1, hits: 2, misses: 1 });
  });

  it('is bounded and evicts the least recently used schema', () => {
    const compiler = new SchemaCompiler({ maxEntries: 2 });
    const a = compiler.compile({ type: 'string' });
    const b = compiler.compile({ type: 'number' });
    expect(compiler.compile({ type: 'string' })).toBe(a); // a is now the most recent
    compiler.compile({ type: 'boolean' }); // evicts b
    expect(compiler.stats.size).toBe(2);
    expect(compiler.compile({ type: 'string' })).toBe(a);
    expect(compiler.compile({ type: 'number' })).not.toBe(b);
  });

  it('accepts the former numeric constructor argument', () => {
    const compiler = new SchemaCompiler(1);
    compiler.compile({ type: 'string' });
    compiler.compile({ type: 'number' });
    expect(compiler.stats.size).toBe(1);
  });

  it('does not cache refusals as successes', () => {
    const compiler = new SchemaCompiler();
    compileError(compiler, { type: 'strng' });
    compileError(compiler, { type: 'strng' });
    expect(compiler.stats.size).toBe(0);
  });
});

describe('decimal multiples', () => {
  it('accepts prices that are multiples of 0.01 despite binary floating point', () => {
    const compiled = new SchemaCompiler().compile({ type: 'number', multipleOf: 0.01 });
    for (const price of [19.99, 0.07, 4.35, 10.2]) expect(compiled.validate(price)).toEqual([]);
    expect(compiled.validate(19.995)).not.toEqual([]);
  });
});

/**
 * Harmless defects of real-world schemas that a reference validator accepts are accepted (repaired in
 * the compiled copy, with a note), formats `byte`, `iri` and `iri-reference` are checked as the
 * reference checks them, and compilation is bounded (subschema limit, references never inlined).
 */
import { describe, expect, it } from 'vitest';
import { ServiceError } from '@sps/contracts';
import { isByte, isIri, isIriReference } from '../../src/validation/formats.js';
import {
  DEFAULT_MAX_PATTERNS,
  DEFAULT_MAX_SUBSCHEMAS,
  SchemaCompiler,
} from '../../src/validation/schema-compiler.js';

const DRAFT04 = 'http://json-schema.org/draft-04/schema#';
const DRAFT07 = 'http://json-schema.org/draft-07/schema#';
const DRAFT2020 = 'https://json-schema.org/draft/2020-12/schema';
const IGLU = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';

const compiler = new SchemaCompiler();
const valid = (schema: Record<string, unknown>, data: unknown) =>
  compiler.compile(schema).validate(data).length === 0;

describe('draft-04 `id` where the draft has `$id`', () => {
  it.each([
    ['in a 2020-12 schema', { $schema: DRAFT2020, id: 'http://example.com/a.json', type: 'object' }],
    ['in a draft-07 schema, nested', { $schema: DRAFT07, properties: { a: { id: 'a', type: 'string' } } }],
    ['without $schema, nested only (read as 2020-12)', { properties: { a: { id: 'a', type: 'string' } } }],
  ])('%s: ignored as the unknown keyword it is there, with a note', (_, schema) => {
    const compiled = compiler.compile(schema);
    expect(compiled.notes.some((n) => n.includes('draft-04 keyword "id" ignored'))).toBe(true);
    expect(compiled.schema).toBe(schema); // the caller's schema is untouched
    expect(JSON.stringify(schema)).toContain('"id"');
  });

  it('is still the draft-04 id of a schema without $schema (draft-04 detected, nothing to note)', () => {
    const compiled = compiler.compile({
      id: 'http://example.com/b.json',
      properties: { a: { type: 'string' } },
    });
    expect(compiled.draft).toBe('draft-04');
    expect(compiled.notes).toEqual([]);
  });

  it('leaves a property named "id" alone', () => {
    const schema = {
      $schema: DRAFT07,
      type: 'object',
      properties: { id: { type: 'integer' } },
      required: ['id'],
    };
    expect(compiler.compile(schema).notes).toEqual([]);
    expect(valid(schema, { id: 1 })).toBe(true);
    expect(valid(schema, { id: 'x' })).toBe(false);
    expect(valid(schema, {})).toBe(false);
  });
});

describe('duplicate ids', () => {
  it.each([
    [
      'draft-07 $id',
      {
        $schema: DRAFT07,
        $id: 'http://x/a',
        definitions: { a: { $id: 'http://x/b', type: 'string' }, b: { $id: 'http://x/b', type: 'integer' } },
      },
      '$id "http://x/b"',
    ],
    [
      'draft-04 id',
      {
        $schema: DRAFT04,
        id: 'http://x/a',
        definitions: { a: { id: 'http://x/b' }, b: { id: 'http://x/b' } },
      },
      'id "http://x/b"',
    ],
    [
      'draft-07 plain-name fragment',
      { $schema: DRAFT07, definitions: { a: { $id: '#x' }, b: { $id: '#x' } } },
      '$id "#x"',
    ],
    ['2020-12 $anchor', { properties: { a: { $anchor: 'x' }, b: { $anchor: 'x' } } }, '$anchor "x"'],
    [
      'a subschema repeating the root id',
      { $schema: DRAFT07, $id: 'http://x/a', definitions: { a: { $id: 'http://x/a', type: 'string' } } },
      '$id "http://x/a"',
    ],
  ])('%s: the first keeps it, the others are ignored, with a note', (_, schema, what) => {
    const compiled = compiler.compile(schema);
    expect(compiled.notes).toEqual([expect.stringContaining(`duplicate ${what} ignored (first at /`)]);
  });

  it('a reference to a duplicated id resolves to the first', () => {
    const schema = {
      $schema: DRAFT07,
      $id: 'http://x/root.json',
      definitions: { a: { $id: 'item.json', type: 'string' }, b: { $id: 'item.json', type: 'integer' } },
      properties: { v: { $ref: 'item.json' } },
    };
    expect(valid(schema, { v: 'text' })).toBe(true);
    expect(valid(schema, { v: 1 })).toBe(false);
  });
});

describe('duplicate items the meta-schema refuses', () => {
  it.each([
    ['enum (draft-04)', { $schema: DRAFT04, enum: ['a', 'b', 'a'] }, '/enum: 1 duplicate'],
    [
      'enum of objects, any key order (2020-12)',
      {
        enum: [
          { a: 1, b: 2 },
          { b: 2, a: 1 },
        ],
      },
      '/enum: 1 duplicate',
    ],
    [
      'required (draft-07)',
      { $schema: DRAFT07, type: 'object', required: ['a', 'a', 'b'] },
      '/required: 1 duplicate',
    ],
    [
      'required, nested (2020-12)',
      { properties: { p: { required: ['x', 'x'] } } },
      '/properties/p/required: 1 duplicate',
    ],
    ['type (draft-04)', { $schema: DRAFT04, type: ['string', 'string', 'null'] }, '/type: 1 duplicate'],
  ])('%s: removed, with a note; the same instances are valid', (_, schema, note) => {
    const compiled = compiler.compile(schema);
    expect(compiled.notes).toEqual([expect.stringContaining(note)]);
  });

  it('validates as the list without duplicates', () => {
    expect(valid({ $schema: DRAFT04, enum: ['a', 'b', 'a'] }, 'a')).toBe(true);
    expect(valid({ $schema: DRAFT04, enum: ['a', 'b', 'a'] }, 'c')).toBe(false);
    const required = { $schema: DRAFT07, type: 'object', required: ['a', 'a', 'b'] };
    expect(valid(required, { a: 1, b: 2 })).toBe(true);
    expect(valid(required, { a: 1 })).toBe(false);
  });

  it('draft-04: an empty required list requires nothing', () => {
    const compiled = compiler.compile({ $schema: DRAFT04, type: 'object', required: [] });
    expect(compiled.notes).toEqual([expect.stringContaining('/required: empty list removed')]);
    expect(compiled.validate({})).toEqual([]);
  });

  it('a schema without defects has no notes', () => {
    expect(
      compiler.compile({ type: 'object', properties: { a: { enum: [1, 2] } }, required: ['a'] }).notes,
    ).toEqual([]);
  });
});

describe('a schema its default draft refuses', () => {
  it('an unknown dialect (Iglu self-describing, draft-04 based) with an array `items` is read as draft-07', () => {
    const schema = {
      $schema: IGLU,
      self: { vendor: 'com.example', name: 'e', format: 'jsonschema', version: '1-0-0' },
      type: 'object',
      properties: { list: { type: 'array', items: [{ type: 'string' }] } },
    };
    const compiled = compiler.compile(schema);
    expect(compiled.draft).toBe('draft-07');
    expect(compiled.notes[0]).toMatch(
      /^validated as draft-07: with an unknown \$schema the schema is read as 2020-12, where it is invalid/,
    );
    expect(compiled.validate({ list: ['a', 1] })).toEqual([]);
    expect(compiled.validate({ list: [1] })).not.toEqual([]);
  });

  it('draft-04 boolean exclusiveMinimum without $schema is read as draft-04', () => {
    const compiled = compiler.compile({ type: 'number', minimum: 0, exclusiveMinimum: true });
    expect(compiled.draft).toBe('draft-04');
    expect(compiled.validate(0)).not.toEqual([]);
    expect(compiled.validate(1)).toEqual([]);
  });

  it('an invalid schema is still refused with its default draft`s error; a known dialect is never reinterpreted', () => {
    expect(() => compiler.compile({ type: 'strng' })).toThrow(/schema is invalid: .*type/);
    expect(() => compiler.compile({ $schema: DRAFT2020, items: [{ type: 'string' }] })).toThrow(ServiceError);
  });
});

describe('bounded compilation', () => {
  it('refuses a schema over the subschema limit with INVALID_SCHEMA naming the limit', () => {
    const small = new SchemaCompiler({ maxSubschemas: 50 });
    const properties = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`p${i}`, { type: 'string' }]),
    );
    let error: unknown;
    try {
      small.compile({ type: 'object', properties });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('INVALID_SCHEMA');
    expect((error as ServiceError).message).toBe(
      'schema cannot be compiled: it is too large (61 subschemas; at most 50 are accepted)',
    );
    expect(DEFAULT_MAX_SUBSCHEMAS).toBe(2_500);
  });

  it('refuses a schema with more distinct patterns than the limit', () => {
    const schema = {
      allOf: Array.from({ length: DEFAULT_MAX_PATTERNS + 1 }, (_, i) => ({ pattern: `^a${i}` })),
    };
    expect(() => new SchemaCompiler().compile(schema)).toThrow(
      `schema cannot be compiled: it has too many patterns (${DEFAULT_MAX_PATTERNS + 1} distinct pattern and patternProperties sources; at most ${DEFAULT_MAX_PATTERNS} are accepted)`,
    );
    const repeated = { allOf: Array.from({ length: 500 }, () => ({ pattern: '^a' })) };
    expect(new SchemaCompiler().compile(repeated).validate('ab')).toEqual([]);
  });

  it('the default limits bound the worst case a 50 kB schema can reach', () => {
    const compiler = new SchemaCompiler();
    compiler.compile({ type: 'string' });
    for (const schema of [
      { anyOf: Array.from({ length: DEFAULT_MAX_SUBSCHEMAS - 1 }, () => ({})) },
      {
        allOf: Array.from({ length: DEFAULT_MAX_PATTERNS }, (_, i) => ({
          pattern: `^(x|y)+[a-z]{1,20}${i}$`,
        })),
      },
    ]) {
      const started = process.cpuUsage();
      compiler.compile(schema);
      const { user, system } = process.cpuUsage(started);
      expect((user + system) / 1000).toBeLessThan(1000);
    }
  });

  it('compiles a schema whose references fan out exponentially in bounded time (references with references are never inlined)', () => {
    // Level n references level n-1 four times: 4^12 paths through the references, 13 definitions.
    const $defs: Record<string, unknown> = { l0: { type: 'string', minLength: 1 } };
    for (let n = 1; n <= 12; n++)
      $defs[`l${n}`] = {
        type: 'object',
        properties: Object.fromEntries(['a', 'b', 'c', 'd'].map((k) => [k, { $ref: `#/$defs/l${n - 1}` }])),
      };
    const started = performance.now();
    const compiled = new SchemaCompiler().compile({ $defs, $ref: '#/$defs/l12' });
    expect(performance.now() - started).toBeLessThan(2000); // inlined: 4^12 copies, never finishes
    expect(compiled.validate({ a: { a: {} } })).toEqual([]);
  });
});

describe('formats', () => {
  it('byte: padded base64 (RFC 4648), optionally in lines of groups of four; nothing else', () => {
    for (const good of ['', 'aGVsbG8=', 'aGVsbG8h', 'aGk=', 'aGVs\nbG8h', 'aGVs\r\nbG8h', 'aGk=\n', '+/+/'])
      expect(isByte(good), good).toBe(true);
    for (const bad of [
      'aGVsbG8',
      'a',
      'aGVsbG8=\n!!',
      '!!!!',
      'aGVsbG8=aGk=',
      'aG\nVsbG8=',
      '\naGk=',
      '-_-_',
      'aGk ',
    ])
      expect(isByte(bad), bad).toBe(false);
    expect(valid({ type: 'string', format: 'byte' }, 'aGVsbG8=')).toBe(true);
    expect(valid({ $schema: DRAFT04, type: 'string', format: 'byte' }, 'ab==\n!!')).toBe(false);
  });

  it('iri: an absolute IRI (RFC 3987), its URI mapping checked as uri', () => {
    for (const good of [
      'http://ƒøø.ßår/?∂éœ=πîx#πîüx',
      'http://ƒøø.com/blah_(wîkïpédiå)_blah#ßité-1',
      'urn:example:resource',
      'http://ƒøø.ßår/𐌀',
      'http://ƒøø.ßår/?q=\u{f0000}',
    ])
      expect(isIri(good), good).toBe(true);
    for (const bad of [
      '/abc',
      'âππ',
      'http://ƒøø.ßår/\n',
      'http://a b',
      'http://ƒøø.ßår/\u{f0000}',
      'http://x/\ud800',
    ])
      expect(isIri(bad), bad).toBe(false);
    expect(valid({ type: 'string', format: 'iri' }, '/abc')).toBe(false);
  });

  it('iri-reference: relative references too', () => {
    for (const good of ['/abc', 'âππ', '#ƒrägmênt', 'http://ƒøø.ßår/?∂éœ=πîx#πîüx'])
      expect(isIriReference(good), good).toBe(true);
    for (const bad of ['\\\\WINDOWS\\filëßåré', '#ƒräg\\mênt', 'a b'])
      expect(isIriReference(bad), bad).toBe(false);
    expect(valid({ type: 'string', format: 'iri-reference' }, 'a b')).toBe(false);
  });
});

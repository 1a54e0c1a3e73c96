import { describe, expect, it } from 'vitest';
import { SchemaCompiler } from '../src/validation/schema-compiler.js';
import { PROVIDERS, type Provider, type Schema } from './support/providers-under-test.js';

/**
 * The codecs that keep a schema native where the provider cannot express part of it (encode what
 * it cannot say, decode it in `restore`), and the encode/restore fixes: each example goes through
 * the transform, the fake provider's rule check, validation in the provider's dialect and back.
 */

const compiler = new SchemaCompiler();

/** Transforms, checks the provider schema, and round-trips every instance exactly. */
function roundTrip(provider: Provider, schema: Schema, instances: unknown[]) {
  const { transform, check, validate } = PROVIDERS[provider];
  const t = transform(schema);
  expect(t.providerSchema, t.notes.join('\n')).toBeDefined();
  expect(check(t.providerSchema!)).toEqual([]);
  const original = compiler.compile(schema);
  for (const instance of instances) {
    expect(original.validate(instance), 'test instance must be valid').toEqual([]);
    const encoded = t.encode!(instance);
    expect(validate(t.providerSchema!, encoded), JSON.stringify(encoded)).toEqual([]);
    expect(t.restore(encoded)).toEqual(instance);
  }
  return t;
}

/** `n` optional string properties named `<prefix>0..`. */
function optionalStrings(prefix: string, n: number): Record<string, Schema> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, { type: 'string' }]));
}

describe('any-typed values as JSON text (Anthropic)', () => {
  const schema = {
    type: 'object',
    properties: {
      action: { type: 'string' },
      controller: {},
      args: { type: 'array' },
      extra: true,
    },
    required: ['action', 'controller'],
  };

  it('keeps native mode: a string holding JSON, described as such, parsed by restore', () => {
    const t = roundTrip('anthropic', schema, [
      { action: 'a', controller: { nested: [1, { b: null }] }, args: [1, 'x', { y: true }] },
      { action: 'b', controller: 'text', extra: 3.5 },
      { action: 'c', controller: null, args: [] },
      { action: 'd', controller: { __proto__: 1, constructor: 2 } },
    ]);
    const properties = t.providerSchema!.properties as Record<string, Schema>;
    expect(properties.controller).toMatchObject({ type: 'string' });
    expect(String(properties.controller!.description)).toContain('JSON text');
    expect(t.restore({ action: 'a', controller: '{"x": [1]}' })).toEqual({
      action: 'a',
      controller: { x: [1] },
    });
    // Not JSON text: the string itself (the original accepts any value; the final validation decides).
    expect(t.restore({ action: 'a', controller: 'plain words' })).toEqual({
      action: 'a',
      controller: 'plain words',
    });
  });

  it('a schema with no type at all is sent as its JSON text under the root wrapper', () => {
    const t = roundTrip('anthropic', {}, [{ a: 1 }, [1, 2], 'x', 3, null, true]);
    expect(t.providerSchema).toMatchObject({ properties: { value: { type: 'string' } } });
  });
});

describe('optional properties past the Anthropic limit: required and nullable', () => {
  const schema = {
    type: 'object',
    properties: {
      id: { type: 'string' },
      maybe: { type: ['string', 'null'] },
      ...optionalStrings('o', 30),
    },
    required: ['id'],
  };

  it('converts just enough of them, and restore drops only the nulls it introduced', () => {
    const t = roundTrip('anthropic', schema, [
      { id: 'x' },
      { id: 'x', maybe: null, o0: 'a', o29: 'b' },
      { id: 'x', maybe: 'm', o3: '' },
    ]);
    const provider = t.providerSchema!;
    const required = provider.required as string[];
    const properties = provider.properties as Record<string, Schema>;
    const optional = Object.keys(properties).filter((k) => !required.includes(k));
    expect(optional).toHaveLength(24);
    // A property that accepts null stays optional: its null is the caller's, never dropped.
    expect(optional).toContain('maybe');
    expect(t.restore({ id: 'x', maybe: null, o0: null })).toEqual({ id: 'x', maybe: null });
    expect(t.notes.join('\n')).toContain('required and nullable');
  });

  it('falls back to prompt mode when the union budget cannot pay for it', () => {
    const unions = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`u${i}`, { type: ['string', 'integer'] }]),
    );
    const t = PROVIDERS.anthropic.transform({
      type: 'object',
      properties: { ...unions, ...optionalStrings('o', 30) },
      required: Object.keys(unions),
    });
    expect(t.providerSchema).toBeUndefined();
    expect(t.notes.at(-1)).toContain('optionalProperties exceed');
  });
});

describe('parts past the Anthropic limits as JSON text', () => {
  it('cuts the property holding the most optional properties, keeps the rest native', () => {
    const settings = { type: 'object', properties: optionalStrings('s', 60) };
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, note: { type: 'string' }, settings },
      required: ['name', 'settings'],
    };
    const t = roundTrip('anthropic', schema, [
      { name: 'n', settings: {} },
      { name: 'n', note: 'x', settings: { s0: 'a', s59: 'b' } },
    ]);
    const properties = t.providerSchema!.properties as Record<string, Schema>;
    expect(properties.settings).toMatchObject({ type: 'string' });
    expect(properties.note).toEqual({ type: 'string' });
    expect(t.restore({ name: 'n', settings: '{"s1": "v"}' })).toEqual({ name: 'n', settings: { s1: 'v' } });
  });

  it('a large schema without recursion is not limited by the unrolling budget', () => {
    const item = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'integer' } },
      required: ['a', 'b'],
    };
    const properties = Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`p${i}`, item]));
    const t = PROVIDERS.anthropic.transform({
      type: 'object',
      properties,
      required: Object.keys(properties),
    });
    expect(t.providerSchema, t.notes.at(-1)).toBeDefined();
  });
});

describe('recursion unrolled (Anthropic)', () => {
  const tree = {
    $defs: {
      node: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          children: { type: 'array', items: { $ref: '#/$defs/node' } },
        },
        required: ['name', 'children'],
      },
    },
    $ref: '#/$defs/node',
  };
  const leaf = (name: string) => ({ name, children: [] });
  const deep = {
    name: 'a',
    children: [{ name: 'b', children: [{ name: 'c', children: [{ name: 'd', children: [leaf('e')] }] }] }],
  };

  it('sends a bounded number of levels natively and the rest as JSON text', () => {
    const t = roundTrip('anthropic', tree, [
      leaf('x'),
      { name: 'r', children: [leaf('1'), leaf('2')] },
      deep,
    ]);
    const encoded = JSON.stringify(t.encode!(deep));
    expect(encoded).toContain('"name":"c"');
    expect(encoded).toContain('\\"name\\":\\"e\\"');
    expect(t.notes.join('\n')).toContain('unrolled');
  });
});

describe('OpenAI limits kept native', () => {
  it('an enum over 1,000 values is sent as a string with the values in the description', () => {
    const values = Array.from({ length: 1500 }, (_, i) => `code-${i}`);
    const t = roundTrip(
      'openai',
      {
        type: 'object',
        properties: { code: { enum: values }, kind: { enum: ['a', 'b'] } },
        required: ['code', 'kind'],
      },
      [{ code: 'code-1499', kind: 'a' }],
    );
    const properties = t.providerSchema!.properties as Record<string, Schema>;
    expect(properties.code).toMatchObject({ type: 'string' });
    expect(properties.code!.enum).toBeUndefined();
    expect(String(properties.code!.description)).toContain('"code-0", "code-1"');
    expect(String(properties.code!.description)).toContain('more)');
    expect(properties.kind).toMatchObject({ enum: ['a', 'b'] });
  });

  it('objects nested past the depth limit are sent as JSON text', () => {
    let schema: Schema = { type: 'object', properties: { leaf: { type: 'string' } }, required: ['leaf'] };
    let instance: unknown = { leaf: 'x' };
    for (let i = 0; i < 13; i++) {
      schema = { type: 'object', properties: { next: schema }, required: ['next'] };
      instance = { next: instance };
    }
    const t = roundTrip('openai', schema, [instance]);
    expect(t.notes.join('\n')).toContain('nested deeper than 10 levels');
  });

  it('a schema whose references multiply past the budget keeps its $defs, in bounded time', () => {
    const defs: Record<string, Schema> = { d16: { type: 'string' } };
    for (let i = 15; i >= 0; i--)
      defs[`d${i}`] = {
        type: 'object',
        properties: { left: { $ref: `#/$defs/d${i + 1}` }, right: { $ref: `#/$defs/d${i + 1}` } },
      };
    const schema = { $defs: defs, $ref: '#/$defs/d0' };
    for (const provider of ['openai', 'anthropic', 'gemini', 'local'] as const) {
      const started = performance.now();
      const t = PROVIDERS[provider].transform(schema);
      expect(performance.now() - started, provider).toBeLessThan(100);
      roundTrip(provider, schema, [{ left: { right: { left: {} } } }, {}]);
      expect(Object.keys(t.providerSchema!.$defs as object).length).toBeGreaterThan(10);
      expect(t.notes[0]).toContain('definitions are kept as $defs');
    }
  }, 60_000);

  it('a recursive schema whose references multiply keeps its $defs except for Anthropic (prompt mode)', () => {
    const defs: Record<string, Schema> = { d16: { $ref: '#/$defs/d0' } };
    for (let i = 15; i >= 0; i--)
      defs[`d${i}`] = {
        type: 'object',
        properties: { left: { $ref: `#/$defs/d${i + 1}` }, right: { $ref: `#/$defs/d${i + 1}` } },
      };
    const schema = { $defs: defs, $ref: '#/$defs/d0' };
    for (const provider of ['openai', 'gemini', 'local'] as const)
      roundTrip(provider, schema, [{ left: { right: { left: {} } } }, {}]);
    const anthropic = PROVIDERS.anthropic.transform(schema);
    expect(anthropic.providerSchema).toBeUndefined();
    expect(anthropic.notes.at(-1)).toContain('with recursion');
  }, 60_000);
});

describe('encode and restore are exact inverses', () => {
  it('restore never adds a null the answer did not have (optional, nullable, presence-sensitive)', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: ['string', 'null'] }, b: { type: 'string' } },
      // b needs a present, null or not: absent and null must stay apart.
      dependentRequired: { b: ['a'] },
    };
    for (const provider of ['openai', 'local'] as const) {
      const t = roundTrip(provider, schema, [{}, { a: null, b: 'x' }, { a: 'y', b: 'x' }, { a: null }]);
      // The answer for "a absent" restores without a.
      expect(t.restore(t.encode!({}))).toEqual({});
      expect(compiler.compile(schema).validate(t.restore(t.encode!({})))).toEqual([]);
    }
  });

  it('encode picks the anyOf branch the value belongs in (not a maxProperties: 0 map)', () => {
    const schema = {
      type: 'object',
      properties: {
        meta: {
          anyOf: [
            { type: 'object', maxProperties: 0 },
            { type: 'object', properties: { k: { type: 'string' } }, required: ['k'] },
          ],
        },
      },
      required: ['meta'],
    };
    for (const provider of ['openai', 'anthropic'] as const)
      roundTrip(provider, schema, [{ meta: {} }, { meta: { k: 'v' } }]);
  });
});

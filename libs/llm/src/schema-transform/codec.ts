import { hasOwn, isObject, setOwn } from './json.js';

/**
 * Maps instances between the original schema's shape and the provider schema's: `encode` forward
 * (used by tests), `restore` back (applied to every answer). Both pass through anything of an
 * unexpected shape: the final validation reports it.
 */
export interface Codec {
  encode(instance: unknown): unknown;
  restore(instance: unknown): unknown;
}

export const IDENTITY: Codec = { encode: (v) => v, restore: (v) => v };

export const isIdentity = (codec: Codec) => codec === IDENTITY;

export interface ObjectShape {
  /** Codecs of the declared properties, in the provider's order. */
  properties: Map<string, Codec>;
  /** Absent in the original, null in the provider's shape; restore drops their null. */
  nullable: Set<string>;
  /**
   * Optional, already nullable and maybe required by a dropped keyword: absent is sent as null and a
   * present value `v` (null included) as `{"value": v}`, so restore tells absent from null exactly.
   */
  absentAsNull: Set<string>;
  /** Codec of undeclared properties. */
  extra: Codec;
}

/** Object properties mapped one by one, absent optional ones written as null. */
export function objectCodec(shape: ObjectShape): Codec {
  const { properties, nullable, absentAsNull, extra } = shape;
  const plain = nullable.size === 0 && absentAsNull.size === 0 && isIdentity(extra);
  if (plain && [...properties.values()].every(isIdentity)) return IDENTITY;
  return {
    encode: (instance) => encodeObject(instance, shape),
    restore: (instance) => restoreObject(instance, shape),
  };
}

function encodeObject(
  instance: unknown,
  { properties, nullable, absentAsNull, extra }: ObjectShape,
): unknown {
  if (!isObject(instance)) return instance;
  // The instance's own order first (restore keeps it), then the nulls standing for absent properties.
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(instance)) {
    const codec = properties.get(name);
    if (!codec) setOwn(out, name, extra.encode(value));
    else if (absentAsNull.has(name)) setOwn(out, name, { [PRESENT_KEY]: codec.encode(value) });
    else setOwn(out, name, codec.encode(value));
  }
  for (const name of properties.keys())
    if (!hasOwn(instance, name) && (nullable.has(name) || absentAsNull.has(name))) setOwn(out, name, null);
  return out;
}

function restoreObject(
  instance: unknown,
  { properties, nullable, absentAsNull, extra }: ObjectShape,
): unknown {
  if (!isObject(instance)) return instance;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(instance)) {
    const codec = properties.get(name);
    if (codec && (nullable.has(name) || absentAsNull.has(name)) && value === null) continue;
    const present = codec && absentAsNull.has(name) && isObject(value) && hasOwn(value, PRESENT_KEY);
    setOwn(out, name, (codec ?? extra).restore(present ? value[PRESENT_KEY] : value));
  }
  return out;
}

/** The key a present value of an `absentAsNull` property is wrapped in. */
export const PRESENT_KEY = 'value';

/** Array items by position: `prefix[i]` for the first ones, `rest` after. */
export function arrayCodec(prefix: Codec[], rest: Codec): Codec {
  if (prefix.every(isIdentity) && isIdentity(rest)) return IDENTITY;
  const at = (i: number) => prefix[i] ?? rest;
  return {
    encode: (instance) =>
      Array.isArray(instance) ? instance.map((item, i) => at(i).encode(item)) : instance,
    restore: (instance) =>
      Array.isArray(instance) ? instance.map((item, i) => at(i).restore(item)) : instance,
  };
}

export interface UnionBranch {
  codec: Codec;
  /** Whether an instance of the original schema belongs to this branch. */
  original(instance: unknown): boolean;
  /** Whether an instance of the provider schema belongs to this branch. */
  provider(instance: unknown): boolean;
  /** A looser test, for answers that match no branch exactly (the final validation reports them). */
  providerType(instance: unknown): boolean;
}

/**
 * A union: an instance goes to the first branch that holds it on both sides (it belongs to the
 * branch and its encoding to the branch's provider schema; an answer, the same way back), else to
 * the first branch that takes it on one side. Where two branches can hold a value, the one whose
 * mapping round-trips is chosen, so a looser match (a `maxProperties: 0` map) never wins over the
 * branch the value belongs in.
 */
export function unionCodec(branches: UnionBranch[]): Codec {
  if (branches.every((b) => isIdentity(b.codec))) return IDENTITY;
  const encoding = (instance: unknown) =>
    branches.find((b) => b.original(instance) && b.provider(b.codec.encode(instance))) ??
    branches.find((b) => b.original(instance)) ??
    branches[0];
  const restoring = (instance: unknown) =>
    branches.find((b) => b.provider(instance) && b.original(b.codec.restore(instance))) ??
    branches.find((b) => b.provider(instance)) ??
    branches.find((b) => b.providerType(instance));
  return {
    encode: (instance) => encoding(instance)?.codec.encode(instance) ?? instance,
    restore: (instance) => restoring(instance)?.codec.restore(instance) ?? instance,
  };
}

/** A non-object root sent as `{value: <root>}`. */
export function wrapCodec(inner: Codec, key: string): Codec {
  return {
    encode: (instance) => ({ [key]: inner.encode(instance) }),
    restore: (instance) =>
      isObject(instance) && hasOwn(instance, key) ? inner.restore(instance[key]) : instance,
  };
}

/** A codec looked up when first used (recursive definitions refer to themselves). */
export function lazyCodec(get: () => Codec): Codec {
  return { encode: (instance) => get().encode(instance), restore: (instance) => get().restore(instance) };
}

/** A map (object with only undeclared properties) sent as `[{key, value}]`; duplicate keys: the last wins. */
export function entriesCodec(value: Codec): Codec {
  return {
    encode: (instance) =>
      isObject(instance)
        ? Object.entries(instance).map(([key, v]) => ({ key, value: value.encode(v) }))
        : instance,
    restore: (instance) =>
      Array.isArray(instance) && instance.every(isEntry) ? toObject(instance, value) : instance,
  };
}

/**
 * Any JSON value sent as a string holding its JSON text (`JSON.stringify`); restore parses it back.
 * An answer that is not JSON text stays the string it is (the original accepts any value).
 */
export const JSON_TEXT_CODEC: Codec = {
  encode: (instance) => JSON.stringify(instance),
  restore(instance) {
    if (typeof instance !== 'string') return instance;
    try {
      return JSON.parse(instance) as unknown;
    } catch {
      return instance;
    }
  },
};

/** Any JSON value, its objects (at every depth) sent as `{entries: [{key, value}]}`. */
export const ANY_JSON_CODEC: Codec = {
  encode(instance) {
    if (Array.isArray(instance)) return instance.map((item) => ANY_JSON_CODEC.encode(item));
    if (!isObject(instance)) return instance;
    return {
      entries: Object.entries(instance).map(([key, v]) => ({ key, value: ANY_JSON_CODEC.encode(v) })),
    };
  },
  restore(instance) {
    if (Array.isArray(instance)) return instance.map((item) => ANY_JSON_CODEC.restore(item));
    if (isObject(instance) && Array.isArray(instance.entries) && instance.entries.every(isEntry))
      return toObject(instance.entries, ANY_JSON_CODEC);
    return instance;
  },
};

function isEntry(value: unknown): value is { key: string; value: unknown } {
  return isObject(value) && typeof value.key === 'string';
}

function toObject(entries: { key: string; value: unknown }[], value: Codec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of entries) setOwn(out, entry.key, value.restore(entry.value));
  return out;
}

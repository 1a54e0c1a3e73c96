/** A JSON Schema object (the boolean forms are handled where they may appear). */
export type Schema = Record<string, unknown>;

export type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** The six JSON types an instance can have (`integer` is a subset of `number`). */
export const INSTANCE_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'] as const;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isPrimitive(value: unknown): value is string | number | boolean | null {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** The most specific JSON type of a value: integral numbers are `integer`. */
export function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value as JsonType;
}

/** Whether a value has the given JSON Schema type (`number` includes integers). */
export function hasType(value: unknown, type: string): boolean {
  const actual = jsonTypeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => hasOwn(b, key) && deepEqual(a[key], b[key]))
  );
}

/** The `type` keyword as a list (empty when absent). */
export function typeList(schema: Schema): string[] {
  if (typeof schema.type === 'string') return [schema.type];
  return Array.isArray(schema.type) ? schema.type.filter((t): t is string => typeof t === 'string') : [];
}

/** `[a]` becomes `a`; anything else is kept as a list. */
export function compactTypes(types: string[]): string | string[] {
  return types.length === 1 ? types[0]! : types;
}

export function pick(schema: Schema, keys: readonly string[]): Schema {
  const out: Schema = {};
  for (const key of keys) if (schema[key] !== undefined) out[key] = schema[key];
  return out;
}

export function omit(schema: Schema, keys: readonly string[]): Schema {
  const out: Schema = { ...schema };
  for (const key of keys) delete out[key];
  return out;
}

/** Own-property test (a property named `constructor` or `__proto__` is data, not the prototype's). */
export function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Assigns an own data property, even one named `__proto__`. */
export function setOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

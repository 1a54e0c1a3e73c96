import { refName } from './core.js';
import { deepEqual, hasOwn, hasType, isObject, typeList, type Schema } from './json.js';

type Defs = ReadonlyMap<string, unknown>;

/**
 * A small validator for the keywords core and provider schemas use (no formats): enough to tell
 * which branch of a union an instance belongs to. `oneOf` is read as `anyOf`, as the providers do.
 */
export function matches(schema: unknown, value: unknown, defs: Defs, depth = 0): boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema) || depth > 64) return true;
  const name = refName(schema);
  if (name !== undefined) return matches(defs.get(name) ?? true, value, defs, depth + 1);
  const types = typeList(schema);
  if (types.length && !types.some((t) => hasType(value, t))) return false;
  if ('const' in schema && !deepEqual(schema.const, value)) return false;
  if (Array.isArray(schema.enum) && !schema.enum.some((v) => deepEqual(v, value))) return false;
  const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(union) && !union.some((b) => matches(b, value, defs, depth + 1))) return false;
  if (typeof value === 'string') return matchesString(schema, value);
  if (typeof value === 'number') return matchesNumber(schema, value);
  if (Array.isArray(value)) return matchesArray(schema, value, defs, depth);
  if (isObject(value)) return matchesObject(schema, value, defs, depth);
  return true;
}

function matchesString(schema: Schema, value: string): boolean {
  const length = [...value].length;
  if (typeof schema.minLength === 'number' && length < schema.minLength) return false;
  if (typeof schema.maxLength === 'number' && length > schema.maxLength) return false;
  if (typeof schema.pattern === 'string') {
    try {
      return new RegExp(schema.pattern, 'u').test(value);
    } catch {
      return true;
    }
  }
  return true;
}

function matchesNumber(schema: Schema, value: number): boolean {
  const num = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const [min, max, xmin, xmax, step] = [
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'multipleOf',
  ].map(num);
  if (min !== undefined && value < min) return false;
  if (max !== undefined && value > max) return false;
  if (xmin !== undefined && value <= xmin) return false;
  if (xmax !== undefined && value >= xmax) return false;
  return step === undefined || Number.isInteger(value / step);
}

function matchesArray(schema: Schema, value: unknown[], defs: Defs, depth: number): boolean {
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) return false;
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) return false;
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
  return value.every((item, i) =>
    matches(i < prefix.length ? prefix[i] : (schema.items ?? true), item, defs, depth + 1),
  );
}

function matchesObject(schema: Schema, value: Record<string, unknown>, defs: Defs, depth: number): boolean {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const count = Object.keys(value).length;
  if (typeof schema.minProperties === 'number' && count < schema.minProperties) return false;
  if (typeof schema.maxProperties === 'number' && count > schema.maxProperties) return false;
  if (
    Array.isArray(schema.required) &&
    !schema.required.every((name) => typeof name !== 'string' || hasOwn(value, name))
  )
    return false;
  return Object.entries(value).every(([name, item]) =>
    matches(
      hasOwn(properties, name) ? properties[name] : (schema.additionalProperties ?? true),
      item,
      defs,
      depth + 1,
    ),
  );
}

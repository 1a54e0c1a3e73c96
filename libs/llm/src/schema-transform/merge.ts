import { annotationsOf, isAny, refName, type CoreNode } from './core.js';
import { compactTypes, deepEqual, hasOwn, hasType, isObject, typeList, type Schema } from './json.js';
import { ANNOTATIONS, TYPE_KEYWORDS } from './keywords.js';
import type { Notes } from './notes.js';

/** Above this many branches a union is not multiplied out further: one side is kept (a loosening). */
const MAX_UNION_PRODUCT = 32;

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

/**
 * A core schema at least as permissive as `a AND b` (the `allOf` of both), usually exactly it:
 * types intersect, bounds tighten, properties merge by name. Where two values cannot be combined
 * (two patterns, two formats, constraints beside a recursive `$ref`) one is kept: every instance
 * valid against both still passes.
 */
export function merge(a: CoreNode, b: CoreNode, notes: Notes, path: string): CoreNode {
  if (a === false || b === false) return false;
  if (isAny(a)) return finish({ ...annotationsOf(a), ...b }, notes, path);
  if (isAny(b)) return finish({ ...a, ...annotationsOf(a) }, notes, path);
  if (refName(a) || refName(b)) return mergeWithRef(a, b, notes, path);
  if (Array.isArray(a.anyOf) || Array.isArray(b.anyOf)) return mergeUnions(a, b, notes, path);
  const out: Schema = { ...annotationsOf(b), ...annotationsOf(a) };
  const types = intersectTypes(typeList(a), typeList(b));
  if (types && types.length === 0) return false;
  if (types) out.type = compactTypes(types);
  if (!mergeLiterals(a, b, out)) return false;
  mergeBounds(a, b, out);
  mergeFirstOf(a, b, out, notes, path);
  mergeObjects(a, b, out, notes, path);
  mergeArrays(a, b, out, notes, path);
  return finish(out, notes, path);
}

function mergeWithRef(a: Schema, b: Schema, notes: Notes, path: string): CoreNode {
  if (refName(a) && refName(a) === refName(b)) return a;
  notes.add(path, 'constraints combined with a recursive $ref are dropped (the $ref is kept)');
  return refName(a) ? a : b;
}

function mergeUnions(a: Schema, b: Schema, notes: Notes, path: string): CoreNode {
  const [union, other] = Array.isArray(a.anyOf) ? [a, b] : [b, a];
  const branches = union.anyOf as CoreNode[];
  const otherSize = Array.isArray(other.anyOf) ? other.anyOf.length : 1;
  if (branches.length * otherSize > MAX_UNION_PRODUCT) {
    notes.add(path, 'an intersection of large unions keeps only one of them');
    return union;
  }
  return finish(
    { ...annotationsOf(union), anyOf: branches.map((branch) => merge(branch, other, notes, path)) },
    notes,
    path,
  );
}

/** Intersection of two `type` lists (undefined when neither constrains); `integer` is inside `number`. */
function intersectTypes(a: string[], b: string[]): string[] | undefined {
  if (a.length === 0) return b.length ? b : undefined;
  if (b.length === 0) return a;
  const out = new Set<string>();
  for (const t of a) {
    if (b.includes(t)) out.add(t);
    else if (t === 'integer' && b.includes('number')) out.add('integer');
    else if (t === 'number' && b.includes('integer')) out.add('integer');
  }
  return [...out];
}

/** Combines enum/const; false when no value satisfies both. */
function mergeLiterals(a: Schema, b: Schema, out: Schema): boolean {
  const lists = [a, b]
    .filter((s) => 'const' in s || Array.isArray(s.enum))
    .map((s) => ('const' in s ? [s.const] : (s.enum as unknown[])));
  if (lists.length === 0) return true;
  const [first, second] = lists;
  const values = second ? first!.filter((v) => second.some((w) => deepEqual(v, w))) : first!;
  if (values.length === 0) return false;
  if ('const' in a || 'const' in b) out.const = values[0];
  else out.enum = values;
  return true;
}

function mergeBounds(a: Schema, b: Schema, out: Schema): void {
  for (const key of LOWER_BOUNDS) {
    const values = [a[key], b[key]].filter((v): v is number => typeof v === 'number');
    if (values.length) out[key] = Math.max(...values);
  }
  for (const key of UPPER_BOUNDS) {
    const values = [a[key], b[key]].filter((v): v is number => typeof v === 'number');
    if (values.length) out[key] = Math.min(...values);
  }
}

/** pattern, format, multipleOf: equal values merge; different ones keep the first (a loosening). */
function mergeFirstOf(a: Schema, b: Schema, out: Schema, notes: Notes, path: string): void {
  for (const key of ['pattern', 'format', 'multipleOf'] as const) {
    if (a[key] === undefined && b[key] === undefined) continue;
    out[key] = a[key] ?? b[key];
    if (a[key] !== undefined && b[key] !== undefined && !deepEqual(a[key], b[key])) {
      const combined = key === 'multipleOf' ? lcm(a[key], b[key]) : undefined;
      if (combined !== undefined) out[key] = combined;
      else notes.add(path, `two different ${key} values: only ${JSON.stringify(a[key])} is kept`);
    }
  }
}

function lcm(a: unknown, b: unknown): number | undefined {
  if (!Number.isInteger(a) || !Number.isInteger(b)) return undefined;
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return ((a as number) / gcd(a as number, b as number)) * (b as number);
}

/** The schema an object applies to property `name`: its own, else additionalProperties, else anything. */
function propertyFor(schema: Schema, name: string): CoreNode {
  const properties = isObject(schema.properties) ? schema.properties : {};
  if (hasOwn(properties, name)) return properties[name] as CoreNode;
  return schema.additionalProperties === undefined ? {} : (schema.additionalProperties as CoreNode);
}

function mergeObjects(a: Schema, b: Schema, out: Schema, notes: Notes, path: string): void {
  const names = [...new Set([...Object.keys(a.properties ?? {}), ...Object.keys(b.properties ?? {})])];
  if (names.length)
    out.properties = Object.fromEntries(
      names.map((n) => [n, merge(propertyFor(a, n), propertyFor(b, n), notes, `${path}/properties/${n}`)]),
    );
  const required = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
  if (required.length) out.required = required;
  if (a.additionalProperties !== undefined || b.additionalProperties !== undefined) {
    const extra = merge(
      (a.additionalProperties ?? {}) as CoreNode,
      (b.additionalProperties ?? {}) as CoreNode,
      notes,
      path,
    );
    if (!isAny(extra)) out.additionalProperties = extra;
  }
}

/** The schema an array applies to position `i`. */
function itemFor(schema: Schema, i: number): CoreNode {
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
  if (i < prefix.length) return prefix[i] as CoreNode;
  return schema.items === undefined ? {} : (schema.items as CoreNode);
}

function mergeArrays(a: Schema, b: Schema, out: Schema, notes: Notes, path: string): void {
  const length = Math.max(
    Array.isArray(a.prefixItems) ? a.prefixItems.length : 0,
    Array.isArray(b.prefixItems) ? b.prefixItems.length : 0,
  );
  if (length)
    out.prefixItems = Array.from({ length }, (_, i) =>
      merge(itemFor(a, i), itemFor(b, i), notes, `${path}/prefixItems/${i}`),
    );
  if (a.items !== undefined || b.items !== undefined) {
    const items = merge((a.items ?? {}) as CoreNode, (b.items ?? {}) as CoreNode, notes, path);
    if (!isAny(items)) out.items = items;
  }
}

/**
 * Puts a core node in canonical form: unions flattened and distributed over their siblings,
 * literals filtered by type, `false` properties/items turned into the bounds they mean, keywords of
 * types the node excludes removed. Returns `false` when nothing can be valid.
 */
export function finish(node: Schema, notes: Notes, path: string): CoreNode {
  if (Array.isArray(node.anyOf)) return finishUnion(node, notes, path);
  const out: Schema = { ...node };
  if (!reconcileLiterals(out)) return false;
  dropForeignKeywords(out);
  finishObject(out);
  finishArray(out);
  for (const key of ['minLength', 'minItems', 'minProperties'] as const) if (out[key] === 0) delete out[key];
  return out;
}

function finishUnion(node: Schema, notes: Notes, path: string): CoreNode {
  const { anyOf, ...siblings } = node;
  let branches = (anyOf as CoreNode[]).flatMap((b) =>
    b !== false && Array.isArray(b.anyOf) ? (b.anyOf as CoreNode[]) : [b],
  );
  const rest = Object.fromEntries(
    Object.entries(siblings).filter(([key]) => !(ANNOTATIONS as readonly string[]).includes(key)),
  );
  if (Object.keys(rest).length > 0) branches = branches.map((b) => merge(rest, b, notes, path));
  branches = branches.filter((b) => b !== false);
  if (branches.length === 0) return false;
  if (branches.some(isAny)) return annotationsOf(node);
  if (branches.length === 1) return { ...annotationsOf(node), ...(branches[0] as Schema) };
  return { ...annotationsOf(node), anyOf: dedupe(branches) };
}

function dedupe(branches: CoreNode[]): CoreNode[] {
  return branches.filter((b, i) => branches.findIndex((c) => deepEqual(b, c)) === i);
}

/** Drops enum values the type excludes; false when none (or the const) survives. */
function reconcileLiterals(out: Schema): boolean {
  const types = typeList(out);
  const fits = (v: unknown) => types.length === 0 || types.some((t) => hasType(v, t));
  if ('const' in out) {
    if (Array.isArray(out.enum) && !out.enum.some((v) => deepEqual(v, out.const))) return false;
    delete out.enum;
    return fits(out.const);
  }
  if (Array.isArray(out.enum)) out.enum = out.enum.filter(fits);
  return !Array.isArray(out.enum) || out.enum.length > 0;
}

function dropForeignKeywords(out: Schema): void {
  const types = typeList(out);
  if (types.length === 0) return;
  const kept = new Set<string>(types.flatMap((t) => TYPE_KEYWORDS[t as keyof typeof TYPE_KEYWORDS] ?? []));
  for (const key of Object.keys(out)) if (TYPED_KEYWORDS.has(key) && !kept.has(key)) delete out[key];
}

/** Every keyword that belongs to one instance type. */
const TYPED_KEYWORDS = new Set<string>(Object.values(TYPE_KEYWORDS).flat());

function finishObject(out: Schema): void {
  if (isObject(out.properties)) {
    const properties = Object.entries(out.properties).filter(([, v]) => v !== false);
    if (properties.length) out.properties = Object.fromEntries(properties);
    else delete out.properties;
  }
  if (out.additionalProperties !== undefined && isAny(out.additionalProperties as CoreNode))
    delete out.additionalProperties;
  if (Array.isArray(out.required)) out.required = [...new Set(out.required)];
}

/** `false` at a position caps the array's length there. */
function finishArray(out: Schema): void {
  if (Array.isArray(out.prefixItems)) {
    const firstFalse = out.prefixItems.indexOf(false);
    if (firstFalse >= 0) {
      out.prefixItems = out.prefixItems.slice(0, firstFalse);
      capItems(out, firstFalse);
    }
    if ((out.prefixItems as unknown[]).length === 0) delete out.prefixItems;
  }
  if (out.items === false) capItems(out, Array.isArray(out.prefixItems) ? out.prefixItems.length : 0);
  if (out.items !== undefined && isAny(out.items as CoreNode)) delete out.items;
}

function capItems(out: Schema, length: number): void {
  delete out.items;
  out.maxItems = Math.min(typeof out.maxItems === 'number' ? out.maxItems : Infinity, length);
}

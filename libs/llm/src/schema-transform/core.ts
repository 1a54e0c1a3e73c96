import { isObject, type Schema } from './json.js';
import { ANNOTATIONS } from './keywords.js';

/**
 * The provider-neutral core every transform starts from: a 2020-12 schema using only `type`,
 * `enum`, `const`, `anyOf` (pure: only annotations beside it), the type keywords of
 * `TYPE_KEYWORDS`, `title`/`description` and `$ref: "#/$defs/<name>"` for recursion. `{}` accepts
 * anything; `false` nothing (it survives only where a keyword gives it meaning, or as a whole schema).
 */
export type CoreNode = Schema | false;

export interface CoreDocument {
  root: CoreNode;
  defs: Map<string, CoreNode>;
  /** Property names whose presence a dropped keyword may require (see presence.ts). */
  presence: ReadonlySet<string>;
  /** Set (to the reason) when references were kept as definitions rather than inlined (see resolve-refs.ts). */
  keptDefs?: string;
}

export const REF_PREFIX = '#/$defs/';

export function refName(node: Schema): string | undefined {
  return typeof node.$ref === 'string' && node.$ref.startsWith(REF_PREFIX)
    ? node.$ref.slice(REF_PREFIX.length)
    : undefined;
}

/** A schema without constraints (annotations aside) accepts every instance. */
export function isAny(node: CoreNode): boolean {
  return node !== false && Object.keys(node).every((key) => (ANNOTATIONS as readonly string[]).includes(key));
}

export function annotationsOf(node: Schema): Schema {
  const out: Schema = {};
  for (const key of ANNOTATIONS) if (typeof node[key] === 'string') out[key] = node[key];
  return out;
}

/** Applies `fn` to every direct subschema of a core node (properties, items, prefixItems, anyOf, additionalProperties). */
export function mapChildren(node: Schema, fn: (child: CoreNode, key: string) => CoreNode): Schema {
  const out: Schema = { ...node };
  if (isObject(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([k, v]) => [k, fn(v as CoreNode, `properties/${k}`)]),
    );
  }
  for (const key of ['additionalProperties', 'items'] as const)
    if (isObject(node[key])) out[key] = fn(node[key] as Schema, key);
  for (const key of ['prefixItems', 'anyOf'] as const) {
    const list = node[key];
    if (Array.isArray(list)) out[key] = list.map((child, i) => fn(child as CoreNode, `${key}/${i}`));
  }
  return out;
}

/** Visits every subschema of a core node, depth first. */
export function forEachNode(node: CoreNode, visit: (node: Schema) => void): void {
  if (node === false) return;
  visit(node);
  mapChildren(node, (child) => {
    forEachNode(child, visit);
    return child;
  });
}

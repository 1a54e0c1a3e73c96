import { isObject, type Schema } from './json.js';
import { LIST_SUBSCHEMA, MAP_SUBSCHEMA, SINGLE_SUBSCHEMA } from './keywords.js';
import type { Draft } from './normalize-draft.js';
import { Unsupported } from './notes.js';

/** Base URI of a schema without `$id`: refs relative to it stay inside the document. */
export const DEFAULT_BASE = 'https://schema.invalid/root.json';

/** Where every `$id`, `$anchor` and `$dynamicAnchor` of one document points, and each node's base URI. */
export interface ResourceIndex {
  resources: Map<string, unknown>;
  anchors: Map<string, unknown>;
  dynamicAnchors: Map<string, number>;
  bases: Map<unknown, string>;
}

export function resolveUri(ref: string, base: string, path = ''): string {
  try {
    return new URL(ref, base).href;
  } catch {
    throw new Unsupported(`$ref "${ref}" cannot be resolved against "${base}"`, path);
  }
}

const withoutFragment = (uri: string) => uri.replace(/#.*$/, '');

export function indexResources(root: Schema, draft: Draft): ResourceIndex {
  const index: ResourceIndex = {
    resources: new Map(),
    anchors: new Map(),
    dynamicAnchors: new Map(),
    bases: new Map(),
  };
  index.resources.set(DEFAULT_BASE, root);
  visit(root, DEFAULT_BASE, draft, index);
  return index;
}

function visit(node: unknown, parentBase: string, draft: Draft, index: ResourceIndex): void {
  if (!isObject(node) || index.bases.has(node)) return;
  const base = registerIds(node, parentBase, draft, index);
  index.bases.set(node, base);
  for (const child of subschemasOf(node)) visit(child, base, draft, index);
}

function registerIds(node: Schema, parentBase: string, draft: Draft, index: ResourceIndex): string {
  // Up to draft-07 every keyword beside `$ref` is ignored, `$id` included.
  if (typeof node.$ref === 'string' && ['draft-04', 'draft-06', 'draft-07'].includes(draft))
    return parentBase;
  const id = draft === 'draft-04' ? node.id : node.$id;
  let base = parentBase;
  if (typeof id === 'string' && id.startsWith('#')) index.anchors.set(`${base}#${id.slice(1)}`, node);
  else if (typeof id === 'string') {
    base = withoutFragment(resolveUri(id, parentBase));
    index.resources.set(base, node);
  }
  if (typeof node.$anchor === 'string') index.anchors.set(`${base}#${node.$anchor}`, node);
  if (typeof node.$dynamicAnchor === 'string') {
    index.anchors.set(`${base}#${node.$dynamicAnchor}`, node);
    index.dynamicAnchors.set(node.$dynamicAnchor, (index.dynamicAnchors.get(node.$dynamicAnchor) ?? 0) + 1);
  }
  return base;
}

/** Every subschema directly under a schema object, in any draft's vocabulary. */
export function subschemasOf(node: Schema): unknown[] {
  const children: unknown[] = [];
  for (const key of SINGLE_SUBSCHEMA) if (node[key] !== undefined) children.push(node[key]);
  for (const key of LIST_SUBSCHEMA) {
    const value = node[key];
    if (Array.isArray(value)) children.push(...value);
    else if (key === 'items' && value !== undefined) children.push(value);
  }
  for (const key of MAP_SUBSCHEMA) {
    const value = node[key];
    if (isObject(value)) children.push(...Object.values(value).filter((v) => !Array.isArray(v)));
  }
  return children;
}

export interface RefTarget {
  node: unknown;
  base: string;
}

/** The node a `$ref` names inside this document; a reference to anything else is Unsupported. */
export function lookupRef(index: ResourceIndex, ref: string, base: string, path: string): RefTarget {
  const absolute = resolveUri(ref, base, path);
  const hashAt = absolute.indexOf('#');
  const document = hashAt < 0 ? absolute : absolute.slice(0, hashAt);
  const fragment = hashAt < 0 ? '' : safeDecode(absolute.slice(hashAt + 1), path);
  const resource = index.resources.get(document);
  if (resource === undefined)
    throw new Unsupported(
      `$ref "${ref}" points outside the schema (remote references are never fetched)`,
      path,
    );
  if (fragment === '') return { node: resource, base: document };
  if (fragment.startsWith('/')) return followPointer(index, resource, document, fragment, path);
  const anchored = index.anchors.get(`${document}#${fragment}`);
  if (anchored === undefined) throw new Unsupported(`$ref "${ref}" names no anchor of the schema`, path);
  return { node: anchored, base: index.bases.get(anchored) ?? document };
}

function followPointer(
  index: ResourceIndex,
  resource: unknown,
  document: string,
  pointer: string,
  path: string,
): RefTarget {
  let node = resource;
  let base = document;
  for (const token of pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    node = Array.isArray(node) ? node[Number(token)] : isObject(node) ? node[token] : undefined;
    if (node === undefined)
      throw new Unsupported(`$ref "#${pointer}" does not resolve inside the schema`, path);
    base = index.bases.get(node) ?? base;
  }
  return { node, base };
}

function safeDecode(fragment: string, path: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch {
    throw new Unsupported(`$ref fragment "${fragment}" is not valid percent-encoding`, path);
  }
}

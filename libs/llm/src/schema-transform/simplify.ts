import { forEachNode, isAny, mapChildren, refName, type CoreDocument, type CoreNode } from './core.js';
import { hasOwn, isObject, setOwn, type Schema } from './json.js';
import { CORE_KEYWORDS, SILENT_DROPS } from './keywords.js';
import { finish, merge } from './merge.js';
import { childPath, type Notes } from './notes.js';
import { presenceSensitiveNames } from './presence.js';
import type { ResolvedSchema, SchemaNode } from './resolve-refs.js';

const TYPE_NAMES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'array', 'object']);
const NUMBER_VALUED = [
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
];

/** Why a keyword outside the core is dropped (never a tightening: the final validation enforces it). */
const DROPPED: Record<string, string> = {
  not: 'not is dropped',
  if: 'if/then/else is dropped',
  then: 'if/then/else is dropped',
  else: 'if/then/else is dropped',
  dependentRequired: 'dependentRequired is dropped',
  dependentSchemas: 'dependentSchemas is dropped',
  propertyNames: 'propertyNames is dropped',
  contains: 'contains/minContains/maxContains are dropped',
  minContains: 'contains/minContains/maxContains are dropped',
  maxContains: 'contains/minContains/maxContains are dropped',
  uniqueItems: 'uniqueItems is dropped',
  unevaluatedItems: 'unevaluatedItems is dropped',
  unevaluatedProperties: 'unevaluatedProperties is dropped',
};

/**
 * The core form of a resolved schema: a loosening that keeps everything providers can express.
 * `allOf` is merged, `oneOf` becomes `anyOf` (exclusivity dropped), `patternProperties` folds into
 * `additionalProperties`, and negations, conditionals and the rarer keywords are dropped. Every
 * instance valid against the original stays valid against the result.
 */
export function simplifyDocument(resolved: ResolvedSchema, notes: Notes): CoreDocument {
  const root = simplify(resolved.root, notes, '#');
  const defs = new Map(
    [...resolved.defs].map(([name, def]) => [name, simplify(def, notes, `#/$defs/${name}`)]),
  );
  const presence = presenceSensitiveNames(resolved);
  if (resolved.keptDefs) {
    notes.add('#', `${resolved.keptDefs}: definitions are kept as $defs`);
    return { ...keepUsedDefs(root, defs), presence, keptDefs: resolved.keptDefs };
  }
  return { ...inlineAcyclicDefs(root, defs), presence };
}

export function simplify(node: SchemaNode, notes: Notes, path: string): CoreNode {
  if (node === true) return {};
  if (node === false) return false;
  const own: Schema = {};
  const conjuncts: CoreNode[] = [];
  for (const [key, value] of Object.entries(node)) collectKeyword(key, value, own, conjuncts, notes, path);
  foldPatternProperties(node, own, notes, path);
  declareConditionalNames(node, own, notes, path);
  let result = finish(own, notes, path);
  for (const conjunct of conjuncts) result = merge(result, conjunct, notes, path);
  return result;
}

function collectKeyword(
  key: string,
  value: unknown,
  own: Schema,
  conjuncts: CoreNode[],
  notes: Notes,
  path: string,
): void {
  const sub = (v: unknown, ...tokens: (string | number)[]) =>
    simplify(v as SchemaNode, notes, childPath(path, key, ...tokens));
  if (key === 'allOf' && Array.isArray(value)) conjuncts.push(...value.map((v, i) => sub(v, i)));
  else if ((key === 'anyOf' || key === 'oneOf') && Array.isArray(value)) {
    if (key === 'oneOf')
      notes.add(path, 'oneOf becomes anyOf (exclusivity is checked by the final validation)');
    conjuncts.push(finish({ anyOf: value.map((v, i) => sub(v, i)) }, notes, path));
  } else if (key === 'properties' && isObject(value))
    own.properties = Object.fromEntries(Object.entries(value).map(([n, v]) => [n, sub(v, n)]));
  else if (key === 'prefixItems' && Array.isArray(value)) own.prefixItems = value.map((v, i) => sub(v, i));
  else if (key === 'items' || key === 'additionalProperties') own[key] = sub(value);
  else if (key === 'type') setType(value, own);
  else if (key === 'required' && Array.isArray(value))
    own.required = value.filter((v) => typeof v === 'string');
  else if (NUMBER_VALUED.includes(key)) {
    if (typeof value === 'number') own[key] = value;
  } else if (CORE_KEYWORDS.has(key)) own[key] = value;
  else if (DROPPED[key]) notes.add(path, DROPPED[key]);
  else if (!SILENT_DROPS.has(key) && key !== 'patternProperties')
    notes.add(path, `unknown keyword "${key}" is ignored`);
}

function setType(value: unknown, own: Schema): void {
  const types = (Array.isArray(value) ? value : [value]).filter(
    (t): t is string => typeof t === 'string' && TYPE_NAMES.has(t),
  );
  const unique = [...new Set(types)].filter((t) => !(t === 'integer' && types.includes('number')));
  if (unique.length) own.type = unique.length === 1 ? unique[0] : unique;
}

/**
 * `patternProperties` cannot be expressed by any provider: names matching a pattern are folded into
 * `additionalProperties` (so they stay allowed, with any of the pattern schemas).
 */
function foldPatternProperties(node: Schema, own: Schema, notes: Notes, path: string): void {
  if (!isObject(node.patternProperties) || Object.keys(node.patternProperties).length === 0) return;
  notes.add(
    path,
    'patternProperties is dropped; names matching a pattern are allowed as additional properties',
  );
  if (own.additionalProperties === undefined) return;
  const patterns = Object.entries(node.patternProperties).map(([p, v]) =>
    simplify(v as SchemaNode, notes, childPath(path, 'patternProperties', p)),
  );
  const alternatives = [own.additionalProperties as CoreNode, ...patterns].filter((s) => s !== false);
  own.additionalProperties = alternatives.length === 0 ? false : finish({ anyOf: alternatives }, notes, path);
  if (isAny(own.additionalProperties as CoreNode)) delete own.additionalProperties;
}

/**
 * Names a dropped conditional may require (`then`/`else`/`dependentSchemas` `required`, the targets
 * of `dependentRequired`, here or in an `allOf` member) that `properties` does not declare are declared with the schema
 * `additionalProperties` gives them (exact), where other properties are declared: a provider that
 * closes objects can then still produce them. Without this, closing the object would forbid a
 * property the original may require.
 */
function declareConditionalNames(node: Schema, own: Schema, notes: Notes, path: string): void {
  const names = new Set<string>();
  const collect = (sub: unknown, depth = 0) => {
    if (!isObject(sub) || depth > 4) return;
    if (Array.isArray(sub.required))
      for (const name of sub.required) if (typeof name === 'string') names.add(name);
    for (const key of ['allOf', 'anyOf', 'oneOf'])
      if (Array.isArray(sub[key])) for (const item of sub[key] as unknown[]) collect(item, depth + 1);
  };
  const conditionals = (sub: unknown, depth = 0) => {
    if (!isObject(sub) || depth > 4) return;
    collect(sub.then);
    collect(sub.else);
    if (isObject(sub.dependentSchemas)) Object.values(sub.dependentSchemas).forEach((d) => collect(d));
    if (isObject(sub.dependentRequired))
      for (const list of Object.values(sub.dependentRequired))
        if (Array.isArray(list)) for (const name of list) if (typeof name === 'string') names.add(name);
    // Conditionals inside `allOf` members apply to this same object.
    if (Array.isArray(sub.allOf)) for (const member of sub.allOf) conditionals(member, depth + 1);
  };
  conditionals(node);
  // Without declared properties the object is sent as a map, where every name can be produced.
  if (names.size === 0 || own.additionalProperties === false || !isObject(own.properties)) return;
  const properties = { ...own.properties };
  const added = [...names].filter((name) => !hasOwn(properties, name));
  if (added.length === 0) return;
  for (const name of added)
    setOwn(properties, name, (own.additionalProperties as CoreNode | undefined) ?? {});
  own.properties = properties;
  notes.add(path, `${added.join(', ')}: required by a dropped conditional, declared as optional properties`);
}

/** Definitions that are not part of a cycle are inlined; unused ones disappear. */
function inlineAcyclicDefs(
  rootNode: CoreNode,
  allDefs: Map<string, CoreNode>,
): Omit<CoreDocument, 'presence'> {
  const doc = { root: rootNode, defs: allDefs };
  const cyclic = cyclicDefs(doc.defs);
  const inline = (node: CoreNode): CoreNode => {
    if (node === false) return false;
    const name = refName(node);
    if (name !== undefined && !cyclic.has(name)) return inline(doc.defs.get(name) ?? {});
    return mapChildren(node, inline);
  };
  const root = inline(doc.root);
  const defs = new Map<string, CoreNode>();
  const keep = (node: CoreNode) =>
    forEachNode(node, (n) => {
      const name = refName(n);
      if (name === undefined || defs.has(name)) return;
      defs.set(name, inline(doc.defs.get(name) ?? {}));
      keep(defs.get(name)!);
    });
  keep(root);
  return { root, defs };
}

/** Definitions kept as they are (none inlined); unused ones removed. */
function keepUsedDefs(root: CoreNode, all: Map<string, CoreNode>): Omit<CoreDocument, 'presence'> {
  const defs = new Map<string, CoreNode>();
  const keep = (node: CoreNode) =>
    forEachNode(node, (n) => {
      const name = refName(n);
      if (name === undefined || defs.has(name)) return;
      defs.set(name, all.get(name) ?? {});
      keep(defs.get(name)!);
    });
  keep(root);
  return { root, defs };
}

/** Names of the definitions that can reach themselves through `$ref`s. */
export function cyclicDefs(defs: Map<string, CoreNode>): Set<string> {
  const edges = new Map([...defs].map(([name, def]) => [name, refsIn(def)]));
  const reaches = (from: string, target: string, seen = new Set<string>()): boolean =>
    (edges.get(from) ?? []).some(
      (next) => next === target || (!seen.has(next) && (seen.add(next), reaches(next, target, seen))),
    );
  return new Set([...defs.keys()].filter((name) => reaches(name, name)));
}

function refsIn(node: CoreNode): string[] {
  const names: string[] = [];
  forEachNode(node, (n) => {
    const name = refName(n);
    if (name !== undefined) names.push(name);
  });
  return names;
}

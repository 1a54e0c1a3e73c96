import { isObject, type Schema } from './json.js';
import { ANNOTATIONS, SILENT_DROPS } from './keywords.js';
import { detectDraft, normalizeKeywords, type Draft } from './normalize-draft.js';
import { childPath, Unsupported } from './notes.js';
import { DEFAULT_BASE, indexResources, lookupRef, type ResourceIndex } from './resource-index.js';

export type SchemaNode = Schema | boolean;

/** A schema with every local `$ref` inlined, except the recursive ones: those point into `defs`. */
export interface ResolvedSchema {
  root: SchemaNode;
  defs: Map<string, SchemaNode>;
}

/** Past this many schema objects after inlining, the schema is sent without a native schema. */
const MAX_EXPANDED_NODES = 20_000;

const SCHEMA_VALUED = [
  'additionalProperties',
  'items',
  'contains',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas'];

/**
 * Normalises every draft to its 2020-12 form and inlines local `$ref`s (JSON pointers, `$id`s,
 * `$anchor`s, an unambiguous `$dynamicRef`). A reference back into a schema being inlined is
 * recursion: it becomes `{$ref: "#/$defs/<name>"}` and the target is expanded once into `defs`.
 */
export function resolveSchema(schema: Schema): ResolvedSchema {
  return new RefExpander(schema).run();
}

class RefExpander {
  private readonly draft: Draft;
  private readonly index: ResourceIndex;
  private readonly stack: unknown[] = [];
  private readonly defNames = new Map<unknown, string>();
  private readonly pending: { node: unknown; base: string; name: string }[] = [];
  private budget = MAX_EXPANDED_NODES;

  constructor(private readonly root: Schema) {
    this.draft = detectDraft(root);
    this.index = indexResources(root, this.draft);
  }

  run(): ResolvedSchema {
    const defs = new Map<string, SchemaNode>();
    this.stack.push(this.root);
    const root = this.expand(this.root, DEFAULT_BASE, '#');
    for (let next = this.pending.shift(); next; next = this.pending.shift()) {
      this.stack.splice(0, this.stack.length, next.node);
      defs.set(next.name, this.expand(next.node, next.base, `#/$defs/${next.name}`));
    }
    return { root, defs };
  }

  private expand(node: unknown, inheritedBase: string, path: string): SchemaNode {
    if (typeof node === 'boolean') return node;
    if (!isObject(node)) throw new Unsupported('a subschema is neither an object nor a boolean', path);
    if (--this.budget < 0)
      throw new Unsupported(`more than ${MAX_EXPANDED_NODES} subschemas once references are inlined`, path);
    const base = this.index.bases.get(node) ?? inheritedBase;
    const own = normalizeKeywords(node, this.draft);
    if (own.$recursiveRef !== undefined)
      throw new Unsupported('$recursiveRef (draft 2019-09) is not supported', path);
    const refs = this.followRefs(own, base, path);
    const rest = this.expandChildren(own, base, path);
    if (refs.length === 0) return rest;
    if (constrains(rest)) return { allOf: [...refs, rest] };
    const [only] = refs;
    if (refs.length > 1) return { ...rest, allOf: refs };
    return typeof only === 'boolean' ? only : { ...rest, ...only };
  }

  private followRefs(own: Schema, base: string, path: string): SchemaNode[] {
    const refs: SchemaNode[] = [];
    if (typeof own.$ref === 'string') refs.push(this.follow(own.$ref, base, path));
    if (typeof own.$dynamicRef === 'string') {
      const name = own.$dynamicRef.replace(/^.*#/, '');
      if ((this.index.dynamicAnchors.get(name) ?? 0) > 1)
        throw new Unsupported(`$dynamicRef "${own.$dynamicRef}" depends on the dynamic scope`, path);
      refs.push(this.follow(own.$dynamicRef, base, path));
    }
    return refs;
  }

  private follow(ref: string, base: string, path: string): SchemaNode {
    const target = lookupRef(this.index, ref, base, path);
    if (this.stack.includes(target.node))
      return { $ref: `#/$defs/${this.defName(target.node, target.base, ref)}` };
    this.stack.push(target.node);
    try {
      return this.expand(target.node, target.base, path);
    } finally {
      this.stack.pop();
    }
  }

  private defName(node: unknown, base: string, ref: string): string {
    const known = this.defNames.get(node);
    if (known) return known;
    const stem =
      ref
        .split(/[/#]/)
        .pop()
        ?.replace(/[^A-Za-z0-9_-]/g, '_') || 'root';
    const taken = new Set(this.defNames.values());
    let name = stem;
    for (let i = 2; taken.has(name); i++) name = `${stem}_${i}`;
    this.defNames.set(node, name);
    this.pending.push({ node, base, name });
    return name;
  }

  private expandChildren(own: Schema, base: string, path: string): Schema {
    const out: Schema = {};
    for (const [key, value] of Object.entries(own)) {
      if (key === '$ref' || key === '$dynamicRef' || key === '$defs' || key === 'definitions') continue;
      out[key] = this.expandKeyword(key, value, base, childPath(path, key));
    }
    return out;
  }

  private expandKeyword(key: string, value: unknown, base: string, path: string): unknown {
    if (SCHEMA_VALUED.includes(key)) return this.expand(value, base, path);
    if (SCHEMA_LISTS.includes(key) && Array.isArray(value))
      return value.map((item, i) => this.expand(item, base, childPath(path, i)));
    if (SCHEMA_MAPS.includes(key) && isObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([name, sub]) => [name, this.expand(sub, base, childPath(path, name))]),
      );
    }
    return value;
  }
}

/** Whether a schema object has any keyword that constrains (not only annotations). */
export function constrains(schema: Schema): boolean {
  return Object.keys(schema).some(
    (key) => !SILENT_DROPS.has(key) && !(ANNOTATIONS as readonly string[]).includes(key),
  );
}

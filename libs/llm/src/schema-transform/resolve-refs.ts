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
  /**
   * Set (to the reason) when inlining every reference would pass the subschema budget: then every
   * `$ref` became `{$ref: "#/$defs/<name>"}`, recursive or not, and the definitions stay definitions.
   */
  keptDefs?: string;
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
  const reason = `more than ${MAX_EXPANDED_NODES} subschemas once references are inlined`;
  try {
    const inlining = new RefExpander(schema, false);
    if (inlining.estimate() > MAX_EXPANDED_NODES) throw new OverBudget(reason);
    return inlining.run();
  } catch (error) {
    if (!(error instanceof OverBudget)) throw error;
    return { ...new RefExpander(schema, true).run(), keptDefs: reason };
  }
}

/** The subschema budget ran out (the references multiply the schema). */
class OverBudget extends Unsupported {}

class RefExpander {
  private readonly draft: Draft;
  private readonly index: ResourceIndex;
  private readonly stack: unknown[] = [];
  private readonly defNames = new Map<unknown, string>();
  private readonly pending: { node: unknown; base: string; name: string }[] = [];
  private budget = MAX_EXPANDED_NODES;

  constructor(
    private readonly root: Schema,
    /** Every reference becomes a definition (no inlining). */
    private readonly keepDefs: boolean,
  ) {
    this.draft = detectDraft(root);
    this.index = indexResources(root, this.draft);
  }

  /**
   * About how many subschemas inlining would produce (capped just past the budget), counted over
   * the document once per node, without building anything: a schema whose references multiply
   * is recognised in time linear in its size.
   */
  estimate(): number {
    const sizes = new Map<unknown, number>();
    const open = new Set<unknown>();
    const count = (node: unknown, inheritedBase: string): number => {
      if (!isObject(node)) return 1;
      const known = sizes.get(node);
      if (known !== undefined) return known;
      if (open.has(node)) return 1;
      open.add(node);
      const base = this.index.bases.get(node) ?? inheritedBase;
      const own = normalizeKeywords(node, this.draft);
      let total = 1;
      for (const key of ['$ref', '$dynamicRef'])
        if (typeof own[key] === 'string') {
          try {
            const target = lookupRef(this.index, own[key], base, '#');
            total += count(target.node, target.base);
          } catch {
            // Reported by the expansion itself.
          }
        }
      for (const [key, value] of Object.entries(own)) {
        if (SCHEMA_VALUED.includes(key)) total += count(value, base);
        else if (SCHEMA_LISTS.includes(key) && Array.isArray(value))
          for (const item of value) total += count(item, base);
        else if (SCHEMA_MAPS.includes(key) && isObject(value))
          for (const sub of Object.values(value)) total += count(sub, base);
        if (total > MAX_EXPANDED_NODES) break;
      }
      open.delete(node);
      const capped = Math.min(total, MAX_EXPANDED_NODES + 1);
      sizes.set(node, capped);
      return capped;
    };
    return count(this.root, DEFAULT_BASE);
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
      throw new (this.keepDefs ? Unsupported : OverBudget)(
        `more than ${MAX_EXPANDED_NODES} subschemas once references are inlined`,
        path,
      );
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
    if (this.keepDefs || this.stack.includes(target.node))
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

import {
  ANY_JSON_CODEC,
  arrayCodec,
  entriesCodec,
  IDENTITY,
  isIdentity,
  lazyCodec,
  objectCodec,
  unionCodec,
  type Codec,
  type ObjectShape,
} from './codec.js';
import { annotationsOf, isAny, REF_PREFIX, refName, type CoreDocument, type CoreNode } from './core.js';
import { compactTypes, deepEqual, hasOwn, hasType, isObject, setOwn, typeList, type Schema } from './json.js';
import { matches } from './matcher.js';
import { childPath, type Notes, Unsupported } from './notes.js';
import { splitByType } from './split-types.js';

/** A provider schema fragment and the codec between its instances and the original's. */
export interface Lowered {
  schema: Schema;
  codec: Codec;
}

export interface LoweredDocument extends Lowered {
  defs: Record<string, Schema>;
}

/** What one provider accepts, as the lowering needs to know it. */
export interface Profile {
  /** `always`: every schema gets exactly one `type` (multi-type ones become unions); `literals`: only when enum/const need it. */
  splitTypes: 'always' | 'literals';
  unionKeyword: 'anyOf' | 'oneOf';
  /** `nullable`: every property required, optional ones nullable (null restored as absent). */
  optional: 'keep' | 'nullable';
  /** `closed`: additionalProperties false everywhere; `as-is`: as the original; `explicit`: always written out. */
  objects: 'closed' | 'as-is' | 'explicit';
  recursion: boolean;
  /** `fold`: prefixItems become a union in items; `keep-if-required`: kept when every prefix item is required. */
  prefixItems: 'keep' | 'keep-if-required' | 'fold';
  /** A schema accepting anything; undefined when the provider has none. */
  any: Schema | undefined;
  /**
   * Without `any`: whether "any JSON value" is written as a recursive definition whose objects are
   * `{entries: [{key, value}]}` (needs recursion). Maps (objects with only undeclared properties)
   * are then `[{key, value}]` arrays whatever this says, when objects are closed.
   */
  anyAsEntries: boolean;
  /** Whether arrays may omit `items` (then any item is allowed). */
  itemsOptional: boolean;
  keepTitle: boolean;
  /** Whether a type array may hold this type (otherwise a union is written). */
  typeArrayMember(type: string): boolean;
  literal(value: unknown): boolean;
  constAsEnum: boolean;
  string(branch: Schema, note: (message: string) => void): Schema;
  number(branch: Schema, note: (message: string) => void): Schema;
  arrayBounds(branch: Schema, note: (message: string) => void): Schema;
}

/** Lowers a core document to one provider's dialect; throws Unsupported where it has no form. */
export function lowerDocument(doc: CoreDocument, profile: Profile, notes: Notes): LoweredDocument {
  return new Lowerer(doc, profile, notes).run();
}

class Lowerer {
  private readonly defCodecs = new Map<string, Codec>();
  private readonly providerDefs = new Map<string, Schema>();

  constructor(
    private readonly doc: CoreDocument,
    private readonly profile: Profile,
    private readonly notes: Notes,
  ) {}

  run(): LoweredDocument {
    if (this.doc.root === false) throw new Unsupported('no instance can satisfy the schema');
    if (this.doc.defs.size && !this.profile.recursion)
      throw new Unsupported('recursive schemas are not supported');
    for (const [name, def] of this.doc.defs) {
      const lowered = this.node(def, `#/$defs/${name}`);
      this.providerDefs.set(name, lowered.schema);
      this.defCodecs.set(name, lowered.codec);
    }
    const root = this.node(this.doc.root, '#');
    return { ...root, defs: Object.fromEntries(this.providerDefs) };
  }

  private note = (path: string) => (message: string) => this.notes.add(path, message);

  node(node: CoreNode, path: string): Lowered {
    if (node === false) throw new Unsupported('a subschema accepts nothing', path);
    const name = refName(node);
    if (name !== undefined)
      return {
        schema: { $ref: `${REF_PREFIX}${name}` },
        codec: lazyCodec(() => this.defCodecs.get(name) ?? IDENTITY),
      };
    if (Array.isArray(node.anyOf)) return this.union(node.anyOf as CoreNode[], node, path);
    if (isAny(node)) return this.any(node, path);
    if (this.needsSplit(node)) return this.typeUnion(splitByType(node), node, path);
    return this.typed(node, path);
  }

  private needsSplit(node: Schema): boolean {
    if (this.profile.splitTypes === 'always') return typeList(node).length !== 1;
    const literals = 'const' in node ? [node.const] : Array.isArray(node.enum) ? node.enum : [];
    return literals.some((v) => !this.profile.literal(v));
  }

  private any(node: Schema, path: string): Lowered {
    if (this.profile.any)
      return { schema: { ...this.profile.any, ...this.annotations(node) }, codec: IDENTITY };
    if (!this.profile.anyAsEntries) throw new Unsupported('a value of any type cannot be expressed', path);
    const name = this.anyJsonName();
    if (!this.providerDefs.has(name))
      this.providerDefs.set(name, anyJsonSchema(`${REF_PREFIX}${name}`, this.profile.unionKeyword));
    this.notes.add(
      path,
      `a value of any type is sent as $defs/${name} (objects as {"entries": [{"key", "value"}]}) and restored`,
    );
    return { schema: { $ref: `${REF_PREFIX}${name}` }, codec: ANY_JSON_CODEC };
  }

  /** The definition name for "any JSON value", unused by the caller's own definitions. */
  private anyJsonName(): string {
    let name = ANY_JSON;
    for (let i = 2; this.doc.defs.has(name); i++) name = `${ANY_JSON}_${i}`;
    return name;
  }

  private annotations(node: Schema): Schema {
    const out = annotationsOf(node);
    if (!this.profile.keepTitle) delete out.title;
    return out;
  }

  /** Branches split by instance type: each instance goes to the branch of its type. */
  private typeUnion(branches: Schema[], node: Schema, path: string): Lowered {
    if (branches.length === 0) throw new Unsupported('no instance can satisfy the schema', path);
    if (branches.length === 1) return this.typed(branches[0]!, path);
    const lowered = branches.map((b) => this.typed(b, path));
    const codec = unionCodec(
      lowered.map((l, i) => ({
        codec: l.codec,
        original: (v) => hasBranchType(v, branches[i]!),
        provider: (v) => matches(l.schema, v, this.providerDefs),
        providerType: (v) => hasBranchType(v, l.schema),
      })),
    );
    return {
      schema: this.unionSchema(
        lowered.map((l) => l.schema),
        node,
      ),
      codec,
    };
  }

  private union(alternatives: CoreNode[], node: Schema, path: string): Lowered {
    const lowered = alternatives.map((alt, i) => this.node(alt, childPath(path, 'anyOf', i)));
    const codec = unionCodec(
      lowered.map((l, i) => ({
        codec: l.codec,
        original: (v) => matches(alternatives[i], v, this.doc.defs),
        provider: (v) => matches(l.schema, v, this.providerDefs),
        providerType: (v) => hasBranchType(v, l.schema),
      })),
    );
    return {
      schema: this.unionSchema(
        lowered.map((l) => l.schema),
        node,
      ),
      codec,
    };
  }

  /** A union schema, flattened; bare type-only branches become one type array where the provider allows. */
  private unionSchema(schemas: Schema[], node: Schema): Schema {
    const key = this.profile.unionKeyword;
    const flat = schemas.flatMap((s) =>
      Array.isArray(s[key]) && Object.keys(s).length === 1 ? (s[key] as Schema[]) : [s],
    );
    const unique = flat.filter((s, i) => flat.findIndex((t) => deepEqual(s, t)) === i);
    if (unique.length === 1) return { ...this.annotations(node), ...unique[0] };
    const bare = unique.every(
      (s) =>
        Object.keys(s).length === 1 &&
        typeList(s).length >= 1 &&
        typeList(s).every(this.profile.typeArrayMember),
    );
    if (bare) return { ...this.annotations(node), type: unique.flatMap(typeList) };
    return { ...this.annotations(node), [key]: unique };
  }

  /** A schema of one type (or, for providers that keep type-less schemas, as it is). */
  private typed(branch: Schema, path: string): Lowered {
    const out: Schema = this.annotations(branch);
    const types = typeList(branch);
    if (types.length) out.type = compactTypes(types);
    this.literals(branch, out, path);
    const applies = (t: string) =>
      types.length === 0 || types.some((u) => u === t || (t === 'number' && u === 'integer'));
    const note = this.note(path);
    if (applies('string')) Object.assign(out, this.profile.string(branch, note));
    if (applies('number')) Object.assign(out, this.profile.number(branch, note));
    const array =
      applies('array') && hasArrayKeywords(branch, types) ? this.array(branch, out, path) : IDENTITY;
    const object =
      applies('object') && hasObjectKeywords(branch, types) ? this.object(branch, out, path) : IDENTITY;
    return { schema: out, codec: isIdentity(object) ? array : object };
  }

  private literals(branch: Schema, out: Schema, path: string): void {
    if ('const' in branch) {
      if (this.profile.literal(branch.const)) {
        if (this.profile.constAsEnum) out.enum = [branch.const];
        else out.const = branch.const;
      } else this.notes.add(path, 'const is dropped (a value the provider cannot list)');
    }
    if (Array.isArray(branch.enum)) {
      if (branch.enum.every((v) => this.profile.literal(v))) out.enum = branch.enum;
      else this.notes.add(path, 'enum is dropped (values the provider cannot list)');
    }
  }

  private array(branch: Schema, out: Schema, path: string): Codec {
    Object.assign(out, this.profile.arrayBounds(branch, this.note(path)));
    const prefix = (Array.isArray(branch.prefixItems) ? branch.prefixItems : []) as CoreNode[];
    const maxItems = typeof branch.maxItems === 'number' ? branch.maxItems : Infinity;
    const restAllowed = maxItems > prefix.length;
    const rest = branch.items === undefined ? {} : (branch.items as CoreNode);
    if (prefix.length && this.keepsPrefix(branch, prefix.length)) {
      const lowered = prefix.map((p, i) => this.node(p, childPath(path, 'prefixItems', i)));
      out.prefixItems = lowered.map((l) => l.schema);
      const items = restAllowed ? this.items(rest, maxItems, prefix.length, out, path) : IDENTITY;
      return arrayCodec(
        lowered.map((l) => l.codec),
        items,
      );
    }
    if (prefix.length) return this.foldPrefix(prefix, rest, restAllowed, out, path);
    return arrayCodec([], this.items(rest, maxItems, 0, out, path));
  }

  private keepsPrefix(branch: Schema, length: number): boolean {
    if (this.profile.prefixItems === 'keep') return true;
    return (
      this.profile.prefixItems === 'keep-if-required' &&
      typeof branch.minItems === 'number' &&
      branch.minItems >= length
    );
  }

  /** Writes `items` for positions past `from`; any item is written as the provider can (or left out). */
  private items(rest: CoreNode, maxItems: number, from: number, out: Schema, path: string): Codec {
    if (isAny(rest) && this.profile.itemsOptional) return IDENTITY;
    if (isAny(rest) && maxItems <= from) {
      out.items = { type: 'null' };
      return IDENTITY;
    }
    const lowered = this.node(rest, childPath(path, 'items'));
    out.items = lowered.schema;
    return lowered.codec;
  }

  /** prefixItems the provider cannot take: items becomes the union of every position's schema. */
  private foldPrefix(
    prefix: CoreNode[],
    rest: CoreNode,
    restAllowed: boolean,
    out: Schema,
    path: string,
  ): Codec {
    this.notes.add(path, 'prefixItems is folded into items (each item may match any position)');
    const lowered = prefix.map((p, i) => this.node(p, childPath(path, 'prefixItems', i)));
    const tail = restAllowed ? this.node(rest, childPath(path, 'items')) : undefined;
    const schemas = [...lowered, ...(tail ? [tail] : [])].map((l) => l.schema);
    out.items = this.unionSchema(schemas, {});
    return arrayCodec(
      lowered.map((l) => l.codec),
      tail?.codec ?? IDENTITY,
    );
  }

  private object(branch: Schema, out: Schema, path: string): Codec {
    const properties: Record<string, CoreNode> = {
      ...((branch.properties as Record<string, CoreNode>) ?? {}),
    };
    const required = (branch.required as string[] | undefined) ?? [];
    const extra = branch.additionalProperties as CoreNode | undefined;
    this.declareRequired(properties, required, extra, path);
    if (this.profile.objects === 'closed' && extra !== false && Object.keys(properties).length === 0)
      return this.mapAsEntries(extra ?? {}, branch, out, path);
    this.checkClosable(properties, branch, extra, path);
    if (branch.minProperties !== undefined || branch.maxProperties !== undefined)
      this.notes.add(path, 'minProperties/maxProperties are dropped');
    const shape = this.properties(properties, required, out, path);
    return objectCodec({ ...shape, extra: this.additional(extra, out, path) });
  }

  /** Writes `properties` and `required`; optional properties become nullable where the provider needs them all. */
  private properties(
    properties: Record<string, CoreNode>,
    required: string[],
    out: Schema,
    path: string,
  ): Omit<ObjectShape, 'extra'> {
    const shape = {
      properties: new Map<string, Codec>(),
      nullable: new Set<string>(),
      absentAsNull: new Set<string>(),
    };
    const written: Record<string, Schema> = {};
    for (const [name, sub] of Object.entries(properties)) {
      const at = childPath(path, 'properties', name);
      const lowered = this.node(sub, at);
      shape.properties.set(name, lowered.codec);
      setOwn(written, name, lowered.schema);
      if (this.profile.optional === 'nullable' && !required.includes(name)) {
        const keepsNull = this.acceptsNull(lowered.schema) && this.doc.presence.has(name);
        setOwn(written, name, keepsNull ? lowered.schema : this.nullable(lowered.schema, at));
        (keepsNull ? shape.absentAsNull : shape.nullable).add(name);
        if (keepsNull)
          this.notes.add(
            at,
            'optional, already nullable and maybe required by another keyword: null is kept (absence is sent as null)',
          );
      }
    }
    if (Object.keys(written).length || this.profile.objects === 'closed') out.properties = written;
    const names = this.profile.optional === 'nullable' ? Object.keys(written) : required;
    if (names.length || this.profile.optional === 'nullable') out.required = names;
    return shape;
  }

  /** Names in `required` without a schema get the one additionalProperties gives them. */
  private declareRequired(
    properties: Record<string, CoreNode>,
    required: string[],
    extra: CoreNode | undefined,
    path: string,
  ): void {
    for (const name of required) {
      if (hasOwn(properties, name)) continue;
      if (extra === false)
        throw new Unsupported(`required property "${name}" is not allowed by additionalProperties`, path);
      setOwn(properties, name, extra ?? {});
      this.notes.add(path, `required property "${name}" is declared in properties`);
    }
  }

  /** A map: `[{key, value}]`, min/maxProperties as the array's bounds where the provider has them. */
  private mapAsEntries(values: CoreNode, branch: Schema, out: Schema, path: string): Codec {
    this.notes.add(
      path,
      'an object with only undeclared properties is sent as [{"key", "value"}] entries and restored',
    );
    const value = this.node(values, childPath(path, 'additionalProperties'));
    delete out.type;
    Object.assign(
      out,
      { type: 'array' },
      this.profile.arrayBounds(
        { minItems: branch.minProperties, maxItems: branch.maxProperties },
        this.note(path),
      ),
    );
    out.items = {
      type: 'object',
      properties: { key: { type: 'string' }, value: value.schema },
      required: ['key', 'value'],
      additionalProperties: false,
    };
    return entriesCodec(value.codec);
  }

  private checkClosable(
    properties: Record<string, CoreNode>,
    branch: Schema,
    extra: CoreNode | undefined,
    path: string,
  ): void {
    if (this.profile.objects !== 'closed' || extra === false) return;
    const count = Object.keys(properties).length;
    if (count === 0)
      throw new Unsupported('an object with only undeclared properties (a map) cannot be expressed', path);
    if (typeof branch.minProperties === 'number' && branch.minProperties > count) {
      throw new Unsupported('minProperties requires undeclared properties', path);
    }
    this.notes.add(
      path,
      'additionalProperties: false is added (the original allows more properties; none is ever required)',
    );
  }

  private additional(extra: CoreNode | undefined, out: Schema, path: string): Codec {
    const { objects } = this.profile;
    if (objects === 'closed' || extra === false) {
      if (objects !== 'as-is' || extra === false) out.additionalProperties = false;
      return IDENTITY;
    }
    if (extra === undefined) {
      if (objects === 'explicit') out.additionalProperties = true;
      return IDENTITY;
    }
    const lowered = this.node(extra, childPath(path, 'additionalProperties'));
    out.additionalProperties = lowered.schema;
    return lowered.codec;
  }

  /** The property schema also accepting null (the model's way to leave an optional property out). */
  private nullable(schema: Schema, path: string): Schema {
    const key = this.profile.unionKeyword;
    if (this.acceptsNull(schema)) {
      this.notes.add(path, 'optional and already nullable: null is restored as absent');
      return schema;
    }
    const types = typeList(schema);
    const scalar =
      types.length === 1 &&
      SCALAR_TYPES.has(types[0]!) &&
      Object.keys(schema).every((k) => SCALAR_KEYWORDS.has(k));
    if (scalar && this.profile.typeArrayMember(types[0]!)) return { ...schema, type: [...types, 'null'] };
    if (Array.isArray(schema[key]))
      return { ...schema, [key]: [...(schema[key] as Schema[]), { type: 'null' }] };
    return { [key]: [schema, { type: 'null' }] };
  }

  private acceptsNull(schema: Schema, depth = 0): boolean {
    const name = refName(schema);
    if (name !== undefined)
      return depth < 16 && this.acceptsNull(this.providerDefs.get(name) ?? { type: 'string' }, depth + 1);
    if (
      typeList(schema).includes('null') ||
      (Array.isArray(schema.enum) && schema.enum.includes(null)) ||
      schema.const === null
    )
      return true;
    const union = schema[this.profile.unionKeyword];
    if (Array.isArray(union)) return union.some((b) => isObject(b) && this.acceptsNull(b, depth + 1));
    return (
      typeList(schema).length === 0 &&
      !('enum' in schema) &&
      !('const' in schema) &&
      refName(schema) === undefined
    );
  }
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/** Keywords that leave a one-type scalar schema nullable by adding "null" to its type. */
const SCALAR_KEYWORDS = new Set([
  'type',
  'description',
  'title',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
]);

/** The definition "any JSON value" is written as, where objects need closing. */
export const ANY_JSON = 'any_json';

function anyJsonSchema($ref: string, unionKeyword: string): Schema {
  const ref = { $ref };
  const entry = {
    type: 'object',
    properties: { key: { type: 'string' }, value: ref },
    required: ['key', 'value'],
    additionalProperties: false,
  };
  return {
    description: 'Any JSON value; an object is written as {"entries": [{"key": ..., "value": ...}]}',
    [unionKeyword]: [
      { type: ['string', 'number', 'boolean', 'null'] },
      { type: 'array', items: ref },
      {
        type: 'object',
        properties: { entries: { type: 'array', items: entry } },
        required: ['entries'],
        additionalProperties: false,
      },
    ],
  };
}

function hasBranchType(value: unknown, branch: Schema): boolean {
  return typeList(branch).some((t) => hasType(value, t));
}

function hasArrayKeywords(branch: Schema, types: string[]): boolean {
  return types.includes('array') || ['prefixItems', 'items', 'minItems', 'maxItems'].some((k) => k in branch);
}

function hasObjectKeywords(branch: Schema, types: string[]): boolean {
  return (
    types.includes('object') ||
    ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'].some(
      (k) => k in branch,
    )
  );
}

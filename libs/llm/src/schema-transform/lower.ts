import {
  ANY_JSON_CODEC,
  arrayCodec,
  entriesCodec,
  IDENTITY,
  isIdentity,
  JSON_TEXT_CODEC,
  lazyCodec,
  objectCodec,
  PRESENT_KEY,
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
  /** What a provider with limits may ask to write differently in another lowering (see `LowerOptions`). */
  report: LoweringReport;
}

/** Per-lowering choices a provider makes to stay within its limits (paths as in the notes). */
export interface LowerOptions {
  /**
   * Without recursion: how many times a recursive definition is expanded inside itself; below
   * that, the value is sent as JSON text (a string, parsed by restore). Undefined: recursion is
   * Unsupported.
   */
  unroll?: number;
  /** Object schemas nested deeper than this (the root object is 1) are sent as JSON text. */
  maxObjectDepth?: number;
  /** Optional properties (by path) sent as required and nullable; restore drops that null. */
  nullable?: ReadonlySet<string>;
  /** Enums (by path) sent as their type, the values listed in the description instead. */
  listedEnums?: ReadonlySet<string>;
  /** Subschemas (by path) sent as JSON text: a string holding the value, parsed by restore. */
  asJsonText?: ReadonlySet<string>;
  /** Whether to report, per property, the optional and union-typed properties inside it. */
  measureProperties?: boolean;
}

export interface LoweringReport {
  /** Optional properties left optional: whether their schema is a union, whether it accepts null. */
  optionals: { path: string; union: boolean; acceptsNull: boolean }[];
  /** Enums written: number of values, characters of their strings. */
  enums: { path: string; count: number; length: number }[];
  /** With `measureProperties`: properties holding others, with the optional and union-typed ones inside. */
  nested: { path: string; optionalProperties: number; unionProperties: number }[];
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
   * Without `any` nor `anyAsEntries`: whether a value of any type is sent as a string holding its
   * JSON text (parsed by restore), rather than making the schema Unsupported.
   */
  anyAsJsonText?: boolean;
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
export function lowerDocument(
  doc: CoreDocument,
  profile: Profile,
  notes: Notes,
  options: LowerOptions = {},
): LoweredDocument {
  return new Lowerer(doc, profile, notes, options).run();
}

interface Counts {
  optionalProperties: number;
  unionProperties: number;
}

/** Past this many subschemas written while unrolling recursion, the lowering gives up (Unsupported). */
const MAX_UNROLLED = 1_000;

class Lowerer {
  private readonly defCodecs = new Map<string, Codec>();
  private readonly providerDefs = new Map<string, Schema>();
  private readonly report: LoweringReport = { optionals: [], enums: [], nested: [] };
  /** Expansions in progress of each recursive definition (recursion unrolled). */
  private readonly unrolling = new Map<string, number>();
  /** Subschemas written inside expanded recursive definitions, and how many expansions enclose this one. */
  private unrolled = 0;
  private expanding = 0;
  /** Optional and union-typed properties written so far (as `measureSchema` counts them). */
  private readonly counted: Counts = { optionalProperties: 0, unionProperties: 0 };
  /** Object schemas enclosing the node being lowered. */
  private depth = 0;

  constructor(
    private readonly doc: CoreDocument,
    private readonly profile: Profile,
    private readonly notes: Notes,
    private readonly options: LowerOptions,
  ) {}

  run(): LoweredDocument {
    if (this.doc.root === false) throw new Unsupported('no instance can satisfy the schema');
    if (this.doc.defs.size && !this.profile.recursion && this.options.unroll === undefined)
      throw new Unsupported('recursive schemas are not supported');
    if (this.profile.recursion) {
      for (const [name, def] of this.doc.defs) {
        const lowered = this.node(def, `#/$defs/${name}`);
        this.providerDefs.set(name, lowered.schema);
        this.defCodecs.set(name, lowered.codec);
      }
    }
    const root = this.node(this.doc.root, '#');
    return { ...root, defs: Object.fromEntries(this.providerDefs), report: this.report };
  }

  private note = (path: string) => (message: string) => this.notes.add(path, message);

  node(node: CoreNode, path: string): Lowered {
    if (node === false) throw new Unsupported('a subschema accepts nothing', path);
    if (this.expanding > 0 && ++this.unrolled > MAX_UNROLLED)
      throw new Unsupported(`more than ${MAX_UNROLLED} subschemas once recursion is unrolled`, path);
    if (this.options.asJsonText?.has(path))
      return this.jsonText(
        node,
        path,
        'a value with too many optional or union-typed properties inside',
        'the value',
      );
    const name = refName(node);
    if (name !== undefined) return this.ref(name, node, path);
    if (Array.isArray(node.anyOf)) return this.union(node.anyOf as CoreNode[], node, path);
    if (isAny(node)) return this.any(node, path);
    if (this.needsSplit(node)) return this.typeUnion(splitByType(node), node, path);
    return this.typed(node, path);
  }

  /** A recursive reference: kept, or (without recursion) expanded up to `unroll` times on one path. */
  private ref(name: string, node: Schema, path: string): Lowered {
    if (this.profile.recursion)
      return {
        schema: { $ref: `${REF_PREFIX}${name}` },
        codec: lazyCodec(() => this.defCodecs.get(name) ?? IDENTITY),
      };
    const def = this.doc.defs.get(name);
    const level = this.unrolling.get(name) ?? 0;
    if (def === undefined || def === false || level >= (this.options.unroll ?? 0))
      return this.jsonText(
        def === undefined || def === false ? node : def,
        path,
        `recursion ($defs/${name}) is unrolled ${this.options.unroll ?? 0} level(s) deep; below that the value`,
        `a value of the same shape as the enclosing ${name}`,
      );
    this.unrolling.set(name, level + 1);
    this.expanding++;
    try {
      return this.node(def, path);
    } finally {
      this.expanding--;
      this.unrolling.set(name, level);
    }
  }

  /** A value the provider cannot express sent as a string holding its JSON text (restore parses it). */
  private jsonText(node: Schema, path: string, what: string, shape = 'any JSON value'): Lowered {
    this.notes.add(path, `${what} is sent as a string holding its JSON text and parsed by restore`);
    const description = [
      typeof node.description === 'string' ? node.description : '',
      `(JSON text: a string holding ${shape}, JSON-encoded, e.g. "{\\"a\\": 1}", "[1, 2]", "\\"text\\"", "null")`,
    ]
      .filter(Boolean)
      .join(' ');
    const title = this.profile.keepTitle && typeof node.title === 'string' ? { title: node.title } : {};
    return { schema: { ...title, description, type: 'string' }, codec: JSON_TEXT_CODEC };
  }

  private needsSplit(node: Schema): boolean {
    if (this.profile.splitTypes === 'always') return typeList(node).length !== 1;
    const literals = 'const' in node ? [node.const] : Array.isArray(node.enum) ? node.enum : [];
    return literals.some((v) => !this.profile.literal(v));
  }

  private any(node: Schema, path: string): Lowered {
    if (this.profile.any)
      return { schema: { ...this.profile.any, ...this.annotations(node) }, codec: IDENTITY };
    if (!this.profile.anyAsEntries && this.profile.anyAsJsonText)
      return this.jsonText(node, path, 'a value of any type');
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
    const types = typeList(branch);
    const objectLike = hasObjectKeywords(branch, types) && (types.length === 0 || types.includes('object'));
    const { maxObjectDepth } = this.options;
    if (objectLike && maxObjectDepth !== undefined && this.depth >= maxObjectDepth)
      return this.jsonText(
        branch,
        path,
        `an object nested deeper than ${maxObjectDepth} levels`,
        'an object',
      );
    const out: Schema = this.annotations(branch);
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
      if (!branch.enum.every((v) => this.profile.literal(v)))
        this.notes.add(path, 'enum is dropped (values the provider cannot list)');
      else if (this.options.listedEnums?.has(path)) this.listEnum(branch.enum, out, path);
      else {
        out.enum = branch.enum;
        const length = branch.enum.reduce((n: number, v) => n + (typeof v === 'string' ? v.length : 0), 0);
        this.report.enums.push({ path, count: branch.enum.length, length });
      }
    }
  }

  /** An enum past the provider's limits: its values are listed in the description (the final validation checks them). */
  private listEnum(values: unknown[], out: Schema, path: string): void {
    this.notes.add(
      path,
      `enum of ${values.length} values is sent as its type, the values listed in the description (checked by the final validation)`,
    );
    let listed = '';
    let shown = 0;
    for (const value of values) {
      const text = JSON.stringify(value);
      if (listed.length + text.length > MAX_LISTED_CHARS) break;
      listed += (shown++ ? ', ' : '') + text;
    }
    const more = shown < values.length ? `, … (${values.length - shown} more)` : '';
    const description = typeof out.description === 'string' ? `${out.description} ` : '';
    out.description = `${description}One of these ${values.length} values: ${listed}${more}`;
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
    this.depth++;
    try {
      return this.objectBody(branch, out, path);
    } finally {
      this.depth--;
    }
  }

  private objectBody(branch: Schema, out: Schema, path: string): Codec {
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
    const converted: string[] = [];
    for (const [name, sub] of Object.entries(properties)) {
      const at = childPath(path, 'properties', name);
      const inside = { ...this.counted };
      const lowered = this.node(sub, at);
      shape.properties.set(name, lowered.codec);
      let schema = lowered.schema;
      const optional = !required.includes(name);
      const keptOptional = optional && this.profile.optional === 'keep' && !this.options.nullable?.has(at);
      if (keptOptional) {
        const acceptsNull = this.acceptsNull(schema);
        this.report.optionals.push({ path: at, union: this.isUnion(schema), acceptsNull });
      } else if (optional) {
        converted.push(name);
        const keepsNull = this.acceptsNull(schema) && this.doc.presence.has(name);
        schema = keepsNull ? this.presentOrNull(schema, at) : this.nullable(schema, at);
        (keepsNull ? shape.absentAsNull : shape.nullable).add(name);
      }
      setOwn(written, name, schema);
      this.countProperty(at, inside, keptOptional, this.isUnion(schema));
    }
    if (Object.keys(written).length || this.profile.objects === 'closed') out.properties = written;
    const names = this.profile.optional === 'nullable' ? Object.keys(written) : [...required, ...converted];
    if (names.length || this.profile.optional === 'nullable') out.required = names;
    return shape;
  }

  private isUnion(schema: Schema): boolean {
    return Array.isArray(schema[this.profile.unionKeyword]) || Array.isArray(schema.type);
  }

  /** Counts a written property (as `measureSchema` would); with `measureProperties`, reports what it holds. */
  private countProperty(path: string, before: Counts, optional: boolean, union: boolean): void {
    const inside = {
      optionalProperties: this.counted.optionalProperties - before.optionalProperties,
      unionProperties: this.counted.unionProperties - before.unionProperties,
    };
    if (this.options.measureProperties && (inside.optionalProperties || inside.unionProperties))
      this.report.nested.push({ path, ...inside });
    if (optional) this.counted.optionalProperties++;
    if (union) this.counted.unionProperties++;
  }

  /**
   * An optional property that accepts null and whose presence a dropped keyword may test, where
   * the provider needs every property: null stands for absent, `{"value": v}` for a present `v`
   * (null included), so restore keeps presence and null apart exactly.
   */
  private presentOrNull(schema: Schema, path: string): Schema {
    this.notes.add(
      path,
      `optional, nullable and maybe required by another keyword: absent is sent as null, a present value as {"${PRESENT_KEY}": ...}`,
    );
    const present: Schema = {
      type: 'object',
      properties: { [PRESENT_KEY]: schema },
      required: [PRESENT_KEY],
      additionalProperties: false,
    };
    return {
      description: `null when left out; otherwise {"${PRESENT_KEY}": <the value>}`,
      [this.profile.unionKeyword]: [{ type: 'null' }, present],
    };
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
    if (this.isUnion(value.schema)) this.counted.unionProperties++;
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

/** Characters of enum values listed in a description (the rest are counted). */
const MAX_LISTED_CHARS = 4_000;

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

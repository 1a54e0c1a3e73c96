import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type AjvCore from 'ajv/dist/core.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import ajvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { ServiceError, contentHash, type ErrorDetail } from '@sps/contracts';
import { META_SCHEMA_URI, detectDraft, type DraftDetection, type JsonSchemaDraft } from './draft.js';
import { PatternError, lenientRegExp, linearRegExp } from './linear-regexp.js';
import { EXTRA_FORMATS } from './formats.js';
import { escapePointer, forEachSubschema, isObject, normalizeDefects } from './normalize.js';

export { lenientRegExp };

// CommonJS packages: under Node's ESM loader the default import is `module.exports` itself, under
// bundlers it may be the `.default` property. Accept both.
const addFormats =
  (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
const AjvDraft04 =
  (ajvDraft04Module as unknown as { default?: typeof ajvDraft04Module }).default ?? ajvDraft04Module;

const require = createRequire(import.meta.url);
const draft06MetaSchema = require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject;

export interface CompiledSchema {
  hash: string;
  schema: Record<string, unknown>;
  /** The draft the schema was validated as. */
  draft: JsonSchemaDraft;
  /**
   * What was read differently from the caller's text, one line each (empty for most schemas): harmless
   * defects a reference validator accepts and ajv would refuse (duplicate ids, a draft-04 `id` in a
   * later draft, duplicate `enum`/`required` items), repaired rather than refused; or the draft used
   * when the schema was not valid in the one its `$schema` (or its absence) implied.
   */
  notes: readonly string[];
  /**
   * The errors of one instance, `[]` when it is valid. Validating one instance has a time budget: when
   * it took longer, the result is a single error (message starting with EVALUATION_FAILURE_PREFIX and
   * containing VALIDATION_BUDGET_EXCEEDED), whatever ajv found.
   */
  validate(instance: unknown): ErrorDetail[];
}

export interface SchemaCompilerOptions {
  /** Compiled schemas kept (least recently used evicted first). Default 1000. */
  maxEntries?: number;
  /**
   * Longest time validating one instance may take, in milliseconds (default 250). Validation is
   * synchronous and cannot be interrupted: it is measured, and an instance that took longer is not
   * accepted. With patterns on a linear-time engine the worst case is linear in instance size × schema
   * size; the budget bounds what a huge answer or a costly schema may cost per attempt.
   */
  validationBudgetMs?: number;
  /**
   * Most schema objects one schema may have (counted in every `properties`, `items`, `$defs`...
   * after normalisation; default 2,500). Compilation is synchronous, on the caller's event loop, and
   * grows with this count; a larger schema is INVALID_SCHEMA (400) naming the limit, before any
   * compilation work. (Real-world schemas within the API's 50 kB limit have up to about 550.)
   */
  maxSubschemas?: number;
  /**
   * Most distinct `pattern`/`patternProperties` sources one schema may have (default 100): each is
   * translated and compiled for the linear-time engine (about 0.5 ms each). Real-world schemas have up
   * to about 25.
   */
  maxPatterns?: number;
}

export const DEFAULT_MAX_SUBSCHEMAS = 2_500;
export const DEFAULT_MAX_PATTERNS = 100;

export const DEFAULT_VALIDATION_BUDGET_MS = 250;

/**
 * `pattern` and `patternProperties` run on RE2 (linear time, see linear-regexp.ts), never on V8's
 * backtracking engine: a caller's `(a+)+b` would otherwise freeze the event loop on a long answer.
 */
const regExpEngine: RegExpEngine = Object.assign(
  (source: string, flags: string) => linearRegExp(source, flags),
  {
    // Only used when generating standalone code, which this service never does.
    code: 'linearRegExp',
  },
);

/**
 * The `regex` format accepts what `pattern` accepts as ECMA-262 syntax (ajv-formats' own version
 * rejects non-Unicode patterns). It stays on V8 because it is a syntax check only: the instance is
 * compiled, never executed against any input, so it cannot backtrack. (A pattern that uses what RE2
 * cannot run, e.g. a backreference, is still a valid `regex`.)
 */
function isRegex(value: string): boolean {
  if (/[^\\]\\Z/.test(value)) return false; // `\Z` is not ECMA-262 (same rule as ajv-formats)
  try {
    lenientRegExp(value);
    return true;
  } catch {
    return false;
  }
}

const AJV_OPTIONS: Options = {
  allErrors: true,
  // Callers send schemas written for many validators: unknown keywords, unknown formats, loose
  // typing and tuple forms are accepted as the standard allows, not refused.
  strict: false,
  validateFormats: true,
  // Properties are the instance's own: `required: ["constructor"]` is not satisfied by `{}`.
  ownProperties: true,
  // Never keep user schemas (or their ids) in the shared instance: two schemas may use the same `$id`.
  addUsedSchema: false,
  // No `loadSchema`: remote references are never fetched.
  unicodeRegExp: true,
  code: { regExp: regExpEngine },
  // Unknown formats are ignored; ajv would otherwise print a warning per schema.
  logger: false,
  // 19.99 / 0.01 is 1998.9999999999998 in binary floating point: without a tolerance every price
  // with `multipleOf: 0.01` would be refused.
  multipleOfPrecision: 9,
};

/** Thrown by ajv for a `$ref` it cannot resolve (`missingRef` absolute, `missingSchema` without fragment). */
interface MissingRefLike {
  missingRef: string;
  missingSchema: string;
}

function isMissingRef(error: unknown): error is Error & MissingRefLike {
  return error instanceof Error && typeof (error as Partial<MissingRefLike>).missingRef === 'string';
}

/**
 * Compiles user schemas once and keeps them by content hash, with one ajv instance per draft.
 * No remote `$ref` is ever fetched: a reference to a document the schema does not define itself is
 * INVALID_SCHEMA.
 */
export class SchemaCompiler {
  private readonly cache = new Map<string, CompiledSchema>();
  private readonly instances = new Map<string, AjvCore>();
  private readonly maxEntries: number;
  private readonly validationBudgetMs: number;
  private readonly maxSubschemas: number;
  private readonly maxPatterns: number;
  private hitCount = 0;
  private missCount = 0;

  constructor(options: number | SchemaCompilerOptions = {}) {
    const {
      maxEntries = 1_000,
      validationBudgetMs = DEFAULT_VALIDATION_BUDGET_MS,
      maxSubschemas = DEFAULT_MAX_SUBSCHEMAS,
      maxPatterns = DEFAULT_MAX_PATTERNS,
    } = typeof options === 'number' ? { maxEntries: options } : options;
    if (!(validationBudgetMs > 0))
      throw new RangeError(
        `validationBudgetMs must be a positive number of milliseconds, not ${validationBudgetMs}`,
      );
    this.maxEntries = Math.max(1, maxEntries);
    this.validationBudgetMs = validationBudgetMs;
    this.maxSubschemas = maxSubschemas;
    this.maxPatterns = maxPatterns;
  }

  /** Cache statistics (for tests and metrics). */
  get stats(): { size: number; hits: number; misses: number } {
    return { size: this.cache.size, hits: this.hitCount, misses: this.missCount };
  }

  compile(schema: Record<string, unknown>): CompiledSchema {
    const hash = contentHash(schema);
    const cached = this.cache.get(hash);
    if (cached) {
      this.hitCount++;
      // Least recently used goes first: move the hit to the end.
      this.cache.delete(hash);
      this.cache.set(hash, cached);
      return cached;
    }
    this.missCount++;
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
      throw new ServiceError('INVALID_SCHEMA', 'schema cannot be compiled: a schema must be a JSON object');
    }
    const detected = detectDraft(schema);
    const { draft, notes, validateFn } = this.compileAs(schema, detected);
    const budgetMs = this.validationBudgetMs;
    const compiled: CompiledSchema = {
      hash,
      schema,
      draft,
      notes,
      validate: (instance) => runValidation(validateFn, instance, budgetMs),
    };
    while (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, compiled);
    return compiled;
  }

  /**
   * Compiles as the detected draft. A schema whose `$schema` is absent or names no standard dialect
   * (a custom meta-schema, not fetched) and that is not valid in the default draft is tried as
   * draft-07, then draft-04 (e.g. an Iglu self-describing schema, draft-04 based, with an array
   * `items`), with a note; the first draft that accepts it is used. Otherwise the default draft's error
   * is reported.
   */
  private compileAs(
    schema: Record<string, unknown>,
    { draft, dialect }: DraftDetection,
  ): { draft: JsonSchemaDraft; notes: string[]; validateFn: ValidateFunction } {
    try {
      return { draft, ...this.compileDraft(schema, draft, dialect) };
    } catch (error) {
      if (dialect === 'known' || !isMetaSchemaError(error)) throw error;
      for (const fallback of FALLBACK_DRAFTS) {
        if (fallback === draft) continue;
        try {
          const { notes, validateFn } = this.compileDraft(schema, fallback, dialect);
          const reason = (error as Error).message.replace(/^schema cannot be compiled: /, '');
          notes.unshift(
            `validated as ${fallback}: ${dialect === 'absent' ? 'without $schema' : 'with an unknown $schema'} the schema is read as ${draft}, where it is invalid (${reason})`,
          );
          return { draft: fallback, notes, validateFn };
        } catch {
          // try the next draft; the default draft's error is the one reported
        }
      }
      throw error;
    }
  }

  private compileDraft(
    schema: Record<string, unknown>,
    draft: JsonSchemaDraft,
    dialect: DraftDetection['dialect'],
  ): { notes: string[]; validateFn: ValidateFunction } {
    const { copy: prepared, notes } = prepareSchema(schema, draft, dialect);
    const subschemas = checkSize(prepared, this.maxSubschemas);
    checkPatterns(prepared, this.maxPatterns);
    const inline = subschemas + referencedSize(prepared) <= INLINE_BUDGET;
    return { notes, validateFn: this.compileWith(draft, prepared, inline) };
  }

  /**
   * Compiles on the draft's shared instance and leaves that instance as it was: ajv registers the
   * ids of subschemas (and, on failure, the schema itself) in the instance; those entries are removed
   * so that no schema sees another's ids and the instance does not grow.
   */
  private compileWith(
    draft: JsonSchemaDraft,
    schema: Record<string, unknown>,
    inline: boolean,
  ): ValidateFunction {
    const ajv = this.instance(draft, inline);
    const refsBefore = { ...ajv.refs };
    const schemasBefore = { ...ajv.schemas };
    try {
      // Register the root under its id (or "" without one) for the length of this compilation only:
      // with addUsedSchema off, ajv can otherwise resolve neither `$ref: "#"` nor a subschema's
      // reference back to the root's id. A root id that names a meta-schema is not re-registered.
      const rootKey = rootId(schema, draft);
      if (ajv.refs[rootKey] === undefined && ajv.schemas[rootKey] === undefined) ajv.addSchema(schema);
      const validateFn = ajv.compile(schema);
      // `$async` was stripped, so this never happens; guard anyway rather than return a Promise.
      if ((validateFn as { $async?: unknown }).$async)
        throw new Error('asynchronous schemas are not supported');
      return validateFn;
    } catch (error) {
      throw toInvalidSchema(error, schema, draft, ajv);
    } finally {
      ajv.removeSchema(schema);
      restore(ajv.refs, refsBefore);
      restore(ajv.schemas, schemasBefore);
    }
  }

  private instance(draft: JsonSchemaDraft, inline: boolean): AjvCore {
    const key = inline ? draft : `${draft} without inlining`;
    let ajv = this.instances.get(key);
    if (!ajv) {
      ajv = createAjv(draft, inline);
      this.instances.set(key, ajv);
    }
    return ajv;
  }
}

/** Drafts tried, in order, for a schema without a standard `$schema` that its default draft refuses. */
const FALLBACK_DRAFTS: readonly JsonSchemaDraft[] = ['draft-07', 'draft-04'];

/** ajv's refusal of a schema that its draft's meta-schema does not accept. */
function isMetaSchemaError(error: unknown): boolean {
  return (
    error instanceof ServiceError && /^schema cannot be compiled: schema is invalid: /.test(error.message)
  );
}

/**
 * Refuses a schema with more schema objects than the limit before ajv compiles it: compile time grows
 * with this count (references are compiled once each; only small leaves are inlined), and compilation
 * runs on the event loop.
 */
function checkSize(schema: Record<string, unknown>, limit: number): number {
  let count = 0;
  forEachSubschema(schema, () => {
    count++;
  });
  if (count > limit)
    throw new ServiceError(
      'INVALID_SCHEMA',
      `schema cannot be compiled: it is too large (${count} subschemas; at most ${limit} are accepted)`,
      { subschemas: count, limit },
    );
  return count;
}

/**
 * ajv copies a referenced schema without references of its own into every place that references it
 * (`inlineRefs`), so compile time grows with the number of references times the size of what they
 * reference: 2.9 s for one 46 kB SchemaStore schema (putout.json), 0.15 s without inlining. A schema
 * whose schema objects plus the sizes of its local references' targets exceed this budget is compiled
 * by an instance that never inlines (each referenced schema compiled once, as its own function);
 * smaller schemas keep inlining (errors under a `$ref` then name the referenced schema's path, and
 * ajv's `$recursiveRef` handling is the one the JSON-Schema-Test-Suite agreement was measured with).
 */
const INLINE_BUDGET = 2_000;

/** The summed sizes (schema objects) of the targets of the schema's local `$ref`s ("#/..."), capped. */
function referencedSize(root: Record<string, unknown>): number {
  const sizes = new Map<unknown, number>();
  const sizeOf = (node: unknown): number => {
    let size = sizes.get(node);
    if (size === undefined) {
      size = 0;
      forEachSubschema(node, () => {
        size!++;
      });
      sizes.set(node, size);
    }
    return size;
  };
  let total = 0;
  forEachSubschema(root, (sub) => {
    if (total > INLINE_BUDGET || typeof sub.$ref !== 'string' || !sub.$ref.startsWith('#/')) return;
    let target: unknown = root;
    for (const token of decodePointer(sub.$ref.slice(1))) {
      target =
        isObject(target) || Array.isArray(target) ? (target as Record<string, unknown>)[token] : undefined;
      if (target === undefined) return;
    }
    total += sizeOf(target);
  });
  return total;
}

/**
 * Prefix of the single error reported when an instance could not be checked: ajv itself failed while
 * validating (e.g. unbounded recursion), or validation took longer than its budget.
 */
export const EVALUATION_FAILURE_PREFIX = 'schema could not be evaluated: ';

/** In the message of the single error reported when validating one instance exceeded its budget. */
export const VALIDATION_BUDGET_EXCEEDED = 'validation exceeded its';

function runValidation(validateFn: ValidateFunction, instance: unknown, budgetMs: number): ErrorDetail[] {
  const started = performance.now();
  let errors: ErrorDetail[];
  try {
    errors = validateFn(instance) ? [] : (validateFn.errors ?? []).map(toErrorDetail);
  } catch (error) {
    // Never let a validator crash the caller: an answer that cannot be checked is not accepted.
    return [{ path: '$', message: `${EVALUATION_FAILURE_PREFIX}${(error as Error).message}` }];
  }
  const elapsedMs = performance.now() - started;
  if (elapsedMs > budgetMs) {
    // Not accepted even if valid: the attempt fails like an invalid answer, so the engine's bounded
    // retries (with this message as feedback) and provider fallback apply; nothing retries forever.
    return [
      {
        path: '$',
        message: `${EVALUATION_FAILURE_PREFIX}${VALIDATION_BUDGET_EXCEEDED} ${budgetMs} ms budget (took ${elapsedMs.toFixed(1)} ms); the answer is too large to check against this schema`,
      },
    ];
  }
  return errors;
}

/**
 * Every `pattern` and `patternProperties` key of the schema ajv compiles must run on the linear-time
 * engine: one INVALID_SCHEMA names each that cannot, by its JSON pointer in the schema, with the reason.
 * (Checked for every subschema, referenced or not, as ajv checks every `pattern` against its
 * meta-schema.)
 */
function checkPatterns(schema: Record<string, unknown>, limit: number): void {
  const problems: ErrorDetail[] = [];
  const sources = new Set<string>();
  forEachSubschema(schema, (sub) => {
    if (typeof sub.pattern === 'string') sources.add(sub.pattern);
    if (isObject(sub.patternProperties))
      for (const key of Object.keys(sub.patternProperties)) sources.add(key);
  });
  if (sources.size > limit)
    throw new ServiceError(
      'INVALID_SCHEMA',
      `schema cannot be compiled: it has too many patterns (${sources.size} distinct pattern and patternProperties sources; at most ${limit} are accepted)`,
      { patterns: sources.size, limit },
    );
  const check = (source: string, pointer: string): void => {
    try {
      linearRegExp(source, 'u');
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      problems.push({ path: pointer, message: error.message });
    }
  };
  forEachSubschema(schema, (sub, pointer) => {
    if (typeof sub.pattern === 'string') check(sub.pattern, `${pointer}/pattern`);
    if (isObject(sub.patternProperties))
      for (const key of Object.keys(sub.patternProperties))
        check(key, `${pointer}/patternProperties/${escapePointer(key)}`);
  });
  if (problems.length > 0) throw patternProblems(problems);
}

function patternProblems(problems: ErrorDetail[]): ServiceError {
  const [first] = problems;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more, see details.schema_errors)` : '';
  return new ServiceError(
    'INVALID_SCHEMA',
    `schema cannot be compiled: ${first!.path ? `${first!.path}: ` : ''}${first!.message}${more}`,
    { schema_errors: problems },
  );
}

/** Where a pattern that ajv reached outside the usual keywords (e.g. through `$ref`) is in the schema. */
function findPattern(schema: unknown, source: string, pointer = ''): string | undefined {
  if (Array.isArray(schema)) {
    for (const [index, item] of schema.entries()) {
      const found = findPattern(item, source, `${pointer}/${index}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!isObject(schema)) return undefined;
  if (schema.pattern === source) return `${pointer}/pattern`;
  if (isObject(schema.patternProperties) && Object.hasOwn(schema.patternProperties, source))
    return `${pointer}/patternProperties/${escapePointer(source)}`;
  for (const [key, value] of Object.entries(schema)) {
    if (VALUE_KEYWORDS.has(key)) continue;
    const found = findPattern(value, source, `${pointer}/${escapePointer(key)}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Keywords whose values are instances, not schemas. */
const VALUE_KEYWORDS = new Set(['const', 'default', 'enum', 'examples']);

function createAjv(draft: JsonSchemaDraft, inline: boolean): AjvCore {
  const options: Options = { ...AJV_OPTIONS, inlineRefs: inline };
  let ajv: AjvCore;
  switch (draft) {
    case 'draft-04':
      ajv = new AjvDraft04(options);
      break;
    case 'draft-06':
      ajv = new Ajv(options);
      ajv.addMetaSchema(draft06MetaSchema);
      break;
    case 'draft-07':
      ajv = new Ajv(options);
      break;
    case '2019-09':
      ajv = new Ajv2019(options);
      break;
    case '2020-12':
      ajv = new Ajv2020(options);
      break;
  }
  addFormats(ajv, { mode: 'full', keywords: false });
  ajv.addFormat('regex', isRegex);
  for (const [name, check] of Object.entries(EXTRA_FORMATS)) ajv.addFormat(name, check);
  return ajv;
}

function restore(target: Record<string, unknown>, snapshot: Record<string, unknown>): void {
  for (const key of Object.keys(target)) if (!(key in snapshot)) delete target[key];
  Object.assign(target, snapshot);
}

/**
 * The copy ajv compiles: the root `$schema` spelled as the instance knows it (an unknown dialect is
 * dropped: custom meta-schemas are not fetched), `$async` removed everywhere (it would make
 * ajv's validate return a Promise; no asynchronous keywords exist here), keywords beside `$ref`
 * removed up to draft-07 (where `$ref` overrides them) and, where the draft allows it, an empty `enum`
 * expressed as a schema nothing satisfies.
 */
function prepareSchema(
  schema: Record<string, unknown>,
  draft: JsonSchemaDraft,
  dialect: 'known' | 'absent' | 'unknown',
): { copy: Record<string, unknown>; notes: string[] } {
  const copy = structuredClone(schema);
  if (dialect === 'known' || dialect === 'absent') copy.$schema = META_SCHEMA_URI[draft];
  else if (typeof copy.$schema === 'string') delete copy.$schema;
  const emptyEnumAllowed = draft === '2019-09' || draft === '2020-12';
  const refExcludesSiblings = !emptyEnumAllowed;
  forEachSubschema(copy, (sub) => {
    if (typeof sub.$async === 'boolean') delete sub.$async;
    // Up to draft-07, `$ref` makes the other keywords of its schema (even an `$id`) be ignored; ajv
    // would apply them. Only the keywords ajv evaluates are removed: containers such as `definitions`
    // or `$defs` stay (JSON pointers may point into them), as does the root's id (the base URI of a
    // schema that arrives without a retrieval URI).
    if (refExcludesSiblings && typeof sub.$ref === 'string') {
      for (const key of Object.keys(sub)) {
        const ignoredId = (key === '$id' || key === 'id') && sub !== copy;
        if (ignoredId || KEYWORDS_IGNORED_BESIDE_REF.has(key)) delete sub[key];
      }
    }
    // 2019-09 and later allow `enum: []` (nothing is valid); ajv refuses to compile it.
    if (emptyEnumAllowed && Array.isArray(sub.enum) && sub.enum.length === 0) {
      delete sub.enum;
      sub.allOf = [...(Array.isArray(sub.allOf) ? sub.allOf : []), { not: {} }];
    }
  });
  return { copy, notes: normalizeDefects(copy, draft) };
}

/** The draft-04 to draft-07 keywords ajv evaluates, which a sibling `$ref` overrides in those drafts. */
const KEYWORDS_IGNORED_BESIDE_REF = new Set([
  'additionalItems',
  'additionalProperties',
  'allOf',
  'anyOf',
  'const',
  'contains',
  'dependencies',
  'else',
  'enum',
  'exclusiveMaximum',
  'exclusiveMinimum',
  'format',
  'if',
  'items',
  'maxItems',
  'maxLength',
  'maxProperties',
  'maximum',
  'minItems',
  'minLength',
  'minProperties',
  'minimum',
  'multipleOf',
  'not',
  'oneOf',
  'pattern',
  'patternProperties',
  'properties',
  'propertyNames',
  'required',
  'then',
  'type',
  'uniqueItems',
]);

function toInvalidSchema(
  error: unknown,
  schema: Record<string, unknown>,
  draft: JsonSchemaDraft,
  ajv: AjvCore,
): ServiceError {
  if (error instanceof ServiceError) return error;
  if (error instanceof PatternError) {
    const path = findPattern(schema, error.source) ?? '';
    return patternProblems([{ path, message: error.message }]);
  }
  if (isMissingRef(error)) {
    const local = error.missingSchema === '' || error.missingSchema === rootBaseId(schema, draft, ajv);
    if (!local) {
      return new ServiceError(
        'INVALID_SCHEMA',
        `schema cannot be compiled: $ref "${error.missingRef}" points to a document the schema does not define; remote references are not fetched`,
        { ref: error.missingRef },
      );
    }
    return new ServiceError(
      'INVALID_SCHEMA',
      `schema cannot be compiled: $ref "${error.missingRef}" does not resolve inside the schema`,
      {
        ref: error.missingRef,
      },
    );
  }
  if (error instanceof RangeError) {
    return new ServiceError(
      'INVALID_SCHEMA',
      `schema cannot be compiled: its references could not be resolved (${error.message})`,
    );
  }
  return new ServiceError('INVALID_SCHEMA', `schema cannot be compiled: ${(error as Error).message}`);
}

/** The key ajv's addSchema files a root under: its id without a trailing `#`. */
function rootId(schema: Record<string, unknown>, draft: JsonSchemaDraft): string {
  const id = draft === 'draft-04' ? schema.id : schema.$id;
  return typeof id === 'string' ? id.replace(/#$/, '') : '';
}

/** The root's base URI as ajv spells it in `MissingRefError.missingSchema` (normalized, no fragment). */
function rootBaseId(schema: Record<string, unknown>, draft: JsonSchemaDraft, ajv: AjvCore): string {
  const id = draft === 'draft-04' ? schema.id : schema.$id;
  if (typeof id !== 'string' || id === '') return '';
  const { uriResolver } = ajv.opts;
  return uriResolver.serialize(uriResolver.parse(id)).replace(/#.*$/, '');
}

function decodePointer(pointer: string): string[] {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function toErrorDetail(error: ErrorObject): ErrorDetail {
  const path = decodePointer(error.instancePath).join('.') || '$';
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty?: unknown }).missingProperty);
    if (!message.includes(`'${missing}'`)) message = `${message} '${missing}'`;
  }
  const hashAt = error.schemaPath.indexOf('#');
  const schemaPointer = hashAt >= 0 ? error.schemaPath.slice(hashAt + 1) : error.schemaPath;
  return {
    path,
    message,
    schema_path: decodePointer(schemaPointer).join('.') || '$',
  };
}

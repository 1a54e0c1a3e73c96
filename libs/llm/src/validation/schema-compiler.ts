import { createRequire } from 'node:module';
import { Ajv, type AnySchemaObject, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type AjvCore from 'ajv/dist/core.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import ajvDraft04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { ServiceError, contentHash, type ErrorDetail } from '@sps/contracts';
import { META_SCHEMA_URI, detectDraft, type JsonSchemaDraft } from './draft.js';
import { PatternError, lenientRegExp, linearRegExp } from './linear-regexp.js';

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
}

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
  private readonly instances = new Map<JsonSchemaDraft, AjvCore>();
  private readonly maxEntries: number;
  private readonly validationBudgetMs: number;
  private hitCount = 0;
  private missCount = 0;

  constructor(options: number | SchemaCompilerOptions = {}) {
    const { maxEntries = 1_000, validationBudgetMs = DEFAULT_VALIDATION_BUDGET_MS } =
      typeof options === 'number' ? { maxEntries: options } : options;
    if (!(validationBudgetMs > 0))
      throw new RangeError(
        `validationBudgetMs must be a positive number of milliseconds, not ${validationBudgetMs}`,
      );
    this.maxEntries = Math.max(1, maxEntries);
    this.validationBudgetMs = validationBudgetMs;
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
    const { draft, dialect } = detectDraft(schema);
    const prepared = prepareSchema(schema, draft, dialect);
    checkPatterns(prepared);
    const validateFn = this.compileWith(draft, prepared);
    const budgetMs = this.validationBudgetMs;
    const compiled: CompiledSchema = {
      hash,
      schema,
      validate: (instance) => runValidation(validateFn, instance, budgetMs),
    };
    while (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, compiled);
    return compiled;
  }

  /**
   * Compiles on the draft's shared instance and leaves that instance as it was: ajv registers the
   * ids of subschemas (and, on failure, the schema itself) in the instance; those entries are removed
   * so that no schema sees another's ids and the instance does not grow.
   */
  private compileWith(draft: JsonSchemaDraft, schema: Record<string, unknown>): ValidateFunction {
    const ajv = this.instance(draft);
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

  private instance(draft: JsonSchemaDraft): AjvCore {
    let ajv = this.instances.get(draft);
    if (!ajv) {
      ajv = createAjv(draft);
      this.instances.set(draft, ajv);
    }
    return ajv;
  }
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
function checkPatterns(schema: Record<string, unknown>): void {
  const problems: ErrorDetail[] = [];
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

function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function createAjv(draft: JsonSchemaDraft): AjvCore {
  let ajv: AjvCore;
  switch (draft) {
    case 'draft-04':
      ajv = new AjvDraft04(AJV_OPTIONS);
      break;
    case 'draft-06':
      ajv = new Ajv(AJV_OPTIONS);
      ajv.addMetaSchema(draft06MetaSchema);
      break;
    case 'draft-07':
      ajv = new Ajv(AJV_OPTIONS);
      break;
    case '2019-09':
      ajv = new Ajv2019(AJV_OPTIONS);
      break;
    case '2020-12':
      ajv = new Ajv2020(AJV_OPTIONS);
      break;
  }
  addFormats(ajv, { mode: 'full', keywords: false });
  ajv.addFormat('regex', isRegex);
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
): Record<string, unknown> {
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
  return copy;
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

const SCHEMA_KEYWORDS = [
  'additionalItems',
  'additionalProperties',
  'contains',
  'contentSchema',
  'else',
  'if',
  'items',
  'not',
  'propertyNames',
  'then',
  'unevaluatedItems',
  'unevaluatedProperties',
];
const SCHEMA_ARRAY_KEYWORDS = ['allOf', 'anyOf', 'items', 'oneOf', 'prefixItems'];
const SCHEMA_MAP_KEYWORDS = [
  '$defs',
  'definitions',
  'dependencies',
  'dependentSchemas',
  'patternProperties',
  'properties',
];

/** Visits every schema object of a schema (not values such as `const`, `enum`, `default`). */
function forEachSubschema(
  schema: unknown,
  visit: (schema: Record<string, unknown>, pointer: string) => void,
  pointer = '',
): void {
  if (!isObject(schema)) return;
  visit(schema, pointer);
  for (const keyword of SCHEMA_KEYWORDS)
    if (isObject(schema[keyword])) forEachSubschema(schema[keyword], visit, `${pointer}/${keyword}`);
  for (const keyword of SCHEMA_ARRAY_KEYWORDS) {
    const value = schema[keyword];
    if (Array.isArray(value))
      for (const [index, item] of value.entries())
        forEachSubschema(item, visit, `${pointer}/${keyword}/${index}`);
  }
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const value = schema[keyword];
    if (isObject(value))
      for (const [name, item] of Object.entries(value))
        forEachSubschema(item, visit, `${pointer}/${keyword}/${escapePointer(name)}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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

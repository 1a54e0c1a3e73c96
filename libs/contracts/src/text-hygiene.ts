/**
 * Text hygiene: what the service accepts as text, and what it does with text it produces itself.
 *
 * **The rule.** Text a caller sends — prompts, template parameters, schemas, templates, property
 * names, anywhere in a request body, query string or path, or in a `sps.requests.v1` message —
 * that contains U+0000 (NUL) or an unpaired UTF-16 surrogate (U+D800–U+DFFF without its partner)
 * is refused: Postgres stores neither (`text` refuses 0x00, `jsonb` refuses `\u0000` and lone
 * `\ud800`), no model needs them, and silently repairing them would change what the caller asked
 * for. Over HTTP the refusal is a 400 `INVALID_REQUEST` whose `details.fields[0].field` is the
 * path of the offending string or key and whose reason says which (`contains U+0000 (NUL)`,
 * `contains an unpaired surrogate U+D800`, `property name contains ...` for keys); a pipeline
 * message is refused as a `CONTRACT_VIOLATION` naming the same path. Nesting deeper than a limit
 * is refused the same way (`nests deeper than 64 levels`), before anything walks the value
 * recursively.
 *
 * **Text the service's own dependencies produce** (model output) is not refused but normalised
 * with {@link normalizeText}: each NUL and each unpaired surrogate becomes U+FFFD.
 *
 * **Paths** follow the field names of the HTTP error envelope (`fields[].field`): segments joined
 * with dots, array indexes as segments (`prompts.3`, `schema.properties.name`); a key that is not
 * plain (`[A-Za-z0-9_$-]+`) is written as a JSON string in brackets, so the path itself is clean
 * text: `schema.properties["a\u0000b"]`. The value itself is the empty path (or `options.path`).
 *
 * Both walks are iterative (an explicit stack), so a value nested 100,000 levels deep cannot
 * overflow the call stack. Only arrays and plain objects are descended into (JSON values).
 */
import { LIMITS } from './prompt-request.js';

/**
 * Nesting limit for a whole request body or pipeline message, counted in JSON containers (the body
 * object is level 1). A schema at `LIMITS.schemaMaxDepth` schema levels takes about two JSON levels
 * per schema level (the schema object and its `properties` / `anyOf` container), i.e. ~21, and sits
 * one to three levels inside a body; 64 leaves generous room for legitimate `enum` / `default`
 * values while stopping bodies built to exhaust recursive walks.
 */
export const BODY_MAX_DEPTH = Math.max(64, 4 * LIMITS.schemaMaxDepth + 8);

export interface UncleanText {
  /** Where: a path in the convention above ('' for the value itself, unless `options.path`). */
  path: string;
  /** Why: `contains U+0000 (NUL)`, `contains an unpaired surrogate U+D800`, `nests deeper than N levels`. */
  reason: string;
}

export interface FindUncleanTextOptions {
  /** Containers nested deeper than this are reported (the value itself, if a container, is level 1). */
  maxDepth: number;
  /** The path of the value itself, prefixed to every reported path (e.g. `querystring`). */
  path?: string;
}

const REPLACEMENT = '\uFFFD';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');
const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;
const MAX_SEGMENT_CHARS = 128;

interface WellFormedString {
  isWellFormed?(): boolean;
  toWellFormed?(): string;
}
const HAS_WELL_FORMED = typeof (String.prototype as WellFormedString).isWellFormed === 'function';

function isWellFormed(text: string): boolean {
  return HAS_WELL_FORMED ? (text as WellFormedString).isWellFormed!() : !LONE_SURROGATE.test(text);
}

function toWellFormed(text: string): string {
  return HAS_WELL_FORMED
    ? (text as WellFormedString).toWellFormed!()
    : text.replace(LONE_SURROGATES, REPLACEMENT);
}

/** True when `text` has neither NUL nor an unpaired surrogate. */
export function isCleanText(text: string): boolean {
  return !text.includes('\0') && isWellFormed(text);
}

/** Why `text` is unclean (without a subject), or undefined when it is clean. */
function textProblem(text: string): string | undefined {
  if (text.includes('\0')) return 'contains U+0000 (NUL)';
  if (isWellFormed(text)) return undefined;
  const unit = LONE_SURROGATE.exec(text)?.[0].charCodeAt(0) ?? 0xfffd;
  return `contains an unpaired surrogate U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

type Container = unknown[] | Record<string, unknown>;

/** Arrays and plain objects (what JSON.parse makes); class instances, Buffers, Dates are leaves. */
function isContainer(value: unknown): value is Container {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function renderPath(segments: readonly (string | number)[], root: string): string {
  let path = root;
  for (const segment of segments) {
    if (typeof segment === 'number' || PLAIN_KEY.test(segment)) {
      path += `${path ? '.' : ''}${shorten(String(segment))}`;
    } else {
      // JSON.stringify escapes NUL and lone surrogates (ES2019), so the path is clean text.
      const quoted = JSON.stringify(segment);
      path += `[${quoted.length > MAX_SEGMENT_CHARS ? `${shorten(quoted.slice(0, -1))}"` : quoted}]`;
    }
  }
  return path;
}

/** At most MAX_SEGMENT_CHARS, cut on a code point boundary, marked with an ellipsis. */
function shorten(text: string): string {
  if (text.length <= MAX_SEGMENT_CHARS) return text;
  let end = MAX_SEGMENT_CHARS - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * The first string or object key (in document order) that contains NUL or an unpaired surrogate,
 * or the first container nested deeper than `maxDepth`, with its path; undefined when the value
 * is clean. Iterative: no depth of nesting can overflow the stack.
 */
export function findUncleanText(value: unknown, options: FindUncleanTextOptions): UncleanText | undefined {
  const root = options.path ?? '';
  const { maxDepth } = options;
  // A depth-first walk over parallel stacks (no allocation per node): what to visit, the length of
  // its path, and the last segment of that path (an index, or the key, checked before its value).
  const values: unknown[] = [value];
  const lengths: number[] = [0];
  const segments: (string | number)[] = [0];
  // The path of the entry being visited: in depth-first order, its first `length - 1` segments are
  // still those of its parent.
  const path: (string | number)[] = [];
  while (values.length > 0) {
    const current = values.pop();
    const length = lengths.pop()!;
    const segment = segments.pop()!;
    if (length > 0) {
      path.length = length - 1;
      path.push(segment);
      if (typeof segment === 'string') {
        const problem = textProblem(segment);
        if (problem) return { path: renderPath(path, root), reason: `property name ${problem}` };
      }
    }
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { path: renderPath(path, root), reason: problem };
      continue;
    }
    if (!isContainer(current)) continue;
    // The value itself, when a container, is level 1.
    if (length + 1 > maxDepth) {
      return { path: renderPath(path, root), reason: `nests deeper than ${maxDepth} levels` };
    }
    // Children pushed in reverse so that they pop in document order.
    if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) {
        values.push(current[i]);
        lengths.push(length + 1);
        segments.push(i);
      }
    } else {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        values.push(current[key]);
        lengths.push(length + 1);
        segments.push(key);
      }
    }
  }
  return undefined;
}

/** Replaces each NUL and each unpaired surrogate of one string with U+FFFD. */
function normalizeString(text: string): string {
  return toWellFormed(text.includes('\0') ? text.replaceAll('\0', REPLACEMENT) : text);
}

/** Whether anything in `value` (strings and keys, at any depth) would be changed by normalising. */
function needsNormalizing(value: unknown): boolean {
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (!isCleanText(current)) return true;
      continue;
    }
    if (!isContainer(current) || seen.has(current)) continue;
    seen.add(current);
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else {
      for (const key of Object.keys(current)) {
        if (!isCleanText(key)) return true;
        stack.push(current[key]);
      }
    }
  }
  return false;
}

/**
 * Text the service's dependencies produced (model output), made storable: every NUL and every
 * unpaired surrogate in strings and object keys, at any depth, becomes U+FFFD. A clean value is
 * returned as is (same reference, one read-only pass); otherwise a copy of its arrays and plain
 * objects is returned (the input is not modified; shared or cyclic references are kept shared).
 * Two keys that normalise to the same text collapse into one, the later winning. Iterative.
 */
export function normalizeText<T>(value: T): T {
  if (typeof value === 'string') return normalizeString(value) as T;
  if (!needsNormalizing(value)) return value;
  const copies = new Map<object, Container>();
  const copyOf = (source: Container): { copy: Container; fresh: boolean } => {
    const existing = copies.get(source);
    if (existing) return { copy: existing, fresh: false };
    const copy: Container = Array.isArray(source)
      ? new Array<unknown>(source.length)
      : Object.getPrototypeOf(source) === null
        ? (Object.create(null) as Record<string, unknown>)
        : {};
    copies.set(source, copy);
    return { copy, fresh: true };
  };
  const rootCopy = copyOf(value as Container).copy;
  const stack: [Container, Container][] = [[value as Container, rootCopy]];
  while (stack.length > 0) {
    const [source, target] = stack.pop()!;
    const entries: [string | number, unknown][] = Array.isArray(source)
      ? source.map((item, index) => [index, item])
      : Object.keys(source).map((key) => [key, source[key]]);
    for (const [key, item] of entries) {
      let result: unknown = item;
      if (typeof item === 'string') result = normalizeString(item);
      else if (isContainer(item)) {
        const { copy, fresh } = copyOf(item);
        if (fresh) stack.push([item, copy]);
        result = copy;
      }
      if (typeof key === 'number') (target as unknown[])[key] = result;
      // defineProperty: an own `__proto__` key (JSON.parse makes them) stays a plain property.
      else
        Object.defineProperty(target, normalizeString(key), {
          value: result,
          writable: true,
          enumerable: true,
          configurable: true,
        });
    }
  }
  return rootCopy as T;
}
